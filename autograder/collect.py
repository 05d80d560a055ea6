"""Collecting hand-ins from nbgrader's exchange without trusting what learners put there.

Rules of this file:

* ``python -m autograder.classroom collect ASSIGNMENT`` replaces ``nbgrader collect``.  It
  reads ``EXCHANGE/COURSE_ID/inbound/STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM`` folders (the
  names ``nbgrader submit`` makes) and refuses, with a sentence each:

  - a symbolic link, or anything that is not a plain folder, at the folder's name;
  - a folder whose owner is not the Unix user it names (another learner's folder named
    after you);
  - any symbolic link, hard link or special file inside (never followed, never read);
  - a timestamp in its name later than now (plus :data:`CLOCK_SKEW` seconds);
  - a student name that is not a plain name (``..``, empty).

* ``nbgrader submit`` leaves the folder writable by everyone (mode 0777, so that the
  instructor can delete it), so another learner who guesses its name can add files to it:
  files not owned by the learner are SKIPPED (listed, never copied), so that nobody can
  get a learner's whole hand-in refused.
* Of the accepted folders of each learner the latest is copied into
  ``submitted/STUDENT/ASSIGNMENT/`` (unless the one already there is as recent), read
  without following links and written with :func:`autograder.snapshot.replace_file`, with
  ``timestamp.txt`` taken from the folder's name.
* The tripwire: a collected notebook holding ``### BEGIN SOLUTION`` / ``### END SOLUTION``
  or the text of one of the source notebook's solutions (at least :data:`MIN_SOLUTION_CHARS`
  characters, compared line by line without blanks and indentation) is FLAGGED for the
  instructor.  It is still collected: a flag asks for a look, it is not a verdict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pwd
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.snapshot import read_nofollow, remove_below, replace_file, walk

CLOCK_SKEW = 300.0
MIN_SOLUTION_CHARS = 40
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# answers any correct learner writes the same way (``answer: B``, ``FLOW: allowed``) are
# not solution text worth a flag
ANSWER_LINE = re.compile(r"^(answer:\s*\S+|.+:\s*(allowed|denied))$")
STUDENT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]*$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One inbound folder, as its name describes it."""

    path: Path
    student: str
    timestamp: dt.datetime | None


@dataclass
class CollectReport:
    """What :func:`collect` did: collected, refused (with why) and flagged hand-ins."""

    collected: dict[str, str] = field(default_factory=dict)  # student -> timestamp
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (inbound name, why)
    flagged: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"collected {s} (submitted {t})" for s, t in sorted(self.collected.items())]
        out += [f"unchanged {s}: no newer submission" for s in sorted(self.unchanged)]
        out += [f"REFUSED {name}: {why}" for name, why in self.refused]
        for student, why in sorted(self.skipped.items()):
            out += [f"SKIPPED in {student}'s hand-in: {w}" for w in why]
        for student, why in sorted(self.flagged.items()):
            out += [f"FLAGGED {student}: {w}" for w in why]
        return out


def _parse_time(text: str) -> dt.datetime | None:
    from nbgrader.utils import parse_utc

    try:
        value = parse_utc(text)
    except (ValueError, TypeError, OverflowError):
        return None
    return value if isinstance(value, dt.datetime) else None


def _entries(inbound: Path, assignment: str) -> list[Entry]:
    out = []
    for entry in sorted(os.scandir(inbound), key=lambda e: e.name):
        parts = entry.name.rsplit("+", 3)
        if len(parts) >= 3 and parts[1] == assignment:
            out.append(Entry(Path(entry.path), parts[0], _parse_time(parts[2])))
    return out


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user id {uid}"


def refusal(entry: Entry, now: dt.datetime, skew: float = CLOCK_SKEW) -> str | None:
    """Why ``entry`` must not be collected, or None when it may be."""
    if not STUDENT_NAME.match(entry.student):
        return f"{entry.student!r} is not a student name"
    st = os.lstat(entry.path)
    if stat.S_ISLNK(st.st_mode):
        return "the inbound entry is a symbolic link; links are never followed"
    if not stat.S_ISDIR(st.st_mode):
        return "the inbound entry is not a folder"
    try:
        uid = pwd.getpwnam(entry.student).pw_uid
    except KeyError:
        return f"there is no user {entry.student!r}, so the folder's owner cannot be checked"
    if st.st_uid != uid:
        return f"the folder names {entry.student} but is owned by {_owner_name(st.st_uid)}"
    if entry.timestamp is None:
        return "the timestamp in the folder's name cannot be read"
    if entry.timestamp > now + dt.timedelta(seconds=skew):
        return f"its timestamp {entry.timestamp.isoformat()} is in the future"
    for path, pst in walk(entry.path):
        rel = path.relative_to(entry.path)
        if stat.S_ISLNK(pst.st_mode):
            return f"{rel} is a symbolic link; links are never followed"
        if not (stat.S_ISDIR(pst.st_mode) or stat.S_ISREG(pst.st_mode)):
            return f"{rel} is a special file"
        if stat.S_ISREG(pst.st_mode) and pst.st_nlink > 1:
            return f"{rel} is a hard link"
    return None


def _norm_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def solution_texts(source_dir: Path) -> dict[str, str]:
    """``{cell name: normalised solution text}`` of the source notebooks' solution regions."""
    out: dict[str, str] = {}
    for path in sorted(source_dir.glob("*.ipynb")):
        nb = json.loads(read_nofollow(path).decode("utf-8"))
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if not meta.get("solution"):
                continue
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            region = src.split(BEGIN, 1)[-1].split(END, 1)[0]
            lines = _norm_lines(region)
            text = "\n".join(lines)
            if len(text) >= MIN_SOLUTION_CHARS and not all(ANSWER_LINE.match(x) for x in lines):
                out[str(meta.get("grade_id"))] = text
    return out


def tripwire(notebook: bytes, solutions: dict[str, str]) -> list[str]:
    """Sentences for every trace of solution text in a submitted notebook."""
    try:
        nb = json.loads(notebook.decode("utf-8"))
        cells = [c for c in nb["cells"] if isinstance(c, dict)]
    except (ValueError, KeyError, TypeError, RecursionError):
        return ["the notebook cannot be read, so it could not be checked for solution text"]
    found: list[str] = []
    for i, cell in enumerate(cells, 1):
        src = cell.get("source", "")
        src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else str(src)
        if BEGIN in src or END in src:
            found.append(f"cell {i} contains the solution marker {BEGIN!r}")
        text = "\n".join(_norm_lines(src))
        for name, solution in sorted(solutions.items()):
            if solution in text:
                found.append(f"cell {i} contains the source's solution of {name!r} verbatim")
    return found


def _existing_time(folder: Path) -> dt.datetime | None:
    try:
        return _parse_time(read_nofollow(folder / "timestamp.txt", 1000).decode().strip())
    except (OSError, UnicodeDecodeError):
        return None


def _copy_entry(entry: Entry, dest: Path, course: Path) -> list[str]:
    """Copy the learner's own files of ``entry`` to ``dest``; return the files skipped."""
    uid = pwd.getpwnam(entry.student).pw_uid
    remove_below(course, dest.relative_to(course))
    skipped = []
    for path, st in walk(entry.path):
        if not stat.S_ISREG(st.st_mode):
            continue
        inside = path.relative_to(entry.path)
        if st.st_uid != uid or str(inside) == "timestamp.txt":
            if st.st_uid != uid:
                skipped.append(f"{inside} is owned by {_owner_name(st.st_uid)}")
            continue
        replace_file(course, dest.relative_to(course) / inside, read_nofollow(path))
    assert entry.timestamp is not None
    stamp = entry.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC").encode()
    replace_file(course, dest.relative_to(course) / "timestamp.txt", stamp)
    return skipped


def _latest(accepted: Iterable[Entry]) -> dict[str, Entry]:
    best: dict[str, Entry] = {}
    for entry in accepted:
        assert entry.timestamp is not None
        old = best.get(entry.student)
        if old is None or (old.timestamp is not None and entry.timestamp > old.timestamp):
            best[entry.student] = entry
    return best


def collect(
    assignment: str,
    *,
    course: Path,
    exchange: Path,
    course_id: str,
    now: dt.datetime | None = None,
) -> CollectReport:
    """Collect ``assignment`` from ``exchange`` into ``course/submitted`` (see the rules)."""
    course = Path(course).resolve()
    inbound = Path(exchange) / course_id / "inbound"
    if not inbound.is_dir() or inbound.is_symlink():
        raise ValueError(f"no inbound folder at {inbound}")
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    report = CollectReport()
    accepted = []
    for entry in _entries(inbound, assignment):
        why = refusal(entry, now)
        if why:
            report.refused.append((entry.path.name, why))
        else:
            accepted.append(entry)
    solutions = solution_texts(course / "source" / assignment)
    for student, entry in sorted(_latest(accepted).items()):
        dest = course / "submitted" / student / assignment
        linked = any(p.is_symlink() for p in (dest.parent.parent, dest.parent, dest))
        old = None if linked else _existing_time(dest)
        assert entry.timestamp is not None
        if old is not None and old >= entry.timestamp:
            report.unchanged.append(student)
        else:
            skipped = _copy_entry(entry, dest, course)
            if skipped:
                report.skipped[student] = skipped
            report.collected[student] = entry.timestamp.isoformat(sep=" ")
        flags: list[str] = []
        for path, st in walk(dest):
            if stat.S_ISREG(st.st_mode) and path.suffix == ".ipynb":
                hits = tripwire(read_nofollow(path, MAX_NOTEBOOK_BYTES), solutions)
                flags += [f"{path.name}: {h}" for h in hits]
        if flags:
            report.flagged[student] = flags
    return report


def _config_value(course: Path, section: str, key: str) -> Any:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return cfg[section].get(key) if section in cfg else None


def run(args: argparse.Namespace) -> int:
    course = Path(args.course).resolve()
    exchange = args.exchange or _config_value(course, "Exchange", "root")
    course_id = args.course_id or _config_value(course, "CourseDirectory", "course_id")
    if not exchange or not course_id:
        print("collect: give --exchange and --course-id (or set them in nbgrader_config.py)")
        return 2
    try:
        report = collect(
            args.assignment, course=course, exchange=Path(exchange), course_id=course_id
        )
    except ValueError as exc:
        print(f"collect: {exc}")
        return 2
    for line in report.lines():
        print(line)
    print(
        f"{len(report.collected)} collected, {len(report.unchanged)} unchanged, "
        f"{len(report.refused)} refused, {len(report.flagged)} flagged"
    )
    return 1 if report.refused or report.flagged else 0


def add_parser(sub: Any, default_course: Path) -> None:
    p = sub.add_parser(
        "collect", help="collect hand-ins from the exchange (replaces nbgrader collect)"
    )
    p.add_argument("assignment")
    p.add_argument("--course", type=Path, default=default_course)
    p.add_argument("--exchange", type=Path, help="exchange root (default: Exchange.root)")
    p.add_argument("--course-id", help="course id (default: CourseDirectory.course_id)")
    p.set_defaults(run=run)
