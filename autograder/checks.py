"""Learner-facing one-liners for notebook test cells.

Rules of this file:

* :func:`check` grades an answer and, when it does not pass, raises ``AssertionError``
  whose message is the feedback sentences, so nbgrader's "error -> 0 points" shows
  them; otherwise it returns the :class:`~autograder.results.GradeResult`, which renders
  itself in a notebook (``_repr_html_``).
* Feedback names flows (including connections the task did not mention) but never
  prints a reference solution.
"""

from __future__ import annotations

from autograder.grade import grade
from autograder.results import GradeResult

__all__ = ["check"]


def check(exercise_id: str, answer_text: str) -> GradeResult:
    """Grade ``answer_text``; raise ``AssertionError`` with the feedback if it fails.

    >>> check("classify-direction", "answer: wrong")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: classify-direction: not passed, 0/...
    """
    result = grade(exercise_id, answer_text, filename="answer")
    if not result.passed:
        raise AssertionError(result.text())
    return result
