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
* self traffic is always allowed.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import PORT_NAMES, PROBE_PORTS, clusters, network_policies

from npcore.cluster import Cluster
from npcore.engine import Connection, is_allowed
from npcore.model import Protocol
from npcore.reachability import connectivity_map, matrix

PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
settings.register_profile(
    "npcore-hunt", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
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
