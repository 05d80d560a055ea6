"""Write each lesson notebook from its jupytext twin (``lessons/NN-name.py``).

The ``.py`` files (jupytext ``py:percent``) are the source; the ``.ipynb`` files are
written from them with no outputs and stable cell ids, so a rebuild of unchanged sources
changes nothing.  ``--check`` exits 1 (and names the files) when a notebook is out of
date.  Editing a notebook in JupyterLab with jupytext installed updates the ``.py`` twin
too (the pairing is in the notebook's metadata); run this script afterwards to strip the
outputs.

Usage::

    .venv/bin/python tools/build_lessons.py          # rebuild lessons/*.ipynb
    .venv/bin/python tools/build_lessons.py --check  # verify they are in sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def notebook_text(source: Path) -> str:
    """The ``.ipynb`` text for the jupytext file ``source``: no outputs, stable ids."""
    nb = jupytext.read(source)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem[:2]}-{index:03d}"
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def sources() -> list[Path]:
    """Every lesson source, in order."""
    return sorted(LESSONS.glob("[0-9][0-9]-*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for source in sources():
        target = source.with_suffix(".ipynb")
        text = notebook_text(source)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(target)
        if not args.check:
            target.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "out of date" if args.check else "written"
        print(f"{path.relative_to(LESSONS.parent)}: {verb}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
