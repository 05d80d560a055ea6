"""``npgrade show`` (the scenario as kubectl shows it; ``--manifests`` to apply it),
``npgrade EXERCISE --from-cluster FILE`` (grading a cluster's dump) and the view in drills.

Two properties hold for every exercise: ``show`` never prints the reference solution,
and every label, namespace and named port the reference relies on can be discovered in
``show`` (a task must be solvable from its text plus ``show``).
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from autograder.catalog import list_exercises, load
from autograder.cli import main
from autograder.fromcluster import grade_from_cluster, strip_server_fields
from autograder.loaded import LoadedExercise, load_definition
from autograder.show import scenario_manifests, scenario_view
from npcore.cli.sources import load_cluster
from npcore.model import LabelSelector, NetworkPolicy

DUMP = Path(__file__).resolve().parent / "data" / "practice" / "cluster-dump.yaml"
EXERCISES = [load(e.id) for e in list_exercises()]
WITH_SCENARIO = [e for e in EXERCISES if e.definition.scenario.strip()]
POLICY = [e for e in EXERCISES if e.definition.kind == "policy"]


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _reference(exercise: LoadedExercise) -> tuple[NetworkPolicy, ...]:
    return exercise.reference


def _selectors(policy: NetworkPolicy) -> list[tuple[LabelSelector, str]]:
    """Every selector of a policy, with what it selects ("pod" or "namespace")."""
    found = [(policy.pod_selector, "pod")]
    for rule in (*(policy.ingress or ()), *(policy.egress or ())):
        for peer in rule.peers or ():
            if peer.pod_selector is not None:
                found.append((peer.pod_selector, "pod"))
            if peer.namespace_selector is not None:
                found.append((peer.namespace_selector, "namespace"))
    return found


# --- the view -------------------------------------------------------------------------------


def test_view_of_a_scenario() -> None:
    code, out, err = run(["show", "cka-block-metadata"])
    assert (code, err) == (0, "")
    cluster = load("cka-block-metadata").scenario
    web = cluster.pod("apps/web-0")
    lines = out.splitlines()
    assert lines[0] == "Scenario of cka-block-metadata: what kubectl shows you on the cluster"
    assert "$ kubectl get namespaces --show-labels" in lines
    assert lines[lines.index("$ kubectl get namespaces --show-labels") + 1].split() == [
        "NAME",
        "LABELS",
    ]
    row = next(line for line in lines if line.startswith("apps ") and "web-0" in line)
    assert row.split() == ["apps", "web-0", str(web.ip), "8080/TCP", "app=web"]
    assert lines[lines.index("$ kubectl get networkpolicies -A") + 1] == "No resources found"
    assert lines[-1] == "Outside the cluster: metadata 169.254.169.254, internet 198.51.100.10"


@pytest.mark.parametrize("exercise", WITH_SCENARIO, ids=lambda e: e.id)
def test_show_never_prints_the_reference(exercise: LoadedExercise) -> None:
    """The policies shown and applied are the scenario's own, never the reference's."""
    scenario_keys = {p.key for p in exercise.scenario.policies}
    lines = scenario_view(exercise).splitlines()
    start = lines.index("$ kubectl get networkpolicies -A") + 1
    block = lines[start : lines.index("", start) if "" in lines[start:] else len(lines)]
    shown = {"/".join(row.split()[:2]) for row in block[1:] if not row.startswith("(")}
    assert shown == scenario_keys if scenario_keys else block == ["No resources found"]
    applied = [
        d for d in yaml.safe_load_all(scenario_manifests(exercise)) if d["kind"] == "NetworkPolicy"
    ]
    assert {f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in applied} == (
        scenario_keys
    )
    reference_only = {p.key for p in _reference(exercise)} - scenario_keys
    assert not reference_only & shown


@pytest.mark.parametrize("exercise", POLICY, ids=lambda e: e.id)
def test_every_task_is_solvable_from_its_text_plus_show(exercise: LoadedExercise) -> None:
    """Each label the reference selects on is shown on a pod or namespace (or named in
    the task), each namespace it lives in is shown, each named port is shown."""
    view = scenario_view(exercise)
    task = exercise.definition.task
    for policy in _reference(exercise):
        assert policy.namespace in view or policy.namespace in task, policy.namespace
        for selector, _kind in _selectors(policy):
            for key, value in selector.match_labels:
                assert f"{key}={value}" in view or f"{key}: {value}" in task, (key, value)
            for requirement in selector.match_expressions:
                assert requirement.key in view or requirement.key in task, requirement.key
        for rule in (*(policy.ingress or ()), *(policy.egress or ())):
            for entry in rule.ports or ():
                if isinstance(entry.port, str):
                    assert f"({entry.port})" in view or entry.port in task, entry.port


@pytest.mark.parametrize("exercise", WITH_SCENARIO, ids=lambda e: e.id)
def test_manifests_are_the_scenario_and_pass_npcore_check(exercise: LoadedExercise) -> None:
    code, out, _ = run(["show", exercise.id, "--manifests"])
    assert code == 0
    applied = load_cluster(text=out, filename="manifests")  # raises on any error
    scenario = exercise.scenario
    assert [(p.key, dict(p.labels)) for p in applied.pods] == [
        (p.key, dict(p.labels)) for p in scenario.pods
    ]
    shown = {ns.name: dict(ns.labels) for ns in applied.namespaces}
    for ns in scenario.namespaces:
        if ns.name in shown:
            assert shown[ns.name] == dict(ns.labels)
    assert {p.key for p in applied.policies} == {p.key for p in scenario.policies}
    for pod in scenario.pods:  # declared names kept, so named ports resolve the same
        names = {(c.port, c.name) for c in applied.pod(pod.key).ports if c.name}
        assert names == {(c.port, c.name) for c in pod.ports if c.name}


def test_drill_prints_the_view_under_the_task(tmp_path: Path) -> None:
    exercise = load("cka-block-metadata")
    code, out, _ = run(["drill", exercise.id], stdin=exercise.definition.reference)
    assert code == 0
    task = exercise.definition.task.strip()
    task_end = out.index(task) + len(task)
    assert out.index(scenario_view(exercise)) > task_end


def test_show_usage_errors() -> None:
    assert run(["show"])[0] == 2
    code, _, err = run(["show", "nope"])
    assert code == 2 and "unknown exercise 'nope'" in err


# --- grading a cluster's dump ---------------------------------------------------------------


def test_server_fields_are_blanked_keeping_lines() -> None:
    text = DUMP.read_text()
    stripped = strip_server_fields(text)
    assert len(stripped) == len(text)
    assert stripped.count("\n") == text.count("\n")
    assert "status:" in text and "status:" not in stripped
    assert [d["kind"] for d in yaml.safe_load(stripped)["items"]] == ["NetworkPolicy"] * 2


def test_from_cluster_dump_passes(tmp_path: Path) -> None:
    code, out, err = run(["cka-block-metadata", "--from-cluster", str(DUMP)])
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        "Graded from the cluster: apps/block-metadata.",
        "Ignored (in namespaces this exercise does not use): calico-apiserver/allow-apiserver",
        "cka-block-metadata: passed, 6/6 points",
    ]


def test_from_cluster_reads_stdin_and_json() -> None:
    code, out, _ = run(
        ["cka-block-metadata", "--from-cluster", "-", "--format", "json"], stdin=DUMP.read_text()
    )
    assert code == 0
    import json

    data = json.loads(out)
    assert data["passed"] is True
    assert data["from_cluster"] == {
        "answer": ["apps/block-metadata"],
        "scenario": [],
        "ignored": ["calico-apiserver/allow-apiserver"],
    }


def test_from_cluster_empty_list_fails() -> None:
    empty = 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n'
    code, out, _ = run(["cka-block-metadata", "--from-cluster", "-"], stdin=empty)
    assert code == 1
    assert out.splitlines()[0] == "Graded from the cluster: no NetworkPolicy of yours."


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["cka-block-metadata", "x.yaml", "--from-cluster", "-"], "", "give no FILE"),
        (["classify-direction", "--from-cluster", "-"], "", "grades policy exercises"),
        (["cka-block-metadata", "--from-cluster", "/nonexistent.yaml"], "", "cannot read"),
        (
            ["cka-block-metadata", "--from-cluster", "-"],
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
            "<stdin>:1: kind: expected only NetworkPolicy objects here, found Pod a",
        ),
    ],
)
def test_from_cluster_usage_errors(argv: list[str], stdin: str, message: str) -> None:
    code, out, err = run(argv, stdin=stdin)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


LOCKDOWN = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lockdown, namespace: other}
spec:
  podSelector: {matchLabels: {app: SELECTS}}
"""


def test_scenario_policies_are_taken_as_the_cluster_has_them() -> None:
    """A dump's copy of a scenario policy replaces it (changed, kept or deleted)."""
    base = load("cka-block-metadata").definition
    lockdown = LOCKDOWN.replace("SELECTS", "none")
    exercise = load_definition(replace(base, scenario=base.scenario + "---\n" + lockdown))
    answer = DUMP.read_text()
    as_is = grade_from_cluster(exercise, answer + _item(LOCKDOWN, "none"), "dump")
    assert (as_is.answer, as_is.scenario, as_is.result.passed) == (
        ("apps/block-metadata",),
        ("other/lockdown",),
        True,
    )
    # Changed on the cluster to isolate client-0 for ingress: worker-0 -> client-0 fails.
    changed = grade_from_cluster(exercise, answer + _item(LOCKDOWN, "client"), "dump")
    assert changed.scenario == ("other/lockdown",) and not changed.result.passed
    deleted = grade_from_cluster(exercise, answer, "dump")
    assert (deleted.scenario, deleted.result.passed) == ((), True)


def _item(policy: str, selects: str) -> str:
    """A policy appended as one more item of the dump's List (the dump ends with its
    metadata, so write a second document)."""
    return "---\n" + policy.replace("SELECTS", selects)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_show_and_manifests_work_for_every_exercise(exercise: LoadedExercise) -> None:
    """Every catalogue id: ``npgrade show`` (and ``--manifests``) exits 0 with text, never
    a traceback; only policy exercises are told to grade with ``--from-cluster``."""
    for extra in ([], ["--manifests"]):
        out, err = io.StringIO(), io.StringIO()
        assert main(["show", exercise.id, *extra], stdout=out, stderr=err) == 0, err.getvalue()
        assert out.getvalue().strip()
        told = "--from-cluster" in out.getvalue()
        assert told == (bool(extra) and exercise.definition.kind == "policy")


def test_show_of_an_exercise_without_a_cluster_says_so() -> None:
    text = scenario_view(load("classify-direction"))
    assert text.startswith("classify-direction is a choice exercise without a cluster")
