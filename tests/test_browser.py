"""The enforcement lesson in a real browser: JupyterLab + Debian's headless Chromium.

Opens a copy of lessons/06-enforcement-and-cnis.ipynb (in test-output/, so the lesson
itself never gets outputs), runs every cell, switches the FlowExplorer's CNI dropdown to
Flannel, and checks that the picture (its bytes) and the status message change.
Screenshots go to test-output/browser/.  Skipped only when chromium is not installed
(``make system-deps`` installs it).
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import browser_helpers as bh
import pytest

REPO = Path(__file__).resolve().parent.parent
LESSON = REPO / "lessons" / "06-enforcement-and-cnis.ipynb"
OUTPUT = REPO / "test-output" / "browser"

pytestmark = pytest.mark.skipif(
    bh.chromium_path() is None,
    reason="Debian's chromium is not installed (run `make system-deps`)",
)

TIMEOUT_MS = 120_000  # generous: the machine is shared
_BLOB = re.compile(r"^blob:")


def test_widget_manager_extension_is_enabled():
    result = subprocess.run(
        [bh.jupyter_executable(), "labextension", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listing = result.stdout + result.stderr
    lines = [line for line in listing.splitlines() if "@jupyter-widgets/jupyterlab-manager" in line]
    assert lines, f"the ipywidgets manager extension is not installed:\n{listing}"
    assert "enabled" in lines[0] and "OK" in lines[0], lines[0]


def _image_bytes(page, locator) -> bytes:
    """The bytes behind an <img> (a blob: URL for an ipywidgets Image)."""
    src = locator.get_attribute("src")
    encoded = page.evaluate(
        """async (src) => {
            const buffer = await (await fetch(src)).arrayBuffer();
            let text = "";
            for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
            return btoa(text);
        }""",
        src,
    )
    return base64.b64decode(encoded)


def test_enforcement_lesson_switches_to_flannel(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    notebook = OUTPUT / LESSON.name
    shutil.copyfile(LESSON, notebook)
    relative = notebook.relative_to(REPO).as_posix()

    with bh.JupyterLab(REPO, tmp_path) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=bh.chromium_path(), headless=True, args=bh.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(lab.url(f"lab/tree/{relative}"))
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                ".connectionStatus === 'connected'",
                timeout=TIMEOUT_MS,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

            explorer = page.locator(".netpol-flow-explorer").first
            expect(explorer).to_be_visible(timeout=TIMEOUT_MS)
            image = explorer.locator("img.netpol-diagram")
            message = explorer.locator(".netpol-message")
            expect(image).to_have_attribute("src", _BLOB, timeout=TIMEOUT_MS)
            expect(message).to_contain_text("Calico enforces NetworkPolicy")
            explorer.scroll_into_view_if_needed()
            explorer.screenshot(path=str(OUTPUT / "explorer-calico.png"))
            src_before = image.get_attribute("src")
            bytes_before = _image_bytes(page, image)
            assert bytes_before.startswith(b"\x89PNG")

            explorer.locator(".netpol-cni select").select_option("flannel")

            expect(message).to_contain_text("Flannel does not enforce NetworkPolicy")
            expect(image).not_to_have_attribute("src", src_before)
            bytes_after = _image_bytes(page, image)
            assert bytes_after.startswith(b"\x89PNG")
            assert bytes_after != bytes_before, "the diagram did not change on Flannel"
            text = explorer.locator(".netpol-text-alternative")
            expect(text).to_contain_text("NOT enforced by flannel", use_inner_text=False)
            expect(explorer.locator(".netpol-error")).to_have_text("")
            explorer.screenshot(path=str(OUTPUT / "explorer-flannel.png"))
            page.screenshot(path=str(OUTPUT / "lesson-06.png"))
        finally:
            browser.close()


# --- the learner's workspace, self-checks and a "write it" challenge -----------------------

LEARNER_LESSON = "04-the-networkpolicy-object.ipynb"


def _git_status() -> str | None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        return None
    return subprocess.run(
        [git, "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout


def _wait_for_kernel(page) -> None:
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".connectionStatus === 'connected'",
        timeout=TIMEOUT_MS,
    )


def _passing_answer(exercise: str) -> str:
    import yaml

    definition = REPO / "autograder" / "exercises" / f"{exercise}.yaml"
    data = yaml.safe_load(definition.read_text(encoding="utf-8"))
    return next(e["answer"] for e in data["examples"] if e["passes"] is True)


def test_learner_studies_a_lesson_in_the_workspace_and_the_repository_stays_clean(tmp_path):
    """`make lab`'s set-up, in a real browser: the learner's config (no nbgrader, no news),
    a workspace copy of lesson 04; a self-check answered wrongly then rightly, a
    predict-then-reveal that draws nothing before the learner commits, a "write it"
    challenge graded by the autograder (feedback cleared by an edit); Run All and Save;
    the lesson's glossary link opens the workspace's glossary; then `git status
    --porcelain` is what it was before."""
    from playwright.sync_api import expect, sync_playwright

    from lessonkit import bank, workspace

    before = _git_status()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    space = REPO / "test-output" / "workspace"
    shutil.rmtree(space, ignore_errors=True)
    workspace.init(space, out=__import__("io").StringIO())
    env = {"JUPYTER_CONFIG_DIR": str(REPO / "jupyter" / "learner")}
    predict = bank.get("04-predict-db-policy")

    with bh.JupyterLab(space, tmp_path, env=env) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=bh.chromium_path(), headless=True, args=bh.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(lab.url(f"lab/tree/{LEARNER_LESSON}"))
            _wait_for_kernel(page)
            # the learner's JupyterLab: no nbgrader menu or Validate button, no news
            expect(page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")).to_have_count(0)
            expect(page.locator(".jp-Toolbar", has_text="Validate")).to_have_count(0)
            # each lesson once in the file browser (no .py twin)
            listing = page.locator(".jp-DirListing-itemName")
            expect(listing.filter(has_text="04-the-networkpolicy-object")).to_have_count(1)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

            # 1. a self-check, answered wrongly, then rightly
            check = page.locator(".netpol-self-check", has_text="Which pods can it select?")
            expect(check).to_be_visible(timeout=TIMEOUT_MS)
            check.scroll_into_view_if_needed()
            assert "the namespace shop" not in "".join(_cell_sources(space))  # no answer shown
            check.get_by_text("pods of any namespace", exact=True).click()
            check.get_by_role("button", name="Check").click()
            expect(check.locator(".netpol-feedback")).to_contain_text("Not quite")
            check.screenshot(path=str(OUTPUT / "self-check-wrong.png"))
            check.get_by_text("pods of the namespace shop", exact=True).click()
            check.get_by_role("button", name="Check").click()
            expect(check.locator(".netpol-feedback")).to_contain_text("Correct")
            check.screenshot(path=str(OUTPUT / "self-check-right.png"))

            # 2. predict then reveal: the diagram appears only after the prediction
            reveal = page.locator(".netpol-predict-flows").first
            reveal.scroll_into_view_if_needed()
            picture = reveal.locator("img.netpol-reveal-diagram")
            expect(reveal.locator("img")).to_have_count(0)  # not even a hidden answer image
            reveal.get_by_role("button", name="Reveal").click()
            expect(reveal.locator(".netpol-feedback")).to_contain_text("Predict every")
            expect(reveal.locator("img")).to_have_count(0)
            rows = reveal.locator(".widget-toggle-buttons")
            for i, answer in enumerate(predict.answers):
                rows.nth(i).get_by_role("button", name=answer, exact=True).click()
            reveal.get_by_role("button", name="Reveal").click()
            expect(reveal.locator(".netpol-feedback")).to_contain_text("All 4 predictions hold")
            expect(picture).to_be_visible()
            expect(picture).to_have_attribute("src", _BLOB)
            reveal.screenshot(path=str(OUTPUT / "predict-then-reveal.png"))

            # 3. write it: graded by the autograder, feedback cleared by an edit
            write = page.locator(".netpol-write-it").first
            write.scroll_into_view_if_needed()
            write.get_by_role("button", name="Check").click()
            feedback = write.locator(".netpol-grade-feedback")
            expect(feedback).to_contain_text("not passed")
            editor = write.locator(".netpol-yaml-editor textarea")
            image = write.locator("img.netpol-diagram")
            src_before = image.get_attribute("src")
            editor.fill(_passing_answer("three-tier-db"))
            expect(feedback).to_have_text("")
            expect(image).not_to_have_attribute("src", src_before)  # the flows changed
            write.get_by_role("button", name="Check").click()
            expect(feedback).to_contain_text("passed")
            expect(feedback).not_to_contain_text("not passed")
            write.screenshot(path=str(OUTPUT / "write-it.png"))

            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function(
                "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                timeout=TIMEOUT_MS,
            )
            page.screenshot(path=str(OUTPUT / "lesson-04-workspace.png"))

            # 4. the lesson's glossary link works in the learner's JupyterLab
            link = page.locator(".jp-RenderedMarkdown a", has_text="glossary").first
            link.scroll_into_view_if_needed()
            href = link.evaluate("a => a.href")
            response = page.request.get(href)
            assert response.status == 200, f"{href}: HTTP {response.status}"
            assert "# Glossary" in response.text()
            link.click()
            tab = page.locator(".lm-TabBar-tabLabel", has_text="glossary.md")
            expect(tab).to_have_count(1)
        finally:
            browser.close()

    saved = nbformat_read(space / LEARNER_LESSON)
    assert any(cell.get("outputs") for cell in saved.cells if cell.cell_type == "code")
    assert not list(space.glob("*.py")), "saving must not write a jupytext twin"
    after = _git_status()
    if before is not None:
        assert after == before, f"studying changed the repository:\n{after}"


def nbformat_read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _cell_sources(space: Path) -> list[str]:
    return [c.source for c in nbformat_read(space / LEARNER_LESSON).cells]
