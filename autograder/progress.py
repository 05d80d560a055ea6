"""Progress of a class run, and the table it ends with.

Rules of this file:

* :class:`Progress` draws one bar that rewrites itself when its stream is a terminal, and
  prints one line per learner otherwise (CI logs, ``nohup``, JupyterHub services), so a
  long run always shows where it is.
* :func:`summary_table` is the table every ``classroom autograde`` ends with: one row per
  learner, ``graded`` with the score from the gradebook, or ``NEEDS MANUAL GRADING`` with
  the reason; notes (copy-pasted cells sanitised, failed kernel runs) follow the row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TextIO


class _Outcome(Protocol):
    student: str
    status: str
    score: float | None
    max_score: float | None
    notes: tuple[str, ...]


BAR_WIDTH = 24


class Progress:
    """A progress bar (terminal) or one line per learner (anything else)."""

    def __init__(self, stream: TextIO | None, tty: bool | None = None) -> None:
        self.stream = stream
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self.label, self.total, self.done = "", 0, 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self._write(f"{label}: {total} learner(s)\n")

    def step(self, student: str, text: str) -> None:
        self.done += 1
        if self.tty:
            filled = BAR_WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if self.done >= self.total else ""
            self._write(f"\r\x1b[K[{bar}] {self.done}/{self.total} {student}: {text}{end}")
        else:
            self._write(f"[{self.done}/{self.total}] {student}: {text}\n")

    def _write(self, text: str) -> None:
        if self.stream is not None:
            self.stream.write(text)
            self.stream.flush()


def outcome_text(outcome: _Outcome | Any) -> str:
    if outcome.status == "graded":
        return f"graded {outcome.score:g} / {outcome.max_score:g}"
    return "NEEDS MANUAL GRADING"


def summary_table(outcomes: Iterable[_Outcome | Any], kernel_failures: dict[str, str]) -> str:
    """The end-of-run table: who was graded, who needs manual grading and why."""
    rows = list(outcomes)
    width = max([len("student"), *(len(o.student) for o in rows)])
    lines = [f"{'student':<{width}}  {'result':<22}  score", "-" * (width + 36)]
    for o in rows:
        graded = o.status == "graded"
        result = "graded" if graded else "NEEDS MANUAL GRADING"
        score = f"{o.score:g} / {o.max_score:g}" if graded else "-"
        lines.append(f"{o.student:<{width}}  {result:<22}  {score}")
        notes = list(o.notes)
        if o.student in kernel_failures:
            notes.append(f"kernel run (feedback only): {kernel_failures[o.student][:200]}")
        lines += [f"{'':<{width}}    - {n}" for n in notes]
    graded_n = sum(1 for o in rows if o.status == "graded")
    lines.append(f"{graded_n} graded, {len(rows) - graded_n} need manual grading")
    return "\n".join(lines)
