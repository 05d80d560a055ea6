"""The hardened YAML reader: text to ``yaml.nodes`` with marks, within :class:`Limits`.

Every YAML text npcore reads goes through here: manifests (decoded further by
:mod:`npcore.load`) and other text such as a learner's answer (:func:`read_plain`).

Rules of this file:

* Parsing uses PyYAML's event parser (libyaml's when available) and this module's own
  composer, which keeps the marks, refuses hostile input (see :class:`Limits`) while it is
  parsed, before anything large is built, and keeps duplicate keys for the decoder to see.
* Every failure is a :class:`~npcore.errors.ParseError` whose error has the file, line
  and column (1-based): YAML syntax (with a hint for tabs and unquoted ``: ``), text over
  ``max_bytes``, nesting over ``max_depth``, more than ``max_aliases`` aliases, more than
  ``max_nodes`` nodes once aliases are expanded, an alias to a node that contains it,
  text that is not valid Unicode.
* Scalars are read as YAML 1.1 (and Kubernetes' YAML-to-JSON) reads them; timestamps,
  binary and unknown tags stay text, and so does a number longer than 40 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from npcore.errors import FieldError, ParseError

__all__ = ["DEFAULT_LIMITS", "Limits", "compose", "read_plain"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep hostile input cheap to refuse.

    ``max_bytes`` per file (or text); ``max_depth`` levels of nesting, counted after
    aliases are expanded; ``max_aliases`` alias uses (``*name``) per file; ``max_nodes``
    nodes per file, counted after aliases are expanded (so a "billion laughs" document is
    refused while being parsed, before anything is built from it); ``max_replicas`` pods
    per workload.
    """

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 100
    max_aliases: int = 10_000
    max_nodes: int = 500_000
    max_replicas: int = 1_000


DEFAULT_LIMITS = Limits()


# --- composing: events to nodes, with limits ------------------------------------------------

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


class _PythonLoader(yaml.SafeLoader):
    """PyYAML's pure Python loader with a cap on flow nesting (``[[[...``).

    Its scanner does work proportional to the flow depth for every token, so deep flow
    nesting would take quadratic time before the composer could refuse it.  (libyaml
    refuses flow nesting deeper than 1000 itself.)
    """

    max_flow_depth = DEFAULT_LIMITS.max_depth

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= self.max_flow_depth:
            raise _Refused(
                f"refused: nested more than {self.max_flow_depth} levels deep", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)


def _make_loader(text: str, limits: Limits) -> Any:
    """A parser for ``text``: libyaml's when present, else PyYAML's, with the flow cap."""
    if _Loader is yaml.SafeLoader:
        loader = _PythonLoader(text)
        loader.max_flow_depth = limits.max_depth
        return loader
    return _Loader(text)


_Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class _Refused(Exception):
    """Input refused by a limit (internal; becomes a FieldError)."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


@dataclass(slots=True)
class _Budget:
    limits: Limits
    nodes: int = 0
    aliases: int = 0


class _Composer:
    """Build ``yaml.nodes`` from parser events, as PyYAML's Composer does, within limits.

    Every anchor remembers the expanded size and the height of its node, so that an alias
    counts as the whole subtree it stands for; an alias to a node still being built (a
    cycle) is refused.
    """

    def __init__(self, loader: Any, budget: _Budget) -> None:
        self.loader = loader
        self.budget = budget
        # anchor -> (node, expanded size, height); size -1 while the node is being built
        self.anchors: dict[str, tuple[Node, int, int]] = {}
        self.resolved: dict[tuple[str, Any], str] = {}
        self.max_depth = budget.limits.max_depth
        self.max_nodes = budget.limits.max_nodes

    def documents(self) -> Iterator[Node]:
        get = self.loader.get_event
        event = get()
        if isinstance(event, StreamStartEvent):
            event = get()
        while not isinstance(event, StreamEndEvent):
            if isinstance(event, DocumentStartEvent):
                event = get()
            self.anchors = {}
            node, _ = self.node(event, 1)
            end = get()
            yield node
            event = get() if isinstance(end, DocumentEndEvent) else end

    def _count(self, amount: int, mark: Any) -> None:
        self.budget.nodes += amount
        limit = self.budget.limits.max_nodes
        if self.budget.nodes > limit:
            why = ' (is this a "billion laughs" alias bomb?)' if self.budget.aliases else ""
            raise _Refused(
                f"refused: more than {limit} YAML nodes once aliases are expanded{why}", mark
            )

    def _deep(self, depth: int, mark: Any) -> None:
        limit = self.budget.limits.max_depth
        if depth > limit:
            raise _Refused(f"refused: nested more than {limit} levels deep", mark)

    def _alias(self, alias: Any, depth: int) -> tuple[Node, int]:
        self.budget.aliases += 1
        if self.budget.aliases > self.budget.limits.max_aliases:
            raise _Refused(
                f"refused: more than {self.budget.limits.max_aliases} aliases (*name)",
                alias.start_mark,
            )
        entry = self.anchors.get(alias.anchor)
        if entry is None:
            raise _Refused(f"found undefined alias *{alias.anchor}", alias.start_mark)
        target, size, height = entry
        if size < 0:
            raise _Refused(
                f"refused: alias *{alias.anchor} refers to a node that contains it",
                alias.start_mark,
            )
        self._count(size, alias.start_mark)
        self._deep(depth + height - 1, alias.start_mark)
        return target, height

    def _tag(self, kind: type[Node], event: Any) -> str:
        tag = event.tag
        if tag is not None and tag != "!":
            return str(tag)
        if kind is not ScalarNode:
            return str(self.loader.resolve(kind, None, event.implicit))
        key = (event.value, event.implicit)
        if len(event.value) > 64:
            return str(self.loader.resolve(kind, event.value, event.implicit))
        found = self.resolved.get(key)
        if found is None:
            found = self.resolved[key] = str(self.loader.resolve(kind, event.value, event.implicit))
        return found

    def node(self, event: Any, depth: int) -> tuple[Node, int]:
        """The node that ``event`` starts, and its height (a scalar's is 1).

        (Scalars, most of the nodes, take the short way: the same checks, inlined.)
        """
        kind = type(event)
        if kind is AliasEvent:
            return self._alias(event, depth)
        start: Any = event.start_mark
        if depth > self.max_depth:
            self._deep(depth, start)
        budget = self.budget
        before = budget.nodes
        budget.nodes = before + 1
        if budget.nodes > self.max_nodes:
            self._count(0, start)
        anchor = event.anchor
        if kind is ScalarEvent:
            tag = event.tag
            if tag is None or tag == "!":
                tag = self._tag(ScalarNode, event)
            scalar = ScalarNode(tag, event.value, start, event.end_mark, event.style)
            if anchor is not None:
                self.anchors[anchor] = (scalar, 1, 1)
            return scalar, 1
        if kind is SequenceStartEvent:
            node, height = self._sequence(event, start, anchor, depth)
        elif kind is MappingStartEvent:
            node, height = self._mapping(event, start, anchor, depth)
        else:  # pragma: no cover - the parser only produces the events above here
            raise _Refused(f"unexpected {type(event).__name__}", start)
        # (unless the anchor was redefined inside this node, as YAML allows)
        if anchor is not None and self.anchors[anchor][0] is node:
            self.anchors[anchor] = (node, budget.nodes - before, height)
        return node, height

    def _sequence(self, event: Any, start: Any, anchor: str | None, depth: int) -> tuple[Node, int]:
        seq = SequenceNode(self._tag(SequenceNode, event), [], start, None, event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = (seq, -1, -1)
        get = self.loader.get_event
        items = seq.value
        height = 1
        while True:
            child_event = get()
            if type(child_event) is SequenceEndEvent:
                seq.end_mark = child_event.end_mark
                return seq, height
            child, child_height = self.node(child_event, depth + 1)
            items.append(child)
            if child_height >= height:
                height = child_height + 1

    def _mapping(self, event: Any, start: Any, anchor: str | None, depth: int) -> tuple[Node, int]:
        mapping = MappingNode(self._tag(MappingNode, event), [], start, None, event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = (mapping, -1, -1)
        get = self.loader.get_event
        pairs = mapping.value
        height = 1
        while True:
            key_event = get()
            if type(key_event) is MappingEndEvent:
                mapping.end_mark = key_event.end_mark
                return mapping, height
            key, _ = self.node(key_event, depth + 1)
            value, value_height = self.node(get(), depth + 1)
            pairs.append((key, value))
            if value_height >= height:
                height = value_height + 1


# --- scalars --------------------------------------------------------------------------------

_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _scalar(node: ScalarNode) -> object:
    """A scalar's value as YAML 1.1 (and Kubernetes' YAML-to-JSON) reads it.

    Timestamps, binary and unknown tags stay text; so does a number written with more than
    40 characters.
    """
    tag = node.tag
    if len(node.value) > 40:
        # No number of interest is this long; converting one could take quadratic time
        # (YAML 1.1 reads 1:2:3... as a base-60 integer).
        return None if tag == _NULL else str(node.value)
    try:
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return bool(_CONSTRUCTOR.construct_yaml_bool(node))
        if tag == _INT:
            return int(_CONSTRUCTOR.construct_yaml_int(node))
        if tag == _FLOAT:
            return float(_CONSTRUCTOR.construct_yaml_float(node))
    except (ValueError, OverflowError, KeyError, yaml.YAMLError):
        return str(node.value)
    return str(node.value)


# --- text to documents ------------------------------------------------------------------------

_TAB_INDENT_RE = re.compile(r"^ *\t", re.MULTILINE)


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_error(file: str, error: yaml.YAMLError, text: str) -> FieldError:
    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        code = ord(character) if isinstance(character, str) else int(character)
        return FieldError.syntax(
            f"YAML syntax error: unacceptable character #x{code:04x}: {error.reason}"
            " (remove it, or write it as an escape such as \\x00 inside double quotes)"
        ).at(file, *_position(text, error.position))
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"YAML syntax error: {context + ', ' if context else ''}{problem}"
    line = column = None
    if mark is not None:
        line, column = int(mark.line) + 1, int(mark.column) + 1
        lines = text.splitlines()
        current = lines[mark.line] if 0 <= mark.line < len(lines) else ""
        if "'\\t'" in problem or "\t" in current[: mark.column + 1]:
            message += " (a tab is not allowed for indentation in YAML: indent with spaces)"
        elif "mapping values are not allowed" in problem:
            message += ' (check the indentation, and put a value containing ": " in quotes)'
    return FieldError.syntax(message).at(file, line, column)


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _size_error(text: str, file: str, limits: Limits) -> FieldError | None:
    """Text over ``max_bytes`` (UTF-8) or not valid Unicode, as an error; else ``None``."""
    try:
        size = len(text) if len(text) > limits.max_bytes else len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        # A lone surrogate: possible in a Python str, never in a decoded file.
        return FieldError.syntax(
            f"not valid Unicode text: {error.reason} {text[error.start]!r}"
        ).at(file, *_position(text, error.start))
    if size > limits.max_bytes:
        message = f"refused: larger than {limits.max_bytes} bytes"
        return FieldError("", message, "Too long", size, file)
    return None


def compose(text: str, file: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[Node]:
    """The documents of ``text`` as nodes, one at a time (so a caller can decode each
    before the next is parsed); :class:`~npcore.errors.ParseError` with one error at the
    place of the first problem, possibly after some documents were given out."""
    too_big = _size_error(text, file, limits)
    if too_big is not None:
        raise ParseError(too_big)
    if _Loader is yaml.SafeLoader and text.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        # JSON may be indented with tabs, which libyaml accepts in flow collections and
        # PyYAML's pure Python scanner does not.  Outside strings a tab is whitespace, and
        # inside JSON strings it must be escaped anyway.
        text = text.replace("\t", " ")
    budget = _Budget(limits)
    try:
        loader = _make_loader(text, limits)
        try:
            yield from _Composer(loader, budget).documents()
        finally:
            loader.dispose()
    except _Refused as refused:
        mark = refused.mark
        raise ParseError(
            FieldError.syntax(refused.message).at(file, int(mark.line) + 1, int(mark.column) + 1)
        ) from None
    except yaml.YAMLError as error:
        raise ParseError(_syntax_error(file, error, text)) from None
    except (RecursionError, MemoryError, UnicodeError) as error:  # pragma: no cover
        raise ParseError(FieldError.syntax(f"refused: {type(error).__name__}").at(file)) from None


def _at(node: Node, file: str, message: str) -> ParseError:
    return ParseError(
        FieldError.syntax(message).at(file, node.start_mark.line + 1, node.start_mark.column + 1)
    )


def _plain(node: Node, file: str) -> object:
    """A node as plain Python values (dict, list, str, int, float, bool, None)."""
    if isinstance(node, ScalarNode):
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_plain(item, file) for item in node.value]
    out: dict[object, object] = {}
    merged: dict[object, object] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    raise _at(source, file, "a merge key (<<) takes a mapping or a list of them")
                value = _plain(source, file)
                assert isinstance(value, dict)
                for k, v in value.items():
                    merged.setdefault(k, v)
            continue
        if not isinstance(key_node, ScalarNode):
            raise _at(key_node, file, "a mapping key must be a plain value, not a list or mapping")
        key = _scalar(key_node)
        if key in out:
            raise _at(key_node, file, f"duplicate key {key!r} (each key may appear once)")
        out[key] = _plain(value_node, file)
    return {**merged, **out}


def read_plain(text: str, name: str = "answer", limits: Limits = DEFAULT_LIMITS) -> object:
    """One YAML (or JSON) document as plain Python values, read with the same bounds as
    manifests; ``None`` for empty text.

    For text that is not a manifest, such as a learner's answer.  Raises
    :class:`~npcore.errors.ParseError` (``NAME:LINE:COL: message``) for everything
    :func:`compose` refuses, for more than one document, for a duplicate key and for a
    key that is a list or mapping.  Aliases are accepted within the limits; merge keys
    (``<<``) merge as YAML 1.1 says (keys written in the mapping win).

    >>> read_plain("a: [1, two]\\nb: {c: null}")
    {'a': [1, 'two'], 'b': {'c': None}}
    >>> read_plain("a: 1\\na: 2")
    Traceback (most recent call last):
    ...
    npcore.errors.ParseError: answer:2:1: duplicate key 'a' (each key may appear once)
    """
    documents = compose(text, name, limits)
    first = next(documents, None)
    if first is None:
        return None
    second = next(documents, None)
    if second is not None:
        raise _at(second, name, "expected one YAML document, found more (remove the ---)")
    return _plain(first, name)
