"""The ``kubectl apply`` stand-in: objects keyed by kind, namespace and name, in order.

Rules of this file:

* Each document (and each ``items`` entry of a ``...List``) is one object; its ``kind``
  and ``apiVersion`` are required.  ``NetworkPolicy`` goes to the strict decoder
  (:mod:`npcore.load.policy`); Namespace, Pod, Service and the workloads to the lenient
  ones (:mod:`npcore.load.objects`); a kind close to a supported one ("Netwrokpolicy") is
  an error with a suggestion; any other kind is skipped with a notice.
* An object with the kind, namespace and name of an earlier one replaces it, with a
  notice; so does a pod with the ``namespace/name`` of an earlier pod (also one made by a
  workload).
* :class:`LoadResult` holds the cluster of everything that loaded, every error (each
  once) and every notice.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from yaml.nodes import Node

from npcore.cluster import Cluster, Namespace, Pod, Service
from npcore.errors import FieldError, Notice, ParseError
from npcore.load.fields import (
    NETWORKING_V1,
    Decoded,
    _Ctx,
    _describe,
    _items,
    _join,
    _mark,
    _Object,
    _sequence,
    _string,
    _suggest,
)
from npcore.load.objects import WORKLOAD_KINDS, _decode_lenient
from npcore.load.policy import _decode_policy
from npcore.load.yaml_safe import (
    Limits,
    _is_null,
    compose,
)
from npcore.model import (
    NetworkPolicy,
)

SUPPORTED_KINDS = ("NetworkPolicy", "Namespace", "Pod", "Service", *WORKLOAD_KINDS)


@dataclass(frozen=True)
class LoadResult:
    """What a load gives: the cluster of everything that loaded, every error, every notice.

    Objects with errors are left out of ``cluster``; ``ok`` is false if there was any.
    """

    cluster: Cluster
    errors: tuple[FieldError, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def ok(self) -> bool:
        """No errors at all."""
        return not self.errors

    @property
    def policies(self) -> tuple[NetworkPolicy, ...]:
        """The valid policies loaded (``cluster.policies``)."""
        return self.cluster.policies


@dataclass(slots=True)
class _Loading:
    """Everything loaded so far, in order, keyed as ``kubectl apply`` keys objects."""

    limits: Limits
    errors: list[FieldError] = field(default_factory=list)
    parse_errors: int = 0
    notices: list[Notice] = field(default_factory=list)
    objects: dict[tuple[str, str, str], tuple[str, _Object]] = field(default_factory=dict)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)

    def take(self, file: str, decoded: Decoded) -> None:
        """Keep what one decoder gave: its notices, its errors, and its object if any."""
        self.notices.extend(decoded.notices)
        self.parse_errors += decoded.parse_errors
        self.errors.extend(decoded.errors)
        if decoded.obj is not None:
            self.add(file, decoded.obj)

    def add(self, file: str, obj: _Object) -> None:
        key = (obj.kind, obj.namespace, obj.name)
        earlier = self.objects.get(key)
        if earlier is not None:
            where = f"{earlier[0]}:{earlier[1].line}"
            what = obj.kind.lower()
            name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
            self.notices.append(
                Notice(f"replaced {what} {name} declared earlier at {where}", file, obj.line)
            )
            del self.objects[key]
        self.objects[key] = (file, obj)

    def result(self, cni: str) -> LoadResult:
        namespaces: list[Namespace] = []
        services: list[Service] = []
        policies: list[NetworkPolicy] = []
        pods: dict[str, tuple[str, _Object, Pod]] = {}
        for file, obj in self.objects.values():
            value = obj.value
            if isinstance(value, NetworkPolicy):
                policies.append(value)
            elif isinstance(value, Namespace):
                namespaces.append(value)
            elif isinstance(value, Service):
                services.append(value)
            else:
                for pod in value:
                    earlier = pods.pop(pod.key, None)
                    if earlier is not None:
                        where = f"{earlier[0]}:{earlier[1].line}"
                        source = earlier[1]
                        of = f" (a pod of {source.kind} {source.name})"
                        self.notices.append(
                            Notice(
                                f"replaced pod {pod.key} declared earlier at {where}"
                                + (of if source.kind != "Pod" else ""),
                                file,
                                obj.line,
                            )
                        )
                    pods[pod.key] = (file, obj, pod)
        cluster = Cluster.build(
            namespaces=namespaces,
            pods=[p for _, _, p in pods.values()],
            services=services,
            policies=policies,
            cni=cni,
        )
        return LoadResult(cluster, tuple(_unique(self.errors)), tuple(self.notices))


def _unique(errors: list[FieldError]) -> Iterator[FieldError]:
    seen: set[tuple[object, ...]] = set()
    for e in errors:
        key = (e.file, e.line, e.column, e.path, e.message)
        if key not in seen:
            seen.add(key)
            yield e


def _decode_object(load: _Loading, file: str, node: Node, path: str = "") -> None:
    """Decode one document (or one ``items`` entry) into ``load``."""
    ctx = _Ctx(file)
    ctx.marks[""] = _mark(node)
    items = _items(ctx, node, path)
    if items is None:
        ctx.errors[-1] = FieldError.syntax(
            f"each document must be a Kubernetes object (a mapping with apiVersion, kind and"
            f" metadata), not {_describe(node)}",
            path,
        ).at(file, *_mark(node))
        load.errors.extend(ctx.errors)
        load.parse_errors += len(ctx.errors)
        return
    top = {key: (key_node, value) for key, key_node, value in items}
    kind_node = top.get("kind", (None, None))[1]
    version_node = top.get("apiVersion", (None, None))[1]
    kind = _string(ctx, kind_node, _join(path, "kind")) if kind_node is not None else None
    version = (
        _string(ctx, version_node, _join(path, "apiVersion")) if version_node is not None else None
    )
    line = _mark(node)[0]
    if kind_node is None or _is_null(kind_node) or kind == "":
        ctx.error(
            FieldError.required(
                _join(path, "kind"), 'every object needs a kind, e.g. "kind: NetworkPolicy"'
            ),
            kind_node if kind_node is not None else node,
        )
    if version_node is None or _is_null(version_node) or version == "":
        example = NETWORKING_V1 if kind == "NetworkPolicy" else "v1"
        ctx.error(
            FieldError.required(
                _join(path, "apiVersion"),
                f'every object needs an apiVersion, e.g. "apiVersion: {example}"',
            ),
            version_node if version_node is not None else node,
        )
    if not kind or not version:
        _fail(load, ctx, parse=True)
        return
    if kind.endswith("List") and "items" in top:
        entries = _sequence(ctx, top["items"][1], _join(path, "items"), "objects")
        _fail(load, ctx, parse=True)
        for i, entry in enumerate(entries or ()):
            _decode_object(load, file, entry, f"items[{i}]")
        return
    if kind not in SUPPORTED_KINDS:
        close = _suggest(kind, SUPPORTED_KINDS)
        similar = difflib.SequenceMatcher(None, kind.lower(), close.lower()).ratio()
        if close and similar >= 0.85:
            ctx.error(
                FieldError.not_supported(
                    _join(path, "kind"), kind, SUPPORTED_KINDS, f"did you mean `{close}`?"
                ),
                kind_node,
            )
            _fail(load, ctx, parse=True)
            return
        load.notices.append(Notice(f"skipped kind {kind} (npcore does not use it)", file, line))
        load.skipped.append((file, line, kind))
        _fail(load, ctx, parse=True)
        return
    if kind == "NetworkPolicy":
        load.take(ctx.file, _decode_policy(ctx, top, version, version_node, path, line))
    else:
        load.take(ctx.file, _decode_lenient(ctx, load.limits, kind, top, path, line))


def _fail(load: _Loading, ctx: _Ctx, *, parse: bool) -> bool:
    """Move ``ctx``'s errors into ``load``; whether there were any."""
    if parse:
        load.parse_errors += len(ctx.errors)
    load.errors.extend(ctx.errors)
    had = bool(ctx.errors)
    ctx.errors = []
    return had


def _load_into(load: _Loading, text: str, file: str) -> None:
    """Parse ``text`` and decode each of its documents into ``load``."""
    found = 0
    try:
        for document in compose(text, file, load.limits):
            if _is_null(document):
                continue
            found += 1
            _decode_object(load, file, document)
    except ParseError as error:
        load.errors.extend(error.errors)
        load.parse_errors += 1
        return
    if found == 0:
        load.errors.append(
            FieldError.syntax("no objects found: the file is empty (or only comments)").at(
                file, 1, 1
            )
        )
        load.parse_errors += 1


Source = tuple[str, "str | FieldError"]
"""One input: its name and its text, or the :class:`FieldError` saying why it could not
be read (the command-line layer reads files; see :mod:`npcore.cli.sources`)."""


def _load_sources(load: _Loading, sources: Iterable[Source]) -> None:
    for name, text in sources:
        if isinstance(text, FieldError):
            load.errors.append(text)
            load.parse_errors += 1
        else:
            _load_into(load, text, name)
