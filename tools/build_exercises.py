"""Build the nbgrader source notebooks from the exercise definitions.

Rules of this file:

* ``autograder/exercises/<id>.yaml`` is the single source of an exercise: the same definition
  drives ``npgrade`` (CLI), the notebook self-checks and nbgrader.  This script writes
  ``exercises/source/<assignment>/<assignment>.ipynb``, one nbgrader assignment per lesson
  group plus one of CKA drills (:data:`ASSIGNMENTS`); never edit those notebooks by hand.
* Cells per exercise (``ID`` = exercise id):

  - ``task-ID`` (markdown, read-only): the task, the scenario manifests, the options;
  - ``answer-ID`` (code, nbgrader solution cell): ``answer = r\"\"\"...\"\"\"`` with the
    reference answer between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` *inside* the
    string, so the released notebook holds ``answer = r\"\"\"`` + a comment + ``\"\"\"``
    (:data:`CODE_STUB`, set as ``ClearSolutions.code_stub`` in nbgrader_config.py);
  - a self-check cell (ordinary code): ``check("ID", answer)``;
  - ``test-ID`` (code, locked nbgrader grade cell worth the exercise's points):
    ``check("ID", answer)``.  Its score is replaced by the sandboxed grader's
    (``autograder.classroom.SandboxGrades``).

* Inside an assignment, exercises follow :func:`teaching_order`: by the lesson that
  teaches their last new idea, then by time budget (drills from short to long).
* Output is deterministic (stable cell ids, no outputs): ``--check`` fails when a committed
  notebook differs from what the definitions produce.
* Every reference answer is graded before it is written: a reference that does not get full
  marks stops the build.

Usage: ``python tools/build_exercises.py`` (write) or ``python tools/build_exercises.py
--check`` (exit 1 and list stale notebooks).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.catalog import list_exercises  # noqa: E402
from autograder.definition import Exercise  # noqa: E402
from autograder.grade import grade  # noqa: E402

SOURCE_DIR = ROOT / "exercises" / "source"

# assignment id -> (title, lessons whose exercises it holds).  CKA drills (``cka: true``)
# form their own assignment; other exercises without a listed lesson go to the last
# lesson-based assignment.
ASSIGNMENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ps1-direction", "Traffic direction, the three-tier rules, default allow", ("01", "02", "03")),
    ("ps2-three-tier", "The NetworkPolicy object and the three-tier application", ("04", "05")),
    ("ps3-enforcement", "Enforcement, CNIs and exam practice", ("06", "07", "08")),
    ("ps4-cka-drills", "CKA-style drills", ()),
)
CKA_ASSIGNMENT = "ps4-cka-drills"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = "# Write your answer (YAML) on the lines below, before the closing quotes."

INTRO = """\
# {title}

Assignment `{assignment}` of the netpol-lab course.

**How to answer.** Each exercise has an *answer cell* of the form

```python
answer = r\"\"\"
<your YAML here>
\"\"\"
```

Write your YAML between the triple quotes and keep the rest of the line as it is. Run the
*self-check* cell under it for instant feedback, as often as you like.

**How you are graded.** Your score is computed from the **text** of your answer cells only,
by the course's grader running outside your notebook: it does not run your code, so
running, editing or deleting other cells cannot raise (or lower) your score. An answer must
be a plain string literal (no f-strings, no computed values).
"""

SETUP = "# Setup (run me first)\nfrom autograder.checks import check"
SELF_CHECK = "# Self-check: run me for instant feedback (not graded)\ncheck({id!r}, answer)"
TEST = (
    "# Autograder test (locked, {points:g} points). The official score is computed from the text\n"
    "# of your answer cell by the course's sandboxed grader; this line shows the same verdict.\n"
    "check({id!r}, answer)"
)


def assignment_of(ex: Exercise) -> str:
    if ex.cka:
        return CKA_ASSIGNMENT
    for name, _title, lessons in ASSIGNMENTS:
        if ex.lesson is not None and ex.lesson in lessons:
            return name
    return ASSIGNMENTS[-2][0]


def teaching_order(ex: Exercise) -> tuple[str, float, str]:
    """Sort key of an assignment: the lesson that teaches the exercise's last new idea, then
    the time budget (a drill that needs more time comes later), then the id."""
    return (ex.lesson or "~", ex.time_budget or 0.0, ex.id)


def reference_answer(ex: Exercise) -> str:
    """The answer text that earns full marks (graded before use by :func:`build`)."""
    if ex.kind == "policy":
        return ex.reference
    if ex.kind in ("choice", "pick"):
        return yaml.safe_dump({"answer": ex.answer}, sort_keys=False, allow_unicode=True)
    if ex.kind == "predict":
        from autograder.catalog import load
        from autograder.judge import verdict

        cluster = load(ex.id).scenario
        lines = {
            str(flow): "allowed" if verdict(cluster, flow).allowed else "denied"
            for flow in ex.flows
        }
        return yaml.safe_dump(lines, sort_keys=False)
    raise AssertionError(f"unknown exercise kind {ex.kind!r}")


def _fence(text: str, lang: str = "yaml") -> str:
    return f"```{lang}\n{text.rstrip()}\n```"


def task_markdown(ex: Exercise) -> str:
    parts = [
        f"## {ex.title}",
        f"*Exercise `{ex.id}` ({ex.kind}, {ex.max_score:g} points"
        + (f", time budget {ex.time_budget:g} minutes" if ex.time_budget else "")
        + ")*",
        ex.task.rstrip(),
    ]
    if ex.scenario:
        parts.append(f"**The cluster** (CNI: `{ex.cni}`):\n\n{_fence(ex.scenario)}")
    if ex.options:
        parts.append(
            "**Options:**\n\n" + "\n".join(f"- **{k}**: {v}" for k, v in ex.options.items())
        )
    for key, manifests in ex.candidates.items():
        parts.append(f"**Candidate {key}:**\n\n{_fence(manifests)}")
    if ex.flows:
        parts.append(
            "**Flows to predict** (answer one line per flow, `FLOW: allowed` or "
            "`FLOW: denied`):\n\n" + "\n".join(f"- `{f}`" for f in ex.flows)
        )
    return "\n\n".join(parts)


def _meta(
    grade_id: str,
    *,
    solution: bool = False,
    grade: bool = False,
    locked: bool = False,
    points: float | None = None,
) -> dict[str, Any]:
    nbg: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        nbg["points"] = points
    meta: dict[str, Any] = {"nbgrader": nbg}
    if locked:
        meta.update(deletable=False, editable=False)
    return meta


def answer_source(reference: str) -> str:
    if '"""' in reference:
        raise ValueError('a reference answer must not contain """')
    return f'answer = r"""\n{BEGIN}\n{reference.rstrip()}\n{END}\n"""'


def exercise_cells(ex: Exercise) -> list[Any]:
    ref = reference_answer(ex)
    result = grade(ex.id, ref)
    if not result.passed or result.score < result.max_score:
        raise ValueError(f"{ex.id}: the reference answer does not get full marks: {result}")
    return [
        new_markdown_cell(
            task_markdown(ex), id=f"task-{ex.id}", metadata=_meta(f"task-{ex.id}", locked=True)
        ),
        new_code_cell(
            answer_source(ref),
            id=f"answer-{ex.id}",
            metadata=_meta(f"answer-{ex.id}", solution=True),
        ),
        new_code_cell(SELF_CHECK.format(id=ex.id), id=f"selfcheck-{ex.id}"),
        new_code_cell(
            TEST.format(id=ex.id, points=ex.max_score),
            id=f"test-{ex.id}",
            metadata=_meta(f"test-{ex.id}", grade=True, locked=True, points=ex.max_score),
        ),
    ]


def build_notebook(assignment: str, title: str, exercises: Sequence[Exercise]) -> Any:
    cells = [
        new_markdown_cell(
            INTRO.format(title=title, assignment=assignment),
            id="intro",
            metadata=_meta("intro", locked=True),
        ),
        new_code_cell(SETUP, id="setup", metadata=_meta("setup", locked=True)),
    ]
    for ex in exercises:
        cells += exercise_cells(ex)
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def render(nb: Any) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build(exercises: Sequence[Exercise] | None = None) -> dict[Path, str]:
    """``{path: notebook text}`` for every assignment that has exercises."""
    exs = list_exercises() if exercises is None else list(exercises)
    out: dict[Path, str] = {}
    for name, title, _lessons in ASSIGNMENTS:
        mine = sorted((e for e in exs if assignment_of(e) == name), key=teaching_order)
        if mine:
            out[SOURCE_DIR / name / f"{name}.ipynb"] = render(build_notebook(name, title, mine))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if a committed notebook is stale"
    )
    args = parser.parse_args(argv)
    wanted = build()
    existing = set(SOURCE_DIR.glob("*/*.ipynb")) if SOURCE_DIR.is_dir() else set()
    stale = sorted(
        [p for p, text in wanted.items() if not p.is_file() or p.read_text("utf-8") != text]
        + [p for p in existing if p not in wanted]
    )
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run: python tools/build_exercises.py)")
        return 1 if stale else 0
    for p in existing - set(wanted):
        p.unlink()
    for p, text in wanted.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    print(f"wrote {len(wanted)} notebook(s) under {SOURCE_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
