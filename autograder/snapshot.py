"""Snapshots of a course that never follow links, and restores that never write through them.

Rules of this file:

* :meth:`Snapshot.take` walks its roots with ``lstat`` only.  A symbolic link, a hard-linked
  file (``st_nlink > 1``) or anything that is neither a regular file nor a folder is never
  read or followed: it is recorded as a :class:`LinkProblem` with a sentence saying what it
  is, and the caller decides who it concerns (:func:`autograder.classroom.autograde` refuses
  to grade the learner whose folder holds it, or stops when it is in the instructor's
  ``source/`` or ``release/``).
* Files are read with ``O_NOFOLLOW`` after the walk, so a link planted between the walk and
  the read is refused too.
* :meth:`Snapshot.restore` replaces files, never writes through them: it walks down from
  the root with directory descriptors opened ``O_NOFOLLOW``, removes a link or a file found
  where a folder must be, writes the bytes to a fresh temporary file and renames it over the
  path (a rename replaces a link, it does not follow it).  Files and folders planted under a
  root are removed; removal never follows a link either.
* Code roots are only hashed (:meth:`Snapshot.code_changes`), so that a change to the grading
  code stops the recording of grades.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SKIPPED_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints"})


@dataclass(frozen=True, slots=True)
class LinkProblem:
    """A path a snapshot refuses to follow or read: a link or a special file."""

    path: Path
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}; refused (links are never followed)"


def _kind(st: os.stat_result) -> str | None:
    """Why ``st`` is refused, or None for a plain file or folder."""
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISREG(st.st_mode):
        return f"a hard link ({st.st_nlink} names for one file)" if st.st_nlink > 1 else None
    if stat.S_ISDIR(st.st_mode):
        return None
    return "a special file (not a regular file or folder)"


def walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every path under ``root`` (root included) with its ``lstat``; links are not entered."""
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        return
    yield root, st
    if not stat.S_ISDIR(st.st_mode):
        return
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name in SKIPPED_NAMES:
            continue
        yield from walk(Path(entry.path))


def read_nofollow(path: Path, limit: int | None = None) -> bytes:
    """The bytes of regular file ``path``; raises ``OSError`` for a link or a special file."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            raise OSError(f"{path}: not a regular file with one name")
        if limit is not None and st.st_size > limit:
            raise OSError(f"{path}: larger than {limit} bytes")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            if limit is not None and sum(map(len, chunks)) > limit:
                raise OSError(f"{path}: larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _open_dir(parent_fd: int, name: str, create: bool) -> int:
    """Open folder ``name`` under ``parent_fd`` without following links.

    When ``create``, whatever is in the way (a link, a file) is removed and a folder made.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(name, flags, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            raise
    except (NotADirectoryError, OSError):
        if not create:
            raise
        st = os.lstat(name, dir_fd=parent_fd)
        if stat.S_ISDIR(st.st_mode):
            raise
        os.unlink(name, dir_fd=parent_fd)
    os.mkdir(name, 0o755, dir_fd=parent_fd)
    return os.open(name, flags, dir_fd=parent_fd)


def replace_file(base: Path, relative: Path, content: bytes, mode: int = 0o644) -> None:
    """Write ``content`` at ``base/relative`` by renaming a fresh file over it.

    No component below ``base`` is followed if it is a link: links and files in the way of
    a folder are replaced by folders, and a link at the file's own name is replaced, so the
    bytes never land anywhere but at that path.
    """
    parts = relative.parts
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in parts[:-1]:
            nxt = _open_dir(fd, name, create=True)
            os.close(fd)
            fd = nxt
        tmp = f".{parts[-1]}.npgrade-restore"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=fd)
        out = os.open(
            tmp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            mode,
            dir_fd=fd,
        )
        try:
            os.write(out, content)
        finally:
            os.close(out)
        st = _lstat_at(fd, parts[-1])
        if st is not None and stat.S_ISDIR(st.st_mode):
            shutil.rmtree(os.path.join(f"/proc/self/fd/{fd}", parts[-1]))
        os.rename(tmp, parts[-1], src_dir_fd=fd, dst_dir_fd=fd)
    finally:
        os.close(fd)


def _lstat_at(fd: int, name: str) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=fd)
    except FileNotFoundError:
        return None


def remove_below(base: Path, relative: Path) -> None:
    """Remove ``base/relative`` (file, link or folder) without following any link below ``base``.

    A link or a file found where a folder of the path should be is removed instead (what it
    points to is never touched), since nothing of the path can exist behind it.
    """
    parts = relative.parts
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, name in enumerate(parts):
            st = _lstat_at(fd, name)
            if st is None:
                return
            last = i == len(parts) - 1
            if stat.S_ISDIR(st.st_mode) and not last:
                nxt = _open_dir(fd, name, create=False)
                os.close(fd)
                fd = nxt
            elif stat.S_ISDIR(st.st_mode):
                shutil.rmtree(os.path.join(f"/proc/self/fd/{fd}", name))
            else:
                os.unlink(name, dir_fd=fd)
                return
    finally:
        os.close(fd)


def remove_path(path: Path) -> None:
    """Remove ``path`` (a file, a link or a whole folder) without following any link."""
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)  # fd-based on Linux: it does not follow links inside
    else:
        path.unlink()


def _digest(path: Path) -> str:
    return hashlib.sha256(read_nofollow(path)).hexdigest()


@dataclass
class Snapshot:
    """Bytes of the files learner code must not be able to change, taken before it runs.

    ``base`` is the folder the data roots live in; restores never leave it.
    """

    base: Path
    data: dict[Path, bytes] = field(default_factory=dict)
    folders: set[Path] = field(default_factory=set)
    data_roots: tuple[Path, ...] = ()
    code: dict[Path, str] = field(default_factory=dict)
    code_roots: tuple[Path, ...] = ()
    links: list[LinkProblem] = field(default_factory=list)

    @classmethod
    def take(
        cls, data_roots: Iterable[Path], code_roots: Iterable[Path], base: Path | None = None
    ) -> Snapshot:
        """Snapshot files under ``data_roots`` (restorable) and hash ``code_roots``.

        A data root may be a path that does not exist yet (``gradebook.db-journal``): if it
        appears, :meth:`restore` deletes it (a planted SQLite journal would roll the
        gradebook back to the planter's content).  ``base`` (default: the roots' common
        parent) bounds every restore.
        """
        roots = tuple(Path(r) for r in data_roots)
        common = base or Path(os.path.commonpath([str(r.parent) for r in roots]))
        snap = cls(base=common, data_roots=roots, code_roots=tuple(code_roots))
        for root in roots:
            for path, st in walk(root):
                why = _kind(st)
                if why:
                    snap.links.append(LinkProblem(path, why))
                elif stat.S_ISDIR(st.st_mode):
                    snap.folders.add(path)
                else:
                    try:
                        snap.data[path] = read_nofollow(path)
                    except OSError as exc:
                        snap.links.append(LinkProblem(path, f"unreadable ({exc})"))
        for root in snap.code_roots:
            for path, st in walk(root):
                if stat.S_ISREG(st.st_mode):
                    snap.code[path] = _digest(path)
        return snap

    def _planted(self) -> list[Path]:
        """Paths under the data roots that the snapshot does not hold (outermost first)."""
        known_links = {p.path for p in self.links}
        planted: list[Path] = []
        for root in self.data_roots:
            for path, st in walk(root):
                if path in known_links or any(path.is_relative_to(p) for p in planted):
                    continue
                is_folder = stat.S_ISDIR(st.st_mode)
                if (is_folder and path not in self.folders) or (
                    not is_folder and path not in self.data
                ):
                    planted.append(path)
        return planted

    def restore(self) -> list[Path]:
        """Put back every snapshotted file that changed or vanished, remove planted ones.

        Returns the paths restored or removed.  Links found where a snapshotted file or
        folder was are replaced, never written through.
        """
        changed: list[Path] = []
        for path in self._planted():
            remove_path(path)
            changed.append(path)
        for path, content in sorted(self.data.items()):
            try:
                intact = read_nofollow(path) == content
            except OSError:
                intact = False
            if not intact:
                replace_file(self.base, path.relative_to(self.base), content)
                changed.append(path)
        return changed

    def code_changes(self) -> list[Path]:
        now = {}
        for root in self.code_roots:
            for path, st in walk(root):
                if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
                    try:
                        now[path] = _digest(path)
                    except OSError:
                        now[path] = "unreadable"
        return sorted(p for p in set(now) | set(self.code) if now.get(p) != self.code.get(p))
