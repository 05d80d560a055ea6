"""The learner's workspace (lessonkit.workspace, `make lab`, `make reset-lesson`): copies
made once and never overwritten, unpaired from jupytext, git-ignored; and the learner's
Jupyter configuration that hides nbgrader and the news pop-up."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lessonkit import workspace

ROOT = Path(__file__).resolve().parent.parent


def test_init_copies_every_lesson_once_and_never_overwrites(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    made = workspace.init(ws, out=io.StringIO())
    names = sorted(p.name for p in ws.glob("*.ipynb"))
    assert names == [p.name for p in workspace.lesson_sources()]
    assert len(made) == len(names) == 8
    assert not list(ws.glob("*.py")), "each lesson must show once in the file browser"
    mine = ws / names[0]
    mine.write_text(mine.read_text(encoding="utf-8").replace("Ingress", "MY NOTE"), "utf-8")
    out = io.StringIO()
    assert workspace.init(ws, out=out) == []
    assert "MY NOTE" in mine.read_text(encoding="utf-8")
    assert "nothing overwritten" in out.getvalue()


def test_copies_are_not_paired_with_the_jupytext_twins(tmp_path: Path) -> None:
    source = workspace.lesson_sources()[0]
    assert "jupytext" in json.loads(source.read_text(encoding="utf-8"))["metadata"]
    copy = json.loads(workspace.workspace_copy(source))
    assert "jupytext" not in copy["metadata"]
    original = json.loads(source.read_text(encoding="utf-8"))["cells"]
    assert [c["cell_type"] for c in copy["cells"]] == [c["cell_type"] for c in original]
    code = [c["source"] for c in original if c["cell_type"] == "code"]
    assert [c["source"] for c in copy["cells"] if c["cell_type"] == "code"] == code


def _markdown_of(path: Path) -> str:
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join(
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in cells
        if c["cell_type"] == "markdown"
    )


def test_every_relative_link_resolves_in_the_workspace(tmp_path: Path) -> None:
    """JupyterLab serves only the workspace: every relative link of every lesson (and of
    every course page copied beside them) must name a file inside it."""
    ws = tmp_path / "ws"
    workspace.init(ws, out=io.StringIO())
    pages = sorted(ws.glob("*.ipynb")) + sorted(ws.glob("*.md"))
    checked = 0
    broken = []
    for page in pages:
        for target in workspace.relative_links(_markdown_of(page)):
            resolved = (page.parent / target.split("#")[0]).resolve()
            checked += 1
            if not resolved.is_file() or ws.resolve() not in resolved.parents:
                broken.append(f"{page.name}: ({target})")
    assert not broken, "links that 404 in the learner's JupyterLab:\n" + "\n".join(broken)
    assert checked >= 8 + 10  # each lesson links the glossary; the glossary links lessons
    glossary = (ws / "glossary.md").read_text(encoding="utf-8")
    assert glossary.startswith("# Glossary")
    for lesson in ws.glob("*.ipynb"):
        assert "(glossary.md)" in _markdown_of(lesson), lesson.name


def test_the_link_rewrite_keeps_what_the_workspace_does_not_hold() -> None:
    text = (
        "[g](../docs/glossary.md) [a](../lessons/05-three-tier-policy.ipynb#top) "
        "[u](https://kubernetes.io/x.md) [in](#here) [other](../docs/nbgrader.md)"
    )
    assert workspace.workspace_links(text, "lessons/01-traffic-direction.ipynb") == (
        "[g](glossary.md) [a](05-three-tier-policy.ipynb#top) "
        "[u](https://kubernetes.io/x.md) [in](#here) [other](../docs/nbgrader.md)"
    )
    assert workspace.relative_links(text) == [
        "../docs/glossary.md",
        "../lessons/05-three-tier-policy.ipynb#top",
        "../docs/nbgrader.md",
    ]


def test_course_pages_are_refreshed_but_a_learners_edit_wins(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "lessons").mkdir(parents=True)
    (course / "docs").mkdir()
    shutil.copy(workspace.lesson_sources()[0], course / "lessons")
    tracked = course / "docs" / "glossary.md"
    tracked.write_text("# Glossary\n\nv1 ([01](../lessons/01-a.ipynb))\n", encoding="utf-8")
    ws = tmp_path / "ws"
    workspace.init(ws, lessons=course / "lessons", out=io.StringIO())
    copy = ws / "glossary.md"
    assert copy.read_text(encoding="utf-8") == "# Glossary\n\nv1 ([01](../lessons/01-a.ipynb))\n"
    tracked.write_text("# Glossary\n\nv2\n", encoding="utf-8")
    out = io.StringIO()
    workspace.init(ws, lessons=course / "lessons", out=out)
    assert copy.read_text(encoding="utf-8") == "# Glossary\n\nv2\n", "refreshed"
    assert "glossary.md" in out.getvalue()
    copy.write_text("# Glossary\n\nv2 and MY NOTE\n", encoding="utf-8")
    tracked.write_text("# Glossary\n\nv3\n", encoding="utf-8")
    out = io.StringIO()
    workspace.init(ws, lessons=course / "lessons", out=out)
    assert "MY NOTE" in copy.read_text(encoding="utf-8"), "a learner's edit is never overwritten"
    assert "is yours" in out.getvalue()


def test_reset_gives_a_fresh_copy_and_keeps_the_old(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    workspace.init(ws, out=io.StringIO())
    lesson = next(ws.glob("05-*.ipynb"))
    lesson.write_text("{}", encoding="utf-8")
    workspace.reset(ws, "5", out=io.StringIO())
    assert lesson.read_text(encoding="utf-8") == workspace.workspace_copy(
        workspace.LESSONS / lesson.name
    )
    kept = list((ws / ".old").glob("05-*.ipynb"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{}"
    with pytest.raises(ValueError, match="no lesson '42'"):
        workspace.reset(ws, "42", out=io.StringIO())


def test_reset_without_a_lesson_says_how(capsys: pytest.CaptureFixture[str]) -> None:
    assert workspace.main(["reset"]) == 2
    assert "make reset-lesson LESSON=05" in capsys.readouterr().err


def test_the_workspace_is_git_ignored() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        [git, "check-ignore", "-q", "workspace/01-traffic-direction.ipynb"], cwd=ROOT, check=False
    )
    assert result.returncode == 0


def test_learner_config_hides_nbgrader_and_the_news() -> None:
    config = ROOT / "jupyter" / "learner"
    page = json.loads((config / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"]["@jupyter/nbgrader"] is True
    assert page["disabledExtensions"]["@jupyterlab/apputils-extension:announcements"] is True
    server = json.loads((config / "jupyter_server_config.json").read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions and not any(extensions.values())
    assert all(name.startswith("nbgrader.") for name in extensions)
    assert server["LabApp"]["news_url"] is None


def test_make_lab_serves_the_workspace_with_the_learner_config() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "lessonkit.workspace init" in dry_run
    assert "netpol-lab: [3/3] installing" in dry_run  # the install says what it does
    command = next(line for line in dry_run.splitlines() if "jupyter lab" in line)
    assert f'JUPYTER_CONFIG_DIR="{ROOT}/jupyter/learner"' in command
    assert f'--ServerApp.root_dir="{ROOT}/workspace"' in command
    reset = subprocess.run(
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "reset-lesson", "LESSON=03"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert 'lessonkit.workspace reset "03"' in reset
    instructor = subprocess.run(
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "instructor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert "JUPYTER_CONFIG_DIR" not in instructor and "exercises" in instructor
