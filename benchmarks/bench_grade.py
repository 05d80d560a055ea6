"""How long grading a large answer takes (target: a 100 KB answer in under 1 s).

Rules of this file:

* The answers are fixed and built here, each about 100 KB of YAML for the pinned
  ``three-tier-db`` exercise (nothing random):

  - ``ports``: one policy whose rule lists ~3,000 port entries (the shape that made port
    set merging quadratic);
  - ``policies``: ~250 small policies in namespace ``shop``;
  - ``ipblocks``: one policy admitting ~1,000 distinct /32 and /24 ipBlocks (the address
    space is cut into ~2,000 regions, each judged);
  - ``selectors``: ~680 rules admitting ``app=aN`` pods of ``team=tN`` namespaces, label
    values no pod has: each would add pods and namespaces that may come later, so the
    universe bound (``autograder.universe.MAX_NEW_PODS``) refuses it with a sentence;
  - ``selectors40``: the first 40 such rules (~4 KB), judged in a universe grown by them;
  - ``choice``: a 100 KB choice answer (``three-tier-rules``), refused by size.
* Each answer is graded ``--repeat`` times after one warm-up (which also loads the
  exercise): wall clock (``time.perf_counter``) and CPU time (``time.process_time``),
  median and worst.  The load average is printed next to the numbers.

Usage::

    .venv/bin/python benchmarks/bench_grade.py            # table on stdout
    .venv/bin/python benchmarks/bench_grade.py --json     # the same as JSON
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.grade import grade

HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
TARGET = 100_000


def _ports() -> str:
    lines = [HEAD, "metadata: {name: db-policy, namespace: shop}\nspec:\n"]
    lines.append("  podSelector: {matchLabels: {role: db}}\n  ingress:\n")
    lines.append("    - from: [{podSelector: {matchLabels: {name: api-pod}}}]\n      ports:\n")
    port = 1
    while sum(map(len, lines)) < TARGET:
        lines.append(f"        - {{protocol: TCP, port: {port}}}\n")
        port += 7
    return "".join(lines)


def _policies() -> str:
    docs = []
    i = 0
    while sum(map(len, docs)) < TARGET:
        docs.append(
            f"{HEAD}metadata: {{name: p{i}, namespace: shop}}\nspec:\n"
            f"  podSelector: {{matchLabels: {{role: db, shard: s{i}}}}}\n"
            "  ingress:\n    - from: [{podSelector: {matchLabels: {name: api-pod}}}]\n"
            f"      ports: [{{port: {3000 + i}}}, {{protocol: UDP, port: {4000 + i}}}]\n"
        )
        i += 1
    return "---\n".join(docs)


def _ipblocks() -> str:
    lines = [HEAD, "metadata: {name: db-policy, namespace: shop}\nspec:\n"]
    lines.append("  podSelector: {matchLabels: {role: db}}\n  ingress:\n    - from:\n")
    i = 0
    while sum(map(len, lines)) < TARGET:
        a, b = divmod(i, 250)
        cidr = f"172.{16 + a}.{b}.0/24" if i % 2 else f"192.0.{a}.{b + 1}/32"
        lines.append(f"        - ipBlock: {{cidr: {cidr}}}\n")
        i += 1
    lines.append("      ports: [{port: 3306}]\n")
    return "".join(lines)


def _selectors() -> str:
    """Rules admitting pods and namespaces by label values no pod has (QA's backdoors):
    each one adds pods and namespaces that may come later to the universe."""
    lines = [HEAD, "metadata: {name: db-policy, namespace: shop}\nspec:\n"]
    lines.append("  podSelector: {matchLabels: {role: db}}\n  ingress:\n")
    lines.append("    - from: [{podSelector: {matchLabels: {name: api-pod}}}]\n")
    lines.append("      ports: [{port: 3306}]\n")
    i = 0
    while sum(map(len, lines)) < TARGET:
        lines.append(
            f"    - from: [{{podSelector: {{matchLabels: {{app: a{i}}}}}, "
            f"namespaceSelector: {{matchLabels: {{team: t{i}}}}}}}]\n"
            f"      ports: [{{protocol: TCP, port: {1000 + i}}}]\n"
        )
        i += 1
    return "".join(lines)


def _few_selectors() -> str:
    """The same shape with 40 rules (~6 KB): judged, not refused by the universe bound."""
    return "".join(_selectors().splitlines(keepends=True)[:88])


def _choice() -> str:
    return "answer: [" + ", ".join("A" for _ in range(TARGET // 3)) + "]\n"


CASES: dict[str, tuple[str, Callable[[], str]]] = {
    "ports": ("three-tier-db", _ports),
    "policies": ("three-tier-db", _policies),
    "ipblocks": ("three-tier-db", _ipblocks),
    "selectors": ("three-tier-db", _selectors),
    "selectors40": ("three-tier-db", _few_selectors),
    "choice": ("three-tier-rules", _choice),
}


def measure(repeat: int) -> list[dict[str, object]]:
    """One row per case: size, score and timings."""
    rows: list[dict[str, object]] = []
    for name, (exercise, build) in CASES.items():
        text = build()
        result = grade(exercise, text)  # warm-up: loads the exercise
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            grade(exercise, text)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        rows.append(
            {
                "answer": name,
                "exercise": exercise,
                "kb": round(len(text) / 1000, 1),
                "score": f"{result.score:g}/{result.max_score:g}",
                "wall_median_s": round(statistics.median(walls), 3),
                "wall_worst_s": round(max(walls), 3),
                "cpu_median_s": round(statistics.median(cpus), 3),
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.repeat)
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"load_average": load, "rows": rows}, indent=2))
        return 0
    print(f"load average {load:.1f}; target: every answer under 1 s (CPU median)")
    print(f"{'answer':11} {'KB':>6} {'score':>7} {'wall med':>9} {'wall max':>9} {'cpu med':>8}")
    for row in rows:
        print(
            f"{row['answer']!s:11} {row['kb']!s:>6} {row['score']!s:>7} "
            f"{row['wall_median_s']!s:>9} {row['wall_worst_s']!s:>9} {row['cpu_median_s']!s:>8}"
        )
    return 0 if all(float(str(r["cpu_median_s"])) < 1 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
