"""Benchmarks: npcore's single-port matrix, full connectivity map and its every pair,
``import npcore``, and network-config-analyzer (NCA) on the same inputs.

Rules of this file:

* Every measurement runs in its own child process (``run.py --child ...``), so one
  measurement's memory and caches never contaminate another.  The child builds its
  input first (not timed), then times one operation with ``time.perf_counter``.
  Memory is the child's peak resident set (``ru_maxrss``) and its growth during the
  operation (peak after minus peak before).
* NCA lives in its own virtual environment, ``benchmarks/.nca-venv`` (it pins old
  versions of PyYAML, lxml and networkx, so it stays out of the project's venv); this
  script creates it with ``pip install network-config-analyzer==NCA_VERSION`` when it is
  missing.  NCA reads the YAML written by :mod:`benchmarks.generate` and computes its
  connectivity map (``nca --connectivity -r DIR --output_format txt_no_fw_rules
  --output_endpoints pods``), one pair per line, which is what ``to_dict()`` computes.
* The npcore:NCA ratio is measured side by side in the same run.

Usage::

    python benchmarks/run.py                       # all sizes; NCA on the two smaller
    python benchmarks/run.py --sizes 100x50 --no-nca   # a CI-sized smoke run (seconds)
    python benchmarks/run.py --profile map --sizes 1000x500   # cProfile one operation
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import SIZES, generate  # noqa: E402
from benchmarks.nca import NCA_ARGS, ensure_nca, find_nca  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEFAULT_NCA_SIZES = ("100x50", "300x150")
OPS = ("matrix", "map", "to_dict", "load_map", "nca")
OP_TITLES = {
    "matrix": "matrix(cluster, 80)",
    "map": "connectivity_map(cluster)",
    "to_dict": "map.to_dict() (every pair)",
    "load_map": "load YAML + map + to_dict",
    "nca": "NCA --connectivity",
}
# Targets on the 2-core reference machine: (size, op) -> seconds.
TARGETS: dict[tuple[str, str], float] = {
    ("1000x500", "matrix"): 1.0,
    ("1000x500", "map"): 5.0,
    ("5000x2000", "matrix"): 20.0,
}
NCA_SPEEDUP_TARGET = ("300x150", 100.0)  # npcore full map >= 100x faster than NCA


def _maxrss_kib(who: int = resource.RUSAGE_SELF) -> int:
    """Peak resident set size in KiB (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss


def input_dir(size: str, seed: int) -> Path:
    """Where the YAML of one size and seed is written."""
    return RESULTS / "inputs" / f"{size}-seed{seed}"


def _size(name: str) -> tuple[int, int]:
    if name in SIZES:
        return SIZES[name]
    pods, _, policies = name.partition("x")
    return int(pods), int(policies)


# --------------------------------------------------------------------------- child side


def child(op: str, size: str, seed: int, timeout: float) -> dict[str, Any]:
    """Run one measurement in this (fresh) process; the result as a dict."""
    import npcore

    pods, policies = _size(size)
    generated = generate(pods, policies, seed, externals=4)
    cluster = generated.cluster
    out: dict[str, Any] = {"op": op, "size": size, "seed": seed}
    prepared: Any = None
    if op == "to_dict":
        prepared = npcore.connectivity_map(cluster)
    if op in ("load_map", "nca"):
        directory = input_dir(size, seed)
        generated.write(directory)
    gc.collect()
    before = _maxrss_kib()
    start = time.perf_counter()
    if op == "matrix":
        result: Any = npcore.matrix(cluster, 80)
    elif op == "map":
        result = npcore.connectivity_map(cluster)
    elif op == "to_dict":
        result = prepared.to_dict()
        out["pairs"] = sum(len(v) for v in result["allowed"].values())
    elif op == "load_map":
        from npcore.cli.sources import load_files

        loaded = load_files([str(p) for p in sorted(directory.glob("*.yaml"))])
        if not loaded.ok:
            raise SystemExit(f"npcore.load rejected the generated YAML: {loaded.errors[:3]}")
        result = npcore.connectivity_map(loaded.cluster).to_dict()
    elif op == "nca":
        exe = find_nca()
        if exe is None:
            raise SystemExit("nca is not installed")
        log = RESULTS / f"nca-{size}-seed{seed}.txt"
        try:
            with log.open("w") as fh:
                proc = subprocess.run(
                    [str(exe), "--connectivity", "-r", str(directory), *NCA_ARGS],
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    check=False,
                )
            out["returncode"] = proc.returncode
            out["lines"] = sum(1 for line in log.open() if "=>" in line)
        except subprocess.TimeoutExpired:
            out["timeout"] = True
        out["seconds"] = time.perf_counter() - start
        out["peak_mib"] = _maxrss_kib(resource.RUSAGE_CHILDREN) / 1024
        out["growth_mib"] = out["peak_mib"]
        return out
    else:
        raise SystemExit(f"unknown operation {op!r}")
    out["seconds"] = time.perf_counter() - start
    after = _maxrss_kib()
    out["peak_mib"] = after / 1024
    out["growth_mib"] = (after - before) / 1024
    del result
    return out


IMPORT_PROBE = """
import json, sys, time
start = time.perf_counter()
import npcore
seconds = time.perf_counter() - start
heavy = sorted(m for m in ("matplotlib", "ipywidgets", "numpy", "yaml") if m in sys.modules)
print(json.dumps({"op": "import", "seconds": seconds, "modules": heavy}))
"""


# --------------------------------------------------------------------------- parent side


@dataclass
class Row:
    size: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def measure(op: str, size: str, seed: int, timeout: float, repeat: int = 1) -> dict[str, Any]:
    """Run ``op`` on ``size`` in ``repeat`` fresh child processes; the fastest run's
    JSON result (or an error entry), with the 1-minute load average before each run."""
    best: dict[str, Any] | None = None
    for _ in range(max(1, repeat)):
        load = os.getloadavg()[0]
        got = _measure_once(op, size, seed, timeout)
        got["load"] = load
        got["runs"] = repeat
        if "error" in got or got.get("timeout"):
            return got
        if best is None or got["seconds"] < best["seconds"]:
            best = got
    assert best is not None
    return best


def _measure_once(op: str, size: str, seed: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", op, "--sizes", size]
    cmd += ["--seed", str(seed), "--timeout", str(timeout)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout + 120, check=False
        )
    except subprocess.TimeoutExpired:
        return {"op": op, "size": size, "timeout": True, "seconds": timeout}
    if proc.returncode != 0:
        return {"op": op, "size": size, "error": proc.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_import() -> dict[str, Any]:
    """``import npcore`` in a fresh ``python -c`` process (best of 3), and which heavy
    modules it pulled in (matplotlib and ipywidgets must not be among them)."""
    best: dict[str, Any] | None = None
    for _ in range(3):
        proc = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE],
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        if best is None or got["seconds"] < best["seconds"]:
            best = got
    assert best is not None
    return best


def _cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if result.get("timeout"):
        return f"> {result['seconds']:.0f} s (timeout)"
    if "error" in result:
        return "error"
    return f"{result['seconds']:.3f} s / {result['peak_mib']:.0f} MiB (+{result['growth_mib']:.0f})"


def render(rows: list[Row], ops: list[str], imp: dict[str, Any] | None) -> str:
    """The results as a Markdown table plus ratio and target lines."""
    lines = [
        "| size (pods x policies) | " + " | ".join(OP_TITLES[o] for o in ops) + " |",
        "|---" * (len(ops) + 1) + "|",
    ]
    for row in rows:
        lines.append(f"| {row.size} | " + " | ".join(_cell(row.results.get(o)) for o in ops) + " |")
    lines.append("")
    lines.append(
        "cells: wall time / peak RSS of the child process (+ growth during the operation); "
        "fastest of the runs"
    )
    loads = [r.get("load") for row in rows for r in row.results.values() if "load" in r]
    if loads:
        lines.append(f"1-minute load average before the runs: {min(loads):.1f} to {max(loads):.1f}")
    for row in rows:
        nca, mp, td = (row.results.get(k) for k in ("nca", "map", "to_dict"))
        if nca and mp and "seconds" in mp and "error" not in nca and not nca.get("timeout"):
            ratio = nca["seconds"] / mp["seconds"]
            line = f"NCA / npcore full map at {row.size}: {ratio:,.0f}x"
            if td and "seconds" in td:
                both = mp["seconds"] + td["seconds"]
                line += f" (NCA / npcore map + to_dict: {nca['seconds'] / both:,.0f}x)"
            lm = row.results.get("load_map")
            if lm and "seconds" in lm and "error" not in lm:
                line += f" (NCA / npcore load+map+to_dict: {nca['seconds'] / lm['seconds']:,.0f}x)"
            lines.append(line)
    for (size, op), limit in TARGETS.items():
        for row in rows:
            got = row.results.get(op)
            if row.size == size and got and "seconds" in got and "error" not in got:
                verdict = "met" if got["seconds"] < limit and not got.get("timeout") else "MISSED"
                lines.append(
                    f"target {OP_TITLES[op]} at {size} < {limit:g} s: "
                    f"{got['seconds']:.3f} s, {verdict}"
                )
    size, factor = NCA_SPEEDUP_TARGET
    for row in rows:
        nca, mp = row.results.get("nca"), row.results.get("map")
        if row.size == size and nca and mp and "error" not in nca and not nca.get("timeout"):
            ratio = nca["seconds"] / mp["seconds"]
            verdict = "met" if ratio >= factor else "MISSED"
            lines.append(
                f"target npcore full map >= {factor:g}x faster than NCA at {size}: "
                f"{ratio:,.0f}x, {verdict}"
            )
    if imp is not None:
        mods = ", ".join(imp["modules"]) or "none"
        lines.append(
            f"import npcore: {imp['seconds'] * 1000:.0f} ms (heavy modules loaded: {mods})"
        )
    return "\n".join(lines)


def profile(op: str, size: str, seed: int) -> None:
    """Print the top of a cProfile of one operation (input built outside the profile)."""
    import cProfile
    import pstats

    import npcore

    pods, policies = _size(size)
    cluster = generate(pods, policies, seed, externals=4).cluster
    target = {
        "matrix": lambda: npcore.matrix(cluster, 80),
        "map": lambda: npcore.connectivity_map(cluster),
        "to_dict": (lambda m: lambda: m.to_dict())(npcore.connectivity_map(cluster))
        if op == "to_dict"
        else None,
    }[op]
    assert target is not None
    prof = cProfile.Profile()
    prof.runcall(target)
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(15)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description="npcore benchmarks, with NCA side by side")
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated PODSxPOLICIES")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ops",
        default="matrix,map,to_dict,load_map",
        help=f"npcore operations to time, of {','.join(o for o in OPS if o != 'nca')}",
    )
    parser.add_argument(
        "--nca-sizes",
        default=",".join(DEFAULT_NCA_SIZES),
        help="sizes on which NCA also runs ('' for none)",
    )
    parser.add_argument("--no-nca", action="store_true", help="do not run NCA at all")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per NCA run")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per npcore measurement (the fastest counts)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", choices=("matrix", "map", "to_dict"))
    parser.add_argument("--child", choices=OPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]

    if args.child:
        print(json.dumps(child(args.child, sizes[0], args.seed, args.timeout)))
        return 0
    if args.profile:
        for size in sizes:
            print(f"== cProfile {args.profile} at {size}")
            profile(args.profile, size, args.seed)
        return 0

    RESULTS.mkdir(parents=True, exist_ok=True)
    ops = [o for o in args.ops.split(",") if o]
    nca_sizes = set() if args.no_nca else {s for s in args.nca_sizes.split(",") if s}
    if nca_sizes and ensure_nca() is None:
        nca_sizes = set()
    imp = measure_import()
    if imp["modules"] and {"matplotlib", "ipywidgets"} & set(imp["modules"]):
        print(f"FAIL: import npcore pulled in {imp['modules']}", file=sys.stderr)
        return 1
    shown_ops = ops + (["nca"] if nca_sizes else [])
    rows: list[Row] = []
    for size in sizes:
        row = Row(size)
        for op in ops:
            row.results[op] = measure(op, size, args.seed, args.timeout, args.repeat)
            print(f"{size} {op}: {_cell(row.results[op])}", file=sys.stderr, flush=True)
        if size in nca_sizes:
            row.results["nca"] = measure("nca", size, args.seed, args.timeout)
            print(f"{size} nca: {_cell(row.results['nca'])}", file=sys.stderr, flush=True)
        rows.append(row)
    header = (
        f"npcore benchmarks, seed {args.seed}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    table = render(rows, shown_ops, imp)
    print(header)
    print(table)
    payload = {
        "header": header,
        "import": imp,
        "rows": [asdict(r) for r in rows],
        "table": table,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"run-{stamp}.json").write_text(json.dumps(payload, indent=2))
    if args.json:
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
