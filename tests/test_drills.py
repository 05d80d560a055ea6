"""The CKA drills are shaped like the current exam, and every exercise sits after the lesson
that teaches what it needs.

Rules checked here (see exercises/README.md, "The exercises"):

* a drill's task starts with the host to ``ssh`` to (never the pre-2025
  ``kubectl config use-context``), every drill has its own host, and the task as
  ``npgrade drill`` prints it names the host and the time budget;
* a policy drill makes the learner discover labels: the labels of the reference's
  ``spec.podSelector`` are never spelled out in the task (unless the task shows an
  applied policy to repair);
* a drill's reference (or its written-out right answer) gets full marks and at least one
  stored wrong answer fails (the grading itself is run by tests/test_exercises.py);
* every exercise's ``lesson`` is at or after the lesson that teaches each idea its
  reference, candidates or scenario uses, and that lesson has the section that teaches
  it; the problem sets list their exercises in that order, and docs/nbgrader.md lists the
  assignments and exercises exactly as the build makes them.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from autograder.catalog import list_exercises, load
from autograder.definition import Exercise
from autograder.drill import task_text
from autograder.grade import grade, grade_exercise

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = list_exercises()
DRILLS = [e for e in EXERCISES if e.cka]
HOST = re.compile(r"\AHost: `ssh (?P<host>[a-z0-9-]+)`")


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "build_exercises", ROOT / "tools/build_exercises.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_enough_drills_for_the_exam_task_types() -> None:
    assert len(DRILLS) >= 15


@pytest.mark.parametrize("drill", DRILLS, ids=[d.id for d in DRILLS])
def test_drill_names_a_host_and_a_time_budget(drill: Exercise) -> None:
    assert HOST.match(drill.task), f"{drill.id}: the task must start with 'Host: `ssh NAME`'"
    assert "use-context" not in drill.task
    shown = task_text(drill)
    assert "ssh nplab-" in shown
    assert re.search(r"^Time budget: \d+:\d\d$", shown, re.M), shown
    assert drill.lesson is not None, f"{drill.id}: tag the lesson that teaches its last idea"


def test_every_drill_has_its_own_host_in_teaching_order() -> None:
    order = sorted(DRILLS, key=_builder().teaching_order)
    assert [d.id for d in DRILLS] == [d.id for d in order], "npgrade list is not in that order"
    hosts = [HOST.match(d.task)["host"] for d in order]  # type: ignore[index]
    assert hosts == [f"nplab-{n:02d}" for n in range(1, len(order) + 1)]


def _docs(text: str) -> Iterator[dict[str, Any]]:
    for doc in yaml.safe_load_all(text or ""):
        if isinstance(doc, dict):
            yield doc


@pytest.mark.parametrize("drill", [d for d in DRILLS if d.kind == "policy"], ids=lambda d: d.id)
def test_policy_drill_makes_the_learner_discover_labels(drill: Exercise) -> None:
    if "```yaml" in drill.task:
        pytest.skip("the task shows an applied policy to repair; its selector is part of it")
    task = drill.task.replace("`", "")
    for doc in _docs(drill.reference):
        labels = (doc["spec"].get("podSelector") or {}).get("matchLabels") or {}
        for key, value in labels.items():
            for spelled in (f"{key}={value}", f"{key}: {value}"):
                assert spelled not in task, f"{drill.id}: the task gives away {spelled}"


@pytest.mark.parametrize("drill", DRILLS, ids=[d.id for d in DRILLS])
def test_drill_right_answer_passes_and_a_wrong_one_fails(drill: Exercise) -> None:
    if drill.kind == "policy":
        right = grade_exercise(load(drill.id), [("reference.yaml", drill.reference)])
        assert right.passed and right.score == right.max_score, right.text()
    else:
        assert any(grade(drill.id, ex.answer).passed for ex in drill.examples if ex.passes)
    wrong = [ex for ex in drill.examples if not ex.passes]
    assert wrong, f"{drill.id}: store a typical wrong answer"
    for ex in wrong:
        assert not grade(drill.id, ex.answer).passed, f"{drill.id}:{ex.name}"


# --- teaching order -----------------------------------------------------------------------

# idea -> (the lesson that teaches it, a word of the `##` heading of its section there)
IDEAS: dict[str, tuple[str, str]] = {
    "egress rules": ("04", "Egress rules"),
    "empty podSelector (every pod of the namespace)": ("05", "empty selectors"),
    "namespaceSelector": ("04", "namespaceSelector"),
    "matchExpressions": ("04", "matchExpressions"),
    "namespace AND pod selector in one peer": ("05", "AND vs OR"),
    "DNS on port 53": ("05", "DNS"),
    "UDP": ("05", "DNS"),
    "a plugin other than Calico": ("06", "plugins"),
    "ipBlock": ("07", "ipBlock"),
    "endPort": ("07", "endPort"),
    "named port": ("07", "Named ports"),
}


def _peers(rule: dict[str, Any]) -> list[dict[str, Any]]:
    return list(rule.get("from") or rule.get("to") or [])


def ideas_of(exercise: Exercise) -> set[str]:
    """The ideas the exercise's own YAML (reference, candidates, scenario policies) uses."""
    texts = [exercise.reference, exercise.scenario, *exercise.candidates.values()]
    found: set[str] = set()
    if exercise.cni != "calico":
        found.add("a plugin other than Calico")
    for text in texts:
        for doc in _docs(text):
            if doc.get("kind") != "NetworkPolicy":
                continue
            spec = doc.get("spec") or {}
            if spec.get("podSelector") == {}:
                found.add("empty podSelector (every pod of the namespace)")
            if spec.get("egress"):
                found.add("egress rules")
            for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
                for peer in _peers(rule):
                    if peer.get("podSelector") == {}:
                        found.add("empty podSelector (every pod of the namespace)")
                    if "namespaceSelector" in peer:
                        found.add("namespaceSelector")
                        if "podSelector" in peer:
                            found.add("namespace AND pod selector in one peer")
                    if "ipBlock" in peer:
                        found.add("ipBlock")
                    if any("matchExpressions" in (s or {}) for s in peer.values()):
                        found.add("matchExpressions")
                for port in rule.get("ports") or []:
                    if port.get("port") == 53:
                        found.add("DNS on port 53")
                    if port.get("protocol") == "UDP":
                        found.add("UDP")
                    if "endPort" in port:
                        found.add("endPort")
                    if isinstance(port.get("port"), str):
                        found.add("named port")
    return found


def _headings(lesson: str) -> list[str]:
    (path,) = (ROOT / "lessons").glob(f"{lesson}-*.ipynb")
    nb = nbformat.read(path, as_version=4)
    return [
        c.source.splitlines()[0][3:]
        for c in nb.cells
        if c.cell_type == "markdown" and c.source.startswith("## ")
    ]


@pytest.mark.parametrize("idea", sorted(IDEAS))
def test_each_idea_has_its_section_in_its_lesson(idea: str) -> None:
    lesson, word = IDEAS[idea]
    assert any(word.lower() in h.lower() for h in _headings(lesson)), (
        f"lesson {lesson} has no section about {idea} (a heading with {word!r})"
    )


@pytest.mark.parametrize("exercise", EXERCISES, ids=[e.id for e in EXERCISES])
def test_lesson_tag_is_not_before_what_the_exercise_needs(exercise: Exercise) -> None:
    assert exercise.lesson is not None, f"{exercise.id}: tag the lesson it follows"
    for idea in ideas_of(exercise):
        needed = IDEAS[idea][0]
        assert exercise.lesson >= needed, (
            f"{exercise.id} is tagged lesson {exercise.lesson} but uses {idea}, "
            f"taught in lesson {needed}"
        )


def test_ideas_are_recognised() -> None:
    """The detector above sees what it claims to (so the tag test cannot pass vacuously)."""
    by_id = {e.id: e for e in EXERCISES}
    assert ideas_of(by_id["cka-endport-range"]) >= {"endPort", "UDP", "namespaceSelector"}
    assert "ipBlock" in ideas_of(by_id["ipblock-except"])
    assert "named port" in ideas_of(by_id["named-ports-endport"])
    assert "matchExpressions" in ideas_of(by_id["cka-namespace-expressions"])
    assert "a plugin other than Calico" in ideas_of(by_id["predict-flannel"])
    assert ideas_of(by_id["default-deny"]) == {"empty podSelector (every pod of the namespace)"}
    assert ideas_of(by_id["three-tier-db"]) == set()


def test_problem_sets_follow_the_lessons_and_the_docs_list_them() -> None:
    builder = _builder()
    doc = (ROOT / "docs/nbgrader.md").read_text(encoding="utf-8")
    row = re.compile(r"^\| `(?P<name>ps\d-[a-z-]+)` \| [^|]+ \| (?P<ids>[^|]+) \|$", re.M)
    rows = {m["name"]: re.findall(r"`([a-z0-9-]+)`", m["ids"]) for m in row.finditer(doc)}
    built: dict[str, list[str]] = {}
    for name, _title, _lessons in builder.ASSIGNMENTS:
        mine = sorted(
            (e for e in EXERCISES if builder.assignment_of(e) == name),
            key=builder.teaching_order,
        )
        lessons = [e.lesson for e in mine]
        assert lessons == sorted(lessons), f"{name} is not in teaching order"
        built[name] = [e.id for e in mine]
    assert rows == built, "docs/nbgrader.md does not list what tools/build_exercises.py makes"
