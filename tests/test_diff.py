"""Tests of npcore.diff: the pairs whose allowed ports change between two policy sets."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import npcore.diff
from npcore.cluster import Cluster, External, Pod
from npcore.diff import Change, diff, diff_dict, diff_text, port_difference
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    PolicyType,
    Protocol,
)
from npcore.ports import ALL_PORTS, NO_PORTS, PortSet
from npcore.reachability import connectivity_map

A = Pod("x", "a", {"app": "a"})
B = Pod("x", "b", {"app": "b"})
INTERNET = External("internet", "8.8.8.8")
BASE = Cluster.build(pods=[A, B], externals=[INTERNET])

ONLY_80 = NetworkPolicy(
    "b-80",
    "x",
    LabelSelector.of({"app": "b"}),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "a"})),),
            ports=(NetworkPolicyPort(port=80),),
        ),
    ),
)
NO_EGRESS_A = NetworkPolicy(
    "a-no-internet",
    "x",
    LabelSelector.of({"app": "a"}),
    egress=(NetworkPolicyEgressRule(to=(NetworkPolicyPeer(ip_block=IPBlock("10.0.0.0/8")),)),),
    policy_types=(PolicyType.EGRESS,),
)


def test_no_difference() -> None:
    assert diff(BASE, BASE) == []
    assert diff_text([]) == "no difference"
    assert diff_dict([]) == {"count": 0, "changes": []}


def test_adding_a_policy_loses_ports_on_exactly_the_pairs_it_isolates() -> None:
    after = BASE.with_policies([ONLY_80])
    changes = diff(BASE, after)
    assert [(c.src, c.dst) for c in changes] == [("x/a", "x/b"), ("internet", "x/b")]
    first = changes[0]
    assert first.before == ALL_PORTS
    assert first.after == PortSet.of(Protocol.TCP, 80)
    assert first.gained == NO_PORTS
    assert first.lost.describe() == ["TCP 1-79", "TCP 81-65535", "UDP all", "SCTP all"]
    assert diff_text(changes) == (
        "x/a -> x/b: before all; after TCP 80 "
        "(lost: TCP 1-79, TCP 81-65535, UDP all, SCTP all)\n"
        "internet -> x/b: before all; after none (lost: all)"
    )


def test_removing_it_gains_and_the_json_shape_is_exact() -> None:
    changes = diff(BASE.with_policies([ONLY_80]), BASE)
    assert changes[0].text() == (
        "x/a -> x/b: before TCP 80; after all (gained: TCP 1-79, TCP 81-65535, UDP all, SCTP all)"
    )
    assert diff_dict(changes) == {
        "count": 2,
        "changes": [
            {
                "from": "x/a",
                "to": "x/b",
                "before": ["TCP 80"],
                "after": ["all"],
                "gained": ["TCP 1-79", "TCP 81-65535", "UDP all", "SCTP all"],
                "lost": [],
            },
            {
                "from": "internet",
                "to": "x/b",
                "before": [],
                "after": ["all"],
                "gained": ["all"],
                "lost": [],
            },
        ],
    }


def test_gained_and_lost_together() -> None:
    before = Change("x/a", "x/b", PortSet.of(Protocol.TCP, 80), PortSet.of(Protocol.TCP, 443))
    assert (
        before.text() == "x/a -> x/b: before TCP 80; after TCP 443 (gained: TCP 443; lost: TCP 80)"
    )


def test_egress_change_shows_on_the_external_column() -> None:
    # x/b's generated IP is in 10.244.0.0/16, inside 10.0.0.0/8: only the internet is lost.
    changes = diff(BASE, BASE.with_policies([NO_EGRESS_A]))
    assert [(c.src, c.dst, c.after.describe()) for c in changes] == [("x/a", "internet", [])]


def test_cni_change_is_a_difference_too() -> None:
    enforced = BASE.with_policies([ONLY_80])
    changes = diff(enforced, enforced.with_cni("flannel"))
    assert [(c.src, c.dst, c.after) for c in changes] == [
        ("x/a", "x/b", ALL_PORTS),
        ("internet", "x/b", ALL_PORTS),
    ]


def test_different_peers_are_refused() -> None:
    other = Cluster.build(pods=[A, Pod("x", "c")])
    with pytest.raises(
        ValueError, match=r"only in the first: internet, x/b; only in the second: x/c"
    ):
        diff(BASE, other)


PORTSETS = st.builds(
    lambda ranges: PortSet.from_ranges(ranges),
    st.dictionaries(
        st.sampled_from(list(Protocol)),
        st.lists(
            st.tuples(st.integers(1, 65535), st.integers(0, 200)).map(
                lambda t: (t[0], min(65535, t[0] + t[1]))
            ),
            max_size=4,
        ),
    ),
)


@settings(max_examples=200, deadline=None)
@given(PORTSETS, PORTSETS, st.sampled_from(list(Protocol)), st.integers(1, 65535))
def test_port_difference_is_set_difference(
    a: PortSet, b: PortSet, protocol: Protocol, port: int
) -> None:
    d = port_difference(a, b)
    assert d.contains(protocol, port) == (
        a.contains(protocol, port) and not b.contains(protocol, port)
    )
    assert d.union(a.intersection(b)) == a


def test_every_change_matches_the_connectivity_maps() -> None:
    after = BASE.with_policies([ONLY_80, NO_EGRESS_A])
    changes = {(c.src, c.dst): c for c in diff(BASE, after)}
    map_b, map_a = connectivity_map(after), connectivity_map(BASE)
    for src in map_a.peers:
        for dst in map_a.peers:
            differs = map_a.ports(src, dst) != map_b.ports(src, dst)
            assert ((src, dst) in changes) == differs


def test_doctests() -> None:
    result = doctest.testmod(npcore.diff)
    assert result.attempted > 0
    assert result.failed == 0
