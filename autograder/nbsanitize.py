"""Copy-pasted cells made harmless before nbgrader sees them.

Rules of this file:

* Jupyter's copy and paste duplicates a cell together with its nbgrader metadata, so a
  learner who pasted the answer cell hands in two cells with the same ``grade_id``.
  nbgrader's own ``DeduplicateIds`` keeps the LAST of them (it walks the cells backwards)
  and empties the nbgrader metadata of the others, whichever one the learner wrote in
  (and its own ``OverwriteCells`` then fails on the emptied metadata: ``KeyError``).
* :class:`SanitizeCells` runs first among the sanitizing preprocessors
  (``exercises/nbgrader_config.py``).  For each ``grade_id`` held by several cells it keeps
  the last copy the learner ANSWERED in (:func:`answered`: the answer cell no longer holds
  only the released stub) or, when none was answered, the last copy; the other copies stay
  in the notebook as ordinary cells (their text is still visible in the feedback), their
  nbgrader metadata removed.  Duplicate nbformat cell ``id`` values are renamed.
* What it did is written to ``notebook.metadata["npgrade"]["sanitized"]`` (sentences for
  the instructor; :class:`autograder.classroom.SandboxGrades` copies them into the record).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder import sandbox


def answered(cell: Any) -> bool:
    """Whether an answer cell holds more than the released stub (comments and blanks)."""
    source = sandbox.source_text(cell)
    try:
        text = sandbox.extract_answer(source)
    except sandbox.AnswerError:
        return bool(source.strip())  # the learner changed the cell, even if badly
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _keep(cells: Sequence[Any], indices: list[int]) -> int:
    """Which copy of a duplicated grade id to keep: the last answered one, else the last."""
    if not sandbox.nbgrader_meta(cells[indices[0]]).get("solution"):
        return indices[-1]
    done = [i for i in indices if answered(cells[i])]
    return (done or indices)[-1]


def sanitize(cells: Sequence[Any]) -> list[str]:
    """Resolve duplicated grade ids and cell ids in ``cells`` in place; return what was done."""
    notes: list[str] = []
    by_id: dict[str, list[int]] = {}
    for i, cell in enumerate(cells):
        gid = sandbox.nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str):
            by_id.setdefault(gid, []).append(i)
    for gid, indices in sorted(by_id.items()):
        if len(indices) < 2:
            continue
        keep = _keep(cells, indices)
        for i in indices:
            if i != keep:
                # removed, not emptied: nbgrader's OverwriteCells fails on an empty dict
                del cells[i]["metadata"]["nbgrader"]
        notes.append(
            f"cell {gid!r} appeared {len(indices)} times (copy and paste); graded the copy "
            f"at cell {keep + 1}, the others kept as ordinary cells"
        )
    seen: set[str] = set()
    for i, cell in enumerate(cells):
        cid = cell.get("id")
        if isinstance(cid, str) and cid in seen:
            new = f"{cid}-copy{i}"
            cell["id"] = new
            notes.append(f"cell id {cid!r} appeared more than once; renamed to {new!r}")
        if isinstance(cid, str):
            seen.add(cell.get("id", cid))
    return notes


class SanitizeCells(NbGraderPreprocessor):  # type: ignore[misc]
    """Keep the answered copy of each duplicated cell (runs before ``DeduplicateIds``)."""

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        notes = sanitize(nb.cells)
        if notes:
            for note in notes:
                self.log.warning("%s", note)
            nb.metadata.setdefault("npgrade", {})["sanitized"] = notes
        return nb, resources
