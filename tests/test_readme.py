"""The README is documentation that runs: its set-up commands and console examples."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from autograder.cli import main as npgrade_main
from npcore.cli import main as npcore_main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLE = re.compile(r"```console\n\$ (?P<cmd>[^\n]+)\n(?P<out>.*?)```", re.S)
MAINS = {"npcore": npcore_main, "npgrade": npgrade_main}


def test_readme_starts_with_exactly_the_two_setup_commands() -> None:
    """The brief: the README opens with one command that opens the course and one that
    runs the whole test suite, and CI runs that same test command."""
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    assert README.index("```sh") < README.index("\n## ")  # before any section
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def _examples() -> list[tuple[str, str]]:
    return [(m["cmd"], m["out"]) for m in EXAMPLE.finditer(README)]


def test_readme_shows_examples_of_both_commands() -> None:
    assert {shlex.split(cmd)[0] for cmd, _ in _examples()} == set(MAINS)


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda v: str(v)[:60])
def test_readme_example(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str, expected: str
) -> None:
    monkeypatch.chdir(ROOT)
    status = None
    if command.endswith("; echo $?"):
        command = command.removesuffix("; echo $?")
        *lines, last = expected.rstrip("\n").splitlines()
        status, expected = int(last), "".join(line + "\n" for line in lines)
    argv = shlex.split(command)
    code = MAINS[argv[0]](argv[1:])
    out, err = capsys.readouterr()
    assert out + err == expected
    if status is not None:
        assert code == status


def test_readme_python_api_example(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Python API block runs, and the values its comments promise are the real ones."""
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    block = next(b for b in blocks if "import npcore" in b)
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert "DENIED: blocked by ingress to shop/db." in capsys.readouterr().out
    for line in block.splitlines():
        if "  # " in line and not line.lstrip().startswith("#"):
            expression, promised = line.split("  # ", 1)
            assert repr(eval(expression.strip(), namespace)) == promised.strip(), line


def test_make_lab_opens_the_first_lesson() -> None:
    """`make lab` serves the learner's workspace and lands on lesson 01 (the URL it prints
    is the lesson's)."""
    import shutil
    import subprocess

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    import os

    # Run as its own make, not as a sub-make of `make test` (which would add
    # "Entering/Leaving directory" lines and inherit flags).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "lab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    commands = [line for line in dry_run.splitlines() if "jupyter lab" in line]
    assert len(commands) == 1, dry_run
    command = commands[0]
    # the learner's workspace (a git-ignored copy of lessons/, see lessonkit.workspace)
    assert f'--ServerApp.root_dir="{ROOT}/workspace"' in command
    assert "--LabApp.default_url=/lab/tree/01-traffic-direction.ipynb" in command
    assert (ROOT / "lessons" / "01-traffic-direction.ipynb").is_file()
