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
