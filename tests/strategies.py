"""Hypothesis strategies for small, valid npcore worlds (shared by the test suite).

Everything generated is *valid* NetworkPolicy input (what ``npcore.validate`` accepts):
``In``/``NotIn`` requirements have values, ``Exists``/``DoesNotExist`` none; ``endPort``
only with a numeric port and ``endPort >= port``; ``except`` entries inside their
``cidr``; each peer sets either ``ipBlock`` or at least one selector.  Labels come from a
small alphabet so that selectors often match.  Pod IPs are drawn from 10.0.0.0/24 and
2001:db8::/120, externals from 10.0.0.0/24, 192.0.2.0/24 and 2001:db8::/120, so ipBlocks
around them hit pods, externals, both families and the edges of ranges.

Public strategies: :func:`label_selectors`, :func:`peers`, :func:`policy_ports`,
:func:`network_policies`, :func:`clusters`, :data:`PROBE_PORTS`.
"""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from npcore.cluster import Cluster, ContainerPort, External, Namespace, Pod
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

__all__ = [
    "NAMESPACES",
    "PORT_NAMES",
    "PROBE_PORTS",
    "clusters",
    "label_selectors",
    "network_policies",
    "peers",
    "policy_ports",
]

NAMESPACES = ("x", "y", "z")
LABEL_KEYS = ("app", "tier", "env")
LABEL_VALUES = ("a", "b", "c")
PORT_NAMES = ("http", "dns", "metrics")
# Ports that the generated policies use, with their neighbours (range boundaries).
POLICY_PORTS = (53, 80, 81, 443, 8080)
PROBE_PORTS = (1, 52, 53, 54, 79, 80, 81, 82, 442, 443, 444, 8079, 8080, 8081, 65535)
PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)

labels_st = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=2)


@st.composite
def requirements(draw: st.DrawFn) -> LabelSelectorRequirement:
    key = draw(st.sampled_from((*LABEL_KEYS, "kubernetes.io/metadata.name")))
    op = draw(st.sampled_from(list(Operator)))
    if op in (Operator.IN, Operator.NOT_IN):
        pool = NAMESPACES if key == "kubernetes.io/metadata.name" else LABEL_VALUES
        values = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True)))
        return LabelSelectorRequirement(key, op, values)
    return LabelSelectorRequirement(key, op)


def label_selectors() -> st.SearchStrategy[LabelSelector]:
    """Selectors with 0-2 matchLabels and 0-2 matchExpressions (empty ones included)."""
    return st.builds(
        LabelSelector.of,
        labels_st,
        st.lists(requirements(), max_size=2),
    )


def _v4(last: int) -> str:
    return f"10.0.0.{last}"


def _v6(last: int) -> str:
    return f"2001:db8::{last:x}"


@st.composite
def ip_blocks(draw: st.DrawFn) -> IPBlock:
    v6 = draw(st.booleans())
    base = draw(st.integers(0, 255))
    prefix = draw(st.sampled_from((24, 25, 26, 28, 30, 32) if not v6 else (120, 121, 124, 128)))
    if v6:
        net = ipaddress.ip_network(f"{_v6(base)}/{prefix}", strict=False)
        if draw(st.booleans()):
            net = ipaddress.ip_network("::/0")
    else:
        net = ipaddress.ip_network(f"{_v4(base)}/{prefix}", strict=False)
        if draw(st.integers(0, 5)) == 0:
            net = ipaddress.ip_network("0.0.0.0/0")
    excepts: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        if net.prefixlen >= net.max_prefixlen:
            break
        sub_prefix = draw(st.integers(net.prefixlen + 1, net.max_prefixlen))
        subnets = 1 << min(sub_prefix - net.prefixlen, 16)
        index = draw(st.integers(0, subnets - 1))
        first = int(net.network_address) + index * (1 << (net.max_prefixlen - sub_prefix))
        excepts.append(str(ipaddress.ip_network((first, sub_prefix))))
    return IPBlock(str(net), tuple(excepts))


@st.composite
def peers(draw: st.DrawFn) -> NetworkPolicyPeer:
    """A valid peer: ipBlock, podSelector, namespaceSelector, or both selectors."""
    kind = draw(st.sampled_from(("ip", "pod", "ns", "both")))
    if kind == "ip":
        return NetworkPolicyPeer(ip_block=draw(ip_blocks()))
    pod = draw(label_selectors()) if kind in ("pod", "both") else None
    ns = None
    if kind in ("ns", "both"):
        ns = draw(
            st.one_of(
                label_selectors(),
                st.sampled_from(NAMESPACES).map(
                    lambda n: LabelSelector.of({"kubernetes.io/metadata.name": n})
                ),
            )
        )
    return NetworkPolicyPeer(pod_selector=pod, namespace_selector=ns)


@st.composite
def policy_ports(draw: st.DrawFn) -> NetworkPolicyPort:
    """A valid NetworkPolicyPort: protocol-only, number, range, or named."""
    protocol = draw(st.one_of(st.none(), st.sampled_from(PROTOCOLS)))
    kind = draw(st.sampled_from(("none", "number", "range", "name")))
    if kind == "none":
        return NetworkPolicyPort(protocol=protocol)
    if kind == "name":
        return NetworkPolicyPort(protocol=protocol, port=draw(st.sampled_from(PORT_NAMES)))
    number = draw(st.sampled_from(POLICY_PORTS))
    if kind == "number":
        return NetworkPolicyPort(protocol=protocol, port=number)
    end = draw(st.sampled_from([p for p in (*POLICY_PORTS, 65535) if p >= number]))
    return NetworkPolicyPort(protocol=protocol, port=number, end_port=end)


def _optional_tuple(elements: st.SearchStrategy[object], max_size: int) -> st.SearchStrategy:
    """``None`` (absent), ``()`` (empty) or a short tuple."""
    return st.one_of(
        st.none(), st.just(()), st.lists(elements, min_size=1, max_size=max_size).map(tuple)
    )


ingress_rules = st.builds(
    NetworkPolicyIngressRule,
    ports=_optional_tuple(policy_ports(), 2),
    from_=_optional_tuple(peers(), 2),
)
egress_rules = st.builds(
    NetworkPolicyEgressRule,
    ports=_optional_tuple(policy_ports(), 2),
    to=_optional_tuple(peers(), 2),
)


@st.composite
def network_policies(draw: st.DrawFn, name: str | None = None) -> NetworkPolicy:
    """A valid policy in one of :data:`NAMESPACES`, with random rules and policyTypes."""
    types = draw(
        st.sampled_from(
            (
                None,
                (PolicyType.INGRESS,),
                (PolicyType.EGRESS,),
                (PolicyType.INGRESS, PolicyType.EGRESS),
            )
        )
    )
    return NetworkPolicy(
        name=name or draw(st.sampled_from(("p0", "p1", "p2", "p3"))),
        namespace=draw(st.sampled_from(NAMESPACES)),
        pod_selector=draw(label_selectors()),
        ingress=draw(_optional_tuple(ingress_rules, 3)),
        egress=draw(_optional_tuple(egress_rules, 3)),
        policy_types=types,
    )


@st.composite
def container_ports(draw: st.DrawFn) -> tuple[ContainerPort, ...]:
    """0-3 container ports; names unique per pod (as the API requires)."""
    count = draw(st.integers(0, 3))
    names = draw(st.lists(st.sampled_from(PORT_NAMES), min_size=count, max_size=count, unique=True))
    out = []
    for name in names:
        number = draw(st.sampled_from(POLICY_PORTS))
        protocol = draw(st.sampled_from(PROTOCOLS))
        out.append(ContainerPort(number, protocol, draw(st.one_of(st.just(name), st.none()))))
    return tuple(out)


@st.composite
def clusters(draw: st.DrawFn, max_policies: int = 4) -> Cluster:
    """2-3 namespaces, 2-6 pods, 0-3 externals, 0-``max_policies`` policies (unique names)."""
    n_ns = draw(st.integers(2, 3))
    namespaces = [Namespace(n, draw(labels_st)) for n in NAMESPACES[:n_ns]]
    n_pods = draw(st.integers(2, 6))
    ip_lasts = draw(st.lists(st.integers(1, 254), min_size=n_pods, max_size=n_pods, unique=True))
    pods = []
    for i in range(n_pods):
        ns = draw(st.sampled_from(NAMESPACES[:n_ns]))
        ip = _v6(ip_lasts[i]) if draw(st.integers(0, 4)) == 0 else _v4(ip_lasts[i])
        pods.append(Pod(ns, f"p{i}", draw(labels_st), ip, draw(container_ports())))
    externals = []
    for i in range(draw(st.integers(0, 3))):
        last = draw(st.integers(1, 254))
        ip = draw(st.sampled_from((_v4(last), f"192.0.2.{last}", _v6(last))))
        externals.append(External(f"ext{i}", ip))
    n_policies = draw(st.integers(0, max_policies))
    policies = [draw(network_policies(name=f"p{i}")) for i in range(n_policies)]
    return Cluster.build(
        namespaces=namespaces, pods=pods, externals=externals, policies=policies, cni="calico"
    )
