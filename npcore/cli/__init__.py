"""npcore's command-line layer: the only part of npcore that reads files or streams,
prints, or exits.

* :mod:`npcore.cli.common`: the contract every netpol-lab command line shares (exit
  status, the ``FILE:LINE: notice: ...`` format, usage errors), the argument types and
  options (``--port``, ``--protocol``, ``--cni``, ``--external``, ``--format``), and
  :func:`~npcore.cli.common.run`.
* :mod:`npcore.cli.sources`: files, directories and ``-`` to ``(name, text)`` sources,
  and :func:`~npcore.cli.sources.load_input` (check, load, print notices and errors).
* :mod:`npcore.cli.commands`: the ``npcore`` command (check, matrix, explain, describe,
  diff, and subcommands added through the ``npcore.commands`` entry-point group).

The project's other command lines build on the first two.  Nothing in npcore's core
imports this package.
"""

from npcore.cli.commands import build_parser, main
from npcore.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    ArgumentParser,
    UsageError,
    external_argument,
    port_argument,
    protocol_argument,
)

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
