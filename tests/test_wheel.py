"""The built wheel works outside the checkout.

``make`` installs netpol-lab in editable mode, which hides anything the wheel forgets
(the exercise definitions, for one).  This test builds the wheel from a copy of the
checkout, installs it with its ``grading`` extra into a fresh virtual environment in a
temporary folder, and from there (cwd outside the checkout, a scrubbed environment) runs:
``npgrade list``, a grading of a right and a wrong answer, ``npcore check``, and an
nbgrader assignment build plus an autograde of the course copied next to it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.exercise import list_exercises, load_exercise

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import classroom_demo as demo  # noqa: E402

ASSIGNMENT = "ps2-three-tier"
EXERCISE = "three-tier-db"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("wheel")
    assert not base.resolve().is_relative_to(ROOT)
    wheel = demo.build_wheel(base / "dist")
    env = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    subprocess.run(
        [
            str(env / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            f"{wheel}[grading]",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    yield env


def run(
    env: Path, *argv: str, cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command of the fresh environment, outside the checkout, with a scrubbed env."""
    variables = {"PATH": f"{env / 'bin'}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(env / "bin" / argv[0]), *argv[1:]],
        cwd=cwd,
        env=variables,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_packages_come_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    proc = run(
        venv,
        "python",
        "-c",
        "import autograder, npcore, lessonkit; print(autograder.__file__, npcore.__file__)",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    for path in proc.stdout.split():
        assert Path(path).resolve().is_relative_to(venv.resolve()), path


def test_npgrade_lists_every_exercise(venv: Path, tmp_path: Path) -> None:
    proc = run(venv, "npgrade", "list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = {ln.split()[0] for ln in proc.stdout.splitlines()[1:] if ln.strip()}
    in_checkout = {e.id for e in list_exercises()}
    assert len(in_checkout) >= 19
    assert listed == in_checkout


def test_npgrade_grades_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    right = tmp_path / "right.yaml"
    right.write_text(load_exercise(EXERCISE).reference, encoding="utf-8")
    proc = run(venv, "npgrade", EXERCISE, str(right), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)
    assert result["passed"] and result["score"] == result["max_score"] > 0
    wrong = tmp_path / "wrong.yaml"
    shutil.copy(ROOT / "docs" / "examples" / "db-or-bug.yaml", wrong)
    proc = run(venv, "npgrade", EXERCISE, str(wrong), cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "shop/web -> shop/db TCP 3306: your policies allow it" in proc.stdout


def test_npcore_checks_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    for name in ("shop.yaml", "bad-policy.yaml"):
        shutil.copy(ROOT / "docs" / "examples" / name, tmp_path / name)
    assert run(venv, "npcore", "check", "shop.yaml", cwd=tmp_path).returncode == 0
    proc = run(venv, "npcore", "check", "bad-policy.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert 'unknown field "podSelecter"' in proc.stdout + proc.stderr


def test_nbgrader_builds_and_grades_an_assignment(venv: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    proc = run(venv, "nbgrader", "generate_assignment", ASSIGNMENT, cwd=course)
    assert proc.returncode == 0, proc.stderr[-3000:]
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(released.read_text(encoding="utf-8"))
    reference = load_exercise(EXERCISE).reference
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == f"answer-{EXERCISE}":
            cell["source"] = f'answer = r"""\n{reference}"""\n'
    student = course / "submitted" / "alice" / ASSIGNMENT
    student.mkdir(parents=True)
    (student / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    proc = run(
        venv,
        "python",
        "-m",
        "autograder.classroom",
        "autograde",
        ASSIGNMENT,
        "--course",
        str(course),
        "--no-execute",
        cwd=course,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    points = load_exercise(EXERCISE).max_score
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "alice")
        got = {g.name: float(g.score) for g in nb.grades}
    assert got[f"test-{EXERCISE}"] == points
