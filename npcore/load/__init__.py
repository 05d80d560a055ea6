"""Read manifests (YAML or JSON) into a :class:`~npcore.cluster.Cluster`, strictly.

This is the only module that touches YAML.  It reads what ``kubectl apply -f`` reads and
refuses what the API server refuses, saying where: every error carries the file, line and
column (1-based) of the field it is about.

Rules of this file:

* Input: YAML or JSON, several documents per stream (``---``), ``kind: List`` (and any
  ``...List`` kind) with ``items``, files, directories (their ``*.yaml``, ``*.yml`` and
  ``*.json`` files, sorted, not recursive) or stdin (``-``).
* Parsing uses PyYAML's event parser (libyaml's when available) and npcore's own composer,
  which keeps the marks, refuses hostile input (see :class:`Limits`) before building
  anything large, and lets the decoder see duplicate keys, which the API server's strict
  decoding rejects (``duplicate field "x"``).
* ``NetworkPolicy`` is decoded strictly: every field is known (unknown fields are reported
  with a "did you mean" suggestion), every type checked, ``apiVersion`` must be
  ``networking.k8s.io/v1``; then :func:`npcore.validate.validate_network_policy` runs, and
  each of its errors is placed at the node of its path (or the nearest parent present).
  A policy with errors is left out of the cluster.
* ``Namespace``, ``Pod``, ``Service`` and the workloads (``Deployment``, ``ReplicaSet``,
  ``StatefulSet``, ``DaemonSet``, ``Job``) are read leniently: only the fields npcore needs
  are read (labels, container ports, ``status.podIP``, a Service's selector and ports) and
  the rest ignored.  Label values written as plain YAML scalars (``version: 1.10``,
  ``enabled: yes``) are read as the text written.
* A workload gives ``replicas`` pods (default 1; a Job gives ``parallelism``, a DaemonSet
  one) named ``NAME-0`` ... ``NAME-(n-1)``, labelled from ``spec.template``.
* Other kinds are skipped with a :class:`~npcore.errors.Notice`.  An object with the kind,
  namespace and name of an earlier one replaces it (as ``kubectl apply`` does), with a
  notice; so does a pod with the ``namespace/name`` of an earlier pod.
* ``metadata.namespace`` absent means ``default``.
* Nothing but npcore's own errors ever escapes: any input gives a :class:`LoadResult`.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeAlias

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from npcore.cluster import Cluster, ContainerPort, Namespace, Pod, Service, ServicePort
from npcore.cni import DEFAULT_CNI
from npcore.errors import FieldError, Notice, ParseError, ValidationError, format_value
from npcore.load.yaml_safe import (
    _INT,
    _MERGE,
    _NULL,
    _STR,
    DEFAULT_LIMITS,
    Limits,
    _is_null,
    _scalar,
    compose,
)
from npcore.model import (
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Operator,
    PolicyType,
    Protocol,
)
from npcore.validate import (
    OPERATORS,
    POLICY_TYPES,
    PROTOCOLS,
    operator_error,
    policy_type_error,
    protocol_error,
    validate_network_policy,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "LoadResult",
    "load_cluster",
    "load_files",
    "load_text",
    "parse_policies",
]

NETWORKING_V1 = "networking.k8s.io/v1"
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")
SUPPORTED_KINDS = ("NetworkPolicy", "Namespace", "Pod", "Service", *WORKLOAD_KINDS)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")




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


# --- NetworkPolicy (strict) ------------------------------------------------------------------

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


def _selector_hint(key: str) -> str:
    return f"labels go under matchLabels, e.g. matchLabels: {{{key}: ...}}"


def _label_selector(ctx: _Ctx, node: Node, path: str) -> LabelSelector:
    match_labels: dict[str, str] = {}
    expressions: list[LabelSelectorRequirement] = []

    def labels(n: Node, p: str) -> None:
        match_labels.update(_string_map(ctx, n, p))

    def exprs(n: Node, p: str) -> None:
        for i, item in enumerate(_sequence(ctx, n, p, "requirements") or ()):
            expressions.append(_requirement(ctx, item, f"{p}[{i}]"))

    _fields(
        ctx,
        node,
        path,
        {"matchLabels": labels, "matchExpressions": exprs},
        hint=_selector_hint,
    )
    return LabelSelector.of(match_labels, expressions)


def _requirement(ctx: _Ctx, node: Node, path: str) -> LabelSelectorRequirement:
    ctx.marks[path] = _mark(node)
    key = ""
    operator: str | None = None
    values: list[str] = []
    ok = True

    def key_(n: Node, p: str) -> None:
        nonlocal key
        key = _string(ctx, n, p) or ""

    def operator_(n: Node, p: str) -> None:
        nonlocal operator, ok
        operator = _string(ctx, n, p)
        if operator is not None and operator not in OPERATORS:
            ctx.error(operator_error(p, operator), n)
            ok = False

    def values_(n: Node, p: str) -> None:
        for i, item in enumerate(_sequence(ctx, n, p, "label values") or ()):
            ctx.marks[f"{p}[{i}]"] = _mark(item)
            value = _string(ctx, item, f"{p}[{i}]")
            values.append(value or "")

    if not _fields(ctx, node, path, {"key": key_, "operator": operator_, "values": values_}):
        ok = False
    elif operator is None:
        ctx.error(FieldError.required(f"{path}.operator", "one of " + ", ".join(OPERATORS)), node)
        ok = False
    if not ok or operator is None:
        # A stand-in, so that later requirements keep their index; its errors are reported.
        ctx.poisoned.add(path)
        return LabelSelectorRequirement(key, Operator.EXISTS)
    return LabelSelectorRequirement(key, Operator(operator), tuple(values))


def _port(ctx: _Ctx, node: Node, path: str) -> NetworkPolicyPort:
    ctx.marks[path] = _mark(node)
    if isinstance(node, ScalarNode) and not _is_null(node):
        ctx.type_error(node, path, f'must be a mapping such as "port: {node.value}"')
        return NetworkPolicyPort()
    protocol: Protocol | None = None
    port: int | str | None = None
    end_port: int | None = None

    def protocol_(n: Node, p: str) -> None:
        nonlocal protocol
        text = _string(ctx, n, p)
        if text is None:
            return
        if text in PROTOCOLS:
            protocol = Protocol(text)
        else:
            ctx.error(protocol_error(p, text), n)

    def port_(n: Node, p: str) -> None:
        nonlocal port
        port = _int_or_string(ctx, n, p)

    def end_port_(n: Node, p: str) -> None:
        nonlocal end_port
        end_port = _integer(ctx, n, p)

    handlers = {"protocol": protocol_, "port": port_, "endPort": end_port_}
    _fields(ctx, node, path, handlers)
    return NetworkPolicyPort(protocol, port, end_port)


def _ip_block(ctx: _Ctx, node: Node, path: str) -> IPBlock:
    cidr = ""
    excepts: list[str] = []

    def cidr_(n: Node, p: str) -> None:
        nonlocal cidr
        cidr = _string(ctx, n, p) or ""

    def except_(n: Node, p: str) -> None:
        for i, item in enumerate(_sequence(ctx, n, p, "CIDRs") or ()):
            ctx.marks[f"{p}[{i}]"] = _mark(item)
            excepts.append(_string(ctx, item, f"{p}[{i}]") or "")

    _fields(ctx, node, path, {"cidr": cidr_, "except": except_})
    return IPBlock(cidr, tuple(excepts))


def _peer(ctx: _Ctx, node: Node, path: str) -> NetworkPolicyPeer:
    ctx.marks[path] = _mark(node)
    found: dict[str, Any] = {}

    def selector(name: str) -> Handler:
        def handle(n: Node, p: str) -> None:
            if not _is_null(n):
                found[name] = _label_selector(ctx, n, p)

        return handle

    def ip_block(n: Node, p: str) -> None:
        if not _is_null(n):
            found["ip_block"] = _ip_block(ctx, n, p)

    handlers = {
        "podSelector": selector("pod_selector"),
        "namespaceSelector": selector("namespace_selector"),
        "ipBlock": ip_block,
    }
    _fields(ctx, node, path, handlers, hint=_peer_hint)
    return NetworkPolicyPeer(**found)


def _peer_hint(key: str) -> str:
    return (
        "a peer has podSelector, namespaceSelector or ipBlock; labels go under"
        f" podSelector: {{matchLabels: {{{key}: ...}}}}"
    )


def _rule_parts(
    ctx: _Ctx, node: Node, path: str, peers_key: str
) -> tuple[tuple[NetworkPolicyPort, ...] | None, tuple[NetworkPolicyPeer, ...] | None]:
    ctx.marks[path] = _mark(node)
    ports: list[NetworkPolicyPort] | None = None
    peers: list[NetworkPolicyPeer] | None = None

    def ports_(n: Node, p: str) -> None:
        nonlocal ports
        items = _sequence(ctx, n, p, "ports")
        if items is None:
            return
        ports = []
        ports = [_port(ctx, item, f"{p}[{i}]") for i, item in enumerate(items)]

    def peers_(n: Node, p: str) -> None:
        nonlocal peers
        items = _sequence(ctx, n, p, "peers")
        if items is None:
            return
        peers = [_peer(ctx, item, f"{p}[{i}]") for i, item in enumerate(items)]

    _fields(ctx, node, path, {"ports": ports_, peers_key: peers_})
    return (
        tuple(ports) if ports is not None else None,
        tuple(peers) if peers is not None else None,
    )


@dataclass(slots=True)
class _Spec:
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    ingress: tuple[NetworkPolicyIngressRule, ...] | None = None
    egress: tuple[NetworkPolicyEgressRule, ...] | None = None
    policy_types: tuple[PolicyType, ...] | None = None


def _spec(ctx: _Ctx, node: Node, path: str) -> _Spec:
    spec = _Spec()

    def pod_selector(n: Node, p: str) -> None:
        spec.pod_selector = _label_selector(ctx, n, p)

    def ingress(n: Node, p: str) -> None:
        items = _sequence(ctx, n, p, "ingress rules")
        if items is not None:
            rules = []
            for i, item in enumerate(items):
                ports, peers = _rule_parts(ctx, item, f"{p}[{i}]", "from")
                rules.append(NetworkPolicyIngressRule(ports=ports, from_=peers))
            spec.ingress = tuple(rules)

    def egress(n: Node, p: str) -> None:
        items = _sequence(ctx, n, p, "egress rules")
        if items is not None:
            rules = []
            for i, item in enumerate(items):
                ports, peers = _rule_parts(ctx, item, f"{p}[{i}]", "to")
                rules.append(NetworkPolicyEgressRule(ports=ports, to=peers))
            spec.egress = tuple(rules)

    def policy_types(n: Node, p: str) -> None:
        items = _sequence(ctx, n, p, "policy types")
        if items is None:
            return
        types: list[PolicyType] = []
        for i, item in enumerate(items):
            ctx.marks[f"{p}[{i}]"] = _mark(item)
            text = _string(ctx, item, f"{p}[{i}]")
            if text is None:
                text = ""
            if text in POLICY_TYPES:
                if PolicyType(text) in types:
                    ctx.notice(
                        f"{p} lists {text} twice (the API server accepts this; once is enough)",
                        item,
                    )
                types.append(PolicyType(text))
            else:
                ctx.error(policy_type_error(f"{p}[{i}]", text), item)
        spec.policy_types = tuple(types)

    _fields(
        ctx,
        node,
        path,
        {
            "podSelector": pod_selector,
            "ingress": ingress,
            "egress": egress,
            "policyTypes": policy_types,
        },
    )
    return spec


# --- the objects ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Object:
    """One decoded object, with where it starts."""

    kind: str
    namespace: str
    name: str
    line: int
    value: NetworkPolicy | Namespace | Service | tuple[Pod, ...]


@dataclass(slots=True)
class _Loading:
    """Everything loaded so far, in order, keyed as ``kubectl apply`` keys objects."""

    limits: Limits
    errors: list[FieldError] = field(default_factory=list)
    parse_errors: int = 0
    notices: list[Notice] = field(default_factory=list)
    objects: dict[tuple[str, str, str], tuple[str, _Object]] = field(default_factory=dict)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)

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


_OLD_VERSIONS = {
    "extensions/v1beta1": "no longer served since Kubernetes 1.16",
    "networking.k8s.io/v1beta1": "never served NetworkPolicy",
}


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
        _decode_policy(load, ctx, top, version, version_node, path, line)
    else:
        _decode_lenient(load, ctx, kind, top, path, line)


def _fail(load: _Loading, ctx: _Ctx, *, parse: bool) -> bool:
    """Move ``ctx``'s errors into ``load``; whether there were any."""
    if parse:
        load.parse_errors += len(ctx.errors)
    load.errors.extend(ctx.errors)
    had = bool(ctx.errors)
    ctx.errors = []
    return had


def _decode_policy(
    load: _Loading,
    ctx: _Ctx,
    top: dict[str, tuple[Node, Node]],
    version: str,
    version_node: Node | None,
    path: str,
    line: int,
) -> None:
    if version != NETWORKING_V1:
        why = _OLD_VERSIONS.get(version, "")
        hint = f"{version} {why}; " if why else ""
        ctx.error(
            FieldError(
                _join(path, "apiVersion"),
                f'Unsupported value: "{version}": no matches for kind "NetworkPolicy" in'
                f' version "{version}" ({hint}use "{NETWORKING_V1}")',
                "Unsupported value",
                version,
            ),
            version_node,
        )
    meta = _Meta()
    spec = _Spec()

    def metadata(n: Node, p: str) -> None:
        nonlocal meta
        meta = _metadata(ctx, n, p, strict=True)

    def spec_(n: Node, p: str) -> None:
        nonlocal spec
        spec = _spec(ctx, n, p)

    # ``path`` is where the object sits in its file (``items[2]``); the validator's paths
    # are relative to the object, as the API server's are.
    prefix = f"{path}." if path else ""
    _fields(
        ctx,
        _ObjectNode(top),
        "",
        {"apiVersion": _ignore, "kind": _ignore, "metadata": metadata, "spec": spec_},
    )
    if prefix:
        ctx.errors = [_prefixed(e, prefix) for e in ctx.errors]
    decode_errors, ctx.errors = ctx.errors, []
    load.notices.extend(ctx.notices)
    load.parse_errors += len(decode_errors)
    policy = NetworkPolicy(
        name=meta.name,
        namespace=meta.namespace or "default",
        pod_selector=spec.pod_selector,
        ingress=spec.ingress,
        egress=spec.egress,
        policy_types=spec.policy_types,
        labels=tuple(sorted(meta.labels.items())),
        annotations=tuple(sorted(meta.annotations.items())),
    )
    problems = [ctx.place(e) for e in validate_network_policy(policy) if not ctx.suppressed(e.path)]
    if prefix:
        problems = [_prefixed(e, prefix) for e in problems]
    # In file order: what a learner reads top to bottom.
    load.errors.extend(sorted(decode_errors + problems, key=lambda e: (e.line or 0, e.column or 0)))
    if decode_errors or problems:
        return
    load.add(ctx.file, _Object("NetworkPolicy", policy.namespace, policy.name, line, policy))


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


# --- lenient kinds ------------------------------------------------------------------------------


def _decode_lenient(
    load: _Loading,
    ctx: _Ctx,
    kind: str,
    top: dict[str, tuple[Node, Node]],
    path: str,
    line: int,
) -> None:
    meta = (
        _metadata(ctx, top["metadata"][1], "metadata", strict=False)
        if "metadata" in top
        else _Meta()
    )
    if not meta.name:
        node = top["metadata"][1] if "metadata" in top else _ObjectNode(top)
        ctx.error(
            FieldError.required(_join(path, "metadata.name"), f"every {kind} needs a name"),
            node,
        )
    spec = top.get("spec", (None, None))[1]
    namespace = meta.namespace or "default"
    obj: _Object | None = None
    if kind == "Namespace":
        obj = _Object(kind, "", meta.name, line, Namespace(meta.name, meta.labels))
    elif kind == "Pod":
        ports = _containers(ctx, spec, "spec") if spec is not None else ()
        ip = _pod_ip(ctx, top["status"][1]) if "status" in top else None
        pod = Pod(namespace, meta.name, meta.labels, ip, ports)
        obj = _Object(kind, namespace, meta.name, line, (pod,))
    elif kind == "Service":
        service = _service(ctx, spec, namespace, meta.name)
        obj = _Object(kind, namespace, meta.name, line, service)
    else:
        pods = _workload(ctx, load.limits, kind, spec, namespace, meta.name)
        obj = _Object(kind, namespace, meta.name, line, pods)
    if path:
        ctx.errors = [_prefixed(e, f"{path}.") for e in ctx.errors]
    if _fail(load, ctx, parse=True) or not meta.name:
        return
    load.add(ctx.file, obj)


def _get(ctx: _Ctx, node: Node | None, path: str, *keys: str) -> Node | None:
    """The node at ``keys`` under ``node`` (lenient: ``None`` if anything is missing)."""
    for key in keys:
        if node is None or _is_null(node):
            return None
        items = _items(ctx, node, path)
        if items is None:
            return None
        path = _join(path, key)
        node = next((v for k, _, v in items if k == key), None)
    return node


def _protocol(ctx: _Ctx, node: Node | None, path: str) -> Protocol | None:
    if node is None:
        return Protocol.TCP
    text = _string(ctx, node, path)
    if text is None:
        return Protocol.TCP
    if text in PROTOCOLS:
        return Protocol(text)
    ctx.error(protocol_error(path, text), node)
    return None


def _containers(ctx: _Ctx, spec: Node | None, path: str) -> tuple[ContainerPort, ...]:
    result: list[ContainerPort] = []
    containers = _get(ctx, spec, path, "containers")
    cpath = f"{path}.containers"
    items = _sequence(ctx, containers, cpath, "containers") if containers is not None else None
    for i, container in enumerate(items or ()):
        ports = _get(ctx, container, f"{cpath}[{i}]", "ports")
        if ports is None:
            continue
        ppath = f"{cpath}[{i}].ports"
        for j, port in enumerate(_sequence(ctx, ports, ppath, "container ports") or ()):
            here = f"{ppath}[{j}]"
            number_node = _get(ctx, port, here, "containerPort")
            if number_node is None:
                ctx.error(FieldError.required(f"{here}.containerPort"), port)
                continue
            number = _integer(ctx, number_node, f"{here}.containerPort")
            name_node = _get(ctx, port, here, "name")
            name = _string(ctx, name_node, f"{here}.name") if name_node is not None else None
            protocol = _protocol(ctx, _get(ctx, port, here, "protocol"), f"{here}.protocol")
            if number is None or protocol is None:
                continue
            result.append(ContainerPort(number, protocol, name or None))
    return tuple(result)


def _pod_ip(ctx: _Ctx, status: Node) -> str | None:
    node = _get(ctx, status, "status", "podIP")
    if node is None:
        return None
    text = _string(ctx, node, "status.podIP", lenient=True)
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        ctx.error(
            FieldError.invalid(
                "status.podIP",
                text,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ),
            node,
        )
        return None


def _service(ctx: _Ctx, spec: Node | None, namespace: str, name: str) -> Service:
    selector_node = _get(ctx, spec, "spec", "selector")
    selector = (
        _string_map(ctx, selector_node, "spec.selector", lenient=True)
        if selector_node is not None and not _is_null(selector_node)
        else None
    )
    ports: list[ServicePort] = []
    ports_node = _get(ctx, spec, "spec", "ports")
    for i, port in enumerate(
        (_sequence(ctx, ports_node, "spec.ports", "service ports") or ())
        if ports_node is not None
        else ()
    ):
        here = f"spec.ports[{i}]"
        number_node = _get(ctx, port, here, "port")
        if number_node is None:
            ctx.error(FieldError.required(f"{here}.port"), port)
            continue
        number = _integer(ctx, number_node, f"{here}.port")
        target_node = _get(ctx, port, here, "targetPort")
        target = (
            _int_or_string(ctx, target_node, f"{here}.targetPort")
            if target_node is not None
            else None
        )
        protocol = _protocol(ctx, _get(ctx, port, here, "protocol"), f"{here}.protocol")
        name_node = _get(ctx, port, here, "name")
        port_name = _string(ctx, name_node, f"{here}.name") if name_node is not None else None
        if number is None or protocol is None:
            continue
        ports.append(
            ServicePort(number, target if target is not None else number, protocol, port_name)
        )
    return Service(namespace, name, selector, tuple(ports))


def _workload(
    ctx: _Ctx, limits: Limits, kind: str, spec: Node | None, namespace: str, name: str
) -> tuple[Pod, ...]:
    count = 1
    field_name = {"Job": "parallelism", "DaemonSet": ""}.get(kind, "replicas")
    if field_name:
        node = _get(ctx, spec, "spec", field_name)
        if node is not None and not _is_null(node):
            number = _integer(ctx, node, f"spec.{field_name}")
            if number is None:
                return ()
            if number < 0 or number > limits.max_replicas:
                ctx.error(
                    FieldError.invalid(
                        f"spec.{field_name}",
                        number,
                        f"must be between 0 and {limits.max_replicas} here",
                    ),
                    node,
                )
                return ()
            count = number
    template = _get(ctx, spec, "spec", "template")
    labels_node = _get(ctx, template, "spec.template", "metadata", "labels")
    labels = (
        _string_map(ctx, labels_node, "spec.template.metadata.labels", lenient=True)
        if labels_node is not None
        else {}
    )
    pod_spec = _get(ctx, template, "spec.template", "spec")
    ports = _containers(ctx, pod_spec, "spec.template.spec") if pod_spec is not None else ()
    return tuple(Pod(namespace, f"{name}-{i}", dict(labels), None, ports) for i in range(count))


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


def _read(load: _Loading, source: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """``(file name, text)`` of a path, a directory's manifests, or stdin (``-``)."""
    limit = load.limits.max_bytes
    name = os.fspath(source)
    if name == "-":
        data = sys.stdin.read(limit + 1)
        yield "<stdin>", data
        return
    path = Path(name)
    try:
        if path.is_dir():
            children = sorted(
                p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
            if not children:
                raise OSError(f"no {', '.join(MANIFEST_SUFFIXES)} files in the directory")
            for child in children:
                yield from _read(load, child)
            return
        size = path.stat().st_size
        if size > limit:
            load.errors.append(
                FieldError("", f"refused: larger than {limit} bytes", "Too long", size, name)
            )
            load.parse_errors += 1
            return
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as error:
        reason = error.strerror or str(error)
        load.errors.append(FieldError.syntax(f"cannot read: {reason}").at(name))
        load.parse_errors += 1
        return
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        load.errors.append(
            FieldError.syntax(f"not UTF-8 text (byte {error.start + 1} cannot be decoded)").at(name)
        )
        load.parse_errors += 1
        return
    yield name, text


# --- public API ---------------------------------------------------------------------------------


def load_text(
    text: str,
    filename: str = "<string>",
    *,
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load manifests from ``text`` (named ``filename`` in errors)."""
    load = _Loading(limits)
    _load_into(load, text, filename)
    return load.result(cni)


def load_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load manifests from files, directories and stdin (``"-"``), in order."""
    load = _Loading(limits)
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    for path in paths:
        for name, text in _read(load, path):
            _load_into(load, text, name)
    return load.result(cni)


def load_cluster(
    *paths: str | os.PathLike[str],
    text: str | None = None,
    filename: str = "<string>",
    cni: str = DEFAULT_CNI,
    limits: Limits = DEFAULT_LIMITS,
) -> Cluster:
    """The cluster of ``paths`` (and of ``text``, read after them); raises
    :class:`~npcore.errors.ValidationError` with every error when anything is wrong.
    """
    load = _Loading(limits)
    for path in paths:
        for name, content in _read(load, path):
            _load_into(load, content, name)
    if text is not None:
        _load_into(load, text, filename)
    result = load.result(cni)
    if not result.ok:
        raise ValidationError(result.errors)
    return result.cluster


def parse_policies(text: str, filename: str = "<string>") -> tuple[NetworkPolicy, ...]:
    """The NetworkPolicies in ``text``, in order (a later one with the same namespace and
    name replaces an earlier one).

    Raises :class:`~npcore.errors.ParseError` when the text cannot be read or decoded (or
    holds an object of another kind), :class:`~npcore.errors.ValidationError` when it
    decodes and the API server would refuse a policy.  Both carry every error.
    """
    load = _Loading(DEFAULT_LIMITS)
    _load_into(load, text, filename)
    others = [(f, o) for f, o in load.objects.values() if not isinstance(o.value, NetworkPolicy)]
    for file, obj in others:
        load.errors.append(
            FieldError.syntax(
                f"expected only NetworkPolicy objects here, found {obj.kind} {obj.name}",
                "kind",
            ).at(file, obj.line)
        )
        load.parse_errors += 1
    for file, line, kind in load.skipped:
        load.errors.append(
            FieldError.syntax(
                f"expected only NetworkPolicy objects here, found kind {kind}", "kind"
            ).at(file, line)
        )
        load.parse_errors += 1
    errors = tuple(_unique(load.errors))
    if load.parse_errors:
        raise ParseError(errors)
    if errors:
        raise ValidationError(errors)
    return tuple(o.value for _, o in load.objects.values() if isinstance(o.value, NetworkPolicy))
