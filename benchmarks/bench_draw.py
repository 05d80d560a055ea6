"""How long a redraw takes in the lesson widgets, on a 30-pod scene (target: well under 1 s).

Rules of this file:

* The scene is fixed: 3 namespaces of 10 pods, 2 externals, 4 policies (a default deny,
  an allow-from-namespace, an egress lock, a port rule), 40 flows.  Nothing is random.
* Each operation is timed ``--repeat`` times after one warm-up run (imports, font cache):
  wall-clock (``time.perf_counter``: median, best, worst) and CPU time of this process
  (``time.process_time``: median).  On an idle machine the two agree; on a busy one the
  wall clock also counts waiting for a CPU, so the target is checked on CPU time and the
  load average is printed next to the numbers.
* Operations: ``decide`` (compute_diagram: npcore verdicts and explanations only),
  ``render`` (decide + draw + PNG, what every widget update does), ``toggle`` (untick a
  policy in a FlowExplorer: the whole callback), ``cni`` (switch a FlowExplorer to
  Flannel and back: two callbacks, reported per callback), ``edit`` (one keystroke in
  a PolicyEditor: npcore.load + redraw + truth table).
* ``npcore draw`` (in-process ``lessonkit.cli.main``, target ``CLI_TARGET_SECONDS``):
  ``draw-largest`` draws the largest scene it accepts with every pair of peers
  (tests/data/draw/five-pods.yaml, ``--port 80``: 20 arrows = ``MAX_FLOWS``, loading,
  drawing, the legibility check and the PNG); ``refuse-next`` is one pod more
  (six-pods.yaml, 30 arrows), which it refuses.

Usage::

    .venv/bin/python benchmarks/bench_draw.py             # table on stdout
    .venv/bin/python benchmarks/bench_draw.py --json      # the same as JSON
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

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lessonkit.diagrams import Flow, compute_diagram, render  # noqa: E402
from lessonkit.widgets import FlowExplorer, PolicyEditor  # noqa: E402
from npcore import (  # noqa: E402
    Cluster,
    ContainerPort,
    External,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Pod,
    PolicyType,
    Protocol,
)

TARGET_SECONDS = 1.0
CLI_TARGET_SECONDS = 3.0
DRAW_DATA = ROOT / "tests" / "data" / "draw"
NAMESPACES = ("front", "back", "data")

EDITOR_YAML = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: data-from-back
  namespace: data
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: back
    ports:
    - protocol: TCP
      port: 5432
"""


def scene() -> tuple[Cluster, list[Flow]]:
    """The fixed 30-pod scene and its 40 flows."""
    pods = []
    for ns_index, ns in enumerate(NAMESPACES):
        for i in range(10):
            port = (80, 8080, 5432)[ns_index]
            pods.append(
                Pod(
                    ns,
                    f"{ns}-{i}",
                    {"app": ns, "replica": str(i % 3)},
                    ports=(ContainerPort(port, Protocol.TCP, "svc"),),
                )
            )
    ns_peer = NetworkPolicyPeer(
        namespace_selector=LabelSelector.of({"kubernetes.io/metadata.name": "back"})
    )
    policies = [
        NetworkPolicy("default-deny", "data", LabelSelector(), policy_types=(PolicyType.INGRESS,)),
        NetworkPolicy(
            "from-back",
            "data",
            LabelSelector(),
            ingress=(
                NetworkPolicyIngressRule((NetworkPolicyPort(Protocol.TCP, 5432),), (ns_peer,)),
            ),
            policy_types=(PolicyType.INGRESS,),
        ),
        NetworkPolicy(
            "front-egress",
            "front",
            LabelSelector.of({"replica": "0"}),
            egress=(
                NetworkPolicyEgressRule(
                    to=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "front"})),)
                ),
            ),
            policy_types=(PolicyType.EGRESS,),
        ),
        NetworkPolicy(
            "back-8080",
            "back",
            LabelSelector.of({"app": "back"}),
            ingress=(NetworkPolicyIngressRule((NetworkPolicyPort(Protocol.TCP, 8080),)),),
        ),
    ]
    cluster = Cluster.build(
        pods=pods,
        policies=policies,
        externals=[External("user", "203.0.113.10"), External("partner", "198.51.100.7")],
    )
    flows = [Flow("user", f"front/front-{i}", 80) for i in range(10)]
    flows += [Flow(f"front/front-{i}", f"back/back-{i}", 8080) for i in range(10)]
    flows += [Flow(f"back/back-{i}", f"data/data-{i}", 5432) for i in range(10)]
    flows += [Flow(f"front/front-{i}", f"data/data-{(i + 5) % 10}", 5432) for i in range(5)]
    flows += [Flow(f"data/data-{i}", "partner", 443) for i in range(5)]
    return cluster, flows


def measure(fn: Callable[[], object], repeat: int, per_call: int = 1) -> dict[str, float]:
    """Wall-clock and CPU seconds per call (median, best, worst wall; median CPU)."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) / per_call)
        cpu.append((time.process_time() - start_cpu) / per_call)
    return {
        "median": statistics.median(wall),
        "min": min(wall),
        "max": max(wall),
        "cpu_median": statistics.median(cpu),
    }


def draw_cli(scene_file: str, expected: int) -> None:
    """``npcore draw SCENE --port 80`` in-process; its exit status must be ``expected``."""
    import contextlib
    import io
    import tempfile

    from lessonkit.cli import main as draw_main

    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        argv = [str(DRAW_DATA / scene_file), "--port", "80", "-o", f"{tmp}/flows.png"]
        code = draw_main(argv)
    assert code == expected, (scene_file, code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    cluster, flows = scene()
    explorer = FlowExplorer(cluster, flows)
    editor = PolicyEditor(cluster.with_policies(()), flows, EDITOR_YAML)
    box = explorer.toggles["data/from-back"]
    edits = [EDITOR_YAML.replace("port: 5432", "port: 543"), EDITOR_YAML]

    def toggle() -> None:
        box.value = not box.value

    def cni() -> None:
        explorer.cni.value = "flannel"
        explorer.cni.value = "calico"

    def edit() -> None:
        edits.reverse()
        editor.editor.value = edits[0]

    results = {
        "decide": measure(lambda: compute_diagram(cluster, flows), args.repeat),
        "render": measure(lambda: render(cluster, flows), args.repeat),
        "toggle": measure(toggle, args.repeat),
        "cni": measure(cni, args.repeat, per_call=2),
        "edit": measure(edit, args.repeat),
    }
    cli_results = {
        "draw-largest": measure(lambda: draw_cli("five-pods.yaml", 0), args.repeat),
        "refuse-next": measure(lambda: draw_cli("six-pods.yaml", 2), args.repeat),
    }
    for name in ("toggle", "cni", "edit"):
        assert explorer.last_error is None and editor.last_error is None, name
    load = os.getloadavg()[0]
    report = {
        "scene": {
            "pods": len(cluster.pods),
            "externals": len(cluster.externals),
            "flows": len(flows),
        },
        "target_seconds": TARGET_SECONDS,
        "cpus": os.cpu_count(),
        "load_average_1min": load,
        "seconds": results,
        "cli_target_seconds": CLI_TARGET_SECONDS,
        "cli_seconds": cli_results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        s = report["scene"]
        print(f"scene: {s['pods']} pods, {s['externals']} externals, {s['flows']} flows")
        print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} (1 min)")
        print(
            f"{'operation':10} {'median':>9} {'best':>9} {'worst':>9} {'cpu':>9}"
            f"  (seconds per call, {args.repeat} runs)"
        )
        for name, r in results.items():
            flag = "" if r["cpu_median"] < TARGET_SECONDS else "  SLOWER THAN TARGET"
            print(
                f"{name:10} {r['median']:9.3f} {r['min']:9.3f} {r['max']:9.3f}"
                f" {r['cpu_median']:9.3f}{flag}"
            )
        for name, r in cli_results.items():
            flag = "" if r["cpu_median"] < CLI_TARGET_SECONDS else "  SLOWER THAN TARGET"
            print(
                f"{name:10} {r['median']:9.3f} {r['min']:9.3f} {r['max']:9.3f}"
                f" {r['cpu_median']:9.3f}{flag}  (npcore draw, target {CLI_TARGET_SECONDS} s)"
            )
        if load > (os.cpu_count() or 1):
            print("note: the machine is busy; wall-clock times include waiting for a CPU")
    # The target is about this program's own work: CPU time, which equals wall-clock time
    # on an idle machine and does not count waiting for a CPU on a busy one.
    slow = [n for n, r in results.items() if r["cpu_median"] >= TARGET_SECONDS]
    slow += [n for n, r in cli_results.items() if r["cpu_median"] >= CLI_TARGET_SECONDS]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
