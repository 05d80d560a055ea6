"""``npgrade show EXERCISE``: the scenario as a learner on the exam discovers it.

On the exam nobody hands you the labels: you run ``kubectl get`` and read them.  This
module prints the same discovery for an exercise's scenario, in kubectl-like columns,
one block per command a learner would type:

* namespaces with their labels (``kubectl get namespaces --show-labels``);
* pods with their IP, container ports and labels (``kubectl get pods -A -o wide
  --show-labels``; the ports as ``kubectl describe pod`` lists them, with their names);
* Services with their ports, target ports and selectors (``kubectl get services -A -o
  wide``, when the scenario has any);
* the NetworkPolicies already in the scenario (``kubectl get networkpolicies -A``), never
  the reference solution, which is not part of the scenario;
* the endpoints outside the cluster the task may name (for ipBlock rules), and the
  network plugin when it is not the default.

Drills print the same view under the task (:func:`autograder.drill.task_text`).
``--manifests`` prints the scenario to apply to a practice cluster instead: the
namespaces, one agnhost Pod per pod listening on every declared port (labels and port
names kept, as :mod:`npcore.probe` writes them), the Services and the scenario's own
policies.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograder.loaded import LoadedExercise
from npcore.cluster import Cluster, Pod, Service
from npcore.cni import DEFAULT_CNI
from npcore.model import LabelSelector
from npcore.probe import policy_manifest, scenario_documents, yaml_documents

__all__ = ["scenario_manifests", "scenario_view"]


def _labels(labels: object) -> str:
    items = sorted(dict(labels).items()) if labels else []  # type: ignore[call-overload]
    return ",".join(f"{k}={v}" for k, v in items) or "<none>"


def _columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    return [
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _ports(pod: Pod) -> str:
    parts = [f"{p.port}/{p.protocol}" + (f" ({p.name})" if p.name else "") for p in pod.ports]
    return ",".join(parts) or "<none>"


def _selector(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    for r in selector.match_expressions:
        values = f" ({','.join(r.values)})" if r.values else ""
        parts.append(f"{r.key} {r.operator}{values}")
    return ",".join(parts) or "<none>"


def _service_rows(services: Sequence[Service]) -> list[list[str]]:
    rows = []
    for s in services:
        ports = ",".join(f"{p.port}/{p.protocol}" for p in s.ports) or "<none>"
        targets = ",".join(str(p.target_port) for p in s.ports) or "<none>"
        selector = _labels(s.selector) if s.selector else "<none>"
        rows.append([s.namespace, s.name, ports, targets, selector])
    return rows


def _view(cluster: Cluster) -> list[str]:
    used = {p.namespace for p in cluster.pods}
    namespaces = [ns for ns in cluster.namespaces if ns.name in used or ns.labels]
    lines = ["$ kubectl get namespaces --show-labels"]
    lines += (
        _columns(["NAME", "LABELS"], [[ns.name, _labels(ns.labels)] for ns in namespaces])
        if namespaces
        else ["No resources found"]
    )
    lines += ["", "$ kubectl get pods -A -o wide --show-labels   (PORTS: kubectl describe pod)"]
    pod_rows = [
        [p.namespace, p.name, p.ip or "<none>", _ports(p), _labels(p.labels)] for p in cluster.pods
    ]
    lines += (
        _columns(["NAMESPACE", "NAME", "IP", "PORTS", "LABELS"], pod_rows)
        if pod_rows
        else ["No resources found"]
    )
    if cluster.services:
        lines += ["", "$ kubectl get services -A -o wide   (TARGET PORT: kubectl describe service)"]
        lines += _columns(
            ["NAMESPACE", "NAME", "PORT(S)", "TARGET PORT", "SELECTOR"],
            _service_rows(cluster.services),
        )
    lines += ["", "$ kubectl get networkpolicies -A"]
    if cluster.policies:
        rows = [[p.namespace, p.name, _selector(p.pod_selector)] for p in cluster.policies]
        lines += _columns(["NAMESPACE", "NAME", "POD-SELECTOR"], rows)
        lines.append("(read them with: kubectl describe networkpolicy -n NAMESPACE NAME)")
    else:
        lines.append("No resources found")
    if cluster.externals:
        outside = ", ".join(f"{e.name} {e.ip}" for e in cluster.externals)
        lines += ["", f"Outside the cluster: {outside}"]
    if cluster.cni != DEFAULT_CNI:
        lines += ["", f"Network plugin: {cluster.cni} ({cluster.cni_plugin.summary})"]
    return lines


def scenario_view(exercise: LoadedExercise) -> str:
    """What ``npgrade show EXERCISE`` prints: the scenario as kubectl shows it."""
    cluster = exercise.scenario
    title = f"Scenario of {exercise.id}: what kubectl shows you on the cluster"
    if not cluster.pods and not cluster.policies:
        kind = exercise.definition.kind
        return (
            f"{exercise.id} is a {kind} exercise without a cluster: its task says all there is "
            f"to know (npgrade drill {exercise.id}, or answer with npgrade {exercise.id} FILE).\n"
        )
    return "\n".join([title, "", *_view(cluster)]) + "\n"


def scenario_manifests(exercise: LoadedExercise) -> str:
    """What ``npgrade show EXERCISE --manifests`` prints: the scenario to apply to a
    practice cluster (never the reference solution)."""
    cluster = exercise.scenario
    documents = [*scenario_documents(cluster), *(policy_manifest(p) for p in cluster.policies)]
    header = (
        f"# The scenario of {exercise.id}, to apply to a practice cluster:\n"
        f"#   npgrade show {exercise.id} --manifests | kubectl apply -f -\n"
        "# Each pod runs agnhost servers on every port the pods declare (labels and port names\n"
        + (
            "# as in the exercise). Then solve the task, and grade what the cluster has with:\n"
            f"#   kubectl get networkpolicies -A -o yaml | npgrade {exercise.id} --from-cluster -\n"
            if exercise.definition.kind == "policy"
            else "# as in the exercise). Try the flows on it, then answer with:\n"
            f"#   npgrade {exercise.id} FILE\n"
        )
    )
    return yaml_documents(documents, header)
