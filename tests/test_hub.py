"""A real JupyterHub classroom, end to end, with Unix users and a browser.

tools/classroom_demo.py builds the classroom environment from Debian's Python
(deploy/requirements.txt, netpol-lab from its wheel, configurable-http-proxy from npm),
creates an instructor and two learners as Unix users with PAM passwords, and starts
JupyterHub (deploy/jupyterhub_config.py: PAM login, LocalProcessSpawner) on 127.0.0.1.

The flow, as docs/classroom.md describes it:

1. the instructor generates and releases ps2-three-tier into the shared exchange;
2. learner one logs in with a browser (Debian's chromium), sees the Assignments tab and no
   instructor tool, fetches the assignment from the Assignments tab, writes an answer in
   the notebook, saves it and submits it from the Assignments tab;
3. learner two fetches and submits from a terminal (``nbgrader fetch_assignment/submit``),
   can read neither learner one's home nor the exchange's inbound folder, and then hands
   in the reference answer in learner one's name (a renamed copy of their own hand-in);
4. the instructor logs in and has the formgrader; from a terminal they run
   ``netpol-grade`` (deploy/grade.sh): the safe collect refuses the forged hand-in, the
   sandbox grades, feedback is generated and released, grades are exported;
5. learner one fetches the feedback from the Assignments tab and reads, in the browser,
   the flow-by-flow sentences of the grader.

Needs root (it creates users); skipped otherwise.  Users, processes and files it creates
are removed at the end.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_helpers as bh
import pytest

from autograder.grade import grade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import classroom_demo as demo  # noqa: E402

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="creates Unix users: run as root (CI does)"),
    pytest.mark.skipif(bh.chromium_path() is None, reason="Debian's chromium is not installed"),
]

ASSIGNMENT = "ps2-three-tier"
EXERCISE = "three-tier-db"
# Names of this run only (two runs on one machine never touch each other's users).
RUN = secrets.token_hex(2)
INSTRUCTOR = f"nplt{RUN}-teacher"
LEARNER, LEARNER2 = f"nplt{RUN}-ana", f"nplt{RUN}-ben"
PARTIAL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-policy, namespace: shop}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
    - from: [{podSelector: {}}]
      ports: [{port: 3306}]
"""
SCREENSHOTS = ROOT / "test-output" / "hub"


@pytest.fixture(scope="module")
def classroom() -> Iterator[tuple[demo.Classroom, demo.Hub]]:
    with demo.environment_in_use() as environment:
        demo.remove_stale_users()
        room = demo.create_classroom(environment, [INSTRUCTOR], [LEARNER, LEARNER2])
        try:
            demo.release(room, INSTRUCTOR, [ASSIGNMENT])
            with demo.Hub(room, expose_app=True) as hub:
                yield room, hub
        finally:
            demo.remove_classroom(room)


def login(context: Any, hub: demo.Hub, user: str, password: str) -> Any:
    """Log in through the hub's PAM login form and open the user's JupyterLab."""
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**", timeout=60_000)
    page.goto(f"{hub.url}/user/{user}/lab", timeout=60_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.started", timeout=60_000)
    page.evaluate("() => Promise.all([window.jupyterapp.started, window.jupyterapp.restored])")
    return page


def has_command(page: Any, command: str) -> bool:
    return bool(page.evaluate("c => window.jupyterapp.commands.hasCommand(c)", command))


def open_assignments(page: Any) -> None:
    page.click("#jp-MainMenu >> text=Nbgrader")
    page.click("text=Assignment List")
    page.wait_for_selector("#nbgrader-assignment-list")


SET_ANSWER = """async ([path, gradeId, text]) => {
  const widget = await window.jupyterapp.commands.execute('docmanager:open', {path});
  await widget.context.ready;
  const cells = widget.content.model.cells;
  let found = false;
  for (let i = 0; i < cells.length; i++) {
    const meta = cells.get(i).getMetadata('nbgrader');
    if (meta && meta.grade_id === gradeId) {
      cells.get(i).sharedModel.setSource(text);
      found = true;
    }
  }
  await widget.context.save();
  return found;
}"""


def answer_source(text: str) -> str:
    return f'answer = r"""\n{text}"""\n'


def test_classroom_release_fetch_submit_grade_feedback(
    classroom: tuple[demo.Classroom, demo.Hub],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    room, hub = classroom
    course = room.course(INSTRUCTOR)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=bh.chromium_path(), headless=True, args=bh.CHROMIUM_ARGS
        )
        try:
            learner_ctx = browser.new_context()
            page = login(learner_ctx, hub, LEARNER, room.passwords[LEARNER])
            try:
                # the learner's side of nbgrader only
                assert has_command(page, "nbgrader:open-assignment-list")
                for tool in ("formgrader", "create-assignment", "course-list"):
                    assert not has_command(page, f"nbgrader:open-{tool}"), tool
                assert page.request.get(f"{hub.url}/user/{LEARNER}/formgrader").status == 404

                # fetch from the Assignments tab
                open_assignments(page)
                released = page.locator("#released_assignments_list")
                expect(released).to_contain_text(ASSIGNMENT, timeout=30_000)
                released.locator("button", has_text="Fetch").click()
                fetched = page.locator("#fetched_assignments_list")
                expect(fetched).to_contain_text(ASSIGNMENT, timeout=30_000)
                notebook = room.home(LEARNER) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
                assert notebook.is_file()
                assert notebook.stat().st_uid == room_uid(LEARNER)

                # answer in the notebook, save, submit from the Assignments tab
                path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
                found = page.evaluate(
                    SET_ANSWER, [path, f"answer-{EXERCISE}", answer_source(PARTIAL)]
                )
                assert found, "no answer cell in the fetched notebook"
                assert answer_source(PARTIAL) in cell_sources(notebook)
                open_assignments(page)
                page.locator("#fetched_assignments_list button", has_text="Submit").click()
                submitted = page.locator("#submitted_assignments_list")
                expect(submitted).to_contain_text(ASSIGNMENT, timeout=30_000)
                page.screenshot(path=str(SCREENSHOTS / "learner-submitted.png"))
            except Exception:
                page.screenshot(path=str(SCREENSHOTS / "learner-failed.png"))
                raise

            # learner two, from a terminal; learners cannot read each other's work
            room.nbgrader(LEARNER2, "fetch_assignment", ASSIGNMENT)
            nb2 = room.home(LEARNER2) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
            reference = reference_answer()
            write_answer(room, LEARNER2, nb2, reference)
            room.nbgrader(LEARNER2, "submit", ASSIGNMENT)
            peek = room.run_as(LEARNER2, ["ls", room.home(LEARNER)])
            assert peek.returncode != 0 and "Permission denied" in peek.stderr
            inbound = room.exchange / demo.COURSE_ID / "inbound"
            peek = room.run_as(LEARNER2, ["ls", inbound])
            assert peek.returncode != 0 and "Permission denied" in peek.stderr

            # learner two then hands in the reference answer in learner one's name (a copy
            # of their own hand-in, renamed): the safe collect must refuse it
            own = next(inbound_entries(room, LEARNER2))
            forged = inbound / own.name.replace(f"{LEARNER2}+", f"{LEARNER}+", 1).replace(
                own.name.rsplit("+", 1)[1], "forged"
            )
            planted = room.run_as(LEARNER2, ["cp", "-r", own, forged])
            assert planted.returncode == 0, planted.stderr

            # the instructor has the formgrader
            teacher_ctx = browser.new_context()
            tpage = login(teacher_ctx, hub, INSTRUCTOR, room.passwords[INSTRUCTOR])
            assert has_command(tpage, "nbgrader:open-formgrader")
            assert has_command(tpage, "nbgrader:open-create-assignment")
            manage = tpage.request.get(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_students")
            assert manage.status == 200
            teacher_ctx.close()

            # the instructor's grading round, deploy/grade.sh (what the Kubernetes Job runs):
            # collect, sandboxed autograde, feedback generated and released, CSV export
            graded = room.run_as(INSTRUCTOR, [room.grade_script, ASSIGNMENT], cwd=course)
            # status 1: the round ran, and one hand-in was refused
            assert graded.returncode == 1, graded.stdout[-3000:] + graded.stderr[-3000:]
            assert f"REFUSED {forged.name}" in graded.stdout, graded.stdout
            assert "ATTENTION: collect refused" in graded.stdout
            for learner in (LEARNER, LEARNER2):
                assert (
                    course / "submitted" / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
                ).is_file()
            partial = grade(EXERCISE, PARTIAL)
            full = grade(EXERCISE, reference)
            assert 0 < partial.score < partial.max_score and full.score == full.max_score
            with (course / f"grades-{ASSIGNMENT}.csv").open(encoding="utf-8") as fh:
                rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)}
            assert rows[LEARNER] == partial.score and rows[LEARNER2] == full.score

            # learner one fetches the feedback and reads it in the browser
            try:
                open_assignments(page)
                page.click("#refresh_assignments_list")
                submitted = page.locator("#submitted_assignments_list")
                submitted.locator("button", has_text="Fetch Feedback").click(timeout=30_000)
                expect(submitted).to_contain_text("(view feedback)", timeout=30_000)
                html_files = sorted(
                    (room.home(LEARNER) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
                )
                assert len(html_files) == 1, html_files
                rel = html_files[0].relative_to(room.home(LEARNER)).as_posix()
                page.goto(f"{hub.url}/user/{LEARNER}/files/{rel}")
                text = page.locator("body").inner_text()
                page.screenshot(path=str(SCREENSHOTS / "learner-feedback.png"), full_page=True)
            except Exception:
                page.screenshot(path=str(SCREENSHOTS / "learner-failed.png"))
                raise
            first_wrong = partial.feedback[0] if partial.feedback else ""
            assert "shop/web -> shop/db TCP 3306: your policies allow it" in text
            assert f"{partial.score:g} / {partial.max_score:g} points" in text
            assert str(first_wrong).split(":")[0] in text
            # learner two's feedback is not learner one's business
            assert not list((room.home(LEARNER) / ASSIGNMENT / "feedback").glob(f"*/{LEARNER2}*"))
        finally:
            browser.close()


def inbound_entries(room: demo.Classroom, student: str) -> Iterator[Path]:
    """The exchange's inbound folders named for ``student`` (listed as root)."""
    inbound = room.exchange / demo.COURSE_ID / "inbound"
    return iter(sorted(p for p in inbound.iterdir() if p.name.startswith(f"{student}+")))


def room_uid(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def cell_sources(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"])


def reference_answer() -> str:
    from autograder.exercise import load_exercise

    return load_exercise(EXERCISE).reference


def write_answer(room: demo.Classroom, user: str, notebook: Path, text: str) -> None:
    """Edit ``notebook`` as ``user`` would in a terminal (the file stays theirs)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == f"answer-{EXERCISE}":
            cell["source"] = answer_source(text)
    script = "import sys; open(sys.argv[1], 'w', encoding='utf-8').write(sys.stdin.read())"
    entry = pwd.getpwnam(user)
    subprocess.run(
        [str(room.environment.bin / "python"), "-c", script, str(notebook)],
        input=json.dumps(nb),
        text=True,
        check=True,
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
        env=room.user_env(user),
    )
