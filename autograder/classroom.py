"""nbgrader integration: the sandboxed score replaces whatever the learner's kernel said.

Rules of this file:

* :class:`SandboxGrades` is an nbgrader preprocessor, registered in
  ``exercises/nbgrader_config.py`` in place of ``Execute``: plain ``nbgrader autograde``
  runs NO learner code.  For each test cell of the trusted SOURCE notebook it grades the
  submitted answer cell with :mod:`autograder.sandbox` (a child process with limits) and
  writes the verdict as the test cell's outputs, from which nbgrader's own
  ``SaveAutoGrades`` stores exactly the sandbox's score in the gradebook and
  ``generate_feedback`` shows the sandbox's sentences.
* :func:`autograde` (``python -m autograder.classroom autograde ASSIGNMENT``) adds the
  learners' own cell outputs to the feedback.  In this order:

  1. snapshot every submitted notebook, the gradebook, the source notebooks and the grading
     code (bytes and hashes) BEFORE any learner code runs;
  2. run each notebook of each student in a kernel (nbclient, per-cell timeout; a timeout
     ends that notebook's run) inside a throw-away copy of the student's folder, one
     driver process per notebook in its own session with a scrubbed environment and a
     per-student wall-clock limit; the driver's and the kernel's process groups are killed
     afterwards; nothing the kernel writes is trusted;
  3. restore every snapshotted data file that changed while learner code ran (and say
     which); refuse to record grades if the grading code itself changed;
  4. run nbgrader's autograde in the real course, in this process (with
     :class:`SandboxGrades`, so no learner code), copying only the kernel's plain-text
     and image outputs of non-test cells from step 2 into the autograded notebooks.

  Grades are therefore written only by the instructor's process, after every learner
  kernel has ended, from submissions that no learner kernel could have changed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer, Unicode

from autograder import sandbox

REPO_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR = REPO_ROOT / "exercises"
CODE_DIRS = (REPO_ROOT / "autograder", REPO_ROOT / "npcore")  # exercise defs: autograder/exercises

# Output types copied from a learner's kernel into the feedback notebook: plain text and
# images only (no HTML or JavaScript from learner code reaches the instructor's browser).
SAFE_MIME = ("text/plain", "image/png")


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _safe_outputs(outputs: Iterable[Any]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            # stderr would make nbgrader score a cell 0; for feedback it is plain text anyway
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            kept.append({"output_type": "stream", "name": "stdout", "text": text})
        elif kind == "error":
            kept.append(
                {
                    "output_type": "error",
                    "ename": str(out.get("ename", "")),
                    "evalue": str(out.get("evalue", "")),
                    "traceback": [str(t) for t in out.get("traceback", [])],
                }
            )
        elif kind in ("display_data", "execute_result"):
            data = {
                k: "".join(v) if isinstance(v, list) else str(v)
                for k, v in out.get("data", {}).items()
                if k in SAFE_MIME
            }
            if data:
                kept.append({"output_type": "display_data", "metadata": {}, "data": data})
    return kept


class SandboxGrades(NbGraderPreprocessor):
    """Replace every test cell's outputs with the sandbox's verdict on its answer cell."""

    timeout = Float(sandbox.DEFAULT_TIMEOUT, help="seconds to grade one notebook").tag(config=True)
    memory_mb = Integer(sandbox.DEFAULT_MEMORY_MB, help="address-space limit (MB)").tag(config=True)
    executed_dir = Unicode(
        "",
        help="directory of kernel-executed notebooks STUDENT/ASSIGNMENT/NOTEBOOK.ipynb whose "
        "text and image outputs of non-test cells are copied into the feedback",
    ).tag(config=True)

    def _source_notebook(self, assignment: str, notebook: str) -> Any:
        coursedir = CourseDirectory(config=self.config)
        src = coursedir.format_path(coursedir.source_directory, ".", assignment)
        return _load_json(Path(src) / f"{notebook}.ipynb")

    def _copy_executed_outputs(
        self, nb: NotebookNode, student: str, assignment: str, notebook: str, test_ids: set[str]
    ) -> None:
        if not self.executed_dir:
            return
        path = Path(self.executed_dir) / student / assignment / f"{notebook}.ipynb"
        if not path.is_file():
            return
        try:
            executed = _load_json(path)["cells"]
            queues: dict[str, list[Any]] = {}
            for ran in executed:
                if isinstance(ran, dict) and ran.get("cell_type") == "code":
                    queues.setdefault(sandbox.source_text(ran), []).append(ran.get("outputs", []))
            for cell in nb.cells:
                if cell.cell_type != "code" or not queues.get(cell.source):
                    continue
                outputs = queues[cell.source].pop(0)
                if sandbox.nbgrader_meta(cell).get("grade_id") not in test_ids:
                    cell.outputs = [from_dict(o) for o in _safe_outputs(outputs)]
        except (ValueError, KeyError, TypeError, AttributeError):
            self.log.warning("cannot read the executed copy %s; outputs not copied", path)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        assignment, notebook, student = info["assignment"], info["notebook"], info["student"]
        source = self._source_notebook(assignment, notebook)
        spec = sandbox.read_spec(source)
        verdicts = sandbox.grade_submission(
            spec, nb, timeout=self.timeout, memory_mb=self.memory_mb
        )
        test_ids = {slot.test_cell for slot in spec}
        self._copy_executed_outputs(nb, student, assignment, notebook, test_ids)
        source_cells = {
            sandbox.nbgrader_meta(c).get("grade_id"): c for c in source.get("cells", [])
        }
        for slot, verdict in zip(spec, verdicts, strict=True):
            cell = self._test_cell(nb, slot, source_cells)
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
        return nb, resources

    @staticmethod
    def _test_cell(
        nb: NotebookNode, slot: sandbox.ExerciseSlot, source_cells: dict[Any, Any]
    ) -> NotebookNode:
        """The submission's test cell for ``slot``, restored from the source when missing."""
        trusted = source_cells[slot.test_cell]
        for cell in nb.cells:
            if sandbox.nbgrader_meta(cell).get("grade_id") == slot.test_cell:
                cell.cell_type = "code"
                cell.setdefault("execution_count", None)
                cell.source = sandbox.source_text(trusted)
                cell.metadata.nbgrader = from_dict(copy.deepcopy(trusted["metadata"]["nbgrader"]))
                return cell
        restored = from_dict(copy.deepcopy(dict(trusted)))
        restored.outputs = []
        restored.execution_count = None
        restored.pop("id", None)
        at = len(nb.cells)
        for i, cell in enumerate(nb.cells):
            if sandbox.nbgrader_meta(cell).get("grade_id") == slot.answer_cell:
                at = i + 1
        nb.cells.insert(at, restored)
        return restored


# --------------------------------------------------------------------------------------
# The classroom autograde: kernels in throw-away copies, grades from the sandbox
# --------------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    )


@dataclass
class Snapshot:
    """Bytes of the files learner code must not be able to change, taken before it runs."""

    data: dict[Path, bytes] = field(default_factory=dict)
    data_roots: tuple[Path, ...] = ()
    code: dict[Path, str] = field(default_factory=dict)
    code_roots: tuple[Path, ...] = ()

    @classmethod
    def take(cls, data_roots: Iterable[Path], code_roots: Iterable[Path]) -> Snapshot:
        """Snapshot files under ``data_roots`` (restorable) and hash ``code_roots``.

        A data root may be a file that does not exist yet (``gradebook.db-journal``): if it
        appears, :meth:`restore` deletes it (a planted SQLite journal would roll the
        gradebook back to the planter's content).
        """
        snap = cls(data_roots=tuple(data_roots), code_roots=tuple(code_roots))
        for root in snap.data_roots:
            for path in _files(root):
                snap.data[path] = path.read_bytes()
        for root in snap.code_roots:
            for path in _files(root):
                snap.code[path] = _digest(path)
        return snap

    def restore(self) -> list[Path]:
        """Put back every snapshotted data file that changed or vanished; return them."""
        changed = []
        for root in self.data_roots:
            for path in _files(root):
                if path not in self.data:
                    path.unlink()
                    changed.append(path)
        for path, content in self.data.items():
            if not path.is_file() or path.read_bytes() != content:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                changed.append(path)
        return changed

    def code_changes(self) -> list[Path]:
        now = {p: _digest(p) for root in self.code_roots for p in _files(root)}
        return sorted(p for p in set(now) | set(self.code) if now.get(p) != self.code.get(p))


@dataclass(frozen=True)
class AutogradeReport:
    """What :func:`autograde` did: students graded, kernel runs that failed, files restored."""

    students: tuple[str, ...]
    kernel_failures: dict[str, str]
    restored: tuple[Path, ...]


def _students(course: Path, assignment: str, wanted: Sequence[str] | None) -> list[str]:
    submitted = course / "submitted"
    found = (
        sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())
        if submitted.is_dir()
        else []
    )
    return [s for s in found if wanted is None or s in wanted]


def _path_with_venv() -> str:
    """PATH with this interpreter's bin directory first (nbgrader runs ``alembic`` from PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    parts = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p]
    return os.pathsep.join([bin_dir, *(p for p in parts if p != bin_dir)])


def _scrubbed_env(home: Path) -> dict[str, str]:
    return {
        "PATH": _path_with_venv(),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _run_group(
    argv: list[str], cwd: Path, env: dict[str, str], timeout: float, pass_fds: tuple[int, ...] = ()
) -> tuple[str | None, str]:
    """Run ``argv`` in its own session and kill the whole group afterwards.

    Returns ``(None if it worked, else why; its output)``.
    """
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        pass_fds=pass_fds,
    )
    out = ""
    try:
        out, _ = proc.communicate(timeout=max(timeout, 1))
        failed = None if proc.returncode == 0 else f"exit {proc.returncode}: {out[-2000:]}"
    except subprocess.TimeoutExpired:
        failed = f"killed after {timeout:g} s"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        rest, _ = proc.communicate()
        out += rest or ""
    return failed, out


# The kernel driver of step 2, run with ``python -I -c`` so that it imports only nbformat
# and nbclient from the installed packages (``-I``: the learner's folder, its cwd, is not on
# sys.path, so a submitted ``nbformat.py`` cannot stand in for them).
# argv: SRC DST CELL_TIMEOUT FD.  Before any cell runs it writes the kernel's
# process group id (jupyter_client gives the kernel a session of its own) to the pipe FD,
# which the kernel does not inherit, so that the parent can kill the kernel even when it
# had to kill the driver, and learner code cannot name another process group instead.
KERNEL_DRIVER = r"""
import sys
import nbformat
from nbclient import NotebookClient

import os
src, dst, timeout, fd = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
nb = nbformat.read(src, as_version=4)
for cell in nb.cells:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def started(**kwargs):
    os.write(fd, b"%d" % client.km.provisioner.pgid)
    os.close(fd)


class TimedOut(Exception):
    pass


def executed(cell, execute_reply, **kwargs):
    # as nbgrader's Execute: record an error reply (a timeout) that left no error output,
    # then stop: a kernel that did not answer in time is not trusted with the next cells
    content = execute_reply["content"]
    if content["status"] == "error" and not any(
        o.output_type == "error" for o in cell.outputs
    ):
        cell.outputs.append(nbformat.v4.new_output(
            "error", ename=content["ename"], evalue=content["evalue"],
            traceback=content["traceback"]))
    if content.get("ename") == "CellTimeoutError":
        raise TimedOut("a cell ran longer than %g s" % timeout)


client = NotebookClient(
    nb, timeout=int(timeout), kernel_name="python3", allow_errors=True,
    interrupt_on_timeout=True, record_timing=False, on_notebook_start=started,
    on_cell_executed=executed,
    error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                      "traceback": ["CellTimeoutError: no reply in %g s" % timeout]},
    resources={"metadata": {"path": "."}},
)
code = 0
try:
    client.execute()
except Exception as exc:
    code = 3
    print("kernel run stopped: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
nbformat.write(nb, dst)
sys.exit(code)
"""


def _kill_kernel_group(read_fd: int) -> None:
    os.set_blocking(read_fd, False)
    try:
        text = os.read(read_fd, 64).decode("ascii", "replace").strip()
    except BlockingIOError:
        text = ""
    if text.isdigit() and int(text) > 1 and int(text) != os.getpgrp():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(text), signal.SIGKILL)


def _execute_student(
    course: Path,
    assignment: str,
    student: str,
    snap: Snapshot,
    executed: Path,
    cell_timeout: float,
    student_timeout: float,
) -> str | None:
    """Run one student's notebooks, each in its own session and throw-away directory."""
    sub_root = course / "submitted" / student / assignment
    files = {p: b for p, b in snap.data.items() if p.is_relative_to(sub_root)}
    deadline = time.monotonic() + student_timeout
    problems = []
    for nb_path in sorted(p for p in files if p.suffix == ".ipynb" and p.parent == sub_root):
        with tempfile.TemporaryDirectory(prefix="npgrade-kernel-") as tmp:
            work = Path(tmp) / "work"
            for path, content in files.items():
                target = work / path.relative_to(sub_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            (Path(tmp) / "home").mkdir()
            out = Path(tmp) / "executed.ipynb"
            read_fd, write_fd = os.pipe()
            try:
                why, log = _run_group(
                    [
                        sys.executable,
                        "-I",
                        "-c",
                        KERNEL_DRIVER,
                        nb_path.name,
                        str(out),
                        str(cell_timeout),
                        str(write_fd),
                    ],
                    work,
                    _scrubbed_env(Path(tmp) / "home"),
                    deadline - time.monotonic(),
                    pass_fds=(write_fd,),
                )
            finally:
                os.close(write_fd)
                _kill_kernel_group(read_fd)
                os.close(read_fd)
            if why:
                stopped = [ln for ln in log.splitlines() if ln.startswith("kernel run stopped")]
                problems.append(f"{nb_path.name}: {(stopped or [why])[-1]}")
            if out.is_file():
                target = executed / student / assignment / nb_path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(out, target)
    return "; ".join(problems) or None


class GradingCodeChanged(RuntimeError):
    """The grading code changed while learner code ran: no grade is recorded."""


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


def autograde(
    assignment: str,
    *,
    course: Path = COURSE_DIR,
    students: Sequence[str] | None = None,
    execute: bool = True,
    cell_timeout: float = 20,
    student_timeout: float = 300,
    code_roots: Sequence[Path] = CODE_DIRS,
) -> AutogradeReport:
    """Autograde ``assignment`` for ``students`` (default: every submission) in ``course``."""
    course = Path(course).resolve()
    names = _students(course, assignment, students)
    if not names:
        raise ValueError(f"no submissions of {assignment!r} under {course / 'submitted'}")
    snap = Snapshot.take(
        [course / "gradebook.db", course / "source" / assignment, course / "nbgrader_config.py"]
        + [course / f"gradebook.db{suffix}" for suffix in ("-journal", "-wal", "-shm")]
        + [course / "submitted" / s / assignment for s in names],
        code_roots,
    )
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="npgrade-executed-") as executed_tmp:
        executed = Path(executed_tmp)
        if execute:
            for student in names:
                why = _execute_student(
                    course, assignment, student, snap, executed, cell_timeout, student_timeout
                )
                if why:
                    failures[student] = why
        restored = snap.restore()
        changed_code = snap.code_changes() if execute else []
        if changed_code:
            raise GradingCodeChanged(
                "grading code changed while learner code ran; no grade recorded: "
                + ", ".join(str(p) for p in changed_code)
            )
        api = course_api(course, SandboxGrades={"executed_dir": str(executed)})
        for student in names:
            result = api.autograde(assignment, student, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(
                    f"nbgrader autograde failed for {student}:\n{result.get('log', '')}"
                    f"\n{result.get('error', '')}"
                )
    return AutogradeReport(tuple(names), failures, tuple(restored))


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.classroom",
        description="Autograde an nbgrader assignment with the sandboxed grader.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ag = sub.add_parser("autograde", help="grade submitted/<student>/<assignment>")
    ag.add_argument("assignment")
    ag.add_argument("--course", type=Path, default=COURSE_DIR)
    ag.add_argument("--student", action="append", dest="students")
    ag.add_argument(
        "--no-execute",
        action="store_true",
        help="do not run learner kernels at all (grades are the same)",
    )
    ag.add_argument("--cell-timeout", type=float, default=20)
    ag.add_argument("--student-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    report = autograde(
        args.assignment,
        course=args.course,
        students=args.students,
        execute=not args.no_execute,
        cell_timeout=args.cell_timeout,
        student_timeout=args.student_timeout,
    )
    print(f"graded {len(report.students)} submission(s) of {args.assignment}")
    for student, why in sorted(report.kernel_failures.items()):
        print(f"kernel run of {student} failed (grade unaffected): {why.splitlines()[0]}")
    for path in report.restored:
        print(f"RESTORED {path}: it changed while learner code ran")
    for student, (score, max_score) in sorted(
        totals(args.course, args.assignment, report.students).items()
    ):
        print(f"{student}: {score:g} / {max_score:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
