"""Learner-facing one-liners for notebook cells.

Rules of this file:

* :func:`check` grades an answer and returns the
  :class:`~autograder.results.GradeResult`; in a notebook it renders as the cell's output
  (score, then one feedback sentence a line, via ``_repr_html_``).  It never raises for a
  wrong answer, so "Run All" goes on to the next exercise.
* The grade of record in nbgrader does not come from this call: the sandboxed grader
  (:mod:`autograder.sandbox`) reads the answer cell's text and grades it itself, so a
  cell that calls ``check`` scores exactly what ``npgrade`` gives the same text.
* ``reveal=True`` is for self-study: choice, pick and predict feedback then names the
  right values.  Released notebooks never pass it.
* Feedback names flows but never prints a reference solution.
"""

from __future__ import annotations

from autograder.grade import grade
from autograder.results import GradeResult

__all__ = ["check"]


def check(exercise_id: str, answer_text: str, *, reveal: bool = False) -> GradeResult:
    """Grade ``answer_text`` and return the result (it renders itself in a notebook).

    >>> result = check("classify-direction", "answer: wrong")
    >>> result.passed, result.summary().startswith("classify-direction: not passed, 0/")
    (False, True)
    """
    return grade(exercise_id, answer_text, filename="answer", reveal=reveal)
