"""Files, directories and stdin to ``(name, text)`` sources: the only file I/O of npcore.

Rules of this file:

* ``-`` is stdin, named ``<stdin>``; it may be given once.  A directory stands for its
  ``*.yaml``, ``*.yml`` and ``*.json`` files, sorted by name, not recursive.
* :func:`check_readable` decides before anything is read whether the input can be used
  at all; if not it raises :class:`~npcore.cli.common.UsageError` (exit status 2): a path
  that does not exist or cannot be opened, a directory without manifests, stdin twice, a
  file (or stdin) with nothing in it but white space.
* :func:`read_sources` reads each file up to ``max_bytes``; a file that is larger, or not
  UTF-8, becomes that source's :class:`~npcore.errors.FieldError` (an invalid input, exit
  status 1), so that the other files are still checked.  A UTF-8 byte-order mark is
  dropped.
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
    "load_cluster",
    "load_files",
    "load_input",
    "read_sources",
]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
PathLike = str | os.PathLike[str]


def _manifests(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()
    )


def check_readable(paths: Sequence[PathLike]) -> None:
    """Raise :class:`UsageError` unless every path can be read and has something in it."""
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
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError as error:
            raise UsageError(f"cannot read {name}: {error.strerror or error}") from None
        if not head.strip() and path.stat().st_size <= len(head):
            raise UsageError(f"cannot read {name}: the file is empty")


def _read_file(name: str, limit: int) -> Source:
    path = Path(name)
    try:
        size = path.stat().st_size
        if size > limit:
            message = f"refused: larger than {limit} bytes"
            return name, FieldError("", message, "Too long", size, name)
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        return name, FieldError.syntax(f"cannot read: {error.strerror or error}").at(name)
    try:
        return name, raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        return name, FieldError.syntax(message).at(name)


def read_sources(
    paths: Sequence[PathLike], *, limits: Limits = DEFAULT_LIMITS, stdin: TextIO | None = None
) -> Iterator[Source]:
    """``(name, text or FieldError)`` for each file, each manifest of a directory, and
    stdin (``-``), in order; one file at a time."""
    for source in paths:
        name = os.fspath(source)
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin
            text = stream.read(limits.max_bytes + 1)
            if not text.strip():
                raise UsageError("cannot read <stdin>: it is empty")
            yield "<stdin>", text
        elif os.path.isdir(name):
            directory = Path(name)
            if not _manifests(directory):
                suffixes = ", ".join(MANIFEST_SUFFIXES)
                yield name, FieldError.syntax(
                    f"cannot read: no {suffixes} files in the directory"
                ).at(name)
            for child in _manifests(directory):
                yield _read_file(os.fspath(child), limits.max_bytes)
        else:
            yield _read_file(name, limits.max_bytes)


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
            yield from read_sources([path], limits=limits)


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
