"""``npcore.reachability``: small worlds with their full matrices and connectivity maps.

Every expectation below was worked out by hand from the rules (docs/semantics.md); the
cells of a connectivity map are ``PortSet.describe()`` lists.  Matrices are written as
e2e-style truth tables (tests/conformance/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import clusters

from npcore.cluster import Cluster, ContainerPort, External, Namespace, Pod
from npcore.engine import Connection, is_allowed
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
from npcore.ports import ALL_PORTS, PortSet
from npcore.reachability import Matrix, connectivity_map, matrix

TCP, UDP = Protocol.TCP, Protocol.UDP
CheckMatrix = Callable[[Matrix, str], None]

# ---------------------------------------------------------------- world 1: a shop
#
# shop/web (app=web, 80/TCP http), shop/api (app=api, 8080/TCP http), shop/db (app=db,
# 5432/TCP pg), monitoring/prom (app=prom, no ports), internet (203.0.113.7).
# Policies: default-deny ingress in shop; web accepts TCP 80 from 0.0.0.0/0; api accepts
# the named port "http" (8080 on api) from app=web; db accepts TCP 5432 from app=api and
# TCP 9187 from namespace monitoring; web may send only to app=api on TCP 8080 and to
# port 53 (UDP and TCP) anywhere.

SHOP_PODS = [
    Pod("shop", "web", {"app": "web"}, "10.0.0.10", (ContainerPort(80, TCP, "http"),)),
    Pod("shop", "api", {"app": "api"}, "10.0.0.11", (ContainerPort(8080, TCP, "http"),)),
    Pod("shop", "db", {"app": "db"}, "10.0.0.12", (ContainerPort(5432, TCP, "pg"),)),
    Pod("monitoring", "prom", {"app": "prom"}, "10.0.1.10"),
]


def _np(name: str, **kw: object) -> NetworkPolicy:
    return NetworkPolicy(name, "shop", **kw)  # type: ignore[arg-type]


def _port(
    number: int | str | None = None, protocol: Protocol | None = None, end: int | None = None
) -> NetworkPolicyPort:
    return NetworkPolicyPort(protocol, number, end)


SHOP_POLICIES = [
    _np("default-deny", policy_types=(PolicyType.INGRESS,)),
    _np(
        "web-from-anywhere",
        pod_selector=LabelSelector.of({"app": "web"}),
        ingress=(
            NetworkPolicyIngressRule(
                ports=(_port(80),),
                from_=(NetworkPolicyPeer(ip_block=IPBlock("0.0.0.0/0")),),
            ),
        ),
    ),
    _np(
        "api-from-web",
        pod_selector=LabelSelector.of({"app": "api"}),
        ingress=(
            NetworkPolicyIngressRule(
                ports=(_port("http"),),
                from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "web"})),),
            ),
        ),
    ),
    _np(
        "db-from-api-and-monitoring",
        pod_selector=LabelSelector.of({"app": "db"}),
        ingress=(
            NetworkPolicyIngressRule(
                ports=(_port(5432, TCP),),
                from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "api"})),),
            ),
            NetworkPolicyIngressRule(
                ports=(_port(9187),),
                from_=(
                    NetworkPolicyPeer(
                        namespace_selector=LabelSelector.of(
                            {"kubernetes.io/metadata.name": "monitoring"}
                        )
                    ),
                ),
            ),
        ),
    ),
    _np(
        "web-egress",
        pod_selector=LabelSelector.of({"app": "web"}),
        policy_types=(PolicyType.EGRESS,),
        egress=(
            NetworkPolicyEgressRule(
                ports=(_port(8080),),
                to=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "api"})),),
            ),
            NetworkPolicyEgressRule(ports=(_port(53, UDP), _port(53, TCP))),
        ),
    ),
]

SHOP = Cluster.build(
    namespaces=[Namespace("shop"), Namespace("monitoring")],
    pods=SHOP_PODS,
    policies=SHOP_POLICIES,
    externals=[External("internet", "203.0.113.7")],
)

PEERS = ["shop/web", "shop/api", "shop/db", "monitoring/prom", "internet"]
ALL = ["all"]
SHOP_MAP: dict[str, dict[str, list[str]]] = {
    "shop/web": {
        "shop/web": ALL,
        "shop/api": ["TCP 8080"],
        "shop/db": [],
        "monitoring/prom": ["TCP 53", "UDP 53"],
        "internet": ["TCP 53", "UDP 53"],
    },
    "shop/api": {
        "shop/web": ["TCP 80"],
        "shop/api": ALL,
        "shop/db": ["TCP 5432"],
        "monitoring/prom": ALL,
        "internet": ALL,
    },
    "shop/db": {
        "shop/web": ["TCP 80"],
        "shop/api": [],
        "shop/db": ALL,
        "monitoring/prom": ALL,
        "internet": ALL,
    },
    "monitoring/prom": {
        "shop/web": ["TCP 80"],
        "shop/api": [],
        "shop/db": ["TCP 9187"],
        "monitoring/prom": ALL,
        "internet": ALL,
    },
    "internet": {
        "shop/web": ["TCP 80"],
        "shop/api": [],
        "shop/db": [],
        "monitoring/prom": ALL,
        "internet": ALL,
    },
}


def test_shop_connectivity_map_every_cell() -> None:
    cmap = connectivity_map(SHOP)
    assert list(cmap.peers) == PEERS
    actual = {src: {dst: cmap.ports(src, dst).describe() for dst in PEERS} for src in PEERS}
    assert actual == SHOP_MAP


def test_shop_connectivity_map_to_dict() -> None:
    d = connectivity_map(SHOP).to_dict()
    assert d == {
        "port": None,
        "protocol": None,
        "cni": "calico",
        "enforced": True,
        "peers": PEERS,
        "allowed": SHOP_MAP,
    }


@pytest.mark.parametrize(
    ("port", "protocol", "expected"),
    [
        (
            80,
            TCP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           .        X        X          X            X
            shop/api           .        .        X          .            .
            shop/db            .        X        .          .            .
            monitoring/prom    .        X        X          .            .
            internet           .        X        X          .            .
            """,
        ),
        (
            8080,
            TCP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           .        .        X          X            X
            shop/api           X        .        X          .            .
            shop/db            X        X        .          .            .
            monitoring/prom    X        X        X          .            .
            internet           X        X        X          .            .
            """,
        ),
        (
            53,
            UDP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           .        X        X          .            .
            shop/api           X        .        X          .            .
            shop/db            X        X        .          .            .
            monitoring/prom    X        X        X          .            .
            internet           X        X        X          .            .
            """,
        ),
        (
            9187,
            TCP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           .        X        X          X            X
            shop/api           X        .        X          .            .
            shop/db            X        X        .          .            .
            monitoring/prom    X        X        .          .            .
            internet           X        X        X          .            .
            """,
        ),
        # Named probe: "http" is 80 on web and 8080 on api; db, prom and the internet
        # define no such port, so nothing (not even the pod itself) reaches it there.
        (
            "http",
            TCP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           .        .        X          X            X
            shop/api           .        .        X          X            X
            shop/db            .        X        X          X            X
            monitoring/prom    .        X        X          X            X
            internet           .        X        X          X            X
            """,
        ),
        (
            "pg",
            TCP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           X        X        X          X            X
            shop/api           X        X        .          X            X
            shop/db            X        X        .          X            X
            monitoring/prom    X        X        X          X            X
            internet           X        X        X          X            X
            """,
        ),
        (
            "http",
            UDP,
            """
            -               shop/web shop/api shop/db monitoring/prom internet
            shop/web           X        X        X          X            X
            shop/api           X        X        X          X            X
            shop/db            X        X        X          X            X
            monitoring/prom    X        X        X          X            X
            internet           X        X        X          X            X
            """,
        ),
    ],
    ids=["tcp-80", "tcp-8080", "udp-53", "tcp-9187", "named-http", "named-pg", "named-http-udp"],
)
def test_shop_matrix(
    port: int | str, protocol: Protocol, expected: str, check_matrix: CheckMatrix
) -> None:
    m = matrix(SHOP, port, protocol)
    assert list(m.peers) == PEERS
    assert m.port == port and m.protocol is protocol and m.enforced
    check_matrix(m, expected)


def test_shop_matrix_to_dict() -> None:
    d = matrix(SHOP, 8080).to_dict()
    assert d["port"] == 8080
    assert d["protocol"] == "TCP"
    assert d["cni"] == "calico"
    assert d["enforced"] is True
    assert d["peers"] == PEERS
    assert d["allowed"]["shop/web"] == {  # type: ignore[index]
        "shop/web": True,
        "shop/api": True,
        "shop/db": False,
        "monitoring/prom": False,
        "internet": False,
    }


def test_shop_on_flannel_everything_listening_is_reachable(check_matrix: CheckMatrix) -> None:
    flannel = SHOP.with_cni("flannel")
    cmap = connectivity_map(flannel)
    assert not cmap.enforced
    assert all(cmap.ports(s, d) == ALL_PORTS for s in PEERS for d in PEERS)
    m = matrix(flannel, 8080)
    assert m.cni == "flannel" and not m.enforced
    assert all(m.allowed(s, d) for s in PEERS for d in PEERS)
    # A named port still reaches only the pods that define it.
    check_matrix(
        matrix(flannel, "http"),
        """
        -               shop/web shop/api shop/db monitoring/prom internet
        shop/web           .        .        X          X            X
        shop/api           .        .        X          X            X
        shop/db            .        .        X          X            X
        monitoring/prom    .        .        X          X            X
        internet           .        .        X          X            X
        """,
    )


def test_shop_without_policies_is_all_allowed() -> None:
    open_shop = SHOP.with_policies([])
    cmap = connectivity_map(open_shop)
    assert all(cmap.ports(s, d).is_all for s in PEERS for d in PEERS)
    assert all(matrix(open_shop, 5432).allowed(s, d) for s in PEERS for d in PEERS)


# ---------------------------------------------------------------- world 2: IP families
#
# a/one (10.1.0.1), a/two (2001:db8:1::2), v4ext (192.0.2.1), v6ext (2001:db8:ffff::1).
# Every pod of a may send UDP 53-60 to ::/0 except 2001:db8:ffff::/48, and anything to
# 192.0.2.0/24.  Nothing is isolated for ingress.

FAMILIES = Cluster.build(
    pods=[Pod("a", "one", {}, "10.1.0.1"), Pod("a", "two", {}, "2001:db8:1::2")],
    externals=[External("v4ext", "192.0.2.1"), External("v6ext", "2001:db8:ffff::1")],
    policies=[
        NetworkPolicy(
            "egress",
            "a",
            policy_types=(PolicyType.EGRESS,),
            egress=(
                NetworkPolicyEgressRule(
                    ports=(_port(53, UDP, 60),),
                    to=(NetworkPolicyPeer(ip_block=IPBlock("::/0", ("2001:db8:ffff::/48",))),),
                ),
                NetworkPolicyEgressRule(to=(NetworkPolicyPeer(ip_block=IPBlock("192.0.2.0/24")),)),
            ),
        )
    ],
)
FPEERS = ["a/one", "a/two", "v4ext", "v6ext"]


def test_families_connectivity_map() -> None:
    cmap = connectivity_map(FAMILIES)
    actual = {s: {d: cmap.ports(s, d).describe() for d in FPEERS} for s in FPEERS}
    assert actual == {
        "a/one": {"a/one": ALL, "a/two": ["UDP 53-60"], "v4ext": ALL, "v6ext": []},
        "a/two": {"a/one": [], "a/two": ALL, "v4ext": ALL, "v6ext": []},
        "v4ext": {"a/one": ALL, "a/two": ALL, "v4ext": ALL, "v6ext": ALL},
        "v6ext": {"a/one": ALL, "a/two": ALL, "v4ext": ALL, "v6ext": ALL},
    }


@pytest.mark.parametrize(
    ("port", "protocol", "expected"),
    [
        (
            53,
            UDP,
            """
            -     a/one a/two v4ext v6ext
            a/one   .     .     .     X
            a/two   X     .     .     X
            v4ext   .     .     .     .
            v6ext   .     .     .     .
            """,
        ),
        (
            60,
            UDP,
            """
            -     a/one a/two v4ext v6ext
            a/one   .     .     .     X
            a/two   X     .     .     X
            v4ext   .     .     .     .
            v6ext   .     .     .     .
            """,
        ),
        (
            61,
            UDP,
            """
            -     a/one a/two v4ext v6ext
            a/one   .     X     .     X
            a/two   X     .     .     X
            v4ext   .     .     .     .
            v6ext   .     .     .     .
            """,
        ),
        (
            53,
            TCP,
            """
            -     a/one a/two v4ext v6ext
            a/one   .     X     .     X
            a/two   X     .     .     X
            v4ext   .     .     .     .
            v6ext   .     .     .     .
            """,
        ),
    ],
    ids=["udp-53-range-start", "udp-60-range-end", "udp-61-outside", "tcp-53-wrong-protocol"],
)
def test_families_matrix(
    port: int, protocol: Protocol, expected: str, check_matrix: CheckMatrix
) -> None:
    check_matrix(matrix(FAMILIES, port, protocol), expected)


# ---------------------------------------------------------------- replicas and self


def test_replicas_with_the_same_labels_are_distinct_peers() -> None:
    """Interchangeable pods (one class) still differ in the self cell."""
    pods = [Pod("r", f"web-{i}", {"app": "web"}) for i in range(3)]
    cluster = Cluster.build(pods=pods, policies=[NetworkPolicy("deny", "r")])
    m = matrix(cluster, 80)
    cmap = connectivity_map(cluster)
    for s in range(3):
        for d in range(3):
            src, dst = f"r/web-{s}", f"r/web-{d}"
            assert m.allowed(src, dst) is (s == d)
            assert cmap.ports(src, dst) == (ALL_PORTS if s == d else PortSet())


def test_every_cell_of_the_worlds_agrees_with_is_allowed() -> None:
    for cluster in (SHOP, FAMILIES, SHOP.with_cni("flannel")):
        cmap = connectivity_map(cluster)
        for port in (53, 80, 5432, 8080, 9187, "http", "pg"):
            for protocol in (TCP, UDP):
                m = matrix(cluster, port, protocol)
                for src in cluster.peers():
                    for dst in cluster.peers():
                        v = is_allowed(cluster, Connection(src, dst, port, protocol))
                        assert m.allowed(src.key, dst.key) is v.allowed
                        if isinstance(port, int):
                            cell = cmap.ports(src.key, dst.key)
                            assert cell.contains(protocol, port) is v.allowed


def test_matrix_agrees_with_is_allowed_for_undeclared_namespaces() -> None:
    by_name = LabelSelector.of({"kubernetes.io/metadata.name": "y"})
    x_a = Pod("x", "a", {}, "10.0.0.1")
    y_b = Pod("y", "b", {}, "10.0.0.2")
    policy = NetworkPolicy(
        "from-y",
        "x",
        ingress=(NetworkPolicyIngressRule(from_=(NetworkPolicyPeer(namespace_selector=by_name),)),),
    )
    cluster = Cluster(pods=(x_a, y_b), policies=(policy,))
    verdict = is_allowed(cluster, Connection(y_b, x_a, 80))
    assert matrix(cluster, 80).allowed("y/b", "x/a") is verdict.allowed
    assert connectivity_map(cluster).ports("y/b", "x/a").contains(TCP, 80) is verdict.allowed


# --- Matrix.to_json: the CLI's fast JSON is exactly json.dumps(to_dict(), indent=2) ---------


@settings(max_examples=60)
@given(
    clusters(),
    st.sampled_from([80, 443, "serve-80-tcp", "dns"]),
    st.sampled_from(list(Protocol)),
    st.sampled_from(["calico", "flannel"]),
)
def test_to_json_is_json_dumps_of_to_dict(
    cluster: Cluster, port: int | str, protocol: Protocol, cni: str
) -> None:
    m = matrix(cluster.with_cni(cni), port, protocol)
    assert m.to_json() == json.dumps(m.to_dict(), indent=2)


def test_to_json_of_an_empty_cluster() -> None:
    m = matrix(Cluster.build(), 80)
    assert m.to_json() == json.dumps(m.to_dict(), indent=2)


@settings(max_examples=60)
@given(clusters(), st.sampled_from(["calico", "flannel"]))
def test_map_to_json_is_json_dumps_of_to_dict(cluster: Cluster, cni: str) -> None:
    cmap = connectivity_map(cluster.with_cni(cni))
    assert cmap.to_json() == json.dumps(cmap.to_dict(), indent=2)


def test_map_to_json_of_an_empty_cluster() -> None:
    cmap = connectivity_map(Cluster.build())
    assert cmap.to_json() == json.dumps(cmap.to_dict(), indent=2)
