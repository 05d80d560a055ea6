"""nbgrader integration: the sandboxed score replaces whatever the learner's kernel said.

Rules of this file:

* :class:`SandboxGrades` is an nbgrader preprocessor, registered in
  ``exercises/nbgrader_config.py`` in place of ``Execute``: plain ``nbgrader autograde``
  runs NO learner code.  What to grade and the points come from the gradebook; each test
  cell gets the verdict of :mod:`autograder.sandbox` (a child process with limits) as its
  outputs, from which nbgrader's own ``SaveAutoGrades`` stores exactly the sandbox's score.
  A grade cell without a verdict scores 0 with a note (grading fails closed).
* :func:`autograde` (``python -m autograder.classroom autograde ASSIGNMENT``) adds the
  learners' own cell outputs to the feedback.  In this order:

  1. snapshot the whole course (every student, every assignment, the source, the
     gradebook) without following links (:mod:`autograder.snapshot`), and hash the
     grading code, BEFORE any learner code runs; a learner whose folders hold a link is
     not graded but listed for manual grading;
  2. run each notebook of each learner sealed off from the course (:mod:`autograder.kernels`:
     bubblewrap and a user of its own; without them only with ``--unsafe-kernels``);
  3. restore every file that changed and remove planted ones, never writing through a
     link; refuse to record grades if the grading code itself changed;
  4. run nbgrader's autograde for each learner in this process (with
     :class:`SandboxGrades`, so no learner code), copying only plain-text and image outputs
     of non-grade cells from step 2 into the autograded notebooks.  One learner's failure
     is reported and the class goes on; the run ends with a table (:mod:`autograder.progress`).

* ``collect`` (:mod:`autograder.collect`) and ``report`` (:mod:`autograder.report`) are
  subcommands of the same command line (:func:`main`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from nbformat.notebooknode import NotebookNode, from_dict
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import NbGraderPreprocessor
    from traitlets import Float, Integer, Unicode
except ModuleNotFoundError as missing:  # an install without the grading extra
    if __name__ != "__main__":
        raise
    sys.exit(
        f"python -m autograder.classroom: needs the grading extra ({missing.name} is not "
        "installed): pip install 'netpol-lab[grading]'"
    )

from autograder import kernels, sandbox
from autograder.progress import Progress, outcome_text, summary_table
from autograder.snapshot import Snapshot, read_nofollow, remove_path, replace_file

REPO_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR = REPO_ROOT / "exercises"
CODE_DIRS = (REPO_ROOT / "autograder", REPO_ROOT / "npcore")  # exercise defs: autograder/exercises
KERNEL_JOBS = 2  # sealed learner kernels run at the same time (--jobs)
VERDICTS_DIR = "verdicts"  # the grader's JSON record: verdicts/ASSIGNMENT/STUDENT/NOTEBOOK.json

__all__ = ["AutogradeReport", "GradingCodeChanged", "LinkRefused", "SandboxGrades", "Snapshot"]


def _no_verdict_output(grade_id: str) -> dict[str, Any]:
    text = (
        f"NO VERDICT: {grade_id}: the sandboxed grader gave no verdict for this cell, so it "
        "scores 0; the instructor has been told and will grade it by hand.\n"
    )
    return {
        "output_type": "error",
        "ename": "NoVerdict",
        "evalue": text,
        "traceback": [f"NoVerdict: {text}"],
    }


class SandboxGrades(NbGraderPreprocessor):
    """Replace every grade cell's outputs with the sandbox's verdict, or 0 and a note.

    What to grade and how many points each cell is worth come from the GRADEBOOK (written
    by ``generate_assignment`` from the instructor's source), never from a file a learner's
    kernel could reach.  A grade cell of the notebook that gets no verdict (no matching
    answer cell, an unexpected name) scores 0 with a ``NoVerdict`` note: grading fails
    closed.  The verdicts and notes are written to
    ``verdicts/ASSIGNMENT/STUDENT/NOTEBOOK.json`` in the course (see :mod:`autograder.report`).
    """

    timeout = Float(sandbox.DEFAULT_TIMEOUT, help="seconds to grade one notebook").tag(config=True)
    memory_mb = Integer(sandbox.DEFAULT_MEMORY_MB, help="address-space limit (MB)").tag(config=True)
    executed_dir = Unicode(
        "",
        help="folder of reduced kernel-executed notebooks STUDENT/NOTEBOOK.json whose text "
        "and image outputs of non-test cells are copied into the feedback",
    ).tag(config=True)

    def _spec(
        self, info: dict[str, Any]
    ) -> tuple[tuple[sandbox.ExerciseSlot, ...], dict[str, str]]:
        """Slots from the gradebook, and the trusted source of every grade cell."""
        from nbgrader.api import Gradebook

        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            solutions = {c.name for c in notebook.solution_cells}
            sources = {c.name: str(c.source) for c in notebook.source_cells}
            slots = []
            for cell in sorted(notebook.grade_cells, key=lambda c: c.name):
                exercise = cell.name.removeprefix(sandbox.TEST_PREFIX)
                answer = sandbox.ANSWER_PREFIX + exercise
                if cell.name.startswith(sandbox.TEST_PREFIX) and answer in solutions:
                    slots.append(
                        sandbox.ExerciseSlot(exercise, answer, cell.name, float(cell.max_score))
                    )
        return tuple(slots), sources

    def _copy_executed_outputs(self, nb: NotebookNode, student: str, notebook: str) -> None:
        if not self.executed_dir:
            return
        path = Path(self.executed_dir) / student / f"{notebook}.json"
        if not path.is_file():
            return
        queues: dict[str, list[Any]] = {}
        for ran in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            queues.setdefault(ran["source"], []).append(ran["outputs"])
        for cell in nb.cells:
            if cell.cell_type != "code" or not queues.get(cell.source):
                continue
            outputs = queues[cell.source].pop(0)
            if not sandbox.nbgrader_meta(cell).get("grade"):
                cell.outputs = [from_dict(o) for o in outputs]

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        assignment, notebook, student = info["assignment"], info["notebook"], info["student"]
        slots, sources = self._spec(info)
        verdicts = sandbox.grade_submission(
            slots, nb, timeout=self.timeout, memory_mb=self.memory_mb
        )
        self._copy_executed_outputs(nb, student, notebook)
        for slot, verdict in zip(slots, verdicts, strict=True):
            cell = self._test_cell(nb, slot, sources.get(slot.test_cell, ""))
            cell.outputs = [from_dict(o) for o in sandbox.verdict_outputs(verdict)]
            self.log.info(
                "%s/%s/%s %s: %g/%g (sandbox)",
                student,
                assignment,
                notebook,
                slot.exercise,
                verdict.score,
                verdict.max_score,
            )
        graded = {slot.test_cell for slot in slots}
        no_verdict = []
        for cell in nb.cells:
            gid = sandbox.nbgrader_meta(cell).get("grade_id")
            if sandbox.nbgrader_meta(cell).get("grade") and gid not in graded:
                cell.cell_type = "code"
                cell.setdefault("execution_count", None)
                cell.outputs = [from_dict(_no_verdict_output(str(gid)))]
                no_verdict.append(str(gid))
                self.log.error(
                    "%s/%s/%s %s: no verdict, scored 0", student, assignment, notebook, gid
                )
        record = {
            "student": student,
            "assignment": assignment,
            "notebook": notebook,
            "verdicts": [v.to_dict() for v in verdicts],
            "no_verdict": no_verdict,
            "sanitized": list(nb.metadata.get("npgrade", {}).get("sanitized", [])),
        }
        root = Path(CourseDirectory(config=self.config).root).resolve()
        replace_file(
            root,
            Path(VERDICTS_DIR) / assignment / student / f"{notebook}.json",
            json.dumps(record, indent=1).encode("utf-8"),
        )
        return nb, resources

    @staticmethod
    def _test_cell(nb: NotebookNode, slot: sandbox.ExerciseSlot, source: str) -> NotebookNode:
        """The submission's test cell for ``slot``, put back from the gradebook when missing."""
        meta = {
            "grade": True,
            "grade_id": slot.test_cell,
            "locked": True,
            "points": slot.points,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
        for cell in nb.cells:
            if sandbox.nbgrader_meta(cell).get("grade_id") == slot.test_cell:
                cell.cell_type = "code"
                cell.setdefault("execution_count", None)
                cell.source = source
                cell.metadata.nbgrader = from_dict(meta)
                return cell
        restored = from_dict(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {"nbgrader": meta, "deletable": False, "editable": False},
                "outputs": [],
                "source": source,
            }
        )
        at = len(nb.cells)
        for i, cell in enumerate(nb.cells):
            if sandbox.nbgrader_meta(cell).get("grade_id") == slot.answer_cell:
                at = i + 1
        nb.cells.insert(at, restored)
        return restored


# --------------------------------------------------------------------------------------
# The classroom autograde: sealed kernels for feedback, grades from the sandbox
# --------------------------------------------------------------------------------------

# course folders a snapshot covers (all students, all assignments), and course files
COURSE_FOLDERS = ("source", "release", "submitted", "autograded", "feedback", VERDICTS_DIR)
COURSE_FILES = (
    "gradebook.db",
    "gradebook.db-journal",
    "gradebook.db-wal",
    "gradebook.db-shm",
    "nbgrader_config.py",
)
STUDENT_FOLDERS = ("submitted", "autograded", "feedback")


class GradingCodeChanged(RuntimeError):
    """The grading code changed while learner code ran: no grade is recorded."""


class LinkRefused(RuntimeError):
    """A link in the instructor's part of the course: nothing is graded."""


@dataclass(frozen=True)
class Outcome:
    """One learner's result: ``graded`` (score from the gradebook) or ``manual`` (why)."""

    student: str
    status: str  # "graded" or "manual"
    score: float | None = None
    max_score: float | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AutogradeReport:
    """What :func:`autograde` did, learner by learner."""

    students: tuple[str, ...]
    kernel_failures: dict[str, str]
    restored: tuple[Path, ...]
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    isolation: str = "not run"

    @property
    def manual(self) -> dict[str, Outcome]:
        return {s: o for s, o in self.outcomes.items() if o.status != "graded"}


def _students(course: Path, assignment: str, wanted: Sequence[str] | None) -> list[str]:
    submitted = course / "submitted"
    entries = list(os.scandir(submitted)) if submitted.is_dir() else []
    found = sorted(e.name for e in entries if os.path.lexists(os.path.join(e.path, assignment)))
    return [s for s in found if wanted is None or s in wanted]


def _link_refusals(course: Path, snap: Snapshot) -> dict[str, list[str]]:
    """Links and special files by learner; raises :class:`LinkRefused` for the course's own."""
    by_student: dict[str, list[str]] = {}
    for problem in snap.links:
        rel = problem.path.relative_to(course).parts
        if rel[0] in STUDENT_FOLDERS and len(rel) >= 2:
            by_student.setdefault(rel[1], []).append(
                f"{Path(*rel)} is {problem.what}: links are refused; check the hand-in by hand"
            )
        else:
            raise LinkRefused(
                f"{problem.path} is {problem.what}. Links under the course's own folders are "
                "never followed; remove it and run again."
            )
    return by_student


def _path_with_venv() -> str:
    """PATH with this interpreter's bin directory first (nbgrader runs ``alembic`` from PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    parts = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p]
    return os.pathsep.join([bin_dir, *(p for p in parts if p != bin_dir)])


def course_api(course: Path = COURSE_DIR, **overrides: dict[str, Any]) -> Any:
    """An nbgrader ``NbGraderAPI`` for ``course`` with its nbgrader_config.py loaded.

    ``overrides`` are extra config sections, e.g. ``SandboxGrades={"executed_dir": "..."}``.
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course).resolve()
    os.environ["PATH"] = _path_with_venv()  # nbgrader's Gradebook runs `alembic heads`
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    extra = Config()
    extra.CourseDirectory.root = str(course)
    for section, values in overrides.items():
        for key, value in values.items():
            setattr(extra[section], key, value)
    cfg.merge(extra)
    return NbGraderAPI(config=cfg)


def _run_kernels(
    mode: str,
    course: Path,
    assignment: str,
    names: Sequence[str],
    snap: Snapshot,
    executed: Path,
    limits: tuple[float, float, int],
    progress: Progress,
) -> dict[str, str]:
    """Run every learner's kernels; return why runs failed.

    Sealed kernels run ``limits[2]`` learners at a time (each in a sandbox of its own);
    unsealed ones (mode ``none``) one at a time.  The reduced executed notebooks are kept
    in this process's memory and written to ``executed`` only after the last kernel ended
    (anything a kernel put there is wiped), so no kernel can change what another learner's
    feedback shows.
    """
    cell_timeout, student_timeout, jobs = limits

    def one(index: int, student: str) -> tuple[str, dict[str, dict[str, Any]], str | None]:
        folder = course / "submitted" / student / assignment
        job = kernels.KernelJob(student, kernels.job_files(snap.data, folder), index)
        try:
            got, why = kernels.run_student(mode, job, executed, cell_timeout, student_timeout)
        except Exception as exc:  # one learner's kernel never stops the class
            return student, {}, f"kernel run failed: {type(exc).__name__}: {exc}"
        return student, got, why

    failures: dict[str, str] = {}
    kept: dict[str, dict[str, dict[str, Any]]] = {}
    workers = 1 if mode == "none" else max(1, jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, i, s) for i, s in enumerate(names)]
        for future in as_completed(futures):
            student, kept[student], why = future.result()
            if why:
                failures[student] = why
            progress.step(student, "kernel run failed (grade unaffected)" if why else "kernel ran")
    for entry in list(os.scandir(executed)):
        remove_path(Path(entry.path))
    for student, notebooks in kept.items():
        for name, reduced in notebooks.items():
            replace_file(executed, Path(student) / f"{name}.json", json.dumps(reduced).encode())
    return failures


def _reason(result: dict[str, Any]) -> str:
    """The exception nbgrader met, in one line (not its "see the traceback above")."""
    text = f"{result.get('log') or ''}\n{result.get('error') or ''}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    raised = [
        ln
        for ln in lines
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Invalid\w*): ", ln)
        and "NbGraderException" not in ln
    ]
    errors = [ln for ln in lines if "[ERROR]" in ln]
    return ((raised or errors or lines or ["nbgrader failed without a message"])[-1])[:300]


def _record_notes(course: Path, assignment: str, student: str) -> list[str]:
    notes: list[str] = []
    folder = course / VERDICTS_DIR / assignment / student
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = json.loads(read_nofollow(path).decode("utf-8"))
        notes += record.get("sanitized", [])
        notes += [f"{gid}: no verdict from the grader, scored 0" for gid in record["no_verdict"]]
    return notes


def _grade_one(api: Any, course: Path, assignment: str, student: str) -> Outcome:
    try:
        shutil.rmtree(course / VERDICTS_DIR / assignment / student, ignore_errors=True)
        result = api.autograde(assignment, student, force=True, create=True)
        if not result["success"]:
            return Outcome(
                student, "manual", notes=(f"nbgrader could not grade: {_reason(result)}",)
            )
        score, max_score = totals(course, assignment, [student])[student]
        notes = _record_notes(course, assignment, student)
    except Exception as exc:  # one learner's failure never stops the class
        return Outcome(student, "manual", notes=(f"{type(exc).__name__}: {exc}"[:300],))
    no_verdict = any("no verdict" in n for n in notes)
    return Outcome(student, "manual" if no_verdict else "graded", score, max_score, tuple(notes))


def autograde(
    assignment: str,
    *,
    course: Path = COURSE_DIR,
    students: Sequence[str] | None = None,
    execute: bool = True,
    cell_timeout: float = 20,
    student_timeout: float = 300,
    code_roots: Sequence[Path] = CODE_DIRS,
    unsafe_kernels: bool = False,
    progress: Progress | None = None,
    jobs: int = KERNEL_JOBS,
) -> AutogradeReport:
    """Autograde ``assignment`` for ``students`` (default: every submission) in ``course``.

    Raises :class:`kernels.KernelsRefused` (before anything runs) when kernels cannot be
    sealed off and ``unsafe_kernels`` is false, :class:`LinkRefused` for a link in the
    course's own folders, :class:`GradingCodeChanged` when learner code changed the grader.
    Every other failure concerns one learner and is reported in ``outcomes``.
    """
    course = Path(course).resolve()
    mode = kernels.require_isolation(unsafe_kernels) if execute else "not run"
    names = _students(course, assignment, students)
    if not names:
        raise ValueError(f"no submissions of {assignment!r} under {course / 'submitted'}")
    roots = [course / f for f in COURSE_FOLDERS] + [course / f for f in COURSE_FILES]
    snap = Snapshot.take(roots, code_roots, base=course)
    refused = _link_refusals(course, snap)
    outcomes = {s: Outcome(s, "manual", notes=tuple(refused[s])) for s in names if s in refused}
    todo = [s for s in names if s not in refused]
    progress = progress or Progress(sys.stderr)
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="npgrade-executed-") as executed_tmp:
        executed = Path(executed_tmp)
        if execute:
            progress.start(f"running kernels ({kernels.describe(mode)})", len(todo))
            failures = _run_kernels(
                mode,
                course,
                assignment,
                todo,
                snap,
                executed,
                (cell_timeout, student_timeout, jobs),
                progress,
            )
        restored = snap.restore()
        changed_code = snap.code_changes() if execute else []
        if changed_code:
            raise GradingCodeChanged(
                "grading code changed while learner code ran; no grade recorded: "
                + ", ".join(str(p) for p in changed_code)
            )
        api = course_api(course, SandboxGrades={"executed_dir": str(executed)})
        progress.start("grading", len(todo))
        for student in todo:
            outcomes[student] = _grade_one(api, course, assignment, student)
            progress.step(student, outcome_text(outcomes[student]))
    ordered = {s: outcomes[s] for s in names}
    return AutogradeReport(tuple(names), failures, tuple(restored), ordered, mode)


def totals(
    course: Path, assignment: str, students: Iterable[str]
) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` of ``assignment`` from the course's gradebook."""
    from nbgrader.api import Gradebook

    db = f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"
    with Gradebook(db) as gb:
        out = {}
        for student in students:
            sub = gb.find_submission(assignment, student)
            out[student] = (float(sub.score), float(sub.max_score))
    return out


def _autograde_cli(args: argparse.Namespace) -> int:
    try:
        report = autograde(
            args.assignment,
            course=args.course,
            students=args.students,
            execute=not args.no_execute,
            cell_timeout=args.cell_timeout,
            student_timeout=args.student_timeout,
            unsafe_kernels=args.unsafe_kernels,
            progress=Progress(sys.stdout),
            jobs=args.jobs,
        )
    except (kernels.KernelsRefused, LinkRefused, GradingCodeChanged, ValueError) as exc:
        print(f"autograde: {exc}", file=sys.stderr)
        return 2
    print(f"graded {len(report.students) - len(report.manual)} submission(s) of {args.assignment}")
    for path in report.restored:
        print(f"RESTORED {path}: it changed while learner code ran")
    for outcome in report.outcomes.values():  # the stable lines scripts read: "STUDENT: X / Y"
        if outcome.status == "graded":
            print(f"{outcome.student}: {outcome.score:g} / {outcome.max_score:g}")
    print(summary_table(report.outcomes.values(), report.kernel_failures))
    return 1 if report.manual else 0


def main(argv: Sequence[str] | None = None) -> int:
    from autograder import collect, report

    parser = argparse.ArgumentParser(
        prog="python -m autograder.classroom",
        description="Collect, autograde and report on an nbgrader assignment safely.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ag = sub.add_parser("autograde", help="grade submitted/<student>/<assignment>")
    ag.add_argument("assignment")
    ag.add_argument("--course", type=Path, default=COURSE_DIR)
    ag.add_argument("--student", action="append", dest="students")
    ag.add_argument(
        "--no-execute", action="store_true", help="run no learner kernel (grades are the same)"
    )
    ag.add_argument(
        "--unsafe-kernels",
        action="store_true",
        help="run kernels as your own user where bubblewrap does not work (not sealed off)",
    )
    ag.add_argument("--cell-timeout", type=float, default=20)
    ag.add_argument("--student-timeout", type=float, default=300)
    ag.add_argument(
        "--jobs", type=int, default=KERNEL_JOBS, help="sealed kernels run at the same time"
    )
    ag.set_defaults(run=_autograde_cli)
    collect.add_parser(sub, COURSE_DIR)
    report.add_parser(sub, COURSE_DIR)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
