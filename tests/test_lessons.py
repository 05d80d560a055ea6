"""The lessons: committed without outputs, in sync with their jupytext twins, in the
course's shape, and executable top to bottom in a fresh python3 kernel."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]-*.ipynb"))
EXPECTED = [
    "01-traffic-direction",
    "02-three-tier-rules",
    "03-kubernetes-networking",
    "04-the-networkpolicy-object",
    "05-three-tier-policy",
    "06-enforcement-and-cnis",
    "07-exam-practice",
    "08-limits-and-drills",
]
MAX_CODE_LINES = 20
PRACTISE = "Practise: graded exercises and drills"
# A cell may only name a self-check or a challenge: their content lives in lessonkit.
QUIZ_CALL = re.compile(r"\bquiz\.(\w+)\(")
SHOW = re.compile(r'^quiz\.show\("([0-9]{2}-[a-z0-9-]+)"\)$')
CHALLENGE = re.compile(r'^quiz\.challenge\("([0-9]{2}-[a-z0-9-]+)", grade\)$')
# Drawing by hand in a cell: diagrams come from lessonkit.diagrams only.
HAND_DRAWING = re.compile(r"\bax\.(plot|arrow|annotate|text|add_patch|scatter|bar)\(|patches\.")

ids = [p.stem for p in LESSONS]


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_lessons", ROOT / "tools/build_lessons.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _sections(nb: nbformat.NotebookNode) -> dict[str, list[nbformat.NotebookNode]]:
    """Cells by their ``## `` heading (the heading cell included)."""
    sections: dict[str, list[nbformat.NotebookNode]] = {}
    current = None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = cell.source.splitlines()[0][3:].strip()
            sections[current] = []
        if current is not None:
            sections[current].append(cell)
    return sections


def test_the_course_has_its_lessons_in_order() -> None:
    assert [p.stem for p in LESSONS] == EXPECTED
    # the Makefile's `make lab` opens the learner's copy of the first lesson by this name
    assert "/lab/tree/01-traffic-direction.ipynb" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_no_outputs_on_disk(path: Path) -> None:
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has stored outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_no_outputs_in_git(path: Path) -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    rel = path.relative_to(ROOT).as_posix()
    shown = subprocess.run(
        [git, "show", f"HEAD:{rel}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:
        pytest.skip(f"{rel} is not committed yet")
    nb = nbformat.reads(shown.stdout, as_version=4)
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_notebook_is_built_from_its_jupytext_twin(path: Path) -> None:
    source = path.with_suffix(".py")
    assert source.exists(), f"{source.name} is missing"
    expected = _load_builder().notebook_text(source)
    assert path.read_text(encoding="utf-8") == expected, (
        f"{path.name} is out of date: run .venv/bin/python tools/build_lessons.py"
    )


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_lesson_shape(path: Path) -> None:
    nb = _read(path)
    front = nb.cells[0]
    assert front.cell_type == "markdown"
    assert front.source.startswith(f"# {path.stem[:2]} · ")
    for part in ("**Time:**", "minutes", "**Questions**", "**Objectives**"):
        assert part in front.source, f"{path.name}: the front cell lacks {part}"
    sections = _sections(nb)
    names = list(sections)
    assert names[-3:] == ["Key points", "Try it on a real cluster", PRACTISE]
    assert "- " in sections["Key points"][0].source
    assert "kubectl" in sections["Try it on a real cluster"][0].source
    numbered = names[:-3]
    assert numbered, f"{path.name}: no sections"
    for n, name in enumerate(numbered, start=1):
        assert name.startswith(f"{n}. "), f"{path.name}: section {name!r} is not number {n}"
        checks = [c for c in sections[name] if c.cell_type == "code" and "quiz." in c.source]
        assert checks, f"{path.name}: section {name!r} has no self-check"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_cells_stay_small_and_never_draw_by_hand(path: Path) -> None:
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.splitlines()
        assert len(lines) <= MAX_CODE_LINES, f"{path.name}: a {len(lines)}-line code cell"
        assert not HAND_DRAWING.search(cell.source), f"{path.name}: drawing by hand"
        assert "def " not in cell.source and "class " not in cell.source, (
            f"{path.name}: helpers belong in lessonkit, not in cells"
        )


def test_the_explorer_cell_of_lesson_06() -> None:
    """The browser test switches the CNI of this explorer: a cell of its own, last expr."""
    nb = _read(ROOT / "lessons/06-enforcement-and-cnis.ipynb")
    cells = [c for c in nb.cells if c.cell_type == "code" and "FlowExplorer(" in c.source]
    # the browser test switches the first (the locked-down shop); section 7 has a second
    # (the metadata-blocking ipBlock on Calico and Cilium)
    assert len(cells) == 2 and "three_tier(lockdown=True)" in cells[0].source
    for cell in cells:
        source = cell.source
        assert source.startswith("FlowExplorer(")
        assert source.rstrip().endswith(")") and "=" not in source.splitlines()[0]


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_lesson_executes(path: Path) -> None:
    from nbclient import NotebookClient

    nb = _read(path)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    widgets = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "raises-exception" in cell.metadata.get("tags", []):
            assert errors, f"{path.name}: a raises-exception cell did not raise:\n{cell.source}"
        else:
            assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
        for o in cell.outputs:
            data = o.get("data", {})
            # a self-check shows as a widget, with its question as the plain-text form
            if "application/vnd.jupyter.widget-view+json" in data and data["text/plain"].startswith(
                ("Self-check: ", "Fix this policy: ", "Write it: ")
            ):
                widgets += 1
    assert widgets >= 3, f"{path.name}: only {widgets} self-check widgets displayed"


def test_readme_lists_each_lesson_with_its_time() -> None:
    readme = (ROOT / "lessons/README.md").read_text(encoding="utf-8")
    for path in LESSONS:
        front = _read(path).cells[0].source
        minutes = re.search(r"\*\*Time:\*\* (\d+) minutes", front)
        assert minutes, f"{path.name}: no '**Time:** N minutes' in the front cell"
        row = re.search(
            rf"^\| {path.stem[:2]} \| \[.*?\]\({re.escape(path.name)}\) \| (\d+) \|", readme, re.M
        )
        assert row, f"lessons/README.md has no row for {path.name}"
        assert row.group(1) == minutes.group(1), f"{path.name}: README and lesson disagree"


def test_build_script_check_mode_finds_and_fixes_a_stale_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = _load_builder()
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(ROOT / "lessons/01-traffic-direction.py", lessons)
    monkeypatch.setattr(builder, "LESSONS", lessons)
    assert builder.main(["--check"]) == 1  # no notebook yet
    assert "lessons/01-traffic-direction.ipynb: out of date" in capsys.readouterr().out
    assert builder.main([]) == 0
    written = (lessons / "01-traffic-direction.ipynb").read_text(encoding="utf-8")
    assert written == (ROOT / "lessons/01-traffic-direction.ipynb").read_text(encoding="utf-8")
    assert builder.main(["--check"]) == 0
    nb = nbformat.reads(written, as_version=4)
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def _code(path: Path) -> list[str]:
    return [c.source for c in _read(path).cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_self_checks_are_named_never_written_in_a_cell(path: Path) -> None:
    """Options, answers, explanations and hints stay in lessonkit.bank: a cell only says
    which check to show (quiz.show) or which challenge to open (quiz.challenge)."""
    from lessonkit import bank
    from lessonkit.challenges import CHALLENGES

    for source in _code(path):
        calls = QUIZ_CALL.findall(source)
        assert set(calls) <= {"show", "challenge"}, f"{path.name}: quiz.{calls} in a cell"
        for line in source.splitlines():
            if line.startswith("quiz.show("):
                match = SHOW.match(line)
                assert match and match.group(1) in bank.CHECKS, line
                assert match.group(1).startswith(path.stem[:2]), line
            if line.startswith("quiz.challenge("):
                match = CHALLENGE.match(line)
                assert match and match.group(1) in CHALLENGES, line
                assert match.group(1).startswith(path.stem[:2]), line


def test_every_self_check_is_shown_exactly_once() -> None:
    from lessonkit import bank

    shown = [m.group(1) for p in LESSONS for s in _code(p) for m in [SHOW.match(s)] if m]
    assert sorted(shown) == bank.ids()


@pytest.mark.parametrize("path", [p for p in LESSONS if p.stem >= "04"], ids=lambda p: p.stem)
def test_every_lesson_from_04_on_has_a_write_it_challenge(path: Path) -> None:
    challenges = [s for s in _code(path) if "quiz.challenge(" in s]
    assert challenges, f"{path.name}: no write-it challenge"
    # the grader is wired in by the cell itself (lessonkit never imports autograder)
    assert any("from autograder.grade import grade" in s for s in _code(path))


def _exercise_lessons() -> dict[str, str]:
    import yaml

    out = {}
    for definition in sorted((ROOT / "autograder" / "exercises").glob("*.yaml")):
        data = yaml.safe_load(definition.read_text(encoding="utf-8"))
        out[data["id"]] = str(data.get("lesson", ""))
    return out


def test_each_lesson_ends_pointing_to_its_exercises_and_drills() -> None:
    exercises = _exercise_lessons()
    listed_anywhere: set[str] = set()
    for path in LESSONS:
        practise = _sections(_read(path))[PRACTISE]
        text = "\n".join(c.source for c in practise)
        assert "npgrade list" in text and "npgrade drill" in text
        listed = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", text)) - {"npgrade"}
        unknown = listed - set(exercises)
        assert not unknown, f"{path.name} lists exercises that do not exist: {unknown}"
        assert listed, f"{path.name}: no exercise listed"
        mine = {i for i, lesson in exercises.items() if lesson == path.stem[:2]}
        assert mine <= listed, f"{path.name} misses its exercises {mine - listed}"
        listed_anywhere |= listed
    assert listed_anywhere == set(exercises), set(exercises) - listed_anywhere
