"""Errors and notices of npcore's input side, worded as the Kubernetes API server words them.

Rules of this file:

* A :class:`FieldError` is one problem at one field, like apimachinery's ``field.Error``:
  ``path`` is the field path (``spec.ingress[0].ports[1].port``), ``kind`` the error type
  (``field.ErrorType``: ``"Invalid"``, ``"Required"``, ``"Unsupported value"``...) and
  ``message`` the text printed after the path, which starts with the type as Kubernetes
  prints it (``Invalid value: 70000: must be between 1 and 65535, inclusive``).  The
  constructors (:meth:`FieldError.invalid`, :meth:`FieldError.required`...) build that
  text the way ``field.Error.ErrorBody`` does.
* ``file``, ``line`` and ``column`` say where the problem is; lines and columns are
  1-based.  ``str()`` gives ``FILE:LINE:COL: FIELD.PATH: message`` and leaves out the
  parts that are unknown.
* :class:`ParseError` (the text could not be decoded) and :class:`ValidationError` (it
  decoded, and the API server would refuse it) carry every error, never only the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "FieldError",
    "Notice",
    "NpcoreError",
    "ParseError",
    "ValidationError",
    "format_value",
]

# How Kubernetes prints each error type (field.ErrorType.String()).
_TYPE_TEXT = {
    "Invalid": "Invalid value",
    "Required": "Required value",
    "NotFound": "Not found",
}


_LONGEST = 300  # longer strings are shortened in messages


def format_value(value: object) -> str:
    """A value as Go's ``%#v`` prints it in a field error: strings quoted, lists in brackets.

    >>> format_value("tcp"), format_value(70000), format_value(["Ingress", "Egress"])
    ('"tcp"', '70000', '["Ingress", "Egress"]')
    """
    if isinstance(value, str):
        if len(value) > _LONGEST:
            return format_value(value[:60]) + f"... ({len(value)} characters)"
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    try:
        return str(value)
    except ValueError:  # an integer with more digits than Python will print
        return "(a number too long to show)"


def _location(file: str | None, line: int | None, column: int | None) -> str:
    parts: list[str] = []
    if file is not None:
        parts.append(file)
    if line is not None:
        parts.append(str(line))
        if column is not None:
            parts.append(str(column))
    return ":".join(parts)


def _join(*parts: str) -> str:
    return ": ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem at one field (apimachinery's ``field.Error``), with where it is."""

    path: str
    message: str
    kind: str = "Invalid"
    value: object = None
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return _join(_location(self.file, self.line, self.column), self.path, self.message)

    def at(
        self, file: str | None, line: int | None = None, column: int | None = None
    ) -> FieldError:
        """The same error placed in ``file`` at ``line``:``column``."""
        return replace(self, file=file, line=line, column=column)

    # Constructors that word the message as ``field.Error.ErrorBody`` does.

    @classmethod
    def invalid(cls, path: str, value: object, detail: str) -> FieldError:
        """``field.Invalid``: ``Invalid value: VALUE: detail``."""
        return cls(path, _join("Invalid value", format_value(value), detail), "Invalid", value)

    @classmethod
    def required(cls, path: str, detail: str = "") -> FieldError:
        """``field.Required``: ``Required value: detail``."""
        return cls(path, _join("Required value", detail), "Required")

    @classmethod
    def forbidden(cls, path: str, detail: str, value: object = None) -> FieldError:
        """``field.Forbidden``: ``Forbidden: detail``."""
        return cls(path, _join("Forbidden", detail), "Forbidden", value)

    @classmethod
    def not_supported(
        cls, path: str, value: object, supported: Iterable[str], hint: str = ""
    ) -> FieldError:
        """``field.NotSupported``: ``Unsupported value: VALUE: supported values: "A", "B"``."""
        values = ", ".join(format_value(s) for s in sorted(supported))
        detail = f"supported values: {values}"
        if hint:
            detail = f"{detail} ({hint})"
        return cls(
            path,
            _join("Unsupported value", format_value(value), detail),
            "Unsupported value",
            value,
        )

    @classmethod
    def duplicate(cls, path: str, value: object, detail: str = "") -> FieldError:
        """``field.Duplicate``: ``Duplicate value: VALUE``."""
        return cls(
            path, _join("Duplicate value", format_value(value), detail), "Duplicate value", value
        )

    @classmethod
    def too_long(cls, path: str, value: object, detail: str) -> FieldError:
        """``field.TooLong``: ``Too long: detail``."""
        return cls(path, _join("Too long", detail), "Too long", value)

    @classmethod
    def unknown_field(cls, path: str, name: str, detail: str = "") -> FieldError:
        """A strict-decoding error: ``unknown field "NAME"``."""
        return cls(
            path, _join(f"unknown field {format_value(name)}", detail), "Unknown field", name
        )

    @classmethod
    def syntax(cls, message: str, path: str = "") -> FieldError:
        """A YAML/JSON syntax error, or input refused before decoding."""
        return cls(path, message, "Syntax")


@dataclass(frozen=True)
class Notice:
    """Something worth telling the learner that is not an error (a skipped kind, a replacement)."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        return _join(_location(self.file, self.line, None), self.message)


class NpcoreError(ValueError):
    """Base of npcore's own errors."""


class _FieldErrors(NpcoreError):
    """An error carrying every :class:`FieldError` found; ``str()`` lists them one a line."""

    errors: tuple[FieldError, ...]

    def __init__(self, errors: Sequence[FieldError] | FieldError | str) -> None:
        if isinstance(errors, str):
            errors = (FieldError("", errors, "Invalid"),)
        elif isinstance(errors, FieldError):
            errors = (errors,)
        self.errors = tuple(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class ParseError(_FieldErrors):
    """The input could not be read or decoded (YAML syntax, strict decoding, hostile input)."""


class ValidationError(_FieldErrors):
    """The input decoded, and the API server's validation would refuse it."""
