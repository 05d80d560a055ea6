"""Learner kernels for the feedback's cell outputs, sealed off from the course.

Rules of this file:

* A kernel run only ever produces feedback text: its results never reach a grade.
* :func:`isolation` says how kernels can be sealed off on this machine, best first:

  - ``"bwrap-user"`` (the instructor is root and Debian's bubblewrap works): each notebook
    runs inside ``bwrap`` with new PID, network, IPC and UTS namespaces and a file system
    that holds only read-only system folders (``/usr``, ``/etc``), the Python installation
    and the packages the self-checks import, a private ``/tmp`` and a throw-away copy of
    that learner's submission folder.  Inside, ``setpriv`` drops to an unprivileged user id
    of that learner's own (no capabilities, no supplementary groups, ``no_new_privs``).
    The course (``gradebook.db``, ``source/``, ``release/``, other learners' folders, the
    other kernels' copies) is not in the sandbox at all, and when the run ends the PID
    namespace ends with it, so nothing it started can act later;
  - ``"bwrap"`` (bubblewrap works without root, through a user namespace): the same
    sandbox, but the kernel keeps the instructor's user id outside the namespace;
  - ``"none"``: neither works.  Kernel runs are then refused unless the instructor passes
    ``--unsafe-kernels``, which runs them as the instructor's own user in a throw-away copy
    (the snapshot and restore of :mod:`autograder.snapshot` are the only protection).

* The executed notebook comes back through a folder of the sandbox: it is read without
  following links, with a size limit, parsed with the recursion limit caught, and reduced
  to ``{"cells": [{"source", "outputs"}]}`` with plain-text and PNG outputs only
  (:func:`reduce_executed`) before it is stored where no other kernel can reach it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.snapshot import read_nofollow

REPO_ROOT = Path(__file__).resolve().parent.parent
# what the self-check cells import: the packages (the exercise definitions, which the docs
# say learners may read, are package data of autograder or NETPOL_EXERCISES); never
# exercises/source, the gradebook or anything else
PACKAGE_DIRS = ("autograder", "npcore", "lessonkit")
KERNEL_UID_BASE = 1_900_000_000  # unprivileged ids with no account; one per learner of a run
MAX_EXECUTED_BYTES = 50 * 1024 * 1024
SAFE_MIME = ("text/plain", "image/png")
SANDBOX_HOME = "/home/learner"
SANDBOX_OUT = "/npgrade-out"

MODES = ("bwrap-user", "bwrap", "none")


class KernelsRefused(RuntimeError):
    """Kernel runs were asked for, but this machine cannot seal them off."""


def _bwrap_base() -> list[str]:
    return [
        "bwrap",
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    return [*args, "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]


@functools.cache
def isolation() -> str:
    """The best of :data:`MODES` that works on this machine (probed once per process)."""
    if shutil.which("bwrap") is None:
        return "none"
    probe = "/usr/bin/true"
    if os.geteuid() == 0 and shutil.which("setpriv"):
        argv = [
            *_bwrap_base(),
            *_system_binds(),
            "--",
            "setpriv",
            f"--reuid={KERNEL_UID_BASE}",
            f"--regid={KERNEL_UID_BASE}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            probe,
        ]
        if _works(argv):
            return "bwrap-user"
    if _works([*_bwrap_base(), "--unshare-user", *_system_binds(), "--", probe]):
        return "bwrap"
    return "none"


def _works(argv: list[str]) -> bool:
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def _exercises_dir() -> Path:
    from autograder.exercise import EXERCISES_DIR

    return Path(EXERCISES_DIR).resolve()


def _ancestors(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if p != Path("/")]


def _python() -> str:
    """This interpreter's path, normalised but with links kept (a venv's python is a link)."""
    return os.path.abspath(sys.executable)


def sandbox_binds() -> list[str]:
    """bwrap arguments for the interpreter and packages the kernel needs, all read-only.

    Each folder is mounted at its own path (the venv also at the path it is reached by),
    with world-readable parents, so that the unprivileged kernel user can run the
    instructor's interpreter even when it lives under a private home such as ``/root``.
    """
    mounts = {Path(sys.base_prefix).resolve(): Path(sys.base_prefix).resolve()}
    mounts[Path(sys.prefix).resolve()] = Path(os.path.abspath(sys.prefix))
    mounts[Path(_python()).resolve().parent.parent] = Path(_python()).resolve().parent.parent
    mounts.update({REPO_ROOT / d: REPO_ROOT / d for d in PACKAGE_DIRS if (REPO_ROOT / d).is_dir()})
    exercises = _exercises_dir()
    if exercises.is_dir() and not any(exercises.is_relative_to(t) for t in mounts.values()):
        mounts[exercises] = exercises
    args: list[str] = []
    made: set[Path] = set()
    for source, target in sorted(mounts.items(), key=lambda m: str(m[1])):
        if target.is_relative_to("/usr"):
            continue
        for parent in _ancestors(target):
            if parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(source), str(target)]
        made.add(target)
    return args


# The kernel driver, run with ``python -I -c`` so that it imports only nbformat and
# nbclient from the installed packages (``-I``: the learner's folder, its cwd, is not on
# sys.path, so a submitted ``nbformat.py`` cannot stand in for them).
# argv: SRC DST CELL_TIMEOUT FD.  With FD >= 0 it writes the kernel's process group id
# (jupyter_client gives the kernel a session of its own) to that pipe before any cell runs,
# so that the parent can kill the kernel when kernels are not in a PID namespace.
KERNEL_DRIVER = r"""
import os
import sys
import nbformat
from nbclient import NotebookClient

src, dst, timeout, fd = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
nb = nbformat.read(src, as_version=4)
for cell in nb.cells:
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def started(**kwargs):
    if fd >= 0:
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


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def safe_outputs(outputs: Iterable[Any]) -> list[dict[str, Any]]:
    """Plain-text streams, errors and text/PNG displays of ``outputs``; nothing else."""
    kept: list[dict[str, Any]] = []
    for out in outputs:
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream":
            # stderr would make nbgrader score a cell 0; for feedback it is plain text anyway
            kept.append({"output_type": "stream", "name": "stdout", "text": _plain(out["text"])})
        elif kind == "error":
            trace = out.get("traceback", [])
            kept.append(
                {
                    "output_type": "error",
                    "ename": _plain(out.get("ename", "")),
                    "evalue": _plain(out.get("evalue", "")),
                    "traceback": [_plain(t) for t in trace] if isinstance(trace, list) else [],
                }
            )
        elif kind in ("display_data", "execute_result") and isinstance(out.get("data"), dict):
            data = {k: _plain(v) for k, v in out["data"].items() if k in SAFE_MIME}
            if data:
                kept.append({"output_type": "display_data", "metadata": {}, "data": data})
    return kept


def reduce_executed(raw: bytes) -> dict[str, Any]:
    """The code cells of an executed notebook as ``{"cells": [{"source", "outputs"}]}``.

    Raises ``ValueError`` (with a sentence) for anything that is not a readable notebook:
    invalid JSON, JSON nested too deeply to parse, a wrong shape.
    """
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the executed notebook is not JSON ({exc})") from None
    except RecursionError:
        raise ValueError("the executed notebook is nested too deeply to read") from None
    try:
        cells = [
            {"source": _plain(c.get("source", "")), "outputs": safe_outputs(c.get("outputs", []))}
            for c in nb["cells"]
            if isinstance(c, dict) and c.get("cell_type") == "code"
        ]
    except (KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ValueError(f"the executed notebook has an unexpected shape ({exc!r})") from None
    return {"cells": cells}


@dataclass(frozen=True)
class KernelJob:
    """One learner's notebooks to run: their files (from the snapshot) and where to report."""

    student: str
    files: dict[Path, bytes]  # relative path in the submission folder -> bytes
    index: int  # position in the run: the learner's own user id is KERNEL_UID_BASE + 1 + index


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
        errors="replace",
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


def _path_with_venv() -> str:
    bin_dir = os.path.dirname(_python())
    parts = [p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p]
    return os.pathsep.join([bin_dir, *(p for p in parts if p != bin_dir)])


def _kill_kernel_group(read_fd: int) -> None:
    os.set_blocking(read_fd, False)
    try:
        text = os.read(read_fd, 64).decode("ascii", "replace").strip()
    except BlockingIOError:
        text = ""
    if text.isdigit() and int(text) > 1 and int(text) != os.getpgrp():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(text), signal.SIGKILL)


def _sandbox_argv(mode: str, uid: int, work: Path, out: Path, driver_args: list[str]) -> list[str]:
    env = {
        "HOME": SANDBOX_HOME,
        "PATH": _path_with_venv(),
        "LANG": "C.UTF-8",
        "USER": "learner",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": "/tmp",
    }
    if os.environ.get("NETPOL_EXERCISES"):
        env["NETPOL_EXERCISES"] = str(_exercises_dir())
    argv = [*_bwrap_base()]
    if mode == "bwrap":
        argv.append("--unshare-user")
    argv += [*_system_binds(), *sandbox_binds()]
    argv += ["--bind", str(work), SANDBOX_HOME, "--bind", str(out), SANDBOX_OUT]
    argv += ["--chdir", SANDBOX_HOME, "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    argv.append("--")
    if mode == "bwrap-user":
        argv += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]
    return [*argv, _python(), "-I", "-c", KERNEL_DRIVER, *driver_args]


def _run_one(
    mode: str, job: KernelJob, nb_name: str, tmp: Path, cell_timeout: float, budget: float
) -> tuple[str | None, str, Path]:
    work, out_dir = tmp / "work", tmp / "out"
    for path, content in job.files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    out_dir.mkdir()
    if mode == "none":
        (tmp / "home").mkdir()
        env = {
            "PATH": _path_with_venv(),
            "LANG": "C.UTF-8",
            "HOME": str(tmp / "home"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        read_fd, write_fd = os.pipe()
        try:
            argv = [sys.executable, "-I", "-c", KERNEL_DRIVER, nb_name]
            argv += [str(out_dir / "executed.ipynb"), str(cell_timeout), str(write_fd)]
            why, log = _run_group(argv, work, env, budget, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
            _kill_kernel_group(read_fd)
            os.close(read_fd)
        return why, log, out_dir / "executed.ipynb"
    uid = KERNEL_UID_BASE + 1 + job.index
    if mode == "bwrap-user":
        for path in [work, out_dir, *work.rglob("*")]:
            os.chown(path, uid, uid, follow_symlinks=False)
    driver = [nb_name, f"{SANDBOX_OUT}/executed.ipynb", str(cell_timeout), "-1"]
    argv = _sandbox_argv(mode, uid, work, out_dir, driver)
    why, log = _run_group(argv, tmp, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, budget)
    return why, log, out_dir / "executed.ipynb"


def run_student(
    mode: str,
    job: KernelJob,
    executed: Path,
    cell_timeout: float,
    student_timeout: float,
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Run every top-level notebook of ``job``, each in a sandbox of its own.

    Returns ``({notebook name: reduced executed notebook}, None or why a run failed)``; the
    reduced notebooks are also written to ``executed/STUDENT/NOTEBOOK.json``.
    """
    deadline = time.monotonic() + student_timeout
    problems: list[str] = []
    results: dict[str, dict[str, Any]] = {}
    for nb_rel in sorted(p for p in job.files if p.suffix == ".ipynb" and len(p.parts) == 1):
        with tempfile.TemporaryDirectory(prefix="npgrade-kernel-") as tmp:
            why, log, out = _run_one(
                mode, job, nb_rel.name, Path(tmp), cell_timeout, deadline - time.monotonic()
            )
            if why:
                stopped = [ln for ln in log.splitlines() if ln.startswith("kernel run stopped")]
                problems.append(f"{nb_rel.name}: {(stopped or [why])[-1]}")
            try:
                reduced = reduce_executed(read_nofollow(out, MAX_EXECUTED_BYTES))
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                problems.append(f"{nb_rel.name}: outputs not used: {exc}")
                continue
        results[nb_rel.stem] = reduced
        target = executed / job.student / f"{nb_rel.stem}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(reduced), encoding="utf-8")
    return results, "; ".join(problems) or None


def require_isolation(unsafe: bool) -> str:
    """The mode to run kernels in; raises :class:`KernelsRefused` when none is safe."""
    mode = isolation()
    if mode == "none" and not unsafe:
        raise KernelsRefused(
            "learner kernels cannot be sealed off on this machine (bubblewrap does not work "
            "here); grade with --no-execute, or pass --unsafe-kernels to run them as your own "
            "user (see docs/nbgrader.md, 'Limits')"
        )
    return mode


def describe(mode: str) -> str:
    """One sentence on what ``mode`` guarantees, for the command's output."""
    return {
        "bwrap-user": "each kernel in bubblewrap, as an unprivileged user of its own",
        "bwrap": "each kernel in bubblewrap (user namespace, your user id outside it)",
        "none": "UNSAFE: kernels as your own user, protected only by snapshot and restore",
    }[mode]


def job_files(files: dict[Path, bytes], folder: Path) -> dict[Path, bytes]:
    """The snapshotted files under ``folder``, keyed by their path relative to it."""
    return {p.relative_to(folder): b for p, b in files.items() if p.is_relative_to(folder)}


__all__: Sequence[str] = (
    "MODES",
    "KernelJob",
    "KernelsRefused",
    "describe",
    "isolation",
    "job_files",
    "reduce_executed",
    "require_isolation",
    "run_student",
    "safe_outputs",
)
