"""``classroom collect`` against learners who attack nbgrader's exchange (issue 9, hole 5).

The learners are real Unix users (created here; the suite runs as root in CI), because the
attacks are about who owns what in the exchange's ``inbound`` folder:

* ``eve`` plants a link in ``inbound`` through ``/proc/self/cwd`` to the instructor's
  source folder (plain ``nbgrader collect`` made the solutions her submission);
* ``eve`` creates a folder named after ``ben`` with a later timestamp (plain nbgrader
  replaced ben's submission with hers);
* ``eve`` hands in a folder with a timestamp from the future, one whose notebook is a link
  to the source notebook, and one with the solution text pasted in (the tripwire);
* ``eve`` adds a file to ``ann``'s folder (``nbgrader submit`` leaves it world-writable).

Honest ``ann`` (partial answer) and ``ben`` (full marks) must be collected and graded with
exactly their honest scores, and so must eve's one acceptable hand-in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import pwd
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
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
)

from autograder import classroom, collect
from autograder.grade import grade
from autograder.progress import Progress

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creates Unix users (root only)")

ANN, BEN, EVE = "nplab-ann", "nplab-ben", "nplab-eve"
COURSE_ID = "netpol-lab"
HONEST = float(grade(EXERCISE, PARTIAL).score)
FULL = float(grade(EXERCISE, REFERENCE).score)
# ben's full-marks answer, in his own words (block style): not the source's text verbatim
BEN_ANSWER = yaml.safe_dump(yaml.safe_load(REFERENCE), sort_keys=False)
T1 = "2026-11-27 12:00:00.000000 UTC"
T2 = "2026-11-27 13:00:00.000000 UTC"
FUTURE = "2999-01-01 00:00:00.000000 UTC"


@pytest.fixture(scope="module")
def users() -> Any:
    created = []
    for name in (ANN, BEN, EVE):
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(
                ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True
            )
            created.append(name)
    yield {name: pwd.getpwnam(name).pw_uid for name in (ANN, BEN, EVE)}
    for name in created:
        subprocess.run(["userdel", name], check=False)


def _notebook(course: Path, answer: str | None, extra: str | None = None) -> bytes:
    nb = released(course)
    if answer is not None:
        set_answer(nb, EXERCISE, answer)
    if extra is not None:
        add_cell(nb, extra)
    return json.dumps(nb).encode()


def hand_in(inbound: Path, name: str, uid: int, content: bytes | None, stamp: str) -> Path:
    """What ``nbgrader submit`` run by user ``uid`` leaves: a 0777 folder with its files."""
    folder = inbound / name
    folder.mkdir()
    if content is not None:
        (folder / f"{ASSIGNMENT}.ipynb").write_bytes(content)
    (folder / "timestamp.txt").write_text(stamp)
    for path in [folder, *folder.iterdir()]:
        os.chown(path, uid, uid, follow_symlinks=False)
    folder.chmod(0o777)
    return folder


@pytest.fixture(scope="module")
def collected(
    users: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, collect.CollectReport, str, classroom.AutogradeReport]:
    tmp = tmp_path_factory.mktemp("collect")
    course = make_course(tmp)
    inbound = tmp / "exchange" / COURSE_ID / "inbound"
    inbound.mkdir(parents=True)
    ann = hand_in(
        inbound, f"{ANN}+{ASSIGNMENT}+{T1}+a1", users[ANN], _notebook(course, PARTIAL), T1
    )
    hand_in(inbound, f"{BEN}+{ASSIGNMENT}+{T1}+b1", users[BEN], _notebook(course, BEN_ANSWER), T1)
    # eve's attacks
    source_nb = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    relative = os.path.relpath(source_nb.parent, "/")
    (inbound / f"{EVE}+{ASSIGNMENT}+{T2}+e1").symlink_to(f"/proc/self/cwd/../../../../{relative}")
    hand_in(inbound, f"{BEN}+{ASSIGNMENT}+{T2}+e2", users[EVE], _notebook(course, None), T2)
    hand_in(inbound, f"{EVE}+{ASSIGNMENT}+{FUTURE}+e3", users[EVE], _notebook(course, None), FUTURE)
    linked = hand_in(inbound, f"{EVE}+{ASSIGNMENT}+{T2}+e4", users[EVE], None, T2)
    (linked / f"{ASSIGNMENT}.ipynb").symlink_to(source_nb)
    solution = source_nb.read_text("utf-8")
    pasted = next(
        "".join(c["source"])
        for c in json.loads(solution)["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id") == f"answer-{EXERCISE}"
    )
    hand_in(
        inbound,
        f"{EVE}+{ASSIGNMENT}+{T1}+e5",
        users[EVE],
        _notebook(course, PARTIAL, extra="notes = " + pasted[len("answer = ") :]),
        T1,
    )
    planted = ann / "planted.py"
    planted.write_text("print('eve was here')")
    os.chown(planted, users[EVE], users[EVE])

    report = collect.collect(
        ASSIGNMENT, course=course, exchange=tmp / "exchange", course_id=COURSE_ID
    )
    out = io.StringIO()  # the command line, run again: nothing newer, the same refusals
    argv = ["collect", ASSIGNMENT, "--course", str(course), "--exchange", str(tmp / "exchange")]
    with contextlib.redirect_stdout(out):
        code = classroom.main([*argv, "--course-id", COURSE_ID])
    assert code == 1  # refusals and flags: the instructor must look
    graded = classroom.autograde(ASSIGNMENT, course=course, execute=False, progress=Progress(None))
    return course, report, out.getvalue(), graded


def test_every_learner_is_graded_with_the_honest_score(
    collected: tuple[Path, collect.CollectReport, str, classroom.AutogradeReport],
) -> None:
    course, _, _, graded = collected
    assert set(graded.outcomes) == {ANN, BEN, EVE}
    assert BEN_ANSWER != REFERENCE and float(grade(EXERCISE, BEN_ANSWER).score) == FULL
    for student, honest in ((ANN, HONEST), (BEN, FULL), (EVE, HONEST)):
        got = scores(course, student)
        assert got[TEST_CELL] == sum(got.values()) == honest, student


def test_links_foreign_folders_and_future_timestamps_are_refused(
    collected: tuple[Path, collect.CollectReport, str, classroom.AutogradeReport],
) -> None:
    _, report, printed, _ = collected
    refused = dict(report.refused)
    assert len(refused) == 4, refused
    assert "symbolic link" in refused[f"{EVE}+{ASSIGNMENT}+{T2}+e1"]
    assert f"names {BEN} but is owned by {EVE}" in refused[f"{BEN}+{ASSIGNMENT}+{T2}+e2"]
    assert "in the future" in refused[f"{EVE}+{ASSIGNMENT}+{FUTURE}+e3"]
    assert f"{ASSIGNMENT}.ipynb is a symbolic link" in refused[f"{EVE}+{ASSIGNMENT}+{T2}+e4"]
    for name in refused:
        assert f"REFUSED {name}: " in printed


def test_files_planted_in_another_learners_folder_are_skipped(
    collected: tuple[Path, collect.CollectReport, str, classroom.AutogradeReport],
) -> None:
    course, report, _, _ = collected
    assert report.skipped == {ANN: [f"planted.py is owned by {EVE}"]}
    assert not (course / "submitted" / ANN / ASSIGNMENT / "planted.py").exists()
    assert f"SKIPPED in {ANN}'s hand-in: planted.py" in "\n".join(report.lines())


def test_tripwire_flags_solution_text(
    collected: tuple[Path, collect.CollectReport, str, classroom.AutogradeReport],
) -> None:
    _, report, printed, _ = collected
    assert set(report.flagged) == {EVE}
    flags = " ".join(report.flagged[EVE])
    assert "### BEGIN SOLUTION" in flags
    assert f"the source's solution of 'answer-{EXERCISE}' verbatim" in flags
    assert f"FLAGGED {EVE}: " in printed


def test_collected_timestamps_come_from_the_folder_names(
    collected: tuple[Path, collect.CollectReport, str, classroom.AutogradeReport],
) -> None:
    course, report, printed, _ = collected
    assert sorted(report.collected) == [ANN, BEN, EVE]
    for student in (ANN, BEN, EVE):  # the second collect found nothing newer
        assert f"unchanged {student}: no newer submission" in printed
    stamp = (course / "submitted" / BEN / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp.startswith("2026-11-27 12:00:00")


def test_refusal_reasons_one_by_one(tmp_path: Path, users: dict[str, int]) -> None:
    now = dt.datetime(2026, 11, 27, 14, 0)
    folder = hand_in(tmp_path, "x", users[ANN], b"{}", T1)
    entry = collect.Entry(folder, ANN, dt.datetime(2026, 11, 27, 12, 0))
    assert collect.refusal(entry, now) is None
    assert "is not a student name" in str(collect.refusal(collect.Entry(folder, "..", None), now))
    assert "no user" in str(collect.refusal(collect.Entry(folder, "nplab-nobody", None), now))
    os.link(folder / f"{ASSIGNMENT}.ipynb", tmp_path / "second-name")
    assert "is a hard link" in str(collect.refusal(entry, now))
