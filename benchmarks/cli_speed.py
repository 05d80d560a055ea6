"""The command line at core speed: ``npcore matrix FILE --port 80 --format json`` as a whole
process, on the generated 1,000 pods x 500 policies file (issue 12).

Rules of this file:

* The input is ``benchmarks/generate.py --pods 1000 --policies 500 --seed 1`` written as
  one YAML file (about 800 KB); it is written once into a temporary directory.
* Each run is a fresh ``python -m npcore`` process with stdout to ``/dev/null``; the
  wall-clock time is measured around the process, its CPU time (user + system) from
  ``resource.getrusage(RUSAGE_CHILDREN)``.  On a shared machine the wall clock also
  counts time spent waiting for a CPU, so both are printed, with the load average.
* The best of ``--repeat`` runs counts; the target is one second.

Usage::

    python benchmarks/cli_speed.py [--repeat 5] [--pods 1000 --policies 500] [--root DIR]

``--root`` runs the npcore found in another checkout (for a before/after comparison in
the same run).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate  # noqa: E402

TARGET_SECONDS = 1.0


def _run_once(root: Path, path: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "npcore", "matrix", str(path), "--port", "80", "--format", "json"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose npcore runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cluster.yaml"
        path.write_text(generate(args.pods, args.policies, args.seed).to_yaml())
        runs = [_run_once(args.root, path) for _ in range(args.repeat)]
        size = path.stat().st_size
    wall = min(w for w, _ in runs)
    cpu = min(c for _, c in runs)
    load = os.getloadavg()[0]
    print(
        f"npcore matrix ({args.pods}x{args.policies}, {size / 1024:.0f} KB) --port 80 --format json"
        f" [{args.root}]: best wall {wall:.2f} s, best CPU {cpu:.2f} s"
        f" (of {args.repeat}; 1-min load average {load:.1f})"
    )
    return 0 if cpu < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
