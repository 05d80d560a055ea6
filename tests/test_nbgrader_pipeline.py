"""The classroom path end to end, with real nbgrader and its sqlite gradebook.

One temporary copy of the course goes through the documented instructor workflow
(docs/nbgrader.md): generate_assignment -> (exchange-less) collect into submitted/ ->
``python -m autograder.classroom autograde`` -> generate_feedback -> CSV export, on
simulated submissions: correct, partial, wrong, empty, malformed YAML, deleted answer cell.
Every expected score is what ``autograder.grade.grade`` gives the same answer text.
"""

from __future__ import annotations

import copy
import csv
import getpass
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeFactory
from nbgrader.plugins import CsvExportPlugin
from traitlets.config import Config

from autograder import classroom, collect, report, sandbox
from autograder.exercise import load_exercise
from autograder.grade import grade

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "ps2-three-tier"
EXERCISE = "three-tier-db"
TEST_CELL = f"test-{EXERCISE}"
REFERENCE = load_exercise(EXERCISE).reference

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: db-policy, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{role: db}}}}
  ingress:
    - from: [{peer}]
      ports: [{{port: 3306}}]
"""
PARTIAL = POLICY.format(peer="{podSelector: {}}")  # any pod of shop: web and debug too
WRONG = POLICY.format(peer="{podSelector: {matchLabels: {tier: frontend}}}")
MALFORMED = "kind: NetworkPolicy\n  spec: [\n"
# the definition's own example of a misconception the grader names (for the class report)
OR_INSTEAD_OF_AND = next(
    e.answer for e in load_exercise(EXERCISE).examples if "or-instead-of-and" in e.misconceptions
)


def set_answer(nb: dict[str, Any], exercise: str, text: str) -> None:
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == f"answer-{exercise}":
            cell["source"] = f'answer = r"""\n{text}"""\n'
            return
    raise AssertionError(f"no answer cell for {exercise}")


def delete_cell(nb: dict[str, Any], grade_id: str) -> None:
    nb["cells"] = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != grade_id
    ]


def add_cell(nb: dict[str, Any], source: str, after: str | None = None) -> None:
    """Insert a code cell after the cell with ``grade_id`` ``after`` (default: at the end)."""
    cell = nbformat.v4.new_code_cell(source)
    at = len(nb["cells"])
    for i, c in enumerate(nb["cells"]):
        if after is not None and c["metadata"].get("nbgrader", {}).get("grade_id") == after:
            at = i + 1
    nb["cells"].insert(at, dict(cell))


def make_course(tmp: Path) -> Path:
    course = tmp / "course"
    course.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    result = classroom.course_api(course).generate_assignment(ASSIGNMENT)
    assert result["success"], result.get("error")
    return course


def released(course: Path) -> dict[str, Any]:
    path = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def submit(course: Path, student: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """What ``nbgrader collect`` (or zip_collect) leaves: submitted/STUDENT/ASSIGNMENT/."""
    nb = copy.deepcopy(released(course))
    edit(nb)
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-11-27 12:00:00.000000 UTC", encoding="utf-8")


def scores(course: Path, student: str) -> dict[str, float]:
    """Score of every grade cell of ``student``'s submission, from the gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: float(g.score) for g in nb.grades}


def feedback_text(course: Path, student: str) -> str:
    path = course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    return html.unescape(path.read_text(encoding="utf-8"))


def expected_score(text: str) -> float:
    return float(grade(EXERCISE, text).score)


STUDENTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "alice": lambda nb: (
        set_answer(nb, EXERCISE, REFERENCE),
        add_cell(nb, "print('hello from alice kernel')"),
    ),
    "bob": lambda nb: set_answer(nb, EXERCISE, PARTIAL),
    "carol": lambda nb: set_answer(nb, EXERCISE, WRONG),
    "dave": lambda nb: None,  # submitted the released notebook unchanged
    "erin": lambda nb: set_answer(nb, EXERCISE, MALFORMED),
    "frank": lambda nb: delete_cell(nb, f"answer-{EXERCISE}"),
    "gina": lambda nb: set_answer(nb, EXERCISE, OR_INSTEAD_OF_AND),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, classroom.AutogradeReport]:
    course = make_course(tmp_path_factory.mktemp("pipeline"))
    for student, edit in STUDENTS.items():
        submit(course, student, edit)
    report = classroom.autograde(ASSIGNMENT, course=course, cell_timeout=20, code_roots=())
    api = classroom.course_api(course)
    result = api.generate_feedback(ASSIGNMENT)
    assert result["success"], result.get("error")
    plugin = CsvExportPlugin(to=str(course / "grades.csv"))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        plugin.export(gb)
    return course, report


def test_release_has_no_reference_solution(graded: tuple[Path, Any]) -> None:
    course, _ = graded
    source = (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    release = (course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    marker = "matchLabels: {name: api-pod}"  # a line of the reference policy
    assert marker in REFERENCE and marker in source
    assert marker not in release
    assert "BEGIN SOLUTION" not in release
    answers = [
        "".join(c["source"])
        for c in released(course)["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("answer-")
    ]
    assert answers and all(sandbox.extract_answer(a).strip().startswith("#") for a in answers)


SCORES = [
    ("correct", "alice", REFERENCE),
    ("partial", "bob", PARTIAL),
    ("wrong", "carol", WRONG),
    ("empty", "dave", None),
    ("malformed-yaml", "erin", MALFORMED),
    ("deleted-answer-cell", "frank", None),
]


@pytest.mark.parametrize(("student", "answer"), [c[1:] for c in SCORES], ids=[c[0] for c in SCORES])
def test_gradebook_score_is_the_graders(
    graded: tuple[Path, Any], student: str, answer: str | None
) -> None:
    course, _ = graded
    got = scores(course, student)
    assert got[TEST_CELL] == (expected_score(answer) if answer is not None else 0.0)
    assert all(v == 0.0 for k, v in got.items() if k != TEST_CELL)  # other answers untouched


def test_scores_span_the_scale(graded: tuple[Path, Any]) -> None:
    course, _ = graded
    got = {s: scores(course, s)[TEST_CELL] for s in STUDENTS}
    max_score = load_exercise(EXERCISE).max_score
    assert got["alice"] == max_score
    assert 0 < got["bob"] < max_score
    assert got["dave"] == got["erin"] == got["frank"] == 0.0


FEEDBACK = [
    ("correct", "alice", ["PASSED: three-tier-db: 6 / 6 points", "hello from alice kernel"]),
    (
        "partial",
        "bob",
        ["shop/web -> shop/db TCP 3306: your policies allow it", "shop/debug -> shop/db TCP 3306"],
    ),
    ("wrong", "carol", ["shop/api -> shop/db TCP 3306: your policies deny it"]),
    ("empty", "dave", ["NOT PASSED: three-tier-db: 0 / 6", "no objects found"]),
    ("malformed-yaml", "erin", ["answer cell:3:", "YAML syntax error"]),
    ("deleted-answer-cell", "frank", ["`answer-three-tier-db` is missing"]),
]


@pytest.mark.parametrize(
    ("student", "phrases"), [c[1:] for c in FEEDBACK], ids=[c[0] for c in FEEDBACK]
)
def test_feedback_html_holds_the_graders_sentences(
    graded: tuple[Path, Any], student: str, phrases: list[str]
) -> None:
    course, _ = graded
    text = feedback_text(course, student)
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in {student}'s feedback"


def test_csv_export_matches_the_gradebook(graded: tuple[Path, Any]) -> None:
    course, _ = graded
    with (course / "grades.csv").open(encoding="utf-8") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == ASSIGNMENT}
    assert set(rows) == set(STUDENTS)
    for student in STUDENTS:
        assert float(rows[student]["score"]) == pytest.approx(sum(scores(course, student).values()))
    assert float(rows["alice"]["score"]) == load_exercise(EXERCISE).max_score


def test_kernel_runs_all_finished(graded: tuple[Path, classroom.AutogradeReport]) -> None:
    _, report = graded
    assert report.students == tuple(sorted(STUDENTS))
    assert report.kernel_failures == {}
    assert report.restored == ()


def test_plain_nbgrader_autograde_cli_gives_the_same_grades(
    graded: tuple[Path, Any], tmp_path: Path
) -> None:
    """`nbgrader autograde` alone (no wrapper) is safe: the config runs the sandbox, no kernel."""
    course, _ = graded
    copy_ = tmp_path / "course"
    shutil.copytree(course, copy_)
    before = {s: scores(copy_, s) for s in STUDENTS}
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force"],
        cwd=copy_,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {s: scores(copy_, s) for s in STUDENTS} == before
    autograded = json.loads(
        (copy_ / "autograded" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8")
    )
    # no learner kernel ran: only the test cells have outputs (the sandbox's verdicts)
    with_outputs = [
        c["metadata"].get("nbgrader", {}).get("grade_id")
        for c in autograded["cells"]
        if c["cell_type"] == "code" and c["outputs"]
    ]
    assert with_outputs and all(g and g.startswith("test-") for g in with_outputs)


def test_source_notebooks_are_built_from_the_definitions() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_exercises.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "notebook",
    sorted((ROOT / "exercises" / "source").glob("*/*.ipynb")),
    ids=lambda p: p.parent.name,
)
def test_source_notebook_runs_and_its_solutions_pass(notebook: Path, tmp_path: Path) -> None:
    """The instructor version executes top to bottom: every self-check and test passes."""
    nb = nbformat.read(notebook, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests and all(not any(o.output_type == "error" for o in c.outputs) for c in tests)


def test_classroom_cli_without_kernels_prints_the_same_totals(
    graded: tuple[Path, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    course, _ = graded
    copy_ = tmp_path / "course"
    shutil.copytree(course, copy_)
    before = {s: scores(copy_, s) for s in STUDENTS}
    argv = ["autograde", ASSIGNMENT, "--course", str(copy_), "--no-execute"]
    assert classroom.main([*argv, "--student", "bob", "--student", "erin"]) == 0
    out = capsys.readouterr().out
    assert "graded 2 submission(s) of ps2-three-tier" in out
    assert "2 graded, 0 need manual grading" in out  # the table every run ends with
    for student in ("bob", "erin"):
        total = sum(before[student].values())
        max_total = classroom.totals(copy_, ASSIGNMENT, [student])[student][1]
        assert re.search(rf"^{student} +graded +{total:g} / {max_total:g}$", out, re.MULTILINE)
        assert f"] {student}: graded {total:g} / {max_total:g}" in out  # one line per learner
        assert f"\n{student}: {total:g} / {max_total:g}\n" in out  # the line scripts read
    assert {s: scores(copy_, s) for s in STUDENTS} == before


def test_exchange_flow_release_fetch_submit_collect(tmp_path: Path) -> None:
    """The JupyterHub flow of docs/nbgrader.md §2 on one machine: the OS user is the learner."""
    course = make_course(tmp_path)
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    api = classroom.course_api(course, Exchange={"root": str(exchange)})
    assert api.release_assignment(ASSIGNMENT)["success"]

    learner = tmp_path / "learner"
    learner.mkdir()
    cfg = Config()
    cfg.CourseDirectory.course_id = "netpol-lab"
    cfg.CourseDirectory.root = str(learner)
    cfg.Exchange.root = str(exchange)
    cfg.Exchange.assignment_dir = str(learner)
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = ASSIGNMENT
    factory = ExchangeFactory(config=cfg)
    auth = Authenticator(config=cfg)
    factory.FetchAssignment(coursedir=coursedir, authenticator=auth, config=cfg).start()
    fetched = learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(fetched.read_text(encoding="utf-8"))
    set_answer(nb, EXERCISE, PARTIAL)
    fetched.write_text(json.dumps(nb), encoding="utf-8")
    factory.Submit(coursedir=coursedir, authenticator=auth, config=cfg).start()

    student = getpass.getuser()
    # the project's collect reads what the real `nbgrader submit` left in inbound/
    done = collect.collect(ASSIGNMENT, course=course, exchange=exchange, course_id="netpol-lab")
    assert list(done.collected) == [student] and not done.refused and not done.flagged
    assert api.collect(ASSIGNMENT)["success"]  # nbgrader's own: nothing newer to collect
    assert (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    classroom.autograde(ASSIGNMENT, course=course, execute=False)
    assert scores(course, student)[TEST_CELL] == expected_score(PARTIAL)


def test_class_report_counts_scores_missed_flows_and_misconceptions(
    graded: tuple[Path, Any],
) -> None:
    """The class report of the graded demo class: numbers from the gradebook and the JSON."""
    course, _ = graded
    data = report.build(course, ASSIGNMENT)
    assert data.totals == {s: sum(scores(course, s).values()) for s in STUDENTS}
    stats = data.exercises[EXERCISE]
    assert sorted(stats.scores) == sorted(scores(course, s)[TEST_CELL] for s in STUDENTS)
    assert stats.lesson == load_exercise(EXERCISE).lesson
    # bob and gina let web and debug reach the database; carol lets web in, shuts the api out
    assert stats.missed == {
        "shop/web -> shop/db TCP 3306": 3,
        "shop/debug -> shop/db TCP 3306": 2,
        "shop/api -> shop/db TCP 3306": 1,
    }
    named: Counter[str] = Counter()
    for student in STUDENTS:
        record = json.loads(
            (course / "verdicts" / ASSIGNMENT / student / f"{ASSIGNMENT}.json").read_text()
        )
        (verdict,) = [v for v in record["verdicts"] if v["exercise"] == EXERCISE]
        named.update(set(verdict["misconceptions"]))
    assert stats.misconceptions == named == {"or-instead-of-and": 1}  # gina's
    assert stats.unreadable == 2  # erin's malformed YAML and dave's empty answer


def test_class_report_html_has_charts_and_links_to_the_lessons(
    graded: tuple[Path, Any], tmp_path: Path
) -> None:
    course, _ = graded
    out = tmp_path / "report.html"
    argv = ["report", ASSIGNMENT, "--course", str(course), "--out", str(out)]
    assert classroom.main(argv) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') >= 2  # the class and each exercise
    assert "<code>shop/web -&gt; shop/db TCP 3306</code></td><td>3</td>" in page
    assert "<code>or-instead-of-and</code>" in page
    lesson = next((ROOT / "lessons").glob(f"{load_exercise(EXERCISE).lesson}-*.ipynb"))
    assert lesson.name in page
    links = re.findall(r'href="([^"#]+\.ipynb)(#[^"]*)?"', page)
    assert links and all((out.parent / href).resolve().is_file() for href, _ in links)
    sections = [anchor for _, anchor in links if anchor]
    assert sections, "a misconception links to the section that teaches it"


def test_every_misconception_links_to_a_lesson_section() -> None:
    from autograder.feedback import DEFAULT_HINTS

    assert set(DEFAULT_HINTS) <= set(report.MISCONCEPTION_SECTIONS)
    for lesson, words in report.MISCONCEPTION_SECTIONS.values():
        link = report.lesson_link(lesson, words, ROOT / "lessons", "lessons")
        assert link is not None and "#" in link.href, (lesson, words)
