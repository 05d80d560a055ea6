"""``npcore``: check, matrix, explain, describe and diff NetworkPolicy manifests.

A thin shell over npcore (see docs/cli.md for the reference with examples); the contract
it shares with the other command lines is in :mod:`npcore.cli.common`.  For ``check`` the
errors and notices go to stdout (they are its answer); for the other commands to stderr.
``--format json`` prints one JSON document on stdout; nothing else goes to stdout.

More subcommands come from installed packages through the entry-point group
``npcore.commands``: an entry ``NAME = module:main`` makes ``npcore NAME ARGS...`` call
``main(ARGS, prog="npcore NAME")`` (the lessons package adds ``draw`` that way, so npcore
itself never names it).
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from npcore.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    ArgumentParser,
    UsageError,
    add_cluster_options,
    add_format,
    cni_name,
    port_argument,
    print_json,
    protocol_argument,
    run,
    with_externals,
)
from npcore.cli.sources import check_readable, load_input
from npcore.cluster import Cluster, External, Pod, Service, UnknownPeerError
from npcore.model import Protocol

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["COMMAND_GROUP", "build_parser", "main"]

PROG = "npcore"
COMMAND_GROUP = "npcore.commands"


@dataclass(frozen=True, slots=True)
class _Streams:
    out: TextIO
    err: TextIO


def _extra_commands() -> dict[str, EntryPoint]:
    """Subcommands other installed packages add (entry-point group ``npcore.commands``);
    read only when the command is not one of npcore's own (it costs ~50 ms)."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


def build_parser(extra: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``npcore`` argument parser (``extra``: names of added subcommands, for --help)."""
    also = "".join(f"npcore {name} --help; " for name in extra)
    parser = ArgumentParser(
        prog=PROG,
        description="Check, evaluate and explain Kubernetes NetworkPolicy manifests.",
        epilog=(
            (f"Also: {also.rstrip('; ')}.  " if also else "")
            + "Exit status: 0 success, 1 invalid input, 2 usage error.  See docs/cli.md."
        ),
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    files_help = "manifest files or directories (YAML or JSON); - reads stdin"

    check = sub.add_parser(
        "check",
        help="report every problem in the manifests",
        description="Report every "
        "parse and validation problem at once, with file, line, column and field path.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help=files_help)

    matrix = sub.add_parser(
        "matrix",
        help="who can reach whom",
        description="The truth table of every ordered "
        "pair of pods (and externals): for one port, or the allowed ports of each pair.",
    )
    matrix.add_argument("files", nargs="+", metavar="FILE", help=files_help)
    matrix.add_argument("--port", type=port_argument, metavar="N|NAME", help="probe one port")
    matrix.add_argument(
        "--protocol",
        type=protocol_argument,
        default=None,
        metavar="TCP|UDP|SCTP",
        help="protocol of --port (default TCP)",
    )
    add_cluster_options(matrix)
    add_format(matrix)

    _add_explain(sub, files_help)

    describe = sub.add_parser(
        "describe",
        help="kubectl describe networkpolicy, for files",
        description="Print every NetworkPolicy as `kubectl describe networkpolicy` does.",
    )
    describe.add_argument("files", nargs="+", metavar="FILE", help=files_help)

    _add_diff(sub)
    return parser


def _add_explain(sub: Any, files_help: str) -> None:
    explain = sub.add_parser(
        "explain",
        help="why one connection is allowed or denied",
        description="Explain "
        "one connection: each side's isolation and which rule admits it, or why none does.",
    )
    explain.add_argument("files", nargs="+", metavar="FILE", help=files_help)
    explain.add_argument(
        "--from",
        dest="src",
        required=True,
        metavar="PEER",
        help="namespace/pod, an external's NAME, or an IP",
    )
    explain.add_argument(
        "--to",
        dest="dst",
        required=True,
        metavar="PEER",
        help="namespace/pod, namespace/service, an external's NAME, or an IP",
    )
    explain.add_argument(
        "--port",
        type=port_argument,
        required=True,
        metavar="N|NAME",
        help="the port (a Service's port when --to names a Service)",
    )
    explain.add_argument(
        "--protocol", type=protocol_argument, default=Protocol.TCP, metavar="TCP|UDP|SCTP"
    )
    add_cluster_options(explain)
    add_format(explain)


def _add_diff(sub: Any) -> None:
    diff = sub.add_parser(
        "diff",
        help="what changes between two policy sets",
        description="Compare two policy sets on the same cluster: print every connection "
        "whose allowed ports differ.  The --cluster files give the pods, namespaces and "
        "services (their policies, if any, are kept in both); the last two files are the "
        "policy sets A (before) and B (after).",
    )
    diff.add_argument(
        "--cluster",
        action="extend",
        nargs="+",
        required=True,
        metavar="FILE",
        help="files giving the pods, namespaces and services",
    )
    diff.add_argument("policies", nargs="*", metavar="A B", help="the two policy files")
    add_cluster_options(diff)
    add_format(diff)


# --- subcommands ----------------------------------------------------------------------------


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _cmd_check(args: argparse.Namespace, streams: _Streams) -> int:
    result = load_input(args.files, "calico", streams.out, keep_invalid=True)
    if not result.ok:
        print(f"FAILED: {_plural(len(result.errors), 'problem')}", file=streams.out)
        return EXIT_INVALID
    c = result.cluster
    objects = len(c.policies) + len(c.pods) + len(c.services)
    print(
        f"OK: {_plural(objects, 'object')} ({_plural(len(c.policies), 'policy', 'policies')}, "
        f"{_plural(len(c.pods), 'pod')}, {_plural(len(c.services), 'service')}) "
        f"in {_plural(len(c.namespaces), 'namespace')}",
        file=streams.out,
    )
    return EXIT_OK


def _enforcement(cluster: Cluster) -> str:
    if cluster.enforced:
        return f"CNI {cluster.cni} ({cluster.cni_plugin.summary})"
    return f"CNI {cluster.cni} (does not enforce NetworkPolicy: everything is allowed)"


def _table(peers: Sequence[str], cell: list[list[str]]) -> list[str]:
    if not peers:
        return ["(no peers: the input has no pods; add --external NAME=IP for endpoints)"]
    corner = "-"
    first = max([len(corner), *(len(p) for p in peers)])
    widths = [max([len(p), *(len(row[j]) for row in cell)]) for j, p in enumerate(peers)]
    lines = [
        "  ".join(
            [corner.ljust(first), *(p.ljust(w) for p, w in zip(peers, widths, strict=True))]
        ).rstrip()
    ]
    for src, row in zip(peers, cell, strict=True):
        parts = [src.ljust(first), *(c.ljust(w) for c, w in zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
    return lines


def _cmd_matrix(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.reachability import connectivity_map, matrix

    cni = cni_name(args.cni)
    if args.protocol is not None and args.port is None:
        raise UsageError("--protocol needs --port")
    cluster = with_externals(load_input(args.files, cni, streams.err).cluster, args.external)
    if args.port is not None:
        protocol = args.protocol or Protocol.TCP
        m = matrix(cluster, args.port, protocol)
        if args.format == "json":
            # The same text as print_json(m.to_dict()), without building a dict of
            # every pair (issue 12: a 1,000-pod table in well under a second).
            streams.out.write(m.to_json() + "\n")
            return EXIT_OK
        port = f"{protocol} port {args.port}"
        if isinstance(args.port, str):
            port += " (a named port, resolved on each destination pod)"
        print(
            f"{port}, {_enforcement(cluster)}; rows: from, columns: to; . allowed, X denied",
            file=streams.out,
        )
        cells = [
            ["." if m.allowed_at(i, j) else "X" for j in range(len(m.peers))]
            for i in range(len(m.peers))
        ]
        for line in _table(m.peers, cells):
            print(line, file=streams.out)
        return EXIT_OK
    cmap = connectivity_map(cluster)
    if args.format == "json":
        streams.out.write(cmap.to_json() + "\n")  # the text of print_json(cmap.to_dict())
        return EXIT_OK
    print(
        f"All ports, {_enforcement(cluster)}; rows: from, columns: to; "
        "each cell lists the allowed ports (all; X none)",
        file=streams.out,
    )
    grid = []
    for i in range(len(cmap.peers)):
        row = []
        for j in range(len(cmap.peers)):
            described = cmap.ports_at(i, j).describe()
            row.append(",".join(described) if described else "X")
        grid.append(row)
    for line in _table(cmap.peers, grid):
        print(line, file=streams.out)
    return EXIT_OK


def _known_peers(cluster: Cluster) -> str:
    names = [p.key for p in cluster.peers()] + [f"{s.key} (Service)" for s in cluster.services]
    shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
    return shown or "none"


def _resolve_peer(
    cluster: Cluster, text: str, option: str, streams: _Streams
) -> Pod | External | Service:
    """A peer as :meth:`Cluster.peer` finds it (Services included), or an ad-hoc external
    endpoint for an IP that no peer has.  When a pod and a Service share a name the pod
    wins, with a note on stderr (``service:namespace/name`` picks the Service)."""
    kind, sep, rest = text.partition(":")
    prefixed = bool(sep) and kind in ("pod", "service", "svc")
    try:
        found = cluster.peer(text, services=True)
    except UnknownPeerError:
        if prefixed:
            what = "pod" if kind == "pod" else "Service"
            raise UsageError(
                f"{option} {text}: there is no {what} {rest} (known: {_known_peers(cluster)})"
            ) from None
        if "/" not in text and _is_ip(text):
            return External(text, text)
        raise UsageError(
            f"{option} {text}: no pod, Service or external endpoint has that name "
            f"(known: {_known_peers(cluster)}); write namespace/pod, namespace/service, an "
            "--external NAME, or an IP address"
        ) from None
    if not prefixed and isinstance(found, Pod):
        try:
            cluster.peer(f"service:{text}", services=True)
        except UnknownPeerError:
            return found
        print(
            f"note: {text} names both a pod and a Service; using the pod "
            f"(write service:{text} for the Service)",
            file=streams.err,
        )
    return found


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _cmd_explain(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.engine import Connection, is_allowed
    from npcore.explain import (
        explain_dict,
        explain_service_dict,
        explain_service_text,
        explain_text,
    )
    from npcore.services import ServicePortError, evaluate_service

    cni = cni_name(args.cni)
    cluster = with_externals(load_input(args.files, cni, streams.err).cluster, args.external)
    src = _resolve_peer(cluster, args.src, "--from", streams)
    dst = _resolve_peer(cluster, args.dst, "--to", streams)
    if isinstance(src, Service):
        pods = ", ".join(p.key for p in cluster.endpoints(src)) or "it has none"
        raise UsageError(
            f"--from {src.key} is a Service: connections start from a pod; name one of its "
            f"pods ({pods})"
        )
    if isinstance(dst, Service):
        try:
            sv = evaluate_service(cluster, src, dst, args.port, args.protocol)
        except ServicePortError as error:
            raise UsageError(f"--to {dst.key} --port {args.port}: {error}") from None
        if args.format == "json":
            print_json(explain_service_dict(sv), streams.out)
        else:
            print(explain_service_text(sv), file=streams.out)
        return EXIT_OK
    verdict = is_allowed(cluster, Connection(src, dst, args.port, args.protocol))
    if args.format == "json":
        print_json(explain_dict(verdict), streams.out)
    else:
        print(explain_text(verdict), file=streams.out)
    return EXIT_OK


def _cmd_describe(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.describe import describe_policies

    policies = load_input(args.files, "calico", streams.err).cluster.policies
    if not policies:
        print("npcore: no NetworkPolicy in the input", file=streams.err)
        return EXIT_OK
    print(describe_policies(policies), end="", file=streams.out)
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.diff import diff, diff_dict, diff_text

    files = [*args.cluster, *args.policies]
    if len(files) < 3:
        raise UsageError(
            "diff needs --cluster FILE... and two policy files A B "
            "(e.g. npcore diff --cluster cluster.yaml before.yaml after.yaml)"
        )
    cluster_files, (file_a, file_b) = files[:-2], files[-2:]
    cni = cni_name(args.cni)
    check_readable([*cluster_files, file_a, file_b])
    base = with_externals(load_input(cluster_files, cni, streams.err).cluster, args.external)
    sets = []
    for path in (file_a, file_b):
        sets.append(load_input([path], cni, streams.err).cluster.policies)
    cluster_a = base.with_policies((*base.policies, *sets[0]))
    cluster_b = base.with_policies((*base.policies, *sets[1]))
    changes = diff(cluster_a, cluster_b)
    if args.format == "json":
        print_json(diff_dict(changes), streams.out)
    else:
        print(diff_text(changes), file=streams.out)
    return EXIT_OK


_COMMANDS = {
    "check": _cmd_check,
    "matrix": _cmd_matrix,
    "explain": _cmd_explain,
    "describe": _cmd_describe,
    "diff": _cmd_diff,
}


def _run_extra(entry: EntryPoint, argv: list[str], streams: _Streams) -> int:
    """An added subcommand: its ``main(argv, prog=...)``, loaded only when asked for."""
    try:
        command_main: Callable[..., int] = entry.load()
    except ImportError as error:
        print(
            f"{PROG}: error: {entry.name!r} comes from a package that cannot be imported "
            f"({error}); install the extra it needs, e.g. pip install 'netpol-lab[all]'",
            file=streams.err,
        )
        return EXIT_USAGE
    return int(command_main(argv, prog=f"{PROG} {entry.name}"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``npcore`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    streams = _Streams(sys.stdout, sys.stderr)
    arguments = list(argv) if argv is not None else sys.argv[1:]
    extra: dict[str, EntryPoint] = {}
    if not arguments or arguments[0] not in _COMMANDS:
        extra = {n: e for n, e in _extra_commands().items() if n not in _COMMANDS}
        if arguments and arguments[0] in extra:
            return _run_extra(extra[arguments[0]], arguments[1:], streams)

    def body() -> int:
        args = build_parser(sorted(extra)).parse_args(arguments)
        return _COMMANDS[args.command](args, streams)

    return run(PROG, body, streams.err)
