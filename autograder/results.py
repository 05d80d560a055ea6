"""Grading results as data, before any rendering.

Rules of this file:

* A :class:`CheckResult` is one requirement group (``allowed``, ``denied``,
  ``unchanged``, ``constraints``, ``valid``, ``answer``...): whether it passed, the points
  it earned out of its maximum, and a sentence for the learner.
* A :class:`GradeResult` is one exercise: the checks, the total, and the feedback
  sentences in a fixed order (deterministic: the same answer always gives the same text).
* Every sentence is stored with its control characters escaped
  (:func:`autograder.feedback.printable`): text echoed from an answer stays on its line.
* ``to_dict()`` is the JSON shape of ``npgrade --format json`` and of the nbgrader
  sandbox; it holds at least ``exercise``, ``passed``, ``score``, ``max_score`` and
  ``feedback``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace

from autograder.feedback import printable

__all__ = ["CheckResult", "GradeResult", "Misconception"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One requirement group: ``points`` earned out of ``max_points``."""

    name: str
    passed: bool
    points: float
    max_points: float
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {
            "name": self.name,
            "passed": self.passed,
            "points": _json_number(self.points),
            "max_points": _json_number(self.max_points),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Misconception:
    """A likely cause of a wrong answer, recognised by a detector (:mod:`autograder.detectors`).

    ``id`` names the misconception (``or-instead-of-and``); ``detail`` says where it is in
    the learner's policies (``shop/db-policy ingress[0]``).
    """

    id: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """Plain data for JSON."""
        return {"id": self.id, "detail": self.detail}


@dataclass(frozen=True)
class GradeResult:
    """The grade of one answer to one exercise."""

    exercise: str
    passed: bool
    score: float
    max_score: float
    feedback: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    misconceptions: list[Misconception] = field(default_factory=list)

    @classmethod
    def from_checks(
        cls,
        exercise: str,
        checks: list[CheckResult],
        feedback: list[str],
        misconceptions: list[Misconception] | None = None,
    ) -> GradeResult:
        """Total the checks: passed when every check passed."""
        score = round(sum(c.points for c in checks), 4)
        max_score = round(sum(c.max_points for c in checks), 4)
        return cls(
            exercise=exercise,
            passed=all(c.passed for c in checks),
            score=score,
            max_score=max_score,
            feedback=[printable(line) for line in feedback],
            checks=[replace(c, message=printable(c.message)) for c in checks],
            misconceptions=[Misconception(m.id, printable(m.detail)) for m in misconceptions or []],
        )

    def capped(self, most: float) -> GradeResult:
        """The same grade with the score lowered to ``most`` (never passed)."""
        return replace(self, passed=False, score=min(self.score, most))

    def to_dict(self) -> dict[str, object]:
        """The JSON shape shared by ``npgrade --format json`` and the nbgrader sandbox."""
        return {
            "exercise": self.exercise,
            "passed": self.passed,
            "score": _json_number(self.score),
            "max_score": _json_number(self.max_score),
            "feedback": list(self.feedback),
            "checks": [c.to_dict() for c in self.checks],
            "misconceptions": [m.to_dict() for m in self.misconceptions],
        }

    def summary(self) -> str:
        """One line: ``three-tier-db: passed, 6/6 points``."""
        verdict = "passed" if self.passed else "not passed"
        return f"{self.exercise}: {verdict}, {_num(self.score)}/{_num(self.max_score)} points"

    def text(self) -> str:
        """The summary line, then one feedback sentence a line."""
        return "\n".join([self.summary(), *(f"- {line}" for line in self.feedback)])

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.feedback)
        body = f"<ul>{items}</ul>" if items else ""
        return (
            f'<div class="npgrade-result"><strong style="color:{colour}">'
            f"{html.escape(self.summary())}</strong>{body}</div>"
        )


def _json_number(value: float) -> int | float:
    """``6`` rather than ``6.0`` in JSON; ``2.5`` stays."""
    return int(value) if float(value).is_integer() else value


def _num(value: float) -> str:
    """``6`` rather than ``6.0``; ``1.5`` stays."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
