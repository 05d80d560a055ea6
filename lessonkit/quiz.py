"""What a lesson cell calls: ``quiz.show("01-who-opens-db")`` shows a self-check,
``quiz.challenge("04-write-db-policy", grade)`` a "write it" challenge.

The questions live as data in :mod:`lessonkit.bank` and the "write it" challenges in
:mod:`lessonkit.challenges`, so no answer is ever visible in a cell's source.  The kinds
of self-check (``MultipleChoice``, ``PredictThenReveal``, ``PredictFlows``,
``DirectionQuiz``, ``FixThisPolicy``) are defined in :mod:`lessonkit.selfcheck` and
re-exported here.
"""

from __future__ import annotations

from lessonkit.challenges import GradeFunction, WriteIt
from lessonkit.challenges import challenge as _challenge
from lessonkit.selfcheck import (
    DirectionQuiz,
    Expect,
    FixThisPolicy,
    MultipleChoice,
    PredictFlows,
    PredictThenReveal,
    brief_verdict,
    explain_connection,
    explain_verdict,
    predict_connection,
    which_flow_breaks,
)

__all__ = [
    "DirectionQuiz",
    "Expect",
    "FixThisPolicy",
    "MultipleChoice",
    "PredictFlows",
    "PredictThenReveal",
    "brief_verdict",
    "challenge",
    "explain_connection",
    "explain_verdict",
    "predict_connection",
    "show",
    "which_flow_breaks",
]


def show(check_id: str) -> object:
    """The self-check ``check_id`` of :mod:`lessonkit.bank` (displays itself as a widget
    when it is the last expression of a cell)."""
    from lessonkit import bank

    return bank.get(check_id)


def challenge(key: str, grade: GradeFunction) -> WriteIt:
    """The "write it" challenge ``key``, graded by ``grade`` (``autograder.grade.grade``)."""
    return _challenge(key, grade)
