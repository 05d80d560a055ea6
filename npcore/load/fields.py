"""Typed readers of YAML nodes for the decoders, and what decoding one object gives.

Rules of this file:

* A reader (:func:`_string`, :func:`_integer`, :func:`_fields`, ...) reads one node as the
  API server's strict JSON decoding would, records an error at the node's line and column
  in the object's :class:`_Ctx` when the type is wrong, and returns a stand-in value.
* A field that failed to decode is "poisoned": validation errors about it are not
  reported again (:meth:`_Ctx.suppressed`); validation errors are placed at the node of
  their path, or of its nearest parent present (:meth:`_Ctx.place`).
* Every decoder returns a :class:`Decoded`; only :mod:`npcore.load.registry` keeps them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from npcore.cluster import Namespace, Pod, Service
from npcore.errors import FieldError, Notice, format_value
from npcore.load.yaml_safe import (
    _INT,
    _MERGE,
    _NULL,
    _STR,
    _is_null,
    _scalar,
)
from npcore.model import (
    NetworkPolicy,
)

NETWORKING_V1 = "networking.k8s.io/v1"


# --- decoding context -----------------------------------------------------------------------

Mark: TypeAlias = tuple[int, int]


@dataclass(slots=True)
class _Ctx:
    """The decoding of one object: its errors and where each path was written."""

    file: str
    errors: list[FieldError] = field(default_factory=list)
    marks: dict[str, Mark] = field(default_factory=dict)
    value_marks: dict[tuple[str, str], Mark] = field(default_factory=dict)
    poisoned: set[str] = field(default_factory=set)
    notices: list[Notice] = field(default_factory=list)

    def notice(self, message: str, node: Node) -> None:
        self.notices.append(Notice(message, self.file, _mark(node)[0]))

    def error(self, error: FieldError, node: Node | None) -> None:
        """Record a decoding error at ``node``.

        A field that could not be decoded is "poisoned": the validator's errors at it, under
        it or at its ancestors are not reported (they would be about the stand-in value).
        """
        line, column = _mark(node) if node is not None else (None, None)
        self.errors.append(error.at(self.file, line, column))
        if error.kind not in ("Unknown field", "Duplicate value"):
            self.poisoned.add(error.path)

    def suppressed(self, path: str) -> bool:
        """Whether a validator error at ``path`` is about a field that failed to decode."""
        return any(_related(path, p) for p in self.poisoned)

    def type_error(self, node: Node, path: str, expected: str) -> None:
        self.error(
            FieldError(path, f"Invalid value: {_describe(node)}: {expected}", "Invalid", None),
            node,
        )

    def place(self, error: FieldError) -> FieldError:
        """Put an error from the validator at the node of its path, or its nearest parent."""
        if isinstance(error.value, str) and (error.path, error.value) in self.value_marks:
            line, column = self.value_marks[(error.path, error.value)]
            return error.at(self.file, line, column)
        path = error.path
        while path:
            if path in self.marks:
                line, column = self.marks[path]
                return error.at(self.file, line, column)
            path = _parent(path)
        return error.at(self.file, *self.marks.get("", (None, None)))


_PARENT_RE = re.compile(r"(\.[^.\[\]]*|\[[0-9]+\])$")


def _related(a: str, b: str) -> bool:
    """Whether one path is the other or lies under it."""
    if len(a) < len(b):
        a, b = b, a
    return a == b or (a.startswith(b) and a[len(b)] in ".[") or not b


def _parent(path: str) -> str:
    stripped = _PARENT_RE.sub("", path)
    return "" if stripped == path else stripped


def _mark(node: Node) -> Mark:
    mark = node.start_mark
    return (int(mark.line) + 1, int(mark.column) + 1)


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    value = _scalar(node)  # type: ignore[arg-type]
    return format_value(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_Items: TypeAlias = list[tuple[str, Node, Node]]


def _items(ctx: _Ctx, node: Node, path: str) -> _Items | None:
    """A mapping's ``(key, key node, value node)``, merges applied; ``None`` if not a mapping.

    Duplicate keys are reported (strict decoding: ``duplicate field "x"``) and the later
    value kept.
    """
    if isinstance(node, ScalarNode) and node.tag == _NULL:
        return []
    if not isinstance(node, MappingNode):
        ctx.type_error(node, path, "must be a mapping (key: value lines)")
        return None
    seen: dict[str, int] = {}
    result: _Items = []
    for key, key_node, value_node in _flatten(ctx, node, path, 0):
        if key in seen:
            first = result[seen[key]]
            line, _ = _mark(first[1])
            ctx.error(
                FieldError(
                    _join(path, key),
                    f"duplicate field {format_value(key)} (first given at line {line}; a key"
                    " may appear only once in a mapping)",
                    "Duplicate value",
                    key,
                ),
                key_node,
            )
            result[seen[key]] = (key, key_node, value_node)
        else:
            seen[key] = len(result)
            result.append((key, key_node, value_node))
    return result


def _flatten(ctx: _Ctx, node: MappingNode, path: str, level: int) -> _Items:
    """The pairs of a mapping with ``<<`` merge keys expanded (explicit keys win)."""
    merged: _Items = []
    own: _Items = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE and level < 10:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(_flatten(ctx, source, path, level + 1))
                else:
                    ctx.type_error(source, path, "a merge (<<) needs a mapping or a list of them")
            continue
        if not isinstance(key_node, ScalarNode):
            ctx.type_error(key_node, path, "a mapping key must be text, not a list or mapping")
            continue
        own.append((str(key_node.value), key_node, value_node))
    if not merged:
        return own
    # Keys given explicitly win over merged ones; among merged mappings, the first wins.
    seen = {k for k, _, _ in own}
    inherited: _Items = []
    for item in merged:
        if item[0] not in seen:
            seen.add(item[0])
            inherited.append(item)
    return inherited + own


def _string(ctx: _Ctx, node: Node, path: str, *, lenient: bool = False) -> str | None:
    """A string field: ``None`` for null; a type error for anything but text."""
    if _is_null(node):
        return None
    if isinstance(node, ScalarNode):
        if node.tag == _STR or lenient:
            return str(node.value)
        value = _scalar(node)
        if isinstance(value, str):
            return value
        ctx.error(
            FieldError(
                path,
                f"Invalid value: {format_value(value)}: must be a string"
                f' (put it in quotes: "{node.value}")',
                "Invalid",
                value,
            ),
            node,
        )
        return None
    ctx.type_error(node, path, "must be a string")
    return None


_INT32 = (-(2**31), 2**31 - 1)


def _integer(ctx: _Ctx, node: Node, path: str) -> int | None:
    """An int32 field: ``None`` for null; a type error otherwise."""
    if _is_null(node):
        return None
    if isinstance(node, ScalarNode) and node.tag == _INT:
        value = _scalar(node)
        if isinstance(value, int) and _INT32[0] <= value <= _INT32[1]:
            return value
        ctx.error(
            FieldError(
                path,
                f"Invalid value: {node.value}: must be a 32-bit integer",
                "Invalid",
                node.value,
            ),
            node,
        )
        return None
    hint = ""
    if isinstance(node, ScalarNode) and node.tag == _STR and node.value.strip().isdigit():
        hint = " (write the number without quotes)"
    ctx.type_error(node, path, f"must be an integer{hint}")
    return None


def _int_or_string(ctx: _Ctx, node: Node, path: str) -> int | str | None:
    """An ``IntOrString`` field (a port): a number, or text for a named port."""
    if _is_null(node):
        return None
    if isinstance(node, ScalarNode) and node.tag == _INT:
        return _integer(ctx, node, path)
    if isinstance(node, ScalarNode) and node.tag == _STR:
        return str(node.value)
    ctx.type_error(node, path, "must be a port number or a port name")
    return None


def _sequence(ctx: _Ctx, node: Node, path: str, what: str) -> list[Node] | None:
    """A list field: ``None`` for null; a type error (with a hint) for anything else."""
    if _is_null(node):
        return None
    if isinstance(node, SequenceNode):
        return list(node.value)
    hint = ""
    if isinstance(node, MappingNode):
        hint = ' (start each item on its own line with "- ")'
    elif isinstance(node, ScalarNode) and len(node.value) <= 40:
        item = f"{{port: {node.value}}}" if what == "ports" else node.value
        hint = f" (write a list, even of one item: [{item}])"
    ctx.type_error(node, path, f"must be a list of {what}{hint}")
    return None


def _mark_at(ctx: _Ctx, path: str, key_node: Node, value_node: Node) -> None:
    """Record where ``path`` is: the value for a scalar, the key for a collection."""
    ctx.marks[path] = _mark(value_node if isinstance(value_node, ScalarNode) else key_node)


def _suggest(key: str, allowed: Sequence[str]) -> str:
    lowered = {a.lower(): a for a in allowed}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return close[0] if close else ""


Handler: TypeAlias = Callable[[Node, str], None]


def _fields(
    ctx: _Ctx,
    node: Node,
    path: str,
    handlers: Mapping[str, Handler],
    *,
    strict: bool = True,
    hint: Callable[[str], str] | None = None,
) -> bool:
    """Dispatch a mapping's fields to ``handlers``; unknown fields are errors if ``strict``.

    Returns whether ``node`` was a mapping (or null).
    """
    items = _items(ctx, node, path)
    if items is None:
        return False
    for key, key_node, value_node in items:
        child = _join(path, key)
        handler = handlers.get(key)
        if handler is None:
            if strict:
                suggestion = _suggest(key, list(handlers))
                detail = f"did you mean `{suggestion}`?" if suggestion else ""
                if not detail and hint is not None:
                    detail = hint(key)
                if not detail:
                    detail = "fields allowed here: " + ", ".join(sorted(handlers))
                ctx.error(FieldError.unknown_field(child, key, detail), key_node)
            continue
        _mark_at(ctx, child, key_node, value_node)
        handler(value_node, child)
    return True


def _string_map(ctx: _Ctx, node: Node, path: str, *, lenient: bool = False) -> dict[str, str]:
    """A ``map[string]string`` (labels, annotations, matchLabels)."""
    result: dict[str, str] = {}
    items = _items(ctx, node, path)
    for key, key_node, value_node in items or ():
        value = _string(ctx, value_node, f"{path}[{key}]", lenient=lenient)
        if value is None:
            if not _is_null(value_node):
                # Left out of the map; the rest of the map is still checked.
                ctx.poisoned.discard(f"{path}[{key}]")
                continue
            value = ""
        result[key] = value
        ctx.value_marks[(path, key)] = _mark(key_node)
        ctx.value_marks.setdefault((path, value), _mark(value_node))
    return result


def _ignore(node: Node, path: str) -> None:
    """A field that is known and not needed."""


_OBJECT_META_IGNORED = (
    "generateName",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "finalizers",
    "managedFields",
)


@dataclass(slots=True)
class _Meta:
    name: str = ""
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


def _metadata(ctx: _Ctx, node: Node, path: str, *, strict: bool) -> _Meta:
    meta = _Meta()

    def name(n: Node, p: str) -> None:
        meta.name = _string(ctx, n, p, lenient=not strict) or ""

    def namespace(n: Node, p: str) -> None:
        meta.namespace = _string(ctx, n, p, lenient=not strict)

    def labels(n: Node, p: str) -> None:
        meta.labels = _string_map(ctx, n, p, lenient=not strict)

    def annotations(n: Node, p: str) -> None:
        meta.annotations = _string_map(ctx, n, p, lenient=not strict)

    handlers: dict[str, Handler] = {k: _ignore for k in _OBJECT_META_IGNORED}
    handlers.update(name=name, namespace=namespace, labels=labels, annotations=annotations)
    _fields(ctx, node, path, handlers, strict=strict)
    return meta


@dataclass(slots=True)
class _Object:
    """One decoded object, with where it starts."""

    kind: str
    namespace: str
    name: str
    line: int
    value: NetworkPolicy | Namespace | Service | tuple[Pod, ...]


@dataclass(slots=True)
class Decoded:
    """What decoding one object gives: the object (``None`` when it has errors or no
    name), its errors in file order, how many of them are parse (not validation) errors,
    and its notices."""

    obj: _Object | None
    errors: list[FieldError]
    parse_errors: int
    notices: list[Notice]


def _prefixed(error: FieldError, prefix: str) -> FieldError:
    return replace(error, path=prefix + error.path if error.path else prefix.rstrip("."))


class _ObjectNode(MappingNode):
    """The top-level mapping again, already flattened (so duplicates are reported once)."""

    def __init__(self, top: dict[str, tuple[Node, Node]]) -> None:
        first = next(iter(top.values()))[0] if top else None
        mark = first.start_mark if first is not None else None
        pairs: list[tuple[Node, Node]] = [
            (ScalarNode(_STR, key, k.start_mark, k.end_mark), v) for key, (k, v) in top.items()
        ]
        super().__init__("tag:yaml.org,2002:map", pairs, mark, mark)
