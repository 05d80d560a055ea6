"""``npcore draw`` (also installed as ``npcore-draw``): the flow diagram, without Jupyter.

npcore must not import matplotlib, so the drawing command lives here; this package
registers it as ``draw`` in the ``npcore.commands`` entry-point group (pyproject.toml),
through which ``npcore draw ...`` calls :func:`main` with the arguments after ``draw``.

Contract: the one of :mod:`npcore.cli.common` (exit status 0/1/2; notices and errors on
stderr, notices as ``FILE:LINE: notice: ...``; an unreadable or empty input, or an
unsupported output format, is a usage error); input is read by :mod:`npcore.cli.sources`.
* The picture goes to ``-o`` (``.png`` or ``.svg``); stdout gets the diagram's text
  alternative, one line per arrow, then the CNI line.

Legible or refused: more than ``MAX_FLOWS`` arrows, or a picture that
:func:`lessonkit.legibility.problems` finds hard to read (texts that overlap or are cut,
hidden arrows, a covered legend) or that would be drawn smaller than the common size, is
a usage error whose message says what to do (pick flows with ``--flow``, or use
``npcore matrix``); nothing is written then.

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
from typing import TYPE_CHECKING

from npcore import Cluster, External, Pod, Protocol, UnknownPeerError, resolve_port
from npcore.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError, run
from npcore.cli.common import ArgumentParser as _Parser
from npcore.cli.common import add_cluster_options as _cluster_options
from npcore.cli.common import cni_name as _cni
from npcore.cli.common import port_argument as _port
from npcore.cli.common import protocol_argument as _protocol
from npcore.cli.common import with_externals as _with_externals
from npcore.cli.sources import load_input

if TYPE_CHECKING:
    from lessonkit.diagrams import Flow

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "MAX_FLOWS",
    "all_pairs",
    "build_parser",
    "main",
]

PROG = "npcore draw"
# The most arrows one picture holds legibly: every ordered pair of 5 pods in two
# namespaces (20) still passes lessonkit.legibility on its own CNI, on Flannel and with
# every pod isolated; denser scenes of 10-30 arrows already fail (see docs/widgets.md).
MAX_FLOWS = 20
FORMATS = ("png", "svg")


if TYPE_CHECKING:
    from lessonkit.verdicts import Flow, FlowDiagram


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
    _cluster_options(parser, example="user=203.0.113.10")
    parser.add_argument(
        "-o", "--output", default="flows.png", metavar="FILE", help="flows.png or flows.svg"
    )
    parser.add_argument("--title", help="a title above the diagram")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of a PNG (default 100)")
    return parser


def all_pairs(cluster: Cluster, port: int | str, protocol: str = "TCP") -> list[Flow]:
    """Every ordered pair of peers on ``port`` (see the module docstring for what is left out)."""
    from lessonkit.diagrams import Flow

    wanted = Protocol(protocol.upper())
    flows: list[Flow] = []
    for src in cluster.peers():
        for dst in cluster.peers():
            if src.key == dst.key or (isinstance(src, External) and isinstance(dst, External)):
                continue
            # A pod that declares ports must listen on this one (a name resolves by name
            # and protocol); one that declares none may listen on any (Cluster.listening).
            number = resolve_port(dst, port, wanted)
            if isinstance(dst, Pod) and dst.ports and not (
                number is not None and cluster.listening(dst).contains(wanted, number)
            ):
                continue
            flows.append(Flow(src.key, dst.key, port, Protocol(protocol.upper())))
    return flows


def _run(args: argparse.Namespace) -> int:
    from lessonkit.diagrams import Flow

    fmt = os.path.splitext(args.output)[1].lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"-o {args.output}: the output must end in .png or .svg")
    cni = _cni(args.cni)
    result = load_input(args.files, cni, sys.stderr)
    cluster = _with_externals(result.cluster, args.external)

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
    if len(flows) > MAX_FLOWS:
        raise UsageError(
            f"{len(flows)} connections are too many to draw legibly (at most {MAX_FLOWS}): "
            "pick some with --flow SRC:DST, or see them all with npcore matrix"
        )
    for flow in flows:
        for name in (flow.src, flow.dst):
            try:
                peer = cluster.peer(name)
            except UnknownPeerError as error:
                raise UsageError(f"--flow {flow.name}: {error}") from None
            if peer.key != name:  # found by IP or prefix: the diagram names peers by key
                raise UsageError(f"--flow {flow.name}: write {name!r} as {peer.key!r}")
    data, diagram = _legible(cluster, flows, fmt, args.title, args.dpi)
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as error:
        raise UsageError(f"cannot write {args.output}: {error.strerror or error}") from None
    print(diagram.text())
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _legible(
    cluster: Cluster, flows: list[Flow], fmt: str, title: str | None, dpi: int
) -> tuple[bytes, FlowDiagram]:
    """The picture's bytes and diagram, or a UsageError when it would be hard to read."""
    from lessonkit.diagrams import figure_bytes, flow_figure
    from lessonkit.layout import WIDTH_INCHES
    from lessonkit.legibility import problems

    fig, diagram = flow_figure(cluster, flows, title=title, dpi=dpi)
    found = problems(fig, fig.axes[0])
    if abs(fig.get_size_inches()[0] - WIDTH_INCHES) > 0.01:
        found.insert(0, f"{len(cluster.peers())} pods and externals would be drawn too small")
    if found:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise UsageError(
            f"this diagram would be hard to read ({found[0]}{more}): "
            "pick fewer with --flow SRC:DST, give fewer manifests, or use npcore matrix"
        )
    return figure_bytes(fig, diagram, fmt=fmt, title=title), diagram


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    """Run ``npcore draw`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        return run(prog, lambda: _run(build_parser(prog).parse_args(arguments)))
    except ModuleNotFoundError as missing:  # an install without the lessons extra
        print(
            f"{prog}: error: drawing needs the lessons extra ({missing.name} is not "
            "installed): pip install 'netpol-lab[lessons]'",
            file=sys.stderr,
        )
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
