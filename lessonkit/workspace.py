"""The learner's workspace: a git-ignored copy of the lessons that is theirs to change.

Rules of this file:

* ``make lab`` calls :func:`init`: every lesson notebook missing from the workspace is
  copied there; a notebook already there is never touched, so a learner's answers,
  outputs and notes survive every later ``make lab`` (and every ``git pull``).
* The copies are unpaired: the jupytext pairing (``metadata.jupytext``) is removed, so
  saving a lesson in JupyterLab writes only the workspace's ``.ipynb`` and never the
  tracked ``lessons/*.py`` twins or ``lessons/*.ipynb``.
* Every link of a lesson works where the learner reads it: JupyterLab serves only the
  workspace, so course pages the lessons link to (:data:`COURSE_PAGES`, the glossary) are
  copied in beside the lessons, and relative links between lessons and those pages are
  rewritten to the workspace's layout (``../docs/glossary.md`` -> ``glossary.md``,
  ``../lessons/05-....ipynb`` -> ``05-....ipynb``).  A course page is refreshed when the
  tracked one changes, unless the learner changed their copy (their file wins; a
  fingerprint of what was copied, in ``.netpol-lab/copied.json``, tells the two apart).
* :func:`reset` gives one lesson a fresh copy; the learner's old copy is kept in
  ``.old/`` inside the workspace (hidden in JupyterLab's file browser), never deleted.

Command line (what the Makefile runs)::

    python -m lessonkit.workspace init  [--dir workspace]
    python -m lessonkit.workspace reset 05 [--dir workspace]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "COURSE_PAGES",
    "LESSONS",
    "init",
    "lesson_sources",
    "relative_links",
    "reset",
    "workspace_copy",
    "workspace_links",
]

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
# Course pages the lessons link to, as paths from the repository root; each is copied
# into the workspace under its own name.
COURSE_PAGES = ("docs/glossary.md",)
_STATE = Path(".netpol-lab") / "copied.json"

# A Markdown link or image: [text](target) / ![alt](target "title").
_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")

_README = """\
# Your netpol-lab workspace

These notebooks are your own copies of the lessons (the originals are in `lessons/`).
Write in them, run them, save them: `make lab` never overwrites them.

To start one lesson again from a fresh copy, run in the repository:

    make reset-lesson LESSON=05

Your old copy of that lesson is kept in `.old/` (a hidden folder of this workspace).

`glossary.md` is the course's glossary, which every lesson links to. `make lab` refreshes
it when the course's glossary changes, unless you have changed it yourself.
"""

# JupyterLab's settings for the learner: no news pop-up, no update check.
_NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def lesson_sources(lessons: Path = LESSONS) -> list[Path]:
    """Every lesson notebook of the course, in order."""
    return sorted(lessons.glob("[0-9][0-9]-*.ipynb"))


def relative_links(text: str) -> list[str]:
    """The relative link targets of Markdown ``text`` (no URLs, no in-page anchors)."""
    targets = []
    for match in _LINK.finditer(text):
        target = match.group(2)
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            continue
        targets.append(target)
    return targets


def _workspace_names(lessons: Path) -> dict[str, str]:
    """Repository path (from the root) -> its name in the workspace, for every file the
    workspace holds a copy of."""
    names = {f"lessons/{p.name}": p.name for p in lesson_sources(lessons)}
    names.update({page: posixpath.basename(page) for page in COURSE_PAGES})
    return names


def workspace_links(text: str, where: str, lessons: Path = LESSONS) -> str:
    """``text`` (Markdown of the repository file ``where``, e.g. ``lessons/05-x.ipynb``)
    with each relative link to a file the workspace copies pointing at that copy."""
    names = _workspace_names(lessons)
    base = posixpath.dirname(where)

    def rewrite(match: re.Match[str]) -> str:
        target = match.group(2)
        if target not in relative_links(match.group(0)):
            return match.group(0)
        path, hash_, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(base, path))
        if resolved not in names:
            return match.group(0)
        return f"{match.group(1)}{names[resolved]}{hash_}{anchor}{match.group(3)}"

    return _LINK.sub(rewrite, text)


def workspace_copy(source: Path) -> str:
    """The text of the learner's copy of ``source``: the same cells, no jupytext pairing,
    and links that work in the workspace (see :func:`workspace_links`)."""
    notebook: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    notebook.get("metadata", {}).pop("jupytext", None)
    where = f"lessons/{source.name}"
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = workspace_links(text, where, source.parent).splitlines(keepends=True)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _copy_pages(workspace: Path, lessons: Path, out: TextIO) -> list[Path]:
    """Copy (or refresh) each course page; never overwrite a page the learner changed."""
    state_file = workspace / _STATE
    try:
        state: dict[str, str] = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    made = []
    for page in COURSE_PAGES:
        source = lessons.parent / page
        if not source.exists():
            continue
        text = workspace_links(source.read_text(encoding="utf-8"), page, lessons)
        target = workspace / posixpath.basename(page)
        if target.exists():
            current = _fingerprint(target.read_text(encoding="utf-8"))
            if current == _fingerprint(text):
                state[target.name] = current
                continue
            if state.get(target.name) != current:
                print(
                    f"netpol-lab: {target} is yours (you changed it): not refreshed; "
                    f"the course's version is {page}",
                    file=out,
                )
                continue
        target.write_text(text, encoding="utf-8")
        state[target.name] = _fingerprint(text)
        made.append(target)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return made


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
    for page in _copy_pages(workspace, lessons, out):
        print(f"netpol-lab: copied the course page {page.name} into {workspace}/", file=out)
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
