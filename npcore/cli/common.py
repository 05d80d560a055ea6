"""What every netpol-lab command line shares: the contract, the argument types, the output.

The contract of ``npcore``, ``npcore-draw`` (``npcore draw``) and ``npgrade``, tested
once for all three (tests/test_cli_contract.py):

* Exit status: 0 success; 1 invalid input (a manifest the API server would refuse, or an
  answer that does not pass); 2 usage error (bad arguments, unknown peer, unknown CNI, an
  input that cannot be used: unreadable, too large, not UTF-8, empty or only comments,
  however it arrives).  User input never produces a traceback.
* Notices (skipped kinds, replaced objects) are printed one a line as
  ``FILE:LINE: notice: message`` (:func:`notice_line`); errors as
  ``FILE:LINE:COL: FIELD.PATH: message``; usage errors as ``PROG: error: message``.
* ``FILE`` may be a file, a directory of manifests, or ``-`` for stdin (once); they are
  read by :mod:`npcore.cli.sources` (:func:`~npcore.cli.sources.load_input`).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NoReturn, TextIO

from npcore.cluster import Cluster, External
from npcore.cni import KNOWN_CNIS, UnknownCNIError, cni_info
from npcore.errors import Notice, NpcoreError
from npcore.model import Protocol

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "ArgumentParser",
    "InvalidInput",
    "UsageError",
    "add_cluster_options",
    "add_format",
    "cni_name",
    "external_argument",
    "notice_line",
    "port_argument",
    "print_json",
    "protocol_argument",
    "run",
    "with_externals",
]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A usage problem: printed as ``PROG: error: ...``, exit status 2."""


class InvalidInput(Exception):
    """The input has errors (already printed): exit status 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, raising :class:`UsageError` instead of exiting on an error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


# --- argument types ---------------------------------------------------------------------------


def port_argument(text: str) -> int | str:
    """``--port``: a number 1-65535 or a port name."""
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= 65535:
            raise argparse.ArgumentTypeError(f"port {number} is not between 1 and 65535")
        return number
    if not text or text.startswith("-"):
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number or a port name")
    return text


def protocol_argument(text: str) -> Protocol:
    """``--protocol``: TCP, UDP or SCTP, in any case."""
    try:
        return Protocol(text.upper())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid protocol {text!r}: choose TCP, UDP or SCTP"
        ) from None


def external_argument(text: str) -> External:
    """``--external NAME=IP``."""
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


def add_cluster_options(
    parser: argparse.ArgumentParser, *, externals: bool = True, example: str = "internet=8.8.8.8"
) -> None:
    """``--cni NAME`` and (with ``externals``) the repeatable ``--external NAME=IP``."""
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
            help=f"an endpoint outside the cluster (repeatable), e.g. {example}",
        )


def add_format(parser: argparse.ArgumentParser) -> None:
    """``--format text|json``."""
    parser.add_argument("--format", choices=("text", "json"), default="text")


def cni_name(name: str) -> str:
    """The canonical name of a CNI; :class:`UsageError` for an unknown one."""
    try:
        return cni_info(name).name
    except UnknownCNIError as error:
        raise UsageError(str(error)) from None


def with_externals(cluster: Cluster, externals: Sequence[External]) -> Cluster:
    """``cluster`` with the ``--external`` endpoints added (names must be new)."""
    if not externals:
        return cluster
    names = {p.key for p in cluster.peers()}
    seen: set[str] = set()
    for ext in externals:
        if ext.name in names or ext.name in seen:
            raise UsageError(f"--external {ext.name}: a peer with that name already exists")
        seen.add(ext.name)
    return replace(cluster, externals=(*cluster.externals, *externals))


# --- output -------------------------------------------------------------------------


def notice_line(notice: Notice) -> str:
    """``FILE:LINE: notice: message`` (the parts that are known)."""
    where = ":".join(str(p) for p in (notice.file, notice.line) if p is not None)
    return f"{where}: notice: {notice.message}" if where else f"notice: {notice.message}"


def print_json(data: object, out: TextIO) -> None:
    """One JSON document on ``out``, indented by two spaces."""
    out.write(json.dumps(data, indent=2))
    out.write("\n")


def run(prog: str, body: Callable[[], int], err: TextIO | None = None) -> int:
    """Run a command's ``body`` under the contract: usage errors exit 2 with
    ``PROG: error: ...``, invalid input 1, a closed stdout (``| head``) 0."""
    err = err if err is not None else sys.stderr
    try:
        try:
            return body()
        except SystemExit as stop:  # --help and --version
            return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_USAGE
    except UsageError as error:
        print(f"{prog}: error: {error}", file=err)
        return EXIT_USAGE
    except InvalidInput:
        return EXIT_INVALID
    except NpcoreError as error:
        for line in str(error).splitlines():
            print(line, file=err)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader went away (``npcore matrix ... | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
