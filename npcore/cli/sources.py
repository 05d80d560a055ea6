"""Files, directories and stdin to ``(name, text)`` sources: the only file I/O of npcore.

Rules of this file:

* ``-`` is stdin, named ``<stdin>``; it may be given once.  A directory stands for its
  ``*.yaml``, ``*.yml`` and ``*.json`` files, sorted by name, not recursive.
* One rule however the input arrives (a file, a device such as ``/dev/zero``, a file in
  a directory, stdin): an input that cannot be used raises
  :class:`~npcore.cli.common.UsageError` (exit status 2) with one sentence,
  ``cannot read NAME: ...``: a path that does not exist or cannot be opened, a directory
  without manifests, stdin twice (:func:`check_readable`, before anything is read); more
  than ``max_bytes``, not UTF-8, empty, or nothing but comments and ``---`` markers
  (:func:`read_sources`, :func:`check_text`).  Invalid manifests are the loader's errors
  (exit status 1).  A UTF-8 byte-order mark is dropped.
* :func:`load_files` and :func:`load_cluster` (the library API) are lenient instead: an
  unusable file becomes that source's :class:`~npcore.errors.FieldError`, so that the
  other files are still checked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from npcore.cli.common import InvalidInput, UsageError, notice_line
from npcore.cluster import Cluster
from npcore.cni import DEFAULT_CNI
from npcore.errors import FieldError
from npcore.load import DEFAULT_LIMITS, Limits, LoadResult, Source, load_sources
from npcore.load import load_cluster as _load_cluster

__all__ = [
    "MANIFEST_SUFFIXES",
    "check_readable",
    "check_text",
    "load_cluster",
    "load_files",
    "load_input",
    "read_sources",
    "text_problem",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
PathLike = str | os.PathLike[str]


def _manifests(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())


def check_readable(paths: Sequence[PathLike]) -> None:
    """Raise :class:`UsageError` unless every path exists and can be opened (a directory
    must hold manifests); what is in the files is checked as they are read."""
    names = [os.fspath(p) for p in paths]
    if names.count("-") > 1:
        raise UsageError("stdin (-) can be read only once")
    for name in names:
        if name == "-":
            continue
        path = Path(name)
        if not path.exists():
            raise UsageError(f"cannot read {name}: no such file or directory")
        try:
            if path.is_dir():
                if not _manifests(path):
                    suffixes = ", ".join(MANIFEST_SUFFIXES)
                    raise UsageError(f"cannot read {name}: no {suffixes} files in the directory")
                continue
            with path.open("rb"):
                pass
        except OSError as error:
            raise UsageError(f"cannot read {name}: {error.strerror or error}") from None


def _only_comments(text: str) -> bool:
    """Nothing but blank lines, ``# comments`` and ``---`` / ``...`` document markers."""
    for line in text.splitlines():
        bare = line.strip()
        for marker in ("---", "..."):
            if bare.startswith(marker) and (len(bare) == 3 or bare[3] in " \t#"):
                bare = bare[3:].strip()
        if bare and not bare.startswith("#"):
            return False
    return True


def text_problem(text: str, limit: int, name_is_file: bool = True) -> str | None:
    """Why ``text`` cannot be used as input, or ``None``: too long, empty, only comments."""
    if len(text) > limit:
        return f"refused: larger than {limit} bytes"
    if not text.strip():
        return "the file is empty" if name_is_file else "it is empty"
    if _only_comments(text):
        return "it has only comments and --- markers, no manifest"
    return None


def check_text(name: str, text: str, limit: int = DEFAULT_LIMITS.max_bytes) -> str:
    """``text`` if it can be used as input; else :class:`UsageError` (see the rules)."""
    problem = text_problem(text, limit, name != "<stdin>")
    if problem is not None:
        raise UsageError(f"cannot read {name}: {problem}")
    return text


def _read_raw(name: str, limit: int) -> Source:
    path = Path(name)
    try:
        size = path.stat().st_size
        if size > limit:
            message = f"refused: larger than {limit} bytes"
            return name, FieldError("", message, "Too long", size, name)
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)  # a device reports size 0 and never ends
    except OSError as error:
        return name, FieldError.syntax(f"cannot read: {error.strerror or error}").at(name)
    if len(raw) > limit:
        return name, FieldError("", f"refused: larger than {limit} bytes", "Too long", None, name)
    try:
        return name, raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        return name, FieldError.syntax(message).at(name)


def _read_file(name: str, limit: int, strict: bool) -> Source:
    name, text = _read_raw(name, limit)
    if not strict:
        return name, text
    if isinstance(text, FieldError):
        message = text.message.removeprefix("cannot read: ")
        raise UsageError(f"cannot read {name}: {message}")
    return name, check_text(name, text, limit)


def read_sources(
    paths: Sequence[PathLike],
    *,
    limits: Limits = DEFAULT_LIMITS,
    stdin: TextIO | None = None,
    strict: bool = True,
) -> Iterator[Source]:
    """``(name, text)`` for each file, each manifest of a directory, and stdin (``-``),
    in order; one file at a time.  ``strict`` (the command lines): an unusable input
    raises :class:`UsageError`; otherwise a file's problem is its
    :class:`~npcore.errors.FieldError`."""
    for source in paths:
        name = os.fspath(source)
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin
            try:
                text = stream.read(limits.max_bytes + 1)
            except UnicodeDecodeError as error:
                where = f"byte {error.start + 1} cannot be decoded"
                raise UsageError(f"cannot read <stdin>: not UTF-8 text ({where})") from None
            yield "<stdin>", check_text("<stdin>", text, limits.max_bytes)
        elif os.path.isdir(name):
            directory = Path(name)
            if not _manifests(directory):
                suffixes = ", ".join(MANIFEST_SUFFIXES)
                message = f"no {suffixes} files in the directory"
                if strict:
                    raise UsageError(f"cannot read {name}: {message}")
                yield name, FieldError.syntax(f"cannot read: {message}").at(name)
            for child in _manifests(directory):
                yield _read_file(os.fspath(child), limits.max_bytes, strict)
        else:
            yield _read_file(name, limits.max_bytes, strict)


def load_files(
    paths: Sequence[PathLike] | PathLike,
    *,
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load manifests from files, directories and stdin (``"-"``), in order.

    Unreadable files are errors of the result (it does not call :func:`check_readable`;
    the command lines do, first).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return load_sources(_lenient(paths, limits), cni=cni, limits=limits)


def _lenient(paths: Sequence[PathLike], limits: Limits) -> Iterator[Source]:
    """:func:`read_sources` with an empty stdin given to the loader (which reports it)."""
    for path in paths:
        if os.fspath(path) == "-":
            yield "<stdin>", sys.stdin.read(limits.max_bytes + 1)
        else:
            yield from read_sources([path], limits=limits, strict=False)


def load_cluster(
    *paths: PathLike,
    text: str | None = None,
    filename: str = "<string>",
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> Cluster:
    """The cluster of ``paths`` (and of ``text``, read after them); raises
    :class:`~npcore.errors.ValidationError` with every error when anything is wrong."""
    return _load_cluster(text, filename, sources=_lenient(paths, limits), cni=cni, limits=limits)


def load_input(
    paths: Sequence[str], cni: str, where: TextIO, *, keep_invalid: bool = False
) -> LoadResult:
    """What a command line does with its ``FILE`` arguments: :func:`check_readable`, load,
    print the notices (:func:`~npcore.cli.common.notice_line`) and errors on ``where``;
    :class:`~npcore.cli.common.InvalidInput` if there are errors (unless ``keep_invalid``).
    """
    check_readable(paths)
    result = load_sources(read_sources(paths), cni=cni)
    for notice in result.notices:
        print(notice_line(notice), file=where)
    if not result.ok:
        for error in result.errors:
            print(str(error), file=where)
        if not keep_invalid:
            raise InvalidInput
    return result
