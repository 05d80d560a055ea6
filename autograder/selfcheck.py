"""Grade choice, pick and predict answers.

Rules of this file:

* Answers are YAML (``answer: B``, a list, a mapping, or ``FLOW: allowed`` lines) read by
  npcore's hardened reader (:func:`npcore.load.yaml_safe.read_plain`): bounded size, depth,
  aliases and nodes, one document, no duplicate keys.  Any problem is a sentence, never a
  traceback.
* **choice** and **pick** answers are compared with the definition's ``answer``;
  **predict** answers with npcore's verdict on the scenario.
* Feedback says WHICH items are wrong, never their right values, so asking the grader
  again and again does not teach the answer.  ``reveal=True`` (a learner studying on
  their own asks for it explicitly) adds the right values and the explanations; nothing
  in a graded release passes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autograder import feedback as fb
from autograder.definition import Exercise
from autograder.judge import verdict
from autograder.loaded import LoadedExercise
from autograder.results import CheckResult, GradeResult
from npcore.diff import diff_maps
from npcore.errors import NpcoreError
from npcore.flows import Flow
from npcore.load.yaml_safe import Limits, read_plain
from npcore.reachability import connectivity_map

__all__ = ["MAX_ANSWER_BYTES", "grade_choice", "grade_pick", "grade_predict", "invalid"]

Answer = tuple[str, str]  # (filename, text)

# Choice, predict and pick answers are a few lines of YAML.
MAX_ANSWER_BYTES = 100_000
LIMITS = Limits(max_bytes=MAX_ANSWER_BYTES, max_depth=20, max_aliases=0, max_nodes=5_000)

_ALLOWED_WORDS = {"allowed": True, "allow": True, "denied": False, "deny": False, "blocked": False}


def invalid(exercise: Exercise, messages: Sequence[str]) -> GradeResult:
    """Zero points: the answer could not be read."""
    checks = [
        CheckResult(name, False, 0.0, pts, fb.INVALID_CHECK)
        for name, pts in exercise.points.items()
    ]
    return GradeResult.from_checks(exercise.id, checks, [*messages, fb.UNREADABLE])


def read_answer(exercise: Exercise, answers: Sequence[Answer]) -> tuple[Any, str | None]:
    """The YAML value of the answer (``answer: X`` or bare ``X``), or an error message."""
    filename, text = answers[0] if answers else ("answer.yaml", "")
    if len(answers) > 1:
        return (
            None,
            fb.one_file_only(filename, exercise.kind, len(answers)),
        )
    if len(text) > MAX_ANSWER_BYTES:
        return None, fb.too_long(filename, MAX_ANSWER_BYTES)
    try:
        value = read_plain(text, filename, LIMITS)
    except NpcoreError as exc:
        return None, fb.unreadable_answer(str(exc))
    except (ValueError, RecursionError):
        return None, fb.unreadable_value(filename)
    if isinstance(value, dict) and set(value) == {"answer"}:
        value = value["answer"]
    if value is None:
        return None, fb.no_answer(filename)
    return value, None


def _norm(value: object) -> str:
    return str(value).strip().casefold()


def _choice_mapping(
    exercise: Exercise, value: Mapping[Any, Any], reveal: bool
) -> tuple[list[str], int]:
    expected: Mapping[Any, Any] = exercise.answer
    given = {_norm(k): v for k, v in value.items()}
    lines: list[str] = []
    wrong = 0
    for key in sorted(expected, key=str):
        got = given.get(_norm(key))
        if got is None:
            lines.append(fb.item_missing(key))
            wrong += 1
        elif _norm(got) != _norm(expected[key]):
            why = exercise.explanations.get(str(key), "") if reveal else ""
            lines.append(fb.item_wrong(key, expected[key] if reveal else None, why))
            wrong += 1
    known = {_norm(k) for k in expected}
    lines += [
        fb.item_unknown(k) for k in sorted((k for k in value if _norm(k) not in known), key=str)
    ]
    return lines, wrong


def _choice_list(exercise: Exercise, value: object, reveal: bool) -> list[str]:
    given_list = value if isinstance(value, list) else [value]
    want = {_norm(x) for x in exercise.answer}
    got = {_norm(x) for x in given_list}
    lines = []
    for item in sorted(got - want):
        why = exercise.explanations.get(item.upper(), exercise.explanations.get(item, ""))
        lines.append(fb.option_extra(item.upper(), why if reveal else ""))
    missing = sorted(want - got)
    if reveal:
        lines += [fb.option_missing(item.upper()) for item in missing]
    elif missing:
        lines.append(fb.option_missing_count(len(missing)))
    return lines


def grade_choice(
    loaded: LoadedExercise, answers: Sequence[Answer], reveal: bool = False
) -> GradeResult:
    """A choice answer: one option, a list of options, or ``item: label`` lines."""
    exercise = loaded.definition
    value, error = read_answer(exercise, answers)
    if error:
        return invalid(exercise, [error])
    expected = exercise.answer
    pts = exercise.points["answer"]
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return invalid(exercise, [fb.NEEDS_MAPPING])
        lines, wrong = _choice_mapping(exercise, value, reveal)
        score = pts * (len(expected) - wrong) / len(expected)
        ok = not lines
    elif isinstance(expected, list):
        lines = _choice_list(exercise, value, reveal)
        ok = not lines
        score = pts if ok else 0.0
    else:
        ok = _norm(value) == _norm(expected)
        score = pts if ok else 0.0
        key = str(value).strip()
        why = exercise.explanations.get(key.upper(), exercise.explanations.get(key, ""))
        lines = [] if ok else [fb.not_the_answer(key[:200], why if reveal else "")]
    if ok:
        lines = [fb.CORRECT]
    elif not reveal:
        lines.append(fb.REVEAL_NOTE)
    check = CheckResult("answer", ok, round(score, 4), pts, "; ".join(lines))
    return GradeResult.from_checks(exercise.id, [check], lines)


def _candidate_differences(loaded: LoadedExercise, key: str) -> list[str]:
    """How candidate ``key`` behaves differently from the correct candidate."""
    scenario = loaded.scenario
    right = loaded.candidates[str(loaded.definition.answer)]
    want = connectivity_map(scenario.with_policies((*scenario.policies, *right)))
    got = connectivity_map(scenario.with_policies((*scenario.policies, *loaded.candidates[key])))
    lines = []
    for d in diff_maps(want, got):
        if not d.gained.is_empty:
            lines.append(fb.candidate_extra(d.src, d.dst, d.gained))
        if not d.lost.is_empty:
            lines.append(fb.candidate_missing(d.src, d.dst, d.lost))
    shown = lines[: fb.MAX_HIDDEN_LINES]
    if len(lines) > len(shown):
        shown.append(fb.more_lines(len(lines) - len(shown)))
    return shown


def grade_pick(
    loaded: LoadedExercise, answers: Sequence[Answer], reveal: bool = False
) -> GradeResult:
    """A pick answer: the key of the least permissive candidate that does the job."""
    exercise = loaded.definition
    value, error = read_answer(exercise, answers)
    if error:
        return invalid(exercise, [error])
    pts = exercise.points["answer"]
    choice = str(value).strip()
    match = [k for k in exercise.candidates if _norm(k) == _norm(choice)]
    if not match:
        keys = ", ".join(exercise.candidates)
        return invalid(exercise, [fb.not_a_candidate(choice, keys)])
    picked = match[0]
    if picked == str(exercise.answer):
        check = CheckResult("answer", True, pts, pts, fb.PICK_CORRECT)
        return GradeResult.from_checks(exercise.id, [check], [fb.PICK_CORRECT])
    lines = [fb.not_the_candidate(picked), *_candidate_differences(loaded, picked)]
    why = exercise.explanations.get(picked)
    if why and reveal:
        lines.append(why)
    check = CheckResult("answer", False, 0.0, pts, lines[0])
    return GradeResult.from_checks(exercise.id, [check], lines)


def _predictions(value: Mapping[Any, Any]) -> tuple[dict[Flow, bool], list[str]]:
    given: dict[Flow, bool] = {}
    problems: list[str] = []
    for key, word in value.items():
        try:
            flow = Flow.parse(str(key))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if isinstance(word, bool):
            given[flow] = word
        elif _norm(word) in _ALLOWED_WORDS:
            given[flow] = _ALLOWED_WORDS[_norm(word)]
        else:
            problems.append(fb.not_a_verdict(str(flow), word))
    return given, problems


def grade_predict(
    loaded: LoadedExercise, answers: Sequence[Answer], reveal: bool = False
) -> GradeResult:
    """``FLOW: allowed|denied`` lines, compared with npcore's verdicts."""
    exercise = loaded.definition
    value, error = read_answer(exercise, answers)
    if error:
        return invalid(exercise, [error])
    if not isinstance(value, dict):
        return invalid(exercise, [fb.NEEDS_PREDICTIONS])
    given, problems = _predictions(value)
    if problems:
        return invalid(exercise, sorted(problems))
    pts = exercise.points["answer"]
    lines: list[str] = []
    right = 0
    for flow in exercise.flows:
        result = verdict(loaded.scenario, flow)
        if flow not in given:
            lines.append(fb.prediction_missing(str(flow)))
        elif given[flow] != result.allowed:
            truth = result.allowed if reveal else None
            lines.append(fb.prediction_wrong(str(flow), truth, fb.explain(result)))
        else:
            right += 1
    asked = set(exercise.flows)
    lines += [
        fb.prediction_unknown(str(f)) for f in sorted((f for f in given if f not in asked), key=str)
    ]
    ok = not lines
    if ok:
        lines = [fb.PREDICT_CORRECT]
    elif not reveal:
        lines.append(fb.REVEAL_NOTE)
    score = round(pts * right / len(exercise.flows), 4)
    check = CheckResult("answer", ok, pts if ok else min(score, pts), pts, "; ".join(lines))
    return GradeResult.from_checks(exercise.id, [check], lines)
