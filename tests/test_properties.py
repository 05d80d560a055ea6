"""Property tests: the all-pairs views agree with ``is_allowed``, and the rules of
NetworkPolicy hold on random small clusters (strategies in ``tests/strategies.py``).

Invariants (each a test below):

* ``matrix`` agrees with ``is_allowed`` on every ordered pair, for numeric and named probes;
* a ``connectivity_map`` cell contains (protocol, port) iff ``is_allowed`` says so;
* a pod no policy isolates for a direction is unrestricted on that side;
* adding a policy never opens a connection on an already isolated side unless a rule of
  the new policy admits it, and never closes one on a side that stays admitted (union);
* no policies, or Flannel: everything is allowed (where the probed port exists);
* the order of policies is irrelevant;
* self traffic is always allowed;
* ``is_allowed`` agrees with :func:`reference_allows`, a second, deliberately naive
  implementation written from the rules in docs/semantics.md (not from npcore's code).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import PORT_NAMES, PROBE_PORTS, clusters, network_policies

from npcore.cluster import Cluster, External, Pod
from npcore.engine import Connection, is_allowed
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Protocol,
)
from npcore.reachability import connectivity_map, matrix

PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

probe_ports = st.lists(st.sampled_from(PROBE_PORTS), min_size=1, max_size=4, unique=True)
probes = st.one_of(st.sampled_from(PROBE_PORTS), st.sampled_from(PORT_NAMES))


def _pairs(cluster: Cluster):  # type: ignore[no-untyped-def]
    peers = cluster.peers()
    for src in peers:
        for dst in peers:
            yield src, dst


@SETTINGS
@given(clusters(), probes, st.sampled_from(PROTOCOLS))
def test_matrix_agrees_with_is_allowed(
    cluster: Cluster, probe: int | str, protocol: Protocol
) -> None:
    m = matrix(cluster, probe, protocol)
    assert list(m.peers) == [p.key for p in cluster.peers()]
    for src, dst in _pairs(cluster):
        verdict = is_allowed(cluster, Connection(src, dst, probe, protocol))
        assert m.allowed(src.key, dst.key) is verdict.allowed, (src.key, dst.key, verdict)


@SETTINGS
@given(clusters(), probe_ports)
def test_connectivity_map_agrees_with_is_allowed(cluster: Cluster, ports: list[int]) -> None:
    cmap = connectivity_map(cluster)
    for src, dst in _pairs(cluster):
        cell = cmap.ports(src.key, dst.key)
        for protocol in PROTOCOLS:
            for number in ports:
                verdict = is_allowed(cluster, Connection(src, dst, number, protocol))
                assert cell.contains(protocol, number) is verdict.allowed, (
                    src.key,
                    dst.key,
                    protocol,
                    number,
                    cell.describe(),
                    verdict,
                )


@SETTINGS
@given(clusters(), st.sampled_from(PROBE_PORTS), st.sampled_from(PROTOCOLS))
def test_unselected_pod_is_unrestricted_on_that_side(
    cluster: Cluster, number: int, protocol: Protocol
) -> None:
    for src, dst in _pairs(cluster):
        verdict = is_allowed(cluster, Connection(src, dst, number, protocol))
        for side in (verdict.egress, verdict.ingress):
            if not side.selecting_policies:
                assert side.allowed
                assert side.admitted_by == () and side.misses == ()
        if not verdict.egress.isolated and not verdict.ingress.isolated:
            assert verdict.allowed


@SETTINGS
@given(
    clusters(max_policies=3),
    network_policies(name="added"),
    st.sampled_from(PROBE_PORTS),
    st.sampled_from(PROTOCOLS),
)
def test_adding_a_policy_is_a_monotonic_union(
    cluster: Cluster, new: object, number: int, protocol: Protocol
) -> None:
    after = cluster.with_policies([*cluster.policies, new])  # type: ignore[list-item]
    for src, dst in _pairs(cluster):
        conn = Connection(src, dst, number, protocol)
        v0, v1 = is_allowed(cluster, conn), is_allowed(after, conn)
        for s0, s1 in ((v0.egress, v1.egress), (v0.ingress, v1.ingress)):
            # The old admissions stay; only the new policy adds any.
            assert set(s0.admitted_by) <= set(s1.admitted_by)
            assert all(m.policy.endswith("/added") or m in s0.admitted_by for m in s1.admitted_by)
            if s0.isolated and s1.allowed and not s0.allowed:
                assert any(m.policy.endswith("/added") for m in s1.admitted_by)
            if s0.isolated and s0.allowed:
                assert s1.allowed


@SETTINGS
@given(clusters(), probes, st.sampled_from(PROTOCOLS))
def test_without_policies_or_on_flannel_everything_is_allowed(
    cluster: Cluster, probe: int | str, protocol: Protocol
) -> None:
    for world in (cluster.with_policies([]), cluster.with_cni("flannel")):
        m = matrix(world, probe, protocol)
        cmap = connectivity_map(world)
        for src, dst in _pairs(world):
            exists = is_allowed(world, Connection(src, dst, probe, protocol)).port is not None
            assert m.allowed(src.key, dst.key) is exists
            assert cmap.ports(src.key, dst.key).is_all


@SETTINGS
@given(clusters(), st.randoms(use_true_random=False), probes, st.sampled_from(PROTOCOLS))
def test_order_of_policies_is_irrelevant(
    cluster: Cluster, rnd: object, probe: int | str, protocol: Protocol
) -> None:
    shuffled = list(cluster.policies)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    other = cluster.with_policies(shuffled)
    assert matrix(cluster, probe, protocol).to_dict() == matrix(other, probe, protocol).to_dict()
    assert connectivity_map(cluster).to_dict() == connectivity_map(other).to_dict()
    for src, dst in _pairs(cluster):
        conn = Connection(src, dst, probe, protocol)
        assert is_allowed(cluster, conn).allowed is is_allowed(other, conn).allowed


@SETTINGS
@given(clusters(), st.sampled_from(PROBE_PORTS), st.sampled_from(PROTOCOLS))
def test_self_traffic_is_always_allowed(cluster: Cluster, number: int, protocol: Protocol) -> None:
    m = matrix(cluster, number, protocol)
    cmap = connectivity_map(cluster)
    for pod in cluster.pods:
        verdict = is_allowed(cluster, Connection(pod, pod, number, protocol))
        assert verdict.self_traffic and verdict.allowed
        assert m.allowed(pod.key, pod.key)
        assert cmap.ports(pod.key, pod.key).is_all


# ---------------------------------------------------------------- an independent reference


def _ref_selects(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    for req in selector.match_expressions:
        present = req.key in labels
        op = str(req.operator)
        if op == "In" and not (present and labels[req.key] in req.values):
            return False
        if op == "NotIn" and present and labels[req.key] in req.values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _ref_in_block(block: IPBlock, ip: str | None) -> bool:
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(block.cidr, strict=False)
    if net.version != address.version or address not in net:
        return False
    for text in block.except_:
        excluded = ipaddress.ip_network(text, strict=False)
        if excluded.version == address.version and address in excluded:
            return False
    return True


def _ref_types(policy: NetworkPolicy) -> set[str]:
    if policy.policy_types:  # None and [] are both defaulted (defaults.go: len == 0)
        return {str(t) for t in policy.policy_types}
    return {"Ingress", "Egress"} if policy.egress else {"Ingress"}


def _ref_named(pod: Pod | External, name: str, protocol: Protocol) -> int | None:
    if not isinstance(pod, Pod):
        return None
    for cp in pod.ports:
        if cp.name == name and str(cp.protocol) == str(protocol):
            return cp.port
    return None


def reference_allows(
    cluster: Cluster, src: Pod | External, dst: Pod | External, port: int | str, protocol: Protocol
) -> bool:
    """Whether ``src`` may connect to ``dst``, computed naively from the written rules."""
    number = _ref_named(dst, port, protocol) if isinstance(port, str) else port
    if number is None:
        return False  # nothing listens on an undefined named port
    if not cluster.enforced:
        return True
    if isinstance(src, Pod) and isinstance(dst, Pod) and src.key == dst.key:
        return True
    ns_labels = {ns.name: dict(ns.labels) for ns in cluster.namespaces}

    def peer_ok(peer: NetworkPolicyPeer, policy_ns: str, other: Pod | External) -> bool:
        if peer.ip_block is not None:
            return _ref_in_block(peer.ip_block, other.ip)
        if not isinstance(other, Pod):
            return False
        if peer.pod_selector is None and peer.namespace_selector is None:
            return False
        if peer.namespace_selector is None:
            ns_ok = other.namespace == policy_ns
        else:
            ns_ok = _ref_selects(peer.namespace_selector, ns_labels.get(other.namespace, {}))
        pod_ok = peer.pod_selector is None or _ref_selects(peer.pod_selector, other.labels)
        return ns_ok and pod_ok

    def port_ok(entry: NetworkPolicyPort) -> bool:
        if str(entry.protocol or "TCP") != str(protocol):
            return False
        if entry.port is None:
            return True
        if isinstance(entry.port, str):
            return _ref_named(dst, entry.port, protocol) == number
        return entry.port <= number <= (entry.end_port or entry.port)

    def side_allows(pod: Pod | External, direction: str, other: Pod | External) -> bool:
        if not isinstance(pod, Pod):
            return True
        selecting = [
            p
            for p in cluster.policies
            if p.namespace == pod.namespace
            and _ref_selects(p.pod_selector, pod.labels)
            and direction in _ref_types(p)
        ]
        if not selecting:
            return True
        for policy in selecting:
            rules = policy.ingress if direction == "Ingress" else policy.egress
            for rule in rules or ():
                peers = rule.from_ if direction == "Ingress" else rule.to  # type: ignore[union-attr]
                if (not peers or any(peer_ok(p, policy.namespace, other) for p in peers)) and (
                    not rule.ports or any(port_ok(e) for e in rule.ports)
                ):
                    return True
        return False

    return side_allows(src, "Egress", dst) and side_allows(dst, "Ingress", src)


@SETTINGS
@given(clusters(), probes, st.sampled_from(PROTOCOLS), st.booleans())
def test_is_allowed_agrees_with_a_naive_reference(
    cluster: Cluster, probe: int | str, protocol: Protocol, flannel: bool
) -> None:
    if flannel:
        cluster = cluster.with_cni("flannel")
    for src, dst in _pairs(cluster):
        verdict = is_allowed(cluster, Connection(src, dst, probe, protocol))
        assert verdict.allowed is reference_allows(cluster, src, dst, probe, protocol), (
            src.key,
            dst.key,
            probe,
            protocol,
            verdict,
        )
