"""Every self-check of the lessons, as data: ``"NN-slug" -> the check``.

A lesson cell only names a check (``quiz.show("01-who-opens-db")``), so the options,
the right answer, the explanation and the hints never sit in a visible cell.  One
module per lesson (``lesson01`` ... ``lesson08``) defines its checks with
:func:`~lessonkit.bank._registry.register`; ids start with the lesson's number.
"""

from __future__ import annotations

from lessonkit.bank import (  # noqa: F401  (importing a lesson module registers its checks)
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
)
from lessonkit.bank._registry import CHECKS

__all__ = ["CHECKS", "get", "ids"]


def ids() -> list[str]:
    """Every self-check id, in lesson order."""
    return sorted(CHECKS)


def get(check_id: str) -> object:
    """A fresh self-check ``check_id``; ``KeyError`` naming the known ids of its lesson."""
    try:
        factory = CHECKS[check_id]
    except KeyError:
        same = [i for i in CHECKS if i[:2] == check_id[:2]] or sorted(CHECKS)
        raise KeyError(f"no self-check {check_id!r}; known: {', '.join(same)}") from None
    return factory()
