"""``npcore``: check, matrix, explain, describe and diff NetworkPolicy manifests.

A thin shell over npcore (see docs/cli.md for the reference with examples).  Other tools
rely on this contract (issue #2 §6):

* Exit status: 0 success; 1 invalid input (parse or validation errors, printed one per
  line as ``FILE:LINE:COL: FIELD.PATH: message``, on stderr, or on stdout for ``check``);
  2 usage error (bad arguments, unknown peer or Service port, unknown CNI, unreadable
  file).  User input never produces a traceback.
* ``FILE`` may be a file, a directory of manifests, or ``-`` for stdin (once).
* ``--format json`` prints one JSON document on stdout; nothing else goes to stdout.
* Notices (skipped kinds, replaced objects) go to stderr, or to stdout for ``check``, as
  ``FILE:LINE: notice: message``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NoReturn, TextIO

from npcore.cluster import Cluster, External, Pod, Service
from npcore.cni import KNOWN_CNIS, UnknownCNIError, cni_info
from npcore.errors import Notice, NpcoreError
from npcore.model import Protocol

if TYPE_CHECKING:
    from npcore.load import LoadResult

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "ArgumentParser",
    "UsageError",
    "build_parser",
    "external_argument",
    "main",
    "port_argument",
    "protocol_argument",
]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

PROG = "npcore"


class UsageError(Exception):
    """A usage problem: printed as ``npcore: error: ...``, exit status 2."""


class InvalidInput(Exception):
    """The input has errors (already printed): exit status 1."""


@dataclass(frozen=True, slots=True)
class _Streams:
    out: TextIO
    err: TextIO


# --- argument parsing -----------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """argparse, raising :class:`UsageError` instead of exiting on an error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def port_argument(text: str) -> int | str:
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= 65535:
            raise argparse.ArgumentTypeError(f"port {number} is not between 1 and 65535")
        return number
    if not text or text.startswith("-"):
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number or a port name")
    return text


def protocol_argument(text: str) -> Protocol:
    try:
        return Protocol(text.upper())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid protocol {text!r}: choose TCP, UDP or SCTP"
        ) from None


def external_argument(text: str) -> External:
    name, sep, ip = text.partition("=")
    if not sep or not name or not ip:
        raise argparse.ArgumentTypeError(f"invalid --external {text!r}: write NAME=IP")
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --external {text!r}: {ip!r} is not an IP address"
        ) from None
    return External(name, ip)


def _add_cluster_options(parser: argparse.ArgumentParser, *, externals: bool = True) -> None:
    parser.add_argument(
        "--cni",
        default="calico",
        metavar="NAME",
        help=f"network plugin (default calico; known: {', '.join(sorted(KNOWN_CNIS))})",
    )
    if externals:
        parser.add_argument(
            "--external",
            action="append",
            type=external_argument,
            default=[],
            metavar="NAME=IP",
            help="an endpoint outside the cluster (repeatable), e.g. internet=8.8.8.8",
        )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def build_parser() -> argparse.ArgumentParser:
    """The ``npcore`` argument parser."""
    parser = ArgumentParser(
        prog=PROG,
        description="Check, evaluate and explain Kubernetes NetworkPolicy manifests.",
        epilog=(
            "Also: npcore draw FILE... --port N -o flows.png|svg (the flow diagram; needs "
            "matplotlib).  Exit status: 0 success, 1 invalid input, 2 usage error.  "
            "See docs/cli.md."
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
    _add_cluster_options(matrix)
    _add_format(matrix)

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
    _add_cluster_options(explain)
    _add_format(explain)

    describe = sub.add_parser(
        "describe",
        help="kubectl describe networkpolicy, for files",
        description="Print every NetworkPolicy as `kubectl describe networkpolicy` does.",
    )
    describe.add_argument("files", nargs="+", metavar="FILE", help=files_help)

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
    _add_cluster_options(diff)
    _add_format(diff)
    return parser


# --- loading --------------------------------------------------------------------------------


def _check_readable(paths: Sequence[str]) -> None:
    from npcore.load import MANIFEST_SUFFIXES

    if sum(1 for p in paths if p == "-") > 1:
        raise UsageError("stdin (-) can be read only once")
    for path in paths:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise UsageError(f"cannot read {path}: no such file or directory")
        if os.path.isdir(path):
            if not os.access(path, os.R_OK | os.X_OK):
                raise UsageError(f"cannot read {path}: permission denied")
            if not any(
                entry.is_file() and entry.name.endswith(MANIFEST_SUFFIXES)
                for entry in os.scandir(path)
            ):
                suffixes = ", ".join(MANIFEST_SUFFIXES)
                raise UsageError(f"cannot read {path}: no {suffixes} files in the directory")
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror or error}") from None


def _notice_line(notice: Notice) -> str:
    where = ":".join(str(p) for p in (notice.file, notice.line) if p is not None)
    return f"{where}: notice: {notice.message}" if where else f"notice: {notice.message}"


def _load(
    paths: Sequence[str], cni: str, streams: _Streams, *, to_stdout: bool = False
) -> LoadResult:
    from npcore.load import load_files

    _check_readable(paths)
    result = load_files(list(paths), cni=cni)
    where = streams.out if to_stdout else streams.err
    for notice in result.notices:
        print(_notice_line(notice), file=where)
    if not result.ok:
        for error in result.errors:
            print(str(error), file=where)
        if not to_stdout:
            raise InvalidInput
    return result


def _cni(name: str) -> str:
    try:
        return cni_info(name).name
    except UnknownCNIError as error:
        raise UsageError(str(error)) from None


def _with_externals(cluster: Cluster, externals: Sequence[External]) -> Cluster:
    if not externals:
        return cluster
    names = {p.key for p in cluster.peers()}
    seen: set[str] = set()
    for ext in externals:
        if ext.name in names or ext.name in seen:
            raise UsageError(f"--external {ext.name}: a peer with that name already exists")
        seen.add(ext.name)
    return replace(cluster, externals=(*cluster.externals, *externals))


def _json(data: object, streams: _Streams) -> None:
    print(json.dumps(data, indent=2), file=streams.out)


# --- subcommands ----------------------------------------------------------------------------


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _cmd_check(args: argparse.Namespace, streams: _Streams) -> int:
    result = _load(args.files, "calico", streams, to_stdout=True)
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

    cni = _cni(args.cni)
    if args.protocol is not None and args.port is None:
        raise UsageError("--protocol needs --port")
    cluster = _with_externals(_load(args.files, cni, streams).cluster, args.external)
    if args.port is not None:
        protocol = args.protocol or Protocol.TCP
        m = matrix(cluster, args.port, protocol)
        if args.format == "json":
            _json(m.to_dict(), streams)
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
        _json(cmap.to_dict(), streams)
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
    """A pod (``namespace/pod``), a Service (``namespace/service``), an external by name,
    or an IP (a pod or external with that IP, else an ad-hoc external endpoint).

    ``pod:namespace/name`` and ``service:namespace/name`` say which one is meant when a
    pod and a Service share a name (the pod wins otherwise, with a note on stderr).
    """
    kind, sep, rest = text.partition(":")
    if sep and kind in ("pod", "service", "svc"):
        try:
            return cluster.pod(rest) if kind == "pod" else cluster.service(rest)
        except KeyError:
            what = "pod" if kind == "pod" else "Service"
            raise UsageError(
                f"{option} {text}: there is no {what} {rest} (known: {_known_peers(cluster)})"
            ) from None
    if "/" in text:
        pod: Pod | None = None
        service: Service | None = None
        with contextlib.suppress(KeyError):
            pod = cluster.pod(text)
        with contextlib.suppress(KeyError):
            service = cluster.service(text)
        if pod is not None:
            if service is not None:
                print(
                    f"note: {text} names both a pod and a Service; using the pod "
                    f"(write service:{text} for the Service)",
                    file=streams.err,
                )
            return pod
        if service is not None:
            return service
    else:
        with contextlib.suppress(KeyError):
            return cluster.external(text)
        try:
            ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            for peer in cluster.peers():
                if peer.ip == text:
                    return peer
            return External(text, text)
    raise UsageError(
        f"{option} {text}: no pod, Service or external endpoint has that name "
        f"(known: {_known_peers(cluster)}); write namespace/pod, namespace/service, an "
        "--external NAME, or an IP address"
    )


def _cmd_explain(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.engine import Connection, is_allowed
    from npcore.explain import (
        explain_dict,
        explain_service_dict,
        explain_service_text,
        explain_text,
    )
    from npcore.services import ServicePortError, evaluate_service

    cni = _cni(args.cni)
    cluster = _with_externals(_load(args.files, cni, streams).cluster, args.external)
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
            _json(explain_service_dict(sv), streams)
        else:
            print(explain_service_text(sv), file=streams.out)
        return EXIT_OK
    verdict = is_allowed(cluster, Connection(src, dst, args.port, args.protocol))
    if args.format == "json":
        _json(explain_dict(verdict), streams)
    else:
        print(explain_text(verdict), file=streams.out)
    return EXIT_OK


def _cmd_describe(args: argparse.Namespace, streams: _Streams) -> int:
    from npcore.describe import describe_policies

    policies = _load(args.files, "calico", streams).cluster.policies
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
    cni = _cni(args.cni)
    _check_readable([*cluster_files, file_a, file_b])
    base = _with_externals(_load(cluster_files, cni, streams).cluster, args.external)
    sets = []
    for path in (file_a, file_b):
        sets.append(_load([path], cni, streams).cluster.policies)
    cluster_a = base.with_policies((*base.policies, *sets[0]))
    cluster_b = base.with_policies((*base.policies, *sets[1]))
    changes = diff(cluster_a, cluster_b)
    if args.format == "json":
        _json(diff_dict(changes), streams)
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


def _draw(argv: list[str], streams: _Streams) -> int:
    """``npcore draw``: drawing needs matplotlib, which npcore itself never imports, so
    the command lives in :mod:`lessonkit.cli` and is loaded only when asked for."""
    try:
        draw_main = importlib.import_module("lessonkit.cli").main
    except ImportError as error:
        print(
            f"{PROG}: error: 'draw' needs the lessons extra (matplotlib): "
            f"pip install 'netpol-lab[lessons]' ({error})",
            file=streams.err,
        )
        return EXIT_USAGE
    status: int = draw_main(argv, prog=f"{PROG} draw")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``npcore`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    streams = _Streams(sys.stdout, sys.stderr)
    arguments = list(argv) if argv is not None else sys.argv[1:]
    if arguments[:1] == ["draw"]:
        return _draw(arguments[1:], streams)
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(arguments)
        except SystemExit as stop:  # --help and --version
            return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_USAGE
        return _COMMANDS[args.command](args, streams)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=streams.err)
        return EXIT_USAGE
    except InvalidInput:
        return EXIT_INVALID
    except NpcoreError as error:
        for line in str(error).splitlines():
            print(line, file=streams.err)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader went away (``npcore matrix ... | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
