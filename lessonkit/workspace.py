"""The learner's workspace: a git-ignored copy of the lessons that is theirs to change.

Rules of this file:

* ``make lab`` calls :func:`init`: every lesson notebook missing from the workspace is
  copied there; a notebook already there is never touched, so a learner's answers,
  outputs and notes survive every later ``make lab`` (and every ``git pull``).
* The copies are unpaired: the jupytext pairing (``metadata.jupytext``) is removed, so
  saving a lesson in JupyterLab writes only the workspace's ``.ipynb`` and never the
  tracked ``lessons/*.py`` twins or ``lessons/*.ipynb``.
* :func:`reset` gives one lesson a fresh copy; the learner's old copy is kept in
  ``.old/`` inside the workspace (hidden in JupyterLab's file browser), never deleted.

Command line (what the Makefile runs)::

    python -m lessonkit.workspace init  [--dir workspace]
    python -m lessonkit.workspace reset 05 [--dir workspace]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["LESSONS", "init", "lesson_sources", "reset", "workspace_copy"]

LESSONS = Path(__file__).resolve().parent.parent / "lessons"

_README = """\
# Your netpol-lab workspace

These notebooks are your own copies of the lessons (the originals are in `lessons/`).
Write in them, run them, save them: `make lab` never overwrites them.

To start one lesson again from a fresh copy, run in the repository:

    make reset-lesson LESSON=05

Your old copy of that lesson is kept in `.old/` (a hidden folder of this workspace).
"""

# JupyterLab's settings for the learner: no news pop-up, no update check.
_NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def lesson_sources(lessons: Path = LESSONS) -> list[Path]:
    """Every lesson notebook of the course, in order."""
    return sorted(lessons.glob("[0-9][0-9]-*.ipynb"))


def workspace_copy(source: Path) -> str:
    """The text of the learner's copy of ``source``: the same cells, no jupytext pairing."""
    notebook: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    notebook.get("metadata", {}).pop("jupytext", None)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _write_settings(workspace: Path) -> None:
    settings = workspace / ".jupyterlab" / "settings" / "@jupyterlab" / "apputils-extension"
    target = settings / "notification.jupyterlab-settings"
    if not target.exists():
        settings.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(_NOTIFICATION_SETTINGS, indent=2) + "\n", encoding="utf-8")


def init(workspace: Path, lessons: Path = LESSONS, out: TextIO = sys.stdout) -> list[Path]:
    """Copy every lesson missing from ``workspace``; return the copies made."""
    workspace.mkdir(parents=True, exist_ok=True)
    made = []
    for source in lesson_sources(lessons):
        target = workspace / source.name
        if target.exists():
            continue
        target.write_text(workspace_copy(source), encoding="utf-8")
        made.append(target)
    readme = workspace / "README.md"
    if not readme.exists():
        readme.write_text(_README, encoding="utf-8")
    _write_settings(workspace)
    if made:
        print(
            f"netpol-lab: copied {len(made)} lesson(s) into {workspace}/ (yours to edit).", file=out
        )
    else:
        print(
            f"netpol-lab: your workspace {workspace}/ is up to date; nothing overwritten.", file=out
        )
    return made


def _lesson(number: str, lessons: Path) -> Path:
    wanted = number.strip().zfill(2)[:2]
    for source in lesson_sources(lessons):
        if source.name.startswith(f"{wanted}-"):
            return source
    known = ", ".join(s.name[:2] for s in lesson_sources(lessons))
    raise ValueError(f"no lesson {number!r}: the lessons are {known}")


def reset(workspace: Path, number: str, lessons: Path = LESSONS, out: TextIO = sys.stdout) -> Path:
    """Replace the learner's copy of lesson ``number`` with a fresh one; keep the old."""
    source = _lesson(number, lessons)
    target = workspace / source.name
    if target.exists():
        old = workspace / ".old"
        old.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = old / f"{source.stem}-{stamp}.ipynb"
        target.replace(kept)
        print(f"netpol-lab: your old copy is kept as {kept}", file=out)
    workspace.mkdir(parents=True, exist_ok=True)
    target.write_text(workspace_copy(source), encoding="utf-8")
    print(f"netpol-lab: {target} is a fresh copy of lessons/{source.name}", file=out)
    return target


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lessonkit.workspace", description="The learner's copy of the lessons."
    )
    parser.add_argument("command", choices=["init", "reset"])
    parser.add_argument("lesson", nargs="?", help="for reset: the lesson's number, e.g. 05")
    parser.add_argument("--dir", default="workspace", help="the workspace (default: workspace)")
    args = parser.parse_args(argv)
    workspace = Path(args.dir)
    if args.command == "init":
        init(workspace, out=out)
        return 0
    if not args.lesson:
        print("usage: make reset-lesson LESSON=05", file=sys.stderr)
        return 2
    try:
        reset(workspace, args.lesson, out=out)
    except ValueError as error:
        print(f"netpol-lab: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
