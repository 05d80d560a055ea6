"""The strict NetworkPolicy decoder: every field known, every type checked, then validated.

Rules of this file:

* Every field is known: an unknown one is an error with a "did you mean" suggestion; every
  type is checked as the API server's strict decoding checks it; ``apiVersion`` must be
  ``networking.k8s.io/v1`` (older versions get a sentence on why not).
* Then :func:`npcore.validate.validate_network_policy` runs, and each of its errors is
  placed at the node of its path (or the nearest parent present); errors about a field
  that failed to decode are not repeated.
* A policy with any error is not kept; errors come in file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import Node, ScalarNode

from npcore.errors import FieldError
from npcore.load.fields import (
    NETWORKING_V1,
    Decoded,
    Handler,
    _Ctx,
    _fields,
    _ignore,
    _int_or_string,
    _integer,
    _join,
    _mark,
    _Meta,
    _metadata,
    _Object,
    _ObjectNode,
    _prefixed,
    _sequence,
    _string,
    _string_map,
)
from npcore.load.yaml_safe import (
    _is_null,
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


_OLD_VERSIONS = {
    "extensions/v1beta1": "no longer served since Kubernetes 1.16",
    "networking.k8s.io/v1beta1": "never served NetworkPolicy",
}


def _decode_policy(
    ctx: _Ctx,
    top: dict[str, tuple[Node, Node]],
    version: str,
    version_node: Node | None,
    path: str,
    line: int,
) -> Decoded:
    """A NetworkPolicy, decoded strictly and then validated (the module's rules)."""
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
    errors = sorted(decode_errors + problems, key=lambda e: (e.line or 0, e.column or 0))
    obj = None if errors else _Object("NetworkPolicy", policy.namespace, policy.name, line, policy)
    return Decoded(obj, errors, len(decode_errors), ctx.notices)
