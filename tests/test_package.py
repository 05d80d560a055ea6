"""The package boundary: what ``import npcore`` loads, and what it offers."""

from __future__ import annotations

import subprocess
import sys

import npcore


def test_import_npcore_loads_no_drawing_widget_or_yaml_library() -> None:
    """npcore is the pure core: matplotlib and ipywidgets live in lessonkit, and PyYAML
    is loaded only when a loader function is first used."""
    code = (
        "import sys, npcore\n"
        "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'yaml') if m in sys.modules))\n"
        "npcore.load_text('')\n"
        "print('yaml' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "True"]


def test_every_public_name_resolves() -> None:
    for name in npcore.__all__:
        assert getattr(npcore, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        npcore.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("npcore.no_such_name should not exist")


_WITHOUT = """
import runpy, sys
sys.modules[{blocked!r}] = None  # as if the extra that brings it were not installed
sys.argv = [{prog!r}, *{args!r}]
runpy.run_module({module!r}, run_name="__main__")
"""


def _run_without(
    blocked: str, module: str, prog: str, args: list[str]
) -> subprocess.CompletedProcess[str]:
    code = _WITHOUT.format(blocked=blocked, module=module, prog=prog, args=args)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_drawing_without_the_lessons_extra_says_what_to_install() -> None:
    done = _run_without(
        "matplotlib", "lessonkit.cli", "npcore-draw", ["docs/examples/shop.yaml", "--port", "80"]
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pip install 'netpol-lab[lessons]'" in done.stderr


def test_classroom_without_the_grading_extra_says_what_to_install() -> None:
    done = _run_without("nbformat", "autograder.classroom", "classroom", ["autograde", "x"])
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "pip install 'netpol-lab[grading]'" in done.stderr
