"""CPU time of npcore's main operations in one process, for comparing two checkouts.

Rules of this file:

* ``python benchmarks/cpu_compare.py ROOT`` imports npcore from ``ROOT`` (another
  checkout, e.g. ``git archive`` of an older commit) and times, on ``generate(P, Q, 1)``:
  ``matrix(cluster, 80)``, ``connectivity_map(cluster)``, the map plus ``to_dict()``, and
  ``load_text`` of the generated YAML.
* Times are CPU seconds (``time.process_time``), the best of a few repeats: on a shared
  machine the wall clock counts waiting for a CPU, which is what made run.py's
  side-by-side figures too noisy to compare a refactoring with.  Run the two checkouts
  alternately, twice, and compare the best figures.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _best(operation: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        operation()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str]) -> int:
    root = str(Path(argv[0]).resolve()) if argv else str(HERE)
    sys.path.insert(0, root)
    import npcore
    from benchmarks.generate import generate
    from npcore import connectivity_map, matrix
    from npcore.load import load_text

    if not str(npcore.__file__).startswith(root):
        raise SystemExit(f"npcore came from {npcore.__file__}, not {root}")
    figures = []
    for pods, policies in ((300, 150), (1000, 500)):
        generated = generate(pods, policies, 1)
        text = generated.to_yaml()
        cluster = generated.cluster
        figures.append(
            f"{pods}x{policies}: matrix {_best(lambda c=cluster: matrix(c, 80), 5):.3f}"
            f"  map {_best(lambda c=cluster: connectivity_map(c), 3):.3f}"
            f"  map+to_dict {_best(lambda c=cluster: connectivity_map(c).to_dict(), 3):.3f}"
            f"  load {_best(lambda t=text: load_text(t), 3):.3f}"
        )
    print(root, "|", " ; ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
