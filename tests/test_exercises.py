"""Every exercise definition: loads, its reference passes with full score, and each of
its stored examples (typical right and wrong answers) gets the grade it declares, with
the feedback sentences and misconceptions it declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from autograder.catalog import EXERCISES_DIR, check_definition, list_exercises, load, load_exercise
from autograder.definition import SCHEMA, ExerciseError, parse_exercise
from autograder.grade import grade, grade_exercise
from autograder.loaded import load_definition
from npcore.flows import Flow

EXERCISES = list_exercises()
IDS = [e.id for e in EXERCISES]
EXAMPLES = [pytest.param(e.id, ex, id=f"{e.id}:{ex.name}") for e in EXERCISES for ex in e.examples]


def test_every_file_is_an_exercise() -> None:
    assert sorted(p.stem for p in EXERCISES_DIR.glob("*.yaml")) == sorted(IDS)


@pytest.mark.parametrize("exercise_id", IDS)
def test_definition_is_consistent(exercise_id: str) -> None:
    exercise = load_exercise(exercise_id)
    assert check_definition(exercise) == []
    assert exercise.max_score > 0
    assert any(not ex.passes for ex in exercise.examples), "add a typical wrong answer"
    if exercise.kind != "policy":
        assert any(ex.passes for ex in exercise.examples), "add the right answer, written out"


@pytest.mark.parametrize("exercise_id", [e.id for e in EXERCISES if e.kind == "policy"])
def test_reference_passes_with_full_score(exercise_id: str) -> None:
    exercise = load_exercise(exercise_id)
    result = grade_exercise(load(exercise_id), [("reference.yaml", exercise.reference)])
    assert result.passed, result.text()
    assert result.score == result.max_score == exercise.max_score


@pytest.mark.parametrize(("exercise_id", "example"), EXAMPLES)
def test_example_gets_its_declared_grade(exercise_id: str, example) -> None:  # type: ignore[no-untyped-def]
    result = grade(exercise_id, example.answer)
    assert result.passed is example.passes, result.text()
    if example.passes:
        assert result.score == result.max_score
    else:
        assert result.score < result.max_score
    for sentence in example.feedback:
        assert any(sentence in line for line in result.feedback), result.text()
    found = {m.id for m in result.misconceptions}
    assert set(example.misconceptions) <= found, result.text()


BROKEN = [
    pytest.param({"kind": "quiz"}, "kind: must be one of policy, choice, predict, pick", id="kind"),
    pytest.param(
        {"id": "x", "title": "t", "kind": "choice", "task": "t"},
        "answer: required for kind choice",
        id="missing answer",
    ),
    pytest.param(
        {"id": "x", "title": "t", "kind": "choice", "task": "t", "answer": "A", "colour": 1},
        "colour: unknown field",
        id="unknown field",
    ),
    pytest.param(
        {
            "id": "x",
            "title": "t",
            "kind": "policy",
            "task": "t",
            "scenario": "s",
            "reference": "r",
            "requirements": {"allowed": ["a to b"]},
        },
        "requirements.allowed[0]: cannot read flow 'a to b'",
        id="bad flow",
    ),
    pytest.param(
        {"id": "x", "title": "t", "kind": "choice", "task": "t", "answer": "A", "cka": True},
        "time_budget: a CKA drill (cka: true) needs a time budget in minutes",
        id="drill without budget",
    ),
    pytest.param(
        {
            "id": "x",
            "title": "t",
            "kind": "choice",
            "task": "t",
            "answer": "A",
            "hints": {"typo": "x"},
        },
        "hints.typo: unknown misconception",
        id="unknown hint id",
    ),
    pytest.param(
        {"id": "x", "title": "t", "kind": "choice", "task": "t", "answer": "A", "points": {"x": 1}},
        "points.x: unknown group for kind choice",
        id="unknown points group",
    ),
]


@pytest.mark.parametrize(("data", "message"), BROKEN)
def test_broken_definitions_are_refused_with_a_clear_error(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ExerciseError) as info:
        parse_exercise(data, "autograder/exercises/x.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("autograder/exercises/x.yaml: ")


def test_definition_with_unknown_peer_is_refused() -> None:
    data = yaml.safe_load((EXERCISES_DIR / "three-tier-db.yaml").read_text())
    data["requirements"]["allowed"].append("shop/nope -> shop/db 3306")
    exercise = parse_exercise(data, "autograder/exercises/three-tier-db.yaml")
    problems = check_definition(exercise)
    assert len(problems) == 1
    assert problems[0].startswith(
        "requirements.allowed: shop/nope -> shop/db TCP 3306: no peer named 'shop/nope'"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("shop/api -> shop/db 3306", "shop/api -> shop/db TCP 3306"),
        ("a/b->c/d udp 53", "a/b -> c/d UDP 53"),
        ("a/b -> c/d TCP mysql", "a/b -> c/d TCP mysql"),
    ],
)
def test_parse_flow(text: str, expected: str) -> None:
    assert str(Flow.parse(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a/b -> c/d ICMP 1", "unknown protocol 'ICMP'"),
        ("a/b -> c/d 70000", "port 70000 must be between 1 and 65535"),
        ("a/b c/d 80", "write it as 'SRC -> DST [PROTOCOL] PORT'"),
    ],
)
def test_parse_flow_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Flow.parse(text)


README = (Path(__file__).resolve().parents[1] / "exercises" / "README.md").read_text("utf-8")


def test_readme_documents_every_key_and_misconception() -> None:
    from autograder.feedback import DEFAULT_HINTS

    for key in SCHEMA:
        assert f"| `{key}` |" in README, key
    for misconception in DEFAULT_HINTS:
        assert f"| `{misconception}` |" in README, misconception
    for exercise in EXERCISES:
        assert f"`{exercise.id}`" in README, exercise.id


def test_readme_minimal_exercise_works() -> None:
    block = README.split("## A minimal policy exercise", 1)[1].split("```yaml\n", 1)[1]
    data = yaml.safe_load(block.split("\n```", 1)[0])
    exercise = parse_exercise(data, "autograder/exercises/web-only-from-api.yaml")
    assert check_definition(exercise) == []
    loaded = load_definition(exercise)
    assert grade_exercise(loaded, [("ref.yaml", exercise.reference)]).passed
    (example,) = exercise.examples
    result = grade_exercise(loaded, [("answer.yaml", example.answer)])
    assert not result.passed
    assert any(example.feedback[0] in line for line in result.feedback)


def test_definition_with_undefined_named_port_is_refused() -> None:
    data = yaml.safe_load((EXERCISES_DIR / "three-tier-db.yaml").read_text())
    data["requirements"]["denied"].append("shop/web -> shop/db TCP postgres")
    problems = check_definition(parse_exercise(data, "autograder/exercises/three-tier-db.yaml"))
    assert problems == [
        "requirements.denied: shop/web -> shop/db TCP postgres: shop/db defines no TCP port "
        "named 'postgres'"
    ]


def test_an_instructor_folder_replaces_the_package_exercises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograder.catalog import exercises_dir

    source = (EXERCISES_DIR / "three-tier-db.yaml").read_text(encoding="utf-8")
    (tmp_path / "three-tier-db.yaml").write_text(
        source.replace("title: ", "title: Our own ", 1), encoding="utf-8"
    )
    monkeypatch.setenv("NETPOL_EXERCISES", str(tmp_path))
    assert exercises_dir() == tmp_path
    assert [e.id for e in list_exercises()] == ["three-tier-db"]
    assert load_exercise("three-tier-db").title.startswith("Our own ")
    assert grade("three-tier-db", load_exercise("three-tier-db").reference).passed
