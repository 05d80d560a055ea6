"""A class of learners attacks ``classroom autograde`` around the grader (issue 9's holes).

Same rule as tests/test_attacks.py: every attacker submits the honest partial answer
``PARTIAL`` plus one attack and must earn exactly ``grade(PARTIAL)``; honest learners graded
in the same run (``henry`` partial, ``zoe`` full marks, ``dave`` blank, two learners who
copy-pasted their answer cell) must keep exactly their honest score.

* ``sealed``: the documented run (bubblewrap, each kernel as an unprivileged user of its own):
  kernels that try to swap another learner's notebook for a link, empty another learner's
  other assignments, edit the source notebook, rewrite the kernel-run copies of other
  learners or read their grades reach nothing; learners whose notebook breaks nbgrader, or
  whose hand-in holds a link, are listed for manual grading and the class goes on.
* ``unsealed``: the same attacks where bubblewrap is unavailable (``--unsafe-kernels``):
  the kernels DO change the course, and the link-safe snapshot of the whole course puts it
  back, replacing links instead of writing through them.
"""

from __future__ import annotations

import copy
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_attacks import kernel_outputs
from test_nbgrader_pipeline import (
    ASSIGNMENT,
    EXERCISE,
    PARTIAL,
    REFERENCE,
    TEST_CELL,
    add_cell,
    make_course,
    released,
    scores,
    set_answer,
    submit,
)

from autograder import classroom, kernels, nbsanitize
from autograder.grade import grade
from autograder.progress import Progress
from autograder.snapshot import Snapshot

HONEST = float(grade(EXERCISE, PARTIAL).score)
FULL = float(grade(EXERCISE, REFERENCE).score)
ANSWER = f"answer-{EXERCISE}"
OTHER = "ps1-direction"  # another assignment zoe handed in earlier
NOTICE = "NOTICE FROM THE INSTRUCTOR: your work was plagiarised"

# One attacker, every hole of issue 9 in one cell: each step is tried on its own.
MALLORY = """\
import glob, json, os, pathlib, tempfile

def attempt(what, step):
    try:
        step()
        print("DONE:", what)
    except Exception as exc:
        print("FAILED:", what, type(exc).__name__)

def swap():  # hole 1: another learner's notebook becomes a link to a blank one
    os.remove({victim!r})
    os.symlink({blank!r}, {victim!r})

def other_assignments():  # hole 2: empty the victim's other assignments
    found = glob.glob({other!r} + "/*.ipynb")
    assert found
    for p in found:
        pathlib.Path(p).write_text("")

def ungrade_source():  # hole 2: the source's test cells lose their grade flag
    src = pathlib.Path({source!r})
    nb = json.loads(src.read_text())
    for c in nb["cells"]:
        c["metadata"].get("nbgrader", {{}})["grade"] = False
    src.write_text(json.dumps(nb))

def kernel_copies():  # hole 3: rewrite the kernel-run copies of the learners before
    found = [p for pattern in ("/tmp/npgrade-*/**/*", tempfile.gettempdir() + "/npgrade-*/**/*")
             for p in glob.glob(pattern, recursive=True) if p.endswith((".ipynb", ".json"))]
    assert found
    for p in found:
        pathlib.Path(p).write_text(json.dumps({{"cells": [{{"source": "", "outputs": [
            {{"output_type": "stream", "name": "stdout", "text": {notice!r}}}]}}]}}))
        pathlib.Path(p + ".nested.json").write_text("[" * 200000)

def spy():  # hole 3: print other learners' answers and grades into one's own feedback
    for p in glob.glob({submitted!r} + "/*/*/*.ipynb"):
        print("OTHER LEARNER:", p, open(p).read()[:100])
    print("GRADEBOOK:", open({gradebook!r}, "rb").read()[:100])

print("UID:", os.getuid())
for what, step in [("swap", swap), ("other assignments", other_assignments),
                   ("ungrade source", ungrade_source), ("kernel copies", kernel_copies),
                   ("spy", spy)]:
    attempt(what, step)
"""


def _partial_plus(code: str) -> Callable[[dict[str, Any]], None]:
    def edit(nb: dict[str, Any]) -> None:
        set_answer(nb, EXERCISE, PARTIAL)
        add_cell(nb, code, after=ANSWER)

    return edit


def _pasted(answer_in_first: bool) -> Callable[[dict[str, Any]], None]:
    """Jupyter copy and paste of the answer cell: two cells with one grade id (and cell id)."""

    def edit(nb: dict[str, Any]) -> None:
        at = next(
            i
            for i, c in enumerate(nb["cells"])
            if c["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER
        )
        paste = copy.deepcopy(nb["cells"][at])
        nb["cells"].insert(at + 1, paste)
        written = nb["cells"][at] if answer_in_first else paste
        written["source"] = f'answer = r"""\n{PARTIAL}"""\n'

    return edit


def attack_class(course: Path) -> dict[str, tuple[Callable[[dict[str, Any]], None], float]]:
    """learner -> (edit of the released notebook, honest score)."""
    sub = course / "submitted"
    notebook = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    mallory = MALLORY.format(
        victim=str(sub / "zoe" / notebook),
        blank=str(sub / "dave" / notebook),
        other=str(sub / "zoe" / OTHER),
        source=str(course / "source" / notebook),
        notice=NOTICE,
        submitted=str(sub),
        gradebook=str(course / "gradebook.db"),
    )
    return {
        "henry": (lambda nb: set_answer(nb, EXERCISE, PARTIAL), HONEST),
        "zoe": (lambda nb: set_answer(nb, EXERCISE, REFERENCE), FULL),
        "dave": (lambda nb: None, 0.0),
        "carl-pasted-wrote-first": (_pasted(True), HONEST),
        "cathy-pasted-wrote-second": (_pasted(False), HONEST),
        "mallory": (_partial_plus(mallory), HONEST),
    }


def _stdout(course: Path, student: str) -> str:
    """What ``student``'s kernel printed (the streams of the autograded notebook)."""
    streams = [o for outs in kernel_outputs(course, student) for o in outs]
    texts = [o.get("text", "") for o in streams if o["output_type"] == "stream"]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def _hand_in(course: Path) -> dict[str, tuple[Callable[[dict[str, Any]], None], float]]:
    everyone = attack_class(course)
    for student, (edit, _) in everyone.items():
        submit(course, student, edit)
    other = course / "submitted" / "zoe" / OTHER
    other.mkdir(parents=True)
    (other / f"{OTHER}.ipynb").write_text(json.dumps(released(course)), encoding="utf-8")
    return everyone


BROKEN = {  # learners whose notebook nbgrader cannot read: manual grading, the class goes on
    "bad-not-json": b"this is not a notebook",
    "bad-nested-json": b"[" * 100_000,
    "bad-no-cells": b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, float], str]:
    course = make_course(tmp_path_factory.mktemp("sealed"))
    everyone = _hand_in(course)
    for student, content in BROKEN.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(content)
    # a hand-in copied with `cp -a` or git: a link to the instructor's source notebook
    submit(course, "linda-linked", lambda nb: None)
    linked = course / "submitted" / "linda-linked" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    linked.unlink()
    linked.symlink_to(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    source_before = (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    log = io.StringIO()
    report = classroom.autograde(
        ASSIGNMENT,
        course=course,
        cell_timeout=10,
        student_timeout=60,
        code_roots=(),
        progress=Progress(log),
    )
    assert (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() == source_before
    return course, report, {s: honest for s, (_, honest) in everyone.items()}, log.getvalue()


@pytest.mark.parametrize("student", sorted(attack_class(Path("/nonexistent"))))
def test_sealed_every_learner_gets_the_honest_score(
    sealed: tuple[Path, classroom.AutogradeReport, dict[str, float], str], student: str
) -> None:
    course, report, expected, _ = sealed
    assert report.isolation == "bwrap-user"
    assert report.outcomes[student].status == "graded", report.outcomes[student]
    got = scores(course, student)
    assert got[TEST_CELL] == sum(got.values()) == expected[student]
    assert report.outcomes[student].score == expected[student]


def test_sealed_kernels_reached_nothing_of_the_course(
    sealed: tuple[Path, classroom.AutogradeReport, dict[str, float], str],
) -> None:
    course, report, _, _ = sealed
    assert report.restored == ()
    zoe = course / "submitted" / "zoe"
    assert not (zoe / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_symlink()
    assert (zoe / OTHER / f"{OTHER}.ipynb").read_text("utf-8").startswith("{")
    printed = _stdout(course, "mallory")
    for step in ("swap", "other assignments", "ungrade source", "kernel copies", "spy"):
        assert f"FAILED: {step}" in printed, printed
    assert "OTHER LEARNER:" not in printed and "GRADEBOOK:" not in printed
    uid = int(printed.split("UID:", 1)[1].split()[0])  # an unprivileged user of its own
    assert uid > kernels.KERNEL_UID_BASE and uid != os.getuid()
    for student in ("henry", "zoe", "dave", "carl-pasted-wrote-first"):
        assert NOTICE not in json.dumps(kernel_outputs(course, student))


def test_one_learners_failure_never_stops_the_class(
    sealed: tuple[Path, classroom.AutogradeReport, dict[str, float], str],
) -> None:
    course, report, expected, log = sealed
    assert set(report.manual) == {*BROKEN, "linda-linked"}
    assert set(report.outcomes) == {*expected, *BROKEN, "linda-linked"}
    linda = report.outcomes["linda-linked"].notes
    assert any("a symbolic link" in n and "refused" in n for n in linda), linda
    for student in BROKEN:
        assert report.outcomes[student].notes, student  # the reason is given
    assert "linda-linked" not in {p.name for p in (course / "autograded").iterdir()}
    # progress: one line per learner when the output is not a terminal, then the table
    lines = [ln for ln in log.splitlines() if ln.startswith("[")]
    assert len([ln for ln in lines if "graded" in ln or "MANUAL" in ln]) == len(report.outcomes) - 1
    table = classroom.summary_table(report.outcomes.values(), report.kernel_failures)
    assert "NEEDS MANUAL GRADING" in table and "4 need manual grading" in table


def test_copy_pasted_answer_cells_keep_the_answered_copy(
    sealed: tuple[Path, classroom.AutogradeReport, dict[str, float], str],
) -> None:
    _, report, _, _ = sealed
    for student in ("carl-pasted-wrote-first", "cathy-pasted-wrote-second"):
        notes = report.outcomes[student].notes
        assert any("appeared 2 times (copy and paste)" in n for n in notes), notes


@pytest.fixture(scope="module")
def unsealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, dict[str, float]]:
    """The same class where bubblewrap is not available, with --unsafe-kernels."""
    course = make_course(tmp_path_factory.mktemp("unsealed"))
    everyone = _hand_in(course)
    mp = pytest.MonkeyPatch()
    mp.setattr(kernels, "isolation", lambda: "none")
    try:
        report = classroom.autograde(
            ASSIGNMENT,
            course=course,
            students=["henry", "mallory", "zoe"],
            cell_timeout=10,
            student_timeout=60,
            code_roots=(),
            unsafe_kernels=True,
            progress=Progress(None),
        )
    finally:
        mp.undo()
    return course, report, {s: honest for s, (_, honest) in everyone.items()}


def test_unsealed_restore_replaces_links_and_covers_the_whole_course(
    unsealed: tuple[Path, classroom.AutogradeReport, dict[str, float]],
) -> None:
    course, report, expected = unsealed
    assert report.isolation == "none"
    printed = _stdout(course, "mallory")
    for step in ("swap", "other assignments", "ungrade source", "kernel copies"):
        assert f"DONE: {step}" in printed, printed  # no sandbox: the attacks did land...
    for student in report.students:  # ...and nobody's grade moved
        got = scores(course, student)
        assert got[TEST_CELL] == sum(got.values()) == expected[student], student
    sub = course / "submitted"
    victim = sub / "zoe" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    restored = set(report.restored)
    assert victim in restored and not victim.is_symlink()
    assert REFERENCE.splitlines()[0] in victim.read_text("utf-8")
    # the link's target (dave's blank notebook) was not written through
    dave = json.loads((sub / "dave" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8"))
    assert dave == json.loads(json.dumps(released(course)))
    assert sub / "zoe" / OTHER / f"{OTHER}.ipynb" in restored
    assert course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" in restored
    # the kernel-run copy henry's feedback is built from was not the one mallory rewrote
    assert NOTICE not in json.dumps(kernel_outputs(course, "henry"))
    assert "henry" not in report.kernel_failures


def test_a_grade_cell_without_verdict_scores_zero_and_is_flagged(tmp_path: Path) -> None:
    """Fail closed: a grade cell the sandbox has no answer for gets 0 and a note, not 100%."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    src = json.loads(
        (classroom.COURSE_DIR / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    )
    bonus = copy.deepcopy(next(c for c in src["cells"] if c.get("id") == TEST_CELL))
    bonus["id"] = bonus["metadata"]["nbgrader"]["grade_id"] = "bonus-check"
    bonus["metadata"]["nbgrader"]["points"] = 2
    src["cells"].append(bonus)
    (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(src))
    (course / "nbgrader_config.py").write_bytes(
        (classroom.COURSE_DIR / "nbgrader_config.py").read_bytes()
    )
    assert classroom.course_api(course).generate_assignment(ASSIGNMENT)["success"]
    submit(course, "henry", lambda nb: set_answer(nb, EXERCISE, PARTIAL))
    report = classroom.autograde(ASSIGNMENT, course=course, execute=False, progress=Progress(None))
    got = scores(course, "henry")
    assert got[TEST_CELL] == sum(got.values()) == HONEST and got["bonus-check"] == 0.0
    outcome = report.outcomes["henry"]
    assert outcome.status == "manual"
    assert any("bonus-check: no verdict" in n for n in outcome.notes), outcome.notes
    autograded = (course / "autograded" / "henry" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "NO VERDICT: bonus-check" in autograded


# --- the pieces alone ----------------------------------------------------------------------


def test_snapshot_refuses_links_and_restore_never_writes_through_them(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "submitted" / "zoe").mkdir(parents=True)
    (course / "submitted" / "mal").mkdir(parents=True)
    zoe, mal = course / "submitted" / "zoe" / "nb.ipynb", course / "submitted" / "mal" / "nb.ipynb"
    zoe.write_text("zoe")
    mal.write_text("mal")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (course / "submitted" / "mal" / "link.ipynb").symlink_to(outside)
    os.link(outside, course / "submitted" / "mal" / "hard.ipynb")
    snap = Snapshot.take([course / "submitted"], [], base=course)
    assert {p.path.name: p.what for p in snap.links} == {
        "link.ipynb": "a symbolic link",
        "hard.ipynb": "a hard link (2 names for one file)",
    }
    assert outside not in snap.data and b"secret" not in snap.data.values()

    zoe.unlink()
    zoe.symlink_to(mal)  # the swap of hole 1
    (course / "submitted" / "zoe" / "planted").symlink_to(outside)
    (course / "submitted" / "mal").rename(course / "submitted" / "mal-moved")
    (course / "submitted" / "mal").symlink_to(tmp_path)  # a folder swapped for a link
    changed = snap.restore()
    assert zoe in changed and not zoe.is_symlink() and zoe.read_text() == "zoe"
    assert not (course / "submitted" / "mal").is_symlink()
    assert mal.read_text() == "mal" and outside.read_text() == "secret"
    assert not os.path.lexists(course / "submitted" / "zoe" / "planted")
    assert not (tmp_path / "nb.ipynb").exists()  # nothing written through the folder link


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b"not json", "not JSON"),
        (b'{"cells": 3}', "unexpected shape"),
    ],
)
def test_executed_copies_that_cannot_be_read_are_refused_with_a_sentence(
    raw: bytes, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        kernels.reduce_executed(raw)


def test_executed_outputs_keep_only_text_and_png() -> None:
    raw = json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "source": "x",
                    "outputs": [
                        {"output_type": "stream", "name": "stderr", "text": ["a", "b"]},
                        {
                            "output_type": "display_data",
                            "data": {"text/html": "<script>", "text/plain": "p"},
                        },
                        {"output_type": "display_data", "data": {"text/html": "<b>"}},
                    ],
                }
            ]
        }
    ).encode()
    (cell,) = kernels.reduce_executed(raw)["cells"]
    assert cell["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "ab"},
        {"output_type": "display_data", "metadata": {}, "data": {"text/plain": "p"}},
    ]


def test_sanitiser_keeps_the_answered_copy_and_renames_duplicate_cell_ids() -> None:
    nb = copy.deepcopy(
        json.loads(
            (classroom.COURSE_DIR / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        )
    )
    for answer_in_first in (True, False):
        cells = copy.deepcopy(nb["cells"])
        one = {"cells": cells}
        for c in cells:
            if c["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER:
                c["source"] = 'answer = r"""\n# Write your answer (YAML) here\n"""'
        _pasted(answer_in_first)(one)
        notes = nbsanitize.sanitize(cells)
        answers = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == ANSWER]
        assert len(answers) == 1 and PARTIAL.splitlines()[0] in answers[0]["source"]
        assert len({c["id"] for c in cells}) == len(cells)
        assert any("renamed" in n for n in notes)


def test_remove_below_never_follows_links(tmp_path: Path) -> None:
    """A learner's folder swapped for a link: removing the hand-in removes the link only."""
    from autograder.snapshot import remove_below

    base, outside = tmp_path / "course", tmp_path / "outside"
    (outside / ASSIGNMENT).mkdir(parents=True)
    (outside / ASSIGNMENT / "keep.txt").write_text("keep")
    (base / "submitted").mkdir(parents=True)
    (base / "submitted" / "zoe").symlink_to(outside)
    remove_below(base, Path("submitted/zoe") / ASSIGNMENT)
    assert not os.path.lexists(base / "submitted" / "zoe")
    assert (outside / ASSIGNMENT / "keep.txt").read_text() == "keep"
    (base / "submitted" / "ann" / ASSIGNMENT).mkdir(parents=True)
    (base / "submitted" / "ann" / ASSIGNMENT / "nb.ipynb").write_text("{}")
    remove_below(base, Path("submitted/ann") / ASSIGNMENT)
    assert not (base / "submitted" / "ann" / ASSIGNMENT).exists()
    assert (base / "submitted" / "ann").is_dir()


def test_progress_draws_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    tty, log = io.StringIO(), io.StringIO()
    for stream, is_tty in ((tty, True), (log, False)):
        progress = Progress(stream, tty=is_tty)
        progress.start("grading", 2)
        progress.step("ann", "graded 4 / 6")
        progress.step("ben", "NEEDS MANUAL GRADING")
    assert "\r\x1b[K[############------------] 1/2 ann: graded 4 / 6" in tty.getvalue()
    assert tty.getvalue().endswith("2/2 ben: NEEDS MANUAL GRADING\n")
    assert log.getvalue().splitlines()[1:] == [
        "[1/2] ann: graded 4 / 6",
        "[2/2] ben: NEEDS MANUAL GRADING",
    ]
