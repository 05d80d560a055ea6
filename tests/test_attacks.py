"""Nobody gets points they did not earn, and nobody loses points to someone else.

Each attacker submits the SAME honest but partial answer (``PARTIAL``) plus one attack, so
the rule "the attacker earns no more than the honest answer in the same submission" is the
assertion ``score == grade(PARTIAL)``.  Two honest students (``henry`` with the same
partial answer, ``zoe`` with a full-marks answer) are graded in the same run; their scores
must be exactly what the grader gives their answers.  Every run is the documented
``autograder.classroom.autograde`` with learner kernels executed (docs/nbgrader.md).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_nbgrader_pipeline import (
    ASSIGNMENT,
    EXERCISE,
    PARTIAL,
    REFERENCE,
    TEST_CELL,
    add_cell,
    delete_cell,
    feedback_text,
    make_course,
    scores,
    set_answer,
    submit,
)

from autograder import classroom
from autograder.grade import grade

HONEST = float(grade(EXERCISE, PARTIAL).score)
FULL = float(grade(EXERCISE, REFERENCE).score)
ANSWER = f"answer-{EXERCISE}"

PATCH_CHECKS = """\
import autograder.checks, autograder.grade, npcore

class Full:
    passed, score, max_score, feedback = True, 6.0, 6.0, ["all good"]

autograder.checks.check = lambda *a, **k: Full()
autograder.grade.grade = lambda *a, **k: Full()
npcore.is_allowed = lambda *a, **k: None
check = autograder.checks.check
print("PASSED: three-tier-db: 6 / 6 points")
6.0
"""

READ_HIDDEN = """\
import yaml
from autograder.exercise import EXERCISES_DIR
hidden = yaml.safe_load((EXERCISES_DIR / "three-tier-db.yaml").read_text())
print("LEAKED REFERENCE:", hidden["reference"])
answer = hidden["reference"]
"""

COMPUTED_ANSWER = """\
from autograder.exercise import load_exercise
answer = load_exercise("three-tier-db").reference
"""

IGNORE_SIGINT_LOOP = """\
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
"""

GRADEBOOK_WRITE = """\
import sqlite3
db = sqlite3.connect({gradebook!r})
mine = ("SELECT sn.id FROM submitted_notebook sn JOIN submitted_assignment sa "
        "ON sn.assignment_id = sa.id WHERE sa.student_id = 'mallory-gradebook'")
db.execute("UPDATE grade SET manual_score = 0, extra_credit = -5 "
           f"WHERE notebook_id NOT IN ({{mine}})")
db.execute(f"UPDATE grade SET manual_score = 6, extra_credit = 100 WHERE notebook_id IN ({{mine}})")
db.commit()
print("gradebook rewritten")
"""

OTHER_LEARNER = """\
import json, pathlib
victim = pathlib.Path({victim!r})
nb = json.loads(victim.read_text())
for cell in nb["cells"]:
    if cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "answer-three-tier-db":
        cell["source"] = 'answer = r\"\"\"\\n# nothing\\n\"\"\"'
victim.write_text(json.dumps(nb))
(victim.parent / "extra.ipynb").write_text(json.dumps(nb))
print("victim edited")
"""

CODE_TAMPER = """\
import pathlib
target = pathlib.Path({target!r})
target.write_text(target.read_text() + "\\n# tampered\\n")
"""


def _partial(nb: dict[str, Any]) -> None:
    set_answer(nb, EXERCISE, PARTIAL)


def _with(*steps: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(nb: dict[str, Any]) -> None:
        for step in steps:
            step(nb)

    return edit


def _answer_cell_extra(code: str) -> Callable[[dict[str, Any]], None]:
    def edit(nb: dict[str, Any]) -> None:
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER:
                cell["source"] += code

    return edit


def _edit_test_cell(nb: dict[str, Any]) -> None:
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == TEST_CELL:
            cell["source"] = "print('all tests passed')"
            cell["metadata"]["nbgrader"]["points"] = 100


def _replace_answer(code: str) -> Callable[[dict[str, Any]], None]:
    def edit(nb: dict[str, Any]) -> None:
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER:
                cell["source"] = code

    return edit


def attackers(course: Path) -> dict[str, tuple[Callable[[dict[str, Any]], None], float]]:
    """student -> (edit of the released notebook, the honest score of its answer)."""
    victim = course / "submitted" / "zoe" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return {
        "mallory-patch-in-answer-cell": (
            _with(_partial, _answer_cell_extra("\ncheck = lambda *a, **k: None\n")),
            HONEST,
        ),
        "mallory-patch-in-added-cell": (
            _with(_partial, lambda nb: add_cell(nb, PATCH_CHECKS, after=ANSWER)),
            HONEST,
        ),
        "mallory-edited-test-cell": (_with(_partial, _edit_test_cell), HONEST),
        "mallory-deleted-test-cell": (
            _with(_partial, lambda nb: delete_cell(nb, TEST_CELL)),
            HONEST,
        ),
        "mallory-reads-hidden-reference": (
            _with(_partial, lambda nb: add_cell(nb, READ_HIDDEN, after=ANSWER)),
            HONEST,
        ),
        "mallory-computed-answer": (_replace_answer(COMPUTED_ANSWER), 0.0),
        "mallory-endless-cell": (
            _with(_partial, lambda nb: add_cell(nb, IGNORE_SIGINT_LOOP, after=ANSWER)),
            HONEST,
        ),
        "mallory-os-exit": (
            _with(_partial, lambda nb: add_cell(nb, "import os\nos._exit(0)", after=ANSWER)),
            HONEST,
        ),
        "mallory-sigkill": (
            _with(
                _partial,
                lambda nb: add_cell(
                    nb, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", after=ANSWER
                ),
            ),
            HONEST,
        ),
        "mallory-gradebook": (
            _with(
                _partial,
                lambda nb: add_cell(
                    nb, GRADEBOOK_WRITE.format(gradebook=str(course / "gradebook.db")), after=ANSWER
                ),
            ),
            HONEST,
        ),
        "mallory-shadow-module": (
            _with(_partial, lambda nb: add_cell(nb, "print('the kernel ran')", after=ANSWER)),
            HONEST,
        ),
        "mallory-other-learner": (
            _with(
                _partial,
                lambda nb: add_cell(nb, OTHER_LEARNER.format(victim=str(victim)), after=ANSWER),
            ),
            HONEST,
        ),
    }


HONEST_STUDENTS = {
    "henry": (_partial, HONEST),
    "zoe": (lambda nb: set_answer(nb, EXERCISE, REFERENCE), FULL),
}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, float]]:
    course = make_course(tmp_path_factory.mktemp("attacks"))
    everyone = {**attackers(course), **HONEST_STUDENTS}
    for student, (edit, _) in everyone.items():
        submit(course, student, edit)
    # files next to the notebook are copied into the kernel's folder: this one would replace
    # nbformat in the kernel driver if the driver put its cwd on sys.path
    shadow = course / "submitted" / "mallory-shadow-module" / ASSIGNMENT / "nbformat.py"
    shadow.write_text("raise SystemExit('shadowed nbformat')\n", encoding="utf-8")
    report = classroom.autograde(
        ASSIGNMENT, course=course, cell_timeout=10, student_timeout=120, code_roots=()
    )
    result = classroom.course_api(course).generate_feedback(ASSIGNMENT)
    assert result["success"], result.get("error")
    expected = {student: honest for student, (_, honest) in everyone.items()}
    return course, report, expected


ATTACKERS = sorted(attackers(Path("/nonexistent")))


@pytest.mark.parametrize("student", ATTACKERS)
def test_attacker_earns_exactly_the_honest_score(
    attacked: tuple[Path, Any, dict[str, float]], student: str
) -> None:
    course, _, expected = attacked
    got = scores(course, student)
    assert got[TEST_CELL] == expected[student]
    assert sum(got.values()) <= expected[student]


@pytest.mark.parametrize("student", sorted(HONEST_STUDENTS))
def test_honest_students_graded_in_the_same_run_keep_their_score(
    attacked: tuple[Path, Any, dict[str, float]], student: str
) -> None:
    course, _, expected = attacked
    assert scores(course, student)[TEST_CELL] == expected[student]
    assert expected["zoe"] == FULL > HONEST > 0


def test_no_manual_scores_or_extra_credit_smuggled_in(
    attacked: tuple[Path, Any, dict[str, float]],
) -> None:
    course, _, _ = attacked
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute(
            "SELECT count(*) FROM grade WHERE manual_score IS NOT NULL OR extra_credit IS NOT NULL"
        ).fetchone()
    assert rows == (0,)


def test_kernel_failures_are_reported_not_fatal(
    attacked: tuple[Path, classroom.AutogradeReport, dict[str, float]],
) -> None:
    """An endless cell or a dead kernel ends that learner's kernel run, nobody else's."""
    course, report, _ = attacked
    assert set(report.students) == set(ATTACKERS) | set(HONEST_STUDENTS)
    assert set(report.kernel_failures) <= set(ATTACKERS), report.kernel_failures
    for student in ("mallory-endless-cell", "mallory-os-exit", "mallory-sigkill"):
        assert student in report.kernel_failures, report.kernel_failures
    assert "TimedOut" in report.kernel_failures["mallory-endless-cell"]
    assert "DeadKernelError" in report.kernel_failures["mallory-sigkill"]
    assert "CellTimeoutError" in feedback_text(course, "mallory-endless-cell")


def test_learner_kernels_cannot_reach_the_course(
    attacked: tuple[Path, classroom.AutogradeReport, dict[str, float]],
) -> None:
    """Sealed kernels (bubblewrap): the victim's folder and the gradebook are not there."""
    course, report, _ = attacked
    assert report.isolation == "bwrap-user"  # root in CI: bubblewrap plus a user of its own
    assert report.restored == ()  # nothing to restore: no kernel could change anything
    victim_dir = course / "submitted" / "zoe" / ASSIGNMENT
    assert not (victim_dir / "extra.ipynb").exists()
    nb = json.loads((victim_dir / f"{ASSIGNMENT}.ipynb").read_text("utf-8"))
    answer = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER]
    assert "# nothing" not in "".join(answer[0]["source"])
    for student in ("mallory-other-learner", "mallory-gradebook"):
        shown = json.dumps(kernel_outputs(course, student))
        assert "victim edited" not in shown and "gradebook rewritten" not in shown
        assert "FileNotFoundError" in shown or "OperationalError" in shown


def kernel_outputs(course: Path, student: str) -> list[Any]:
    """The outputs of the non-grade cells of ``student``'s autograded notebook."""
    path = course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(path.read_text("utf-8"))
    return [
        c["outputs"]
        for c in nb["cells"]
        if c["cell_type"] == "code" and not c["metadata"].get("nbgrader", {}).get("grade")
    ]


def test_hidden_reference_is_not_in_release_and_printing_it_earns_nothing(
    attacked: tuple[Path, Any, dict[str, float]],
) -> None:
    course, _, _ = attacked
    release = (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    assert "matchLabels: {name: api-pod}" not in release
    text = feedback_text(course, "mallory-reads-hidden-reference")
    assert "LEAKED REFERENCE:" in text  # the kernel did read and print it...
    assert scores(course, "mallory-reads-hidden-reference")[TEST_CELL] == HONEST  # ...for nothing
    assert "must be a plain string literal" in feedback_text(course, "mallory-computed-answer")


def test_forged_pass_output_does_not_reach_the_test_cell(
    attacked: tuple[Path, Any, dict[str, float]],
) -> None:
    course, _, _ = attacked
    nb = json.loads(
        (
            course
            / "autograded"
            / "mallory-patch-in-added-cell"
            / ASSIGNMENT
            / f"{ASSIGNMENT}.ipynb"
        ).read_text("utf-8")
    )
    (test,) = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == TEST_CELL
    ]
    shown = json.dumps(test["outputs"])
    assert "NOT PASSED: three-tier-db" in shown and "sandboxed grader" in shown
    assert "all good" not in shown


def test_deleted_and_edited_test_cells_are_restored(
    attacked: tuple[Path, Any, dict[str, float]],
) -> None:
    course, _, _ = attacked
    for student in ("mallory-deleted-test-cell", "mallory-edited-test-cell"):
        nb = json.loads(
            (course / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        )
        (test,) = [
            c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == TEST_CELL
        ]
        assert "check('three-tier-db', answer)" in "".join(test["source"])
        assert test["metadata"]["nbgrader"]["points"] == FULL


@pytest.fixture
def unsealed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where bubblewrap does not work: only --unsafe-kernels runs kernels."""
    monkeypatch.setattr(classroom.kernels, "isolation", lambda: "none")


def test_kernels_are_refused_where_they_cannot_be_sealed_off(
    attacked: tuple[Path, Any, dict[str, float]],
    unsealed: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    course, _, expected = attacked
    before = {s: scores(course, s) for s in expected}
    with pytest.raises(classroom.kernels.KernelsRefused, match="--unsafe-kernels"):
        classroom.autograde(ASSIGNMENT, course=course, students=["henry"], code_roots=())
    assert classroom.main(["autograde", ASSIGNMENT, "--course", str(course)]) == 2
    assert "cannot be sealed off" in capsys.readouterr().err
    assert {s: scores(course, s) for s in expected} == before


def test_unsafe_kernels_regrading_an_attacker_alone_leaves_earlier_grades_alone(
    attacked: tuple[Path, Any, dict[str, float]], unsealed: None
) -> None:
    """Without a sandbox, mallory rewrites the gradebook while regraded alone: restored."""
    course, _, expected = attacked
    before = {s: scores(course, s) for s in expected}
    report = classroom.autograde(
        ASSIGNMENT,
        course=course,
        students=["mallory-gradebook"],
        cell_timeout=10,
        student_timeout=120,
        code_roots=(),
        unsafe_kernels=True,
    )
    assert report.isolation == "none"
    assert course / "gradebook.db" in report.restored
    assert {s: scores(course, s) for s in expected} == before


def test_changed_grading_code_stops_the_recording(
    attacked: tuple[Path, Any, dict[str, float]], tmp_path: Path, unsealed: None
) -> None:
    course, _, expected = attacked
    code = tmp_path / "grading-code"
    code.mkdir()
    (code / "grade.py").write_text("def grade(): ...\n", encoding="utf-8")
    student = "mallory-code-tamper"
    submit(
        course,
        student,
        _with(
            _partial,
            lambda nb: add_cell(
                nb, CODE_TAMPER.format(target=str(code / "grade.py")), after=ANSWER
            ),
        ),
    )
    before = {s: scores(course, s) for s in expected}
    with pytest.raises(classroom.GradingCodeChanged, match=r"grade\.py"):
        classroom.autograde(
            ASSIGNMENT,
            course=course,
            students=[student],
            cell_timeout=10,
            student_timeout=120,
            code_roots=(code,),
            unsafe_kernels=True,
        )
    assert {s: scores(course, s) for s in expected} == before


def test_a_submitted_module_cannot_replace_the_kernel_driver(
    attacked: tuple[Path, classroom.AutogradeReport, dict[str, float]],
) -> None:
    course, report, _ = attacked
    assert "mallory-shadow-module" not in report.kernel_failures
    assert "the kernel ran" in feedback_text(course, "mallory-shadow-module")


def test_snapshot_restores_changed_files_and_deletes_planted_ones(tmp_path: Path) -> None:
    """The tripwire alone: a planted SQLite journal would roll the gradebook to its content."""
    db, journal = tmp_path / "gradebook.db", tmp_path / "gradebook.db-journal"
    folder, code = tmp_path / "submitted", tmp_path / "code"
    db.write_bytes(b"grades")
    (folder / "zoe").mkdir(parents=True)
    (folder / "zoe" / "nb.ipynb").write_text("zoe's answer")
    code.mkdir()
    (code / "grade.py").write_text("def grade(): ...\n")
    snap = classroom.Snapshot.take([db, journal, folder], [code])
    assert snap.restore() == [] and snap.code_changes() == []

    db.write_bytes(b"forged")
    journal.write_bytes(b"hot journal")
    (folder / "zoe" / "nb.ipynb").unlink()
    (folder / "zoe" / "planted.ipynb").write_text("x")
    (code / "grade.py").write_text("def grade(): return 'full marks'\n")
    (code / "new.py").write_text("")

    assert sorted(snap.restore()) == sorted(
        [db, journal, folder / "zoe" / "nb.ipynb", folder / "zoe" / "planted.ipynb"]
    )
    assert db.read_bytes() == b"grades" and not journal.exists()
    assert (folder / "zoe" / "nb.ipynb").read_text() == "zoe's answer"
    assert not (folder / "zoe" / "planted.ipynb").exists()
    assert snap.code_changes() == [code / "grade.py", code / "new.py"]
