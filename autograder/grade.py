"""Grade an answer to an exercise: the entry points.

Rules of this file:

* :func:`grade` is pure and deterministic, and never raises on learner input: text that
  npcore cannot load scores 0 with npcore's messages (file, line, field, what to do).
  It raises only for an unknown exercise id or a broken definition (instructor errors).
* Policy answers are graded by :mod:`autograder.judge`; choice, pick and predict answers
  by :mod:`autograder.selfcheck`.
* Several answer files combine as ``kubectl apply -f a.yaml -f b.yaml`` does: npcore's
  loader registry keeps the last object of each kind, namespace and name, so the same
  manifests grade the same as one stream or as several files.
* Every answer file is bounded (:data:`MAX_ANSWER_BYTES` in all) before anything reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from autograder import feedback as fb
from autograder.catalog import load
from autograder.judge import grade_policies
from autograder.loaded import LoadedExercise
from autograder.results import GradeResult
from autograder.selfcheck import grade_choice, grade_pick, grade_predict, invalid
from npcore.errors import NpcoreError
from npcore.load import parse_policies
from npcore.model import NetworkPolicy

__all__ = ["MAX_ANSWER_BYTES", "grade", "grade_exercise", "grade_files", "grade_policies"]

Answer = tuple[str, str]  # (filename, text)

# The whole answer, all files together: a policy answer is a few KB; 1 MB is plenty.
MAX_ANSWER_BYTES = 1_000_000


def _grade_policy_answer(loaded: LoadedExercise, answers: Sequence[Answer]) -> GradeResult:
    policies: dict[str, NetworkPolicy] = {}
    errors: list[str] = []
    for filename, text in answers:
        try:
            for policy in parse_policies(text, filename):
                policies[policy.key] = policy  # kubectl apply: the last one wins
        except NpcoreError as exc:
            errors.extend(str(exc).splitlines())
    if errors:
        return invalid(loaded.definition, errors)
    return grade_policies(loaded, tuple(policies.values()))


def grade_exercise(
    loaded: LoadedExercise, answers: Sequence[Answer], *, reveal: bool = False
) -> GradeResult:
    """Grade the answer files ``[(filename, text), ...]`` against ``loaded``."""
    exercise = loaded.definition
    size = sum(len(text) for _, text in answers)
    if size > MAX_ANSWER_BYTES:
        name = answers[0][0] if answers else "answer"
        return invalid(exercise, [fb.too_long(name, MAX_ANSWER_BYTES)])
    if exercise.kind == "policy":
        return _grade_policy_answer(loaded, answers)
    if exercise.kind == "choice":
        return grade_choice(loaded, answers, reveal)
    if exercise.kind == "pick":
        return grade_pick(loaded, answers, reveal)
    return grade_predict(loaded, answers, reveal)


def grade_files(
    exercise_id: str, answers: Sequence[Answer], *, reveal: bool = False
) -> GradeResult:
    """Grade several answer files (a policy answer may be split across files)."""
    return grade_exercise(load(exercise_id), answers, reveal=reveal)


def grade(
    exercise_id: str, answer_text: str, *, filename: str = "answer.yaml", reveal: bool = False
) -> GradeResult:
    """Grade ``answer_text`` against exercise ``exercise_id``.

    Pure and deterministic; never raises on learner input (text npcore cannot load scores
    0 with npcore's messages).  Raises ``UnknownExerciseError`` / ``ExerciseError`` for an
    unknown id or a broken definition.  ``reveal`` (self-study only) adds the right values
    to the feedback of choice, pick and predict exercises.
    """
    return grade_files(exercise_id, [(filename, answer_text)], reveal=reveal)
