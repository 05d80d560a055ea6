"""``npcore probe``: write what a learner applies to a real cluster to check npcore's
prediction, and compare what the cluster did with it (docs/probe.md).

* ``npcore probe FILE... --out DIR [--cni NAME] [--image IMAGE] [--timeout 2s]`` writes
  ``DIR/scenario.yaml``, ``DIR/policies.yaml``, ``DIR/expected.json`` (a list of
  ``npcore matrix --format json`` documents, one per probed port and protocol) and
  ``DIR/run.sh`` (kubectl only; writes ``observed.json``) and ``DIR/cleanup.sh``.  Exit
  0, 1 for invalid manifests, 2 for usage errors (an ``--out`` that cannot be written,
  a ``--timeout`` that is not a duration, an ``--image`` that is not an image reference).
* ``npcore probe compare EXPECTED OBSERVED``: exit 0 when every cell agrees, 1 when some
  differ (each explained), 2 for unusable input (unreadable, not JSON, wrong schema,
  other peers or ports).

Registered as an ``npcore.commands`` entry point (``probe``); the core is
:mod:`npcore.probe` and :mod:`npcore.probecompare`.
"""

from __future__ import annotations

import json
import os
import shlex
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
from npcore.load import DEFAULT_LIMITS
from npcore.probe import AGNHOST_IMAGE, DEFAULT_TIMEOUT, image_error, probe_files, timeout_error
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
    parser.add_argument(
        "--image", default=AGNHOST_IMAGE, help=f"server image reference ({AGNHOST_IMAGE})"
    )
    parser.add_argument(
        "--timeout",
        default=DEFAULT_TIMEOUT,
        help="agnhost connect timeout: a whole number with ms, s or m (default 2s)",
    )
    return parser


def _checked(option: str, problem: str | None) -> None:
    if problem:
        raise UsageError(f"{option} {problem}")


def _write_files(directory: Path, files: dict[str, str], out: TextIO) -> None:
    """Write ``files`` into ``directory`` (created if needed); any failure is a sentence."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {directory}: exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"--out {directory}: cannot create the directory ({error.strerror or error}): "
            "give a directory you may write to"
        ) from None
    for name, text in files.items():
        path = directory / name
        try:
            path.write_text(text, encoding="utf-8")
            if name.endswith(".sh"):
                path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError as error:
            raise UsageError(
                f"--out {directory}: cannot write {name} ({error.strerror or error}): "
                "give a directory you may write to"
            ) from None
        print(f"wrote {path}", file=out)


def _generate(argv: Sequence[str], prog: str, out: TextIO, err: TextIO) -> int:
    args = _generate_parser(prog).parse_args(list(argv))
    _checked("--timeout", timeout_error(args.timeout))
    _checked("--image", image_error(args.image))
    cluster = load_input(args.files, cni_name(args.cni), err).cluster
    if not cluster.pods:
        raise UsageError("the input has no pods: there is nothing to probe")
    directory = Path(args.out)
    files = probe_files(cluster, image=args.image, timeout=args.timeout)
    _write_files(directory, files, out)

    def path(name: str) -> str:
        return shlex.quote(os.path.join(os.fspath(directory), name))

    steps = [f"kubectl apply -f {path('scenario.yaml')}"]
    if "policies.yaml" in files:
        steps.append(f"kubectl apply -f {path('policies.yaml')}")
    steps += [
        f"bash {path('run.sh')} {path('observed.json')}",
        f"{prog} compare {path('expected.json')} {path('observed.json')}",
        f"bash {path('cleanup.sh')}  # when you are done: deletes the pods and policies",
    ]
    print(f"next, on a practice cluster (CNI predicted: {cluster.cni}):", file=out)
    for step in steps:
        print(f"  {step}", file=out)
    return EXIT_OK


def _read_json(name: str, stdin: TextIO) -> object:
    """The JSON in ``name`` (``-``: stdin), read with the manifest reader's bounds: at
    most ``max_bytes``, nested at most as deep as Python's parser allows."""
    limit = DEFAULT_LIMITS.max_bytes
    try:
        if name == "-":
            text = stdin.read(limit + 1)
        else:
            with open(name, encoding="utf-8") as stream:
                text = stream.read(limit + 1)
    except OSError as error:
        raise UsageError(f"{name}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text: give the JSON run.sh wrote") from None
    if len(text) > limit:
        raise UsageError(
            f"{name}: larger than {limit} characters: not an observation run.sh writes"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{name}:{error.lineno}:{error.colno}: not valid JSON ({error.msg}); "
            "give the whole file run.sh wrote"
        ) from None
    except RecursionError:
        raise UsageError(
            f"{name}: nested too deeply to read: not an observation run.sh writes"
        ) from None


def _documents(name: str, stdin: TextIO) -> tuple[tuple[MatrixDocument, ...], bool]:
    """The documents in ``name``, and whether the file held one document (not a list)."""
    data = _read_json(name, stdin)
    try:
        return parse_documents(data, name), isinstance(data, dict)
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
    expected, _ = _documents(args.expected, sys.stdin)
    observed, single = _documents(args.observed, sys.stdin)
    try:
        result = compare(expected, observed, args.observed, observed_single=single)
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
