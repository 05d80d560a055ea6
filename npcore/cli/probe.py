"""``npcore probe``: write what a learner applies to a real cluster to check npcore's
prediction, and compare what the cluster did with it (docs/probe.md).

* ``npcore probe FILE... --out DIR [--cni NAME] [--image IMAGE] [--timeout 2s]`` writes
  ``DIR/scenario.yaml``, ``DIR/policies.yaml``, ``DIR/expected.json`` (a list of
  ``npcore matrix --format json`` documents, one per probed port and protocol) and
  ``DIR/run.sh`` (kubectl only; writes ``observed.json``).  Exit 0, 1 for invalid
  manifests, 2 for usage errors.
* ``npcore probe compare EXPECTED OBSERVED``: exit 0 when every cell agrees, 1 when some
  differ (each explained), 2 for unusable input (unreadable, not JSON, wrong schema,
  other peers or ports).

Registered as an ``npcore.commands`` entry point (``probe``); the core is
:mod:`npcore.probe` and :mod:`npcore.probecompare`.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from npcore.cli.common import (
    EXIT_OK,
    ArgumentParser,
    UsageError,
    add_cluster_options,
    cni_name,
    run,
)
from npcore.cli.sources import load_input
from npcore.probe import AGNHOST_IMAGE, DEFAULT_TIMEOUT, probe_files
from npcore.probecompare import (
    MatrixDocument,
    ProbeInputError,
    compare,
    comparison_text,
    parse_documents,
)

__all__ = ["main"]

EXIT_DIFFER = 1
EXIT_UNUSABLE = 2


def _generate_parser(prog: str) -> ArgumentParser:
    parser = ArgumentParser(
        prog=prog,
        description="Write the scenario, its policies, npcore's expected matrices and a "
        "kubectl-only run.sh that probes every pair of pods on a real cluster. "
        f"Then: {prog} compare DIR/expected.json DIR/observed.json.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="manifests (file, dir or -)")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    add_cluster_options(parser, externals=False)
    parser.add_argument("--image", default=AGNHOST_IMAGE, help=f"server image ({AGNHOST_IMAGE})")
    parser.add_argument(
        "--timeout", default=DEFAULT_TIMEOUT, help="agnhost connect timeout (default 2s)"
    )
    return parser


def _generate(argv: Sequence[str], prog: str, out: TextIO, err: TextIO) -> int:
    args = _generate_parser(prog).parse_args(list(argv))
    cluster = load_input(args.files, cni_name(args.cni), err).cluster
    if not cluster.pods:
        raise UsageError("the input has no pods: there is nothing to probe")
    directory = Path(args.out)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    files = probe_files(cluster, image=args.image, timeout=args.timeout)
    for name, text in files.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        if name.endswith(".sh"):
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        print(f"wrote {path}", file=out)
    d = os.fspath(directory)
    steps = [f"kubectl apply -f {d}/scenario.yaml"]
    if "policies.yaml" in files:
        steps.append(f"kubectl apply -f {d}/policies.yaml")
    steps += [
        f"bash {d}/run.sh {d}/observed.json",
        f"{prog} compare {d}/expected.json {d}/observed.json",
    ]
    print(f"next, on a practice cluster (CNI predicted: {cluster.cni}):", file=out)
    for step in steps:
        print(f"  {step}", file=out)
    return EXIT_OK


def _read_json(name: str, stdin: TextIO) -> object:
    try:
        text = stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{name}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text: give the JSON run.sh wrote") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{name}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); "
            "did run.sh stop early?"
        ) from None


def _documents(name: str, stdin: TextIO) -> tuple[MatrixDocument, ...]:
    try:
        return parse_documents(_read_json(name, stdin), name)
    except ProbeInputError as error:
        raise UsageError(str(error)) from None


def _compare(argv: Sequence[str], prog: str, out: TextIO) -> int:
    parser = ArgumentParser(
        prog=f"{prog} compare",
        description="Compare a cluster's observed.json with npcore's expected.json: exit 0 "
        "when every cell agrees, 1 when some differ, 2 for unusable input.",
    )
    parser.add_argument("expected", metavar="EXPECTED", help="expected.json from npcore probe")
    parser.add_argument("observed", metavar="OBSERVED", help="observed.json from run.sh (or -)")
    args = parser.parse_args(list(argv))
    if args.expected == "-" and args.observed == "-":
        raise UsageError("stdin (-) can be read only once")
    expected = _documents(args.expected, sys.stdin)
    observed = _documents(args.observed, sys.stdin)
    try:
        result = compare(expected, observed, args.observed)
    except ProbeInputError as error:
        raise UsageError(str(error)) from None
    print(comparison_text(result), file=out)
    return EXIT_OK if result.agrees else EXIT_DIFFER


def main(argv: Sequence[str] | None = None, prog: str = "npcore probe") -> int:
    """Run ``npcore probe`` (or ``npcore probe compare``); return the exit status."""
    arguments = list(argv) if argv is not None else sys.argv[1:]
    out, err = sys.stdout, sys.stderr
    if arguments[:1] == ["compare"]:
        return run(prog, lambda: _compare(arguments[1:], prog, out), err)
    return run(prog, lambda: _generate(arguments, prog, out, err), err)
