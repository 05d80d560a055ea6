"""The authoritative grader for nbgrader submissions: it runs no learner code.

Rules of this file:

* In nbgrader, learner code and test cells share one kernel, so anything computed in the
  learner's kernel can be forged (a cell can monkeypatch ``autograder.checks``).  The score
  that counts is computed here, from the notebook JSON only.
* Which cells hold answers, which exercise each answer is for and how many points each test
  cell is worth come from the instructor's SOURCE notebook (:func:`read_spec`), never from
  the submission.  The submission is only searched for the answer cell with the expected
  ``grade_id``; copy-pasted duplicates are resolved before, by
  :class:`autograder.nbsanitize.SanitizeCells` (the answered copy is kept), and when two
  remain anyway the first one is graded.
* The answer is the string literal assigned to ``answer`` at the top level of the answer
  cell, read with :mod:`ast` (:func:`extract_answer`); nothing is evaluated.  A computed
  value (``answer = open(...).read()``, an f-string, a name) is refused with a sentence.
* Grading (:func:`autograder.grade.grade`) runs in a child process with resource limits
  (:func:`run_sandboxed`): CPU seconds, address space, open files, no files written, a
  wall-clock timeout, an empty temporary working directory and a scrubbed environment.  A
  child that fails or overruns gives 0 points with a sentence saying why, never an
  exception in the instructor's process.
* A verdict is plain data (:class:`Verdict`); :func:`verdict_outputs` turns it into the
  nbgrader cell outputs from which ``SaveAutoGrades`` reads the same score (an ``error``
  output for 0, an ``execute_result`` holding the points for partial credit, a stdout
  stream for full marks).

Run ``python -m autograder.sandbox SOURCE.ipynb SUBMITTED.ipynb`` to grade one notebook by
hand (prints JSON).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ANSWER_NAME = "answer"
ANSWER_PREFIX = "answer-"
TEST_PREFIX = "test-"
MAX_SOURCE_CHARS = 100_000
DEFAULT_TIMEOUT = 20.0
DEFAULT_MEMORY_MB = 1024

HOW_TO_ANSWER = 'Write your YAML between the triple quotes: answer = r"""<your YAML>"""'


class AnswerError(ValueError):
    """The answer cell does not hold a readable answer; ``str()`` is addressed to the learner."""


@dataclass(frozen=True, slots=True)
class ExerciseSlot:
    """One graded exercise of a source notebook: answer cell, test cell and points."""

    exercise: str
    answer_cell: str
    test_cell: str
    points: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """The sandbox's score for one exercise, already scaled to the test cell's points."""

    exercise: str
    test_cell: str
    score: float
    max_score: float
    passed: bool
    feedback: tuple[str, ...] = field(default_factory=tuple)
    misconceptions: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["feedback"] = list(self.feedback)
        d["misconceptions"] = list(self.misconceptions)
        return d


# --------------------------------------------------------------------------------------
# Reading the trusted spec and the untrusted submission (no learner code is run)
# --------------------------------------------------------------------------------------


def nbgrader_meta(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, Mapping) else None
    return nbg if isinstance(nbg, Mapping) else {}


def source_text(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def read_spec(source_notebook: Mapping[str, Any]) -> tuple[ExerciseSlot, ...]:
    """The graded exercises of an instructor's source notebook, in notebook order.

    A test cell is a locked nbgrader grade cell whose ``grade_id`` is ``test-<exercise>``;
    its answer cell is the solution cell ``answer-<exercise>`` of the same notebook.
    Raises ``ValueError`` when a test cell has no answer cell (a broken source notebook is
    the instructor's error, not a learner's).
    """
    cells = source_notebook.get("cells", [])
    ids = {nbgrader_meta(c).get("grade_id") for c in cells}
    slots = []
    for cell in cells:
        nbg = nbgrader_meta(cell)
        gid = nbg.get("grade_id")
        if not (nbg.get("grade") and isinstance(gid, str) and gid.startswith(TEST_PREFIX)):
            continue
        exercise = gid.removeprefix(TEST_PREFIX)
        answer_cell = ANSWER_PREFIX + exercise
        if answer_cell not in ids:
            raise ValueError(
                f"source notebook: test cell {gid!r} has no answer cell {answer_cell!r}"
            )
        slots.append(ExerciseSlot(exercise, answer_cell, gid, float(nbg.get("points", 0))))
    return tuple(slots)


def find_answer_source(submission: Mapping[str, Any], answer_cell: str) -> str | None:
    """The source of the first code cell whose ``grade_id`` is ``answer_cell`` (or None)."""
    cells = submission.get("cells")
    if not isinstance(cells, list):
        return None
    for cell in cells:
        if isinstance(cell, Mapping) and nbgrader_meta(cell).get("grade_id") == answer_cell:
            if cell.get("cell_type") != "code":
                return None
            return source_text(cell)
    return None


def extract_answer(source: str) -> str:
    """The string literal assigned to ``answer`` at the top level of ``source``.

    >>> extract_answer('answer = r\"\"\"\\nkind: NetworkPolicy\\n\"\"\"\\n')
    '\\nkind: NetworkPolicy\\n'

    The text is padded with newlines so that line N of the YAML is line N of the cell.
    The last top-level assignment wins, as it would when the cell runs.  Raises
    :class:`AnswerError` when the cell is not Python, assigns no ``answer``, or assigns one
    that is not a plain string literal.
    """
    if len(source) > MAX_SOURCE_CHARS:
        raise AnswerError(
            f"The answer cell has {len(source)} characters; the limit is {MAX_SOURCE_CHARS}."
        )
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise AnswerError(
            f"The answer cell is not valid Python (line {exc.lineno}: {exc.msg}). {HOW_TO_ANSWER}"
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise AnswerError(f"The answer cell cannot be read. {HOW_TO_ANSWER}") from None
    value: ast.expr | None = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == ANSWER_NAME for t in stmt.targets):
                value = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == ANSWER_NAME
            and stmt.value is not None
        ):
            value = stmt.value
    if value is None:
        raise AnswerError(f"The answer cell does not assign `{ANSWER_NAME}`. {HOW_TO_ANSWER}")
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        # pad so that line N of the YAML is line N of the cell in error messages
        return "\n" * (value.lineno - 1) + value.value
    raise AnswerError(
        f"`{ANSWER_NAME}` (line {value.lineno}) must be a plain string literal, not a computed "
        f"value: the grader reads your text, it does not run your code. {HOW_TO_ANSWER}"
    )


# --------------------------------------------------------------------------------------
# Grading (inside the child process)
# --------------------------------------------------------------------------------------

Grader = Callable[[str, str], Any]


def _default_grader(exercise: str, text: str) -> Any:
    from autograder.grade import grade

    return grade(exercise, text, filename="answer cell")


def grade_item(item: Mapping[str, Any], grader: Grader | None = None) -> Verdict:
    """Grade one ``{"exercise", "test_cell", "points", "source"}`` item (source may be None)."""
    exercise = str(item["exercise"])
    test_cell = str(item["test_cell"])
    points = float(item["points"])
    source = item.get("source")

    def zero(*feedback: str) -> Verdict:
        return Verdict(exercise, test_cell, 0.0, points, False, tuple(feedback))

    if source is None:
        return zero(
            f"The answer cell `{ANSWER_PREFIX}{exercise}` is missing from the submitted "
            "notebook (deleted, or its nbgrader metadata removed), so there is nothing to grade."
        )
    try:
        text = extract_answer(str(source))
    except AnswerError as exc:
        return zero(str(exc))
    result = (grader or _default_grader)(exercise, text)
    raw, raw_max = float(result.score), float(result.max_score)
    score = 0.0 if raw_max <= 0 else round(points * min(max(raw / raw_max, 0.0), 1.0), 2)
    return Verdict(
        exercise,
        test_cell,
        score,
        points,
        bool(result.passed) and score >= points,
        tuple(str(f) for f in result.feedback),
        tuple(str(m.id) for m in getattr(result, "misconceptions", ())),
    )


def _child_main() -> int:
    """Child side of :func:`run_sandboxed`: JSON items on stdin, JSON verdicts on stdout."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # anything printed while grading must not corrupt the reply
    items = json.load(sys.stdin)["items"]
    verdicts = []
    for item in items:
        try:
            verdicts.append(grade_item(item).to_dict())
        except Exception as exc:  # a grader bug must not cost the learner other answers
            why = f"The grader failed on this answer ({type(exc).__name__}: {exc}), so it scores 0."
            verdicts.append(_failure([item], why)[0].to_dict())
    json.dump({"verdicts": verdicts}, out)
    out.flush()
    return 0


# --------------------------------------------------------------------------------------
# Parent side: spawn the child with limits and validate what comes back
# --------------------------------------------------------------------------------------


def _limits(timeout: float, memory_mb: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        cpu = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _failure(items: Sequence[Mapping[str, Any]], why: str) -> list[Verdict]:
    return [
        Verdict(str(i["exercise"]), str(i["test_cell"]), 0.0, float(i["points"]), False, (why,))
        for i in items
    ]


CHILD_ARGV = ("-I", "-m", "autograder.sandbox", "--child")


def _run_child(
    items: Sequence[Mapping[str, Any]],
    timeout: float,
    memory_mb: int,
    child_argv: Sequence[str] = CHILD_ARGV,
) -> list[Verdict] | str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    payload = json.dumps({"items": list(items)})
    with tempfile.TemporaryDirectory(prefix="npgrade-sandbox-") as cwd:
        try:
            proc = subprocess.run(
                [sys.executable, *child_argv],
                input=payload,
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=timeout,
                preexec_fn=_limits(timeout, memory_mb),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"Grading this answer took longer than {timeout:g} s, so it scores 0."
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        if "MemoryError" in proc.stderr:
            return f"Grading this answer needed more than {memory_mb} MB, so it scores 0."
        return f"The grader failed on this answer ({last}), so it scores 0."
    try:
        raw = json.loads(proc.stdout)["verdicts"]
        verdicts = [
            Verdict(
                str(v["exercise"]),
                str(v["test_cell"]),
                float(v["score"]),
                float(v["max_score"]),
                bool(v["passed"]),
                tuple(str(f) for f in v["feedback"]),
                tuple(str(m) for m in v.get("misconceptions", [])),
            )
            for v in raw
        ]
    except (ValueError, KeyError, TypeError):
        return "The grader returned an unreadable reply, so this answer scores 0."
    expected = [(str(i["exercise"]), float(i["points"])) for i in items]
    if [(v.exercise, v.max_score) for v in verdicts] != expected or any(
        not 0 <= v.score <= v.max_score for v in verdicts
    ):
        return "The grader returned an inconsistent reply, so this answer scores 0."
    return verdicts


def run_sandboxed(
    items: Sequence[Mapping[str, Any]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    child_argv: Sequence[str] = CHILD_ARGV,
) -> list[Verdict]:
    """Grade ``items`` in a resource-limited child process; one verdict per item, in order.

    If the child fails for a batch of several items, each item is graded again in its own
    child so that one pathological answer cannot cost the learner the others.
    ``child_argv`` (the interpreter's arguments) exists for tests of the failure paths.
    """
    if not items:
        return []
    got = _run_child(items, timeout, memory_mb, child_argv)
    if isinstance(got, list):
        return got
    if len(items) == 1:
        return _failure(items, got)
    out: list[Verdict] = []
    for item in items:
        one = _run_child([item], timeout, memory_mb, child_argv)
        out.extend(one if isinstance(one, list) else _failure([item], one))
    return out


def grade_submission(
    spec: Sequence[ExerciseSlot],
    submission: Mapping[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> list[Verdict]:
    """Verdicts for every slot of ``spec`` on a submitted notebook (parsed JSON)."""
    items = [
        {
            "exercise": slot.exercise,
            "test_cell": slot.test_cell,
            "points": slot.points,
            "source": find_answer_source(submission, slot.answer_cell),
        }
        for slot in spec
    ]
    return run_sandboxed(items, timeout=timeout, memory_mb=memory_mb)


# --------------------------------------------------------------------------------------
# Verdict -> nbgrader outputs
# --------------------------------------------------------------------------------------


def verdict_text(v: Verdict) -> str:
    """The feedback shown under the test cell: score line, then one line per sentence."""
    head = "PASSED" if v.passed else "NOT PASSED"
    lines = [f"{head}: {v.exercise}: {v.score:g} / {v.max_score:g} points (sandboxed grader)"]
    lines += [f"- {f}" for f in v.feedback]
    return "\n".join(lines) + "\n"


def verdict_outputs(v: Verdict) -> list[dict[str, Any]]:
    """nbgrader cell outputs that ``nbgrader.utils.determine_grade`` scores as ``v.score``."""
    text = verdict_text(v)
    if v.score <= 0:
        return [
            {
                "output_type": "error",
                "ename": "AssertionError",
                "evalue": text,
                "traceback": [f"AssertionError: {text}"],
            }
        ]
    stream = {"output_type": "stream", "name": "stdout", "text": text}
    if v.score >= v.max_score:
        return [stream]
    return [
        stream,
        {
            "output_type": "execute_result",
            "execution_count": None,
            "metadata": {},
            "data": {"text/plain": f"{v.score:g}"},
        },
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--child"]:
        return _child_main()
    if len(args) != 2:
        print("usage: python -m autograder.sandbox SOURCE.ipynb SUBMITTED.ipynb", file=sys.stderr)
        return 2
    spec = read_spec(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    submission = json.loads(Path(args[1]).read_text(encoding="utf-8"))
    verdicts = grade_submission(spec, submission)
    print(json.dumps([v.to_dict() for v in verdicts], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
