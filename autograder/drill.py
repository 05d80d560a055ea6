"""Timed CKA-style drills: show the task, start the clock, grade, report the time used.

Rules of this file:

* Input, output and the clock are injected (``stdin``, ``stdout``, ``clock``), so a
  drill runs the same in a terminal and in a test (no sleeping, no real time).
* With a file (``--file``), the learner edits it in any editor and presses Enter when
  done; the file is read then.  Without one, the learner pastes the YAML and ends it with
  Ctrl-D (end of input).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TextIO

from autograder.definition import Exercise
from autograder.grade import MAX_ANSWER_BYTES, grade_exercise
from autograder.loaded import LoadedExercise
from autograder.results import GradeResult
from autograder.show import scenario_view
from npcore.cli.common import UsageError
from npcore.cli.sources import check_readable, check_text, read_sources
from npcore.load import DEFAULT_LIMITS

__all__ = ["DrillResult", "format_duration", "run_drill"]


@dataclass(frozen=True)
class DrillResult:
    """A graded drill and the time it took, in seconds."""

    result: GradeResult
    elapsed: float
    budget: float | None  # seconds

    @property
    def within_budget(self) -> bool | None:
        """``None`` when the exercise has no time budget."""
        return None if self.budget is None else self.elapsed <= self.budget

    def time_line(self) -> str:
        """``Time: 4:12 of 6:00 (within budget)``."""
        used = format_duration(self.elapsed)
        if self.budget is None:
            return f"Time: {used} (this exercise has no time budget)"
        verdict = (
            "within budget"
            if self.within_budget
            else (f"over budget by {format_duration(self.elapsed - self.budget)}")
        )
        return f"Time: {used} of {format_duration(self.budget)} ({verdict})"

    def to_dict(self) -> dict[str, object]:
        """The grade's JSON shape plus ``elapsed_seconds``, ``budget_seconds``."""
        return {
            **self.result.to_dict(),
            "elapsed_seconds": round(self.elapsed, 1),
            "budget_seconds": self.budget,
            "within_budget": self.within_budget,
        }


def format_duration(seconds: float) -> str:
    """``m:ss``.

    >>> format_duration(252.4)
    '4:12'
    """
    total = max(0, round(seconds))
    return f"{total // 60}:{total % 60:02d}"


def task_text(exercise: Exercise) -> str:
    """The exam-style header and task."""
    budget = (
        f"Time budget: {format_duration(exercise.time_budget * 60)}"
        if exercise.time_budget
        else "No time budget"
    )
    return f"Task {exercise.id}: {exercise.title}\n{budget}\n\n{exercise.task.strip()}\n"


def _read_file(path: str) -> str:
    """The answer file, read as every command line reads its input (UsageError if it
    cannot be used: missing, not UTF-8, too large, empty, only comments)."""
    check_readable([path])
    limits = replace(DEFAULT_LIMITS, max_bytes=MAX_ANSWER_BYTES)
    return "".join(text for _, text in read_sources([path], limits=limits) if isinstance(text, str))


def run_drill(
    loaded: LoadedExercise,
    *,
    file: str | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DrillResult:
    """Show the task, wait for the answer, grade it and report the time used.

    Raises :class:`~npcore.cli.common.UsageError` if the answer (the file, or what was
    pasted) cannot be used: unreadable, not UTF-8, too large, empty or only comments.
    """
    exercise = loaded.definition
    inp = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    out.write(task_text(exercise))
    if exercise.scenario.strip():  # the cluster as kubectl shows it (npgrade show)
        out.write("\n" + scenario_view(loaded))
    if file is not None:
        out.write(f"\nWrite your answer in {file}, then press Enter to grade it.\n")
    else:
        out.write("\nPaste your answer, then press Ctrl-D (end of input) to grade it.\n")
    out.flush()
    start = clock()
    if file is not None:
        inp.readline()
        elapsed = clock() - start
        answers = [(file, _read_file(file))]
    else:
        try:
            text = inp.read(MAX_ANSWER_BYTES + 1)
        except UnicodeDecodeError:
            raise UsageError("cannot read <stdin>: not UTF-8 text") from None
        elapsed = clock() - start
        answers = [("answer.yaml", check_text("<stdin>", text, MAX_ANSWER_BYTES))]
    result = grade_exercise(loaded, answers)
    budget = exercise.time_budget * 60 if exercise.time_budget else None
    return DrillResult(result, elapsed, budget)
