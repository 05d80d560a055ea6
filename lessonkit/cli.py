"""``npcore draw`` (also installed as ``npcore-draw``): the flow diagram, without Jupyter.

npcore must not import matplotlib, so the drawing command lives here; ``npcore draw ...``
dispatches to :func:`main` with the arguments after ``draw``.

Contract (the same as ``npcore``'s other commands):

* Exit status: 0 success; 1 invalid input (parse or validation errors, printed on stderr
  one a line as ``FILE:LINE:COL: FIELD.PATH: message``); 2 usage error (bad arguments,
  unknown peer, unknown CNI, unreadable file, unsupported output format).  User input
  never produces a traceback.
* ``FILE`` may be a file, a directory of manifests, or ``-`` for stdin.
* The picture goes to ``-o`` (``.png`` or ``.svg``); stdout gets the diagram's text
  alternative, one line per arrow, then the CNI line.

Flows: every ``--flow SRC:DST[:PORT[/PROTOCOL]]`` given (``--port`` is the default port),
or, without ``--flow``, every ordered pair of peers on ``--port``: pods (``ns/name``) and
externals (``--external NAME=IP``), leaving out a peer to itself, external to external,
and pods that declare container ports but none that matches the port.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from npcore import KNOWN_CNIS, Cluster, External, Pod, cni_info
from npcore.cli import ArgumentParser as _Parser
from npcore.cli import UsageError
from npcore.cli import external_argument as _external
from npcore.cli import port_argument as _port
from npcore.cli import protocol_argument as _protocol
from npcore.errors import NpcoreError

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "all_pairs", "build_parser", "main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
PROG = "npcore draw"
FORMATS = ("png", "svg")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The ``npcore draw`` argument parser."""
    parser = _Parser(
        prog=prog,
        description="Draw which connections NetworkPolicies allow, as a PNG or SVG picture.",
        epilog="Exit status: 0 success, 1 invalid input, 2 usage error.  See docs/widgets.md.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="manifest files or directories; - reads stdin"
    )
    parser.add_argument(
        "--port", type=_port, metavar="N|NAME", help="the port of every flow (default for --flow)"
    )
    parser.add_argument(
        "--protocol", type=_protocol, default="TCP", metavar="TCP|UDP|SCTP", help="default TCP"
    )
    parser.add_argument(
        "--flow",
        action="append",
        default=[],
        metavar="SRC:DST[:PORT[/PROTO]]",
        help="a connection to draw (repeatable); without it, every pair of peers on --port",
    )
    parser.add_argument(
        "--cni",
        default="calico",
        metavar="NAME",
        help=f"network plugin (default calico; known: {', '.join(sorted(KNOWN_CNIS))})",
    )
    parser.add_argument(
        "--external",
        action="append",
        type=_external,
        default=[],
        metavar="NAME=IP",
        help="an endpoint outside the cluster (repeatable), e.g. user=203.0.113.10",
    )
    parser.add_argument(
        "-o", "--output", default="flows.png", metavar="FILE", help="flows.png or flows.svg"
    )
    parser.add_argument("--title", help="a title above the diagram")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of a PNG (default 100)")
    return parser


def _listens(pod: Pod, port: int | str, protocol: str) -> bool:
    """Whether ``pod`` could receive on ``port``: it declares no ports, or a matching one."""
    if not pod.ports:
        return True
    for cp in pod.ports:
        if cp.protocol.value != protocol:
            continue
        if (isinstance(port, int) and cp.port == port) or cp.name == port:
            return True
    return False


def all_pairs(cluster: Cluster, port: int | str, protocol: str = "TCP") -> list:
    """Every ordered pair of peers on ``port`` (see the module docstring for what is left out)."""
    from lessonkit.diagrams import Flow

    flows = []
    for src in cluster.peers():
        for dst in cluster.peers():
            if src.key == dst.key or (isinstance(src, External) and isinstance(dst, External)):
                continue
            if isinstance(dst, Pod) and not _listens(dst, port, protocol):
                continue
            flows.append(Flow(src.key, dst.key, port, protocol))
    return flows


def _check_readable(paths: Sequence[str]) -> None:
    if sum(1 for p in paths if p == "-") > 1:
        raise UsageError("stdin (-) can be read only once")
    for path in paths:
        if path != "-" and not os.path.exists(path):
            raise UsageError(f"cannot read {path}: no such file or directory")
        if path != "-" and not os.access(path, os.R_OK):
            raise UsageError(f"cannot read {path}: permission denied")


def _run(args: argparse.Namespace) -> int:
    from lessonkit.diagrams import Flow, render
    from npcore.load import load_files

    fmt = os.path.splitext(args.output)[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"-o {args.output}: the output must end in .png or .svg")
    try:
        cni = cni_info(args.cni).name
    except ValueError as error:
        raise UsageError(str(error)) from None
    _check_readable(args.files)
    result = load_files(list(args.files), cni=cni)
    for notice in result.notices:
        print(f"notice: {notice}", file=sys.stderr)
    if not result.ok:
        for error in result.errors:
            print(str(error), file=sys.stderr)
        return EXIT_INVALID
    cluster = result.cluster
    names = {p.key for p in cluster.peers()}
    for ext in args.external:
        if ext.name in names:
            raise UsageError(f"--external {ext.name}: a peer with that name already exists")
        names.add(ext.name)
    cluster = replace(cluster, externals=(*cluster.externals, *args.external))

    if args.flow:
        try:
            flows = [Flow.parse(text, args.port, args.protocol) for text in args.flow]
        except ValueError as error:
            raise UsageError(f"--flow: {error}") from None
    else:
        if args.port is None:
            raise UsageError("give --port N (every pair of peers on N) or at least one --flow")
        flows = all_pairs(cluster, args.port, args.protocol)
        if not flows:
            raise UsageError(f"no pair of peers to draw on {args.protocol} {args.port}")
    for flow in flows:
        for name in (flow.src, flow.dst):
            if name not in names:
                known = ", ".join(sorted(names)) or "none"
                raise UsageError(f"--flow {flow.name}: unknown peer {name!r}; known: {known}")
    data, diagram = render(cluster, flows, fmt=fmt, title=args.title, dpi=args.dpi)
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(diagram.text())
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run ``npcore draw`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        try:
            args = build_parser(prog).parse_args(list(argv) if argv is not None else None)
        except SystemExit as stop:  # --help
            return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_USAGE
        return _run(args)
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except NpcoreError as error:
        for line in str(error).splitlines():
            print(line, file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
