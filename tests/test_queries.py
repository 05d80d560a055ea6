"""The queries npcore gives its clients, each a table keyed to its rule.

Every rule here used to be re-implemented outside npcore; each table has a row for what
the former copies had to get right (``former copy:`` in the row's id), so removing the
protocol check from the one remaining function fails a row.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npcore import (
    ALL_PORTS,
    NO_PORTS,
    Cluster,
    ContainerPort,
    External,
    Flow,
    FlowError,
    Isolation,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPort,
    ParseError,
    Pod,
    PolicyType,
    PortSet,
    Protocol,
    Service,
    ServicePort,
    UnknownPeerError,
    connectivity_map,
    diff_maps,
    isolation,
    resolve_port,
)
from npcore.diff import diff, port_difference
from npcore.load.yaml_safe import Limits, read_plain

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP

WEB = Pod(
    "shop",
    "web",
    {"app": "web"},
    ports=(ContainerPort(8080, TCP, "http"), ContainerPort(53, UDP, "dns")),
)
BARE = Pod("shop", "bare", {"app": "bare"})
USER = External("user", "203.0.113.10")
SVC = Service("shop", "web", {"app": "web"}, (ServicePort(80, "http"),))
TWIN = Service("shop", "bare", {"app": "bare"}, (ServicePort(80, 80),))
LONELY = Service("shop", "api", {"app": "api"}, (ServicePort(80, 80),))
CLUSTER = Cluster.build(pods=[WEB, BARE], externals=[USER], services=[SVC, TWIN, LONELY])


# --- resolve_port: "resolved against the destination pod's container ports" ----------------


@pytest.mark.parametrize(
    ("dst", "port", "protocol", "expected"),
    [
        pytest.param(WEB, 8080, TCP, 8080, id="a number is itself"),
        pytest.param(WEB, 9999, TCP, 9999, id="a number need not be declared"),
        pytest.param(WEB, "http", TCP, 8080, id="a name of the same protocol"),
        pytest.param(WEB, "dns", UDP, 53, id="a UDP name"),
        pytest.param(
            WEB, "http", UDP, None, id="former copy: a name with the wrong protocol (detectors)"
        ),
        pytest.param(WEB, "dns", TCP, None, id="former copy: UDP name asked as TCP (lessonkit)"),
        pytest.param(WEB, "https", TCP, None, id="a name the pod does not define"),
        pytest.param(BARE, "http", TCP, None, id="a pod without ports defines no name"),
        pytest.param(USER, "http", TCP, None, id="an external has no container ports"),
        pytest.param(WEB, "http", "TCP", 8080, id="a plain protocol string means the same"),
    ],
)
def test_resolve_port(
    dst: Pod | External, port: int | str, protocol: Protocol, expected: int | None
) -> None:
    assert resolve_port(dst, port, protocol) == expected


# --- Cluster.peer: one lookup by name ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "services", "expected"),
    [
        pytest.param("shop/web", False, WEB.key, id="a pod by namespace/name"),
        pytest.param("user", False, "user", id="an external by name"),
        pytest.param("203.0.113.10", False, "user", id="an external by IP"),
        pytest.param("pod:shop/web", False, WEB.key, id="pod: prefix"),
        pytest.param("shop/web", True, WEB.key, id="the pod wins a tie with a Service"),
        pytest.param("service:shop/web", True, "Service shop/web", id="service: prefix"),
        pytest.param("svc:shop/bare", True, "Service shop/bare", id="svc: prefix"),
        pytest.param("shop/api", True, "Service shop/api", id="a Service when no pod has the name"),
    ],
)
def test_peer_finds(name: str, services: bool, expected: str) -> None:
    found = CLUSTER.peer(name, services=services)
    shown = f"Service {found.key}" if isinstance(found, Service) else found.key
    assert shown == expected


def test_peer_finds_a_pod_by_its_ip() -> None:
    ip = CLUSTER.pod("shop/bare").ip
    assert ip is not None
    assert CLUSTER.peer(ip).key == "shop/bare"


@pytest.mark.parametrize(
    ("name", "services"),
    [
        pytest.param("shop/nope", False, id="an unknown pod"),
        pytest.param("nobody", False, id="an unknown external"),
        pytest.param("shop/api", False, id="a Service is no peer unless services are asked for"),
        pytest.param("service:shop/web", False, id="service: without services"),
        pytest.param("pod:shop/api", True, id="pod: never finds a Service"),
        pytest.param("10.9.9.9", False, id="an IP no peer has"),
    ],
)
def test_peer_refuses(name: str, services: bool) -> None:
    with pytest.raises(UnknownPeerError) as caught:
        CLUSTER.peer(name, services=services)
    message = str(caught.value)
    assert message.startswith(f"unknown peer {name!r}; known peers: shop/web, shop/bare, user")
    assert ("shop/api (Service)" in message) is services
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)


# --- Cluster.listening: the declared container ports, by protocol -----------------------------


@pytest.mark.parametrize(
    ("peer", "protocol", "port", "listens"),
    [
        pytest.param("shop/web", TCP, 8080, True, id="a declared TCP port"),
        pytest.param("shop/web", UDP, 53, True, id="a declared UDP port"),
        pytest.param("shop/web", UDP, 8080, False, id="former copy: right number, wrong protocol"),
        pytest.param("shop/web", TCP, 53, False, id="former copy: UDP 53 is not TCP 53 (grade)"),
        pytest.param("shop/web", TCP, 80, False, id="an undeclared port"),
        pytest.param("shop/bare", SCTP, 7, True, id="no declared ports: may listen anywhere"),
        pytest.param("user", UDP, 1, True, id="an external may listen anywhere"),
    ],
)
def test_listening(peer: str, protocol: Protocol, port: int, listens: bool) -> None:
    assert CLUSTER.listening(peer).contains(protocol, port) is listens
    assert CLUSTER.listening(CLUSTER.peer(peer)) == CLUSTER.listening(peer)


def test_listening_describes_each_protocol() -> None:
    assert CLUSTER.listening(WEB).describe() == ["TCP 8080", "UDP 53"]
    assert CLUSTER.listening(BARE) == ALL_PORTS


# --- isolation ----------------------------------------------------------------------------------

INGRESS_ONLY = NetworkPolicy("in", "shop")
EGRESS_ONLY = NetworkPolicy("out", "shop", policy_types=(PolicyType.EGRESS,))
BOTH = NetworkPolicy("both", "shop", egress=(NetworkPolicyEgressRule(),))
OTHER_NS = NetworkPolicy("elsewhere", "other")
EMPTY_TYPES = NetworkPolicy("empty-types", "shop", policy_types=())


@pytest.mark.parametrize(
    ("policies", "cni", "expected"),
    [
        pytest.param((), "calico", Isolation(False, False), id="no policy isolates nothing"),
        pytest.param((INGRESS_ONLY,), "calico", Isolation(True, False), id="default: ingress"),
        pytest.param((EGRESS_ONLY,), "calico", Isolation(False, True), id="policyTypes: [Egress]"),
        pytest.param((BOTH,), "calico", Isolation(True, True), id="egress rules add egress"),
        pytest.param(
            (EMPTY_TYPES,), "calico", Isolation(True, False), id="policyTypes [] defaults"
        ),
        pytest.param((INGRESS_ONLY, EGRESS_ONLY), "calico", Isolation(True, True), id="additive"),
        pytest.param((OTHER_NS,), "calico", Isolation(False, False), id="another namespace"),
        pytest.param(
            (BOTH,),
            "flannel",
            Isolation(False, False),
            id="former copy: a CNI that does not enforce",
        ),
    ],
)
def test_isolation(policies: tuple[NetworkPolicy, ...], cni: str, expected: Isolation) -> None:
    cluster = CLUSTER.with_policies(policies).with_cni(cni)
    assert isolation(cluster, "shop/web") == expected
    assert isolation(cluster, cluster.pod("shop/web")) == expected


def test_an_external_is_never_isolated() -> None:
    cluster = CLUSTER.with_policies([BOTH])
    assert isolation(cluster, "user") == Isolation(False, False)


# --- policyTypes defaulting: one method, ordered -------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(NetworkPolicy("p"), ("Ingress",), id="nothing written: Ingress"),
        pytest.param(BOTH, ("Ingress", "Egress"), id="egress rules: both"),
        pytest.param(
            NetworkPolicy("p", egress=()), ("Ingress",), id="an empty egress list does not count"
        ),
        pytest.param(EMPTY_TYPES, ("Ingress",), id="policyTypes: [] is defaulted"),
        pytest.param(
            NetworkPolicy("p", policy_types=(PolicyType.EGRESS, PolicyType.INGRESS)),
            ("Egress", "Ingress"),
            id="former copy (describe): written order kept",
        ),
    ],
)
def test_policy_types_in_effect(policy: NetworkPolicy, expected: tuple[str, ...]) -> None:
    assert tuple(policy.policy_types_in_effect()) == expected
    assert policy.effective_policy_types() == frozenset(expected)


# --- PortSet.difference and union_all -------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(ALL_PORTS, NO_PORTS, ["all"], id="minus nothing"),
        pytest.param(NO_PORTS, ALL_PORTS, [], id="nothing minus all"),
        pytest.param(
            PortSet.of(TCP, 80, 90), PortSet.of(TCP, 85), ["TCP 80-84", "TCP 86-90"], id="a hole"
        ),
        pytest.param(PortSet.of(TCP, 80), PortSet.of(UDP, 80), ["TCP 80"], id="protocols apart"),
        pytest.param(PortSet.of(TCP, 1, 10), PortSet.of(TCP, 1, 10), [], id="equal sets"),
        pytest.param(PortSet.of(TCP), PortSet.of(TCP, 65535), ["TCP 1-65534"], id="the top port"),
    ],
)
def test_difference(a: PortSet, b: PortSet, expected: list[str]) -> None:
    assert a.difference(b).describe() == expected
    assert port_difference(a, b) == a.difference(b)


ports = st.integers(1, 65535)
port_sets = st.lists(
    st.tuples(st.sampled_from(list(Protocol)), ports, ports).map(
        lambda t: PortSet.of(t[0], min(t[1], t[2]), max(t[1], t[2]))
    ),
    max_size=6,
).map(lambda sets: PortSet.union_all(sets))


@given(port_sets, port_sets, st.sampled_from(list(Protocol)), ports)
def test_difference_is_set_difference(
    a: PortSet, b: PortSet, protocol: Protocol, port: int
) -> None:
    expected = a.contains(protocol, port) and not b.contains(protocol, port)
    assert a.difference(b).contains(protocol, port) is expected


@given(st.lists(port_sets, max_size=5))
def test_union_all_is_folded_union(sets: list[PortSet]) -> None:
    folded = NO_PORTS
    for s in sets:
        folded = folded.union(s)
    assert PortSet.union_all(sets) == folded


def test_union_all_merges_many_ranges() -> None:
    many = [PortSet.of(TCP, p) for p in range(20_000, 1, -2)]
    merged = PortSet.union_all(many)
    assert len(merged.tcp) == 10_000 and merged.contains(TCP, 20_000)
    assert not merged.contains(TCP, 19_999)


# --- diff_maps ----------------------------------------------------------------------------------


def test_diff_maps_is_diff_of_clusters() -> None:
    only_80 = NetworkPolicy(
        "only-80",
        "shop",
        ingress=(NetworkPolicyIngressRule(ports=(NetworkPolicyPort(port=80),)),),
    )
    after = CLUSTER.with_policies([only_80])
    changes = diff_maps(connectivity_map(CLUSTER), connectivity_map(after))
    assert changes == diff(CLUSTER, after)
    assert [(c.src, c.dst) for c in changes] == [
        ("shop/web", "shop/bare"),
        ("shop/bare", "shop/web"),
        ("user", "shop/web"),
        ("user", "shop/bare"),
    ]
    assert changes[0].after.describe() == ["TCP 80"]
    assert changes[0].lost.describe() == ["TCP 1-79", "TCP 81-65535", "UDP all", "SCTP all"]


def test_diff_maps_refuses_other_peers() -> None:
    smaller = Cluster.build(pods=[WEB])
    with pytest.raises(ValueError, match="only in the first: shop/bare, user"):
        diff_maps(connectivity_map(CLUSTER), connectivity_map(smaller))


# --- Flow ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "shop/api -> shop/db 3306", Flow("shop/api", "shop/db", 3306), id="TCP default"
        ),
        pytest.param("a/b -> c/d UDP 53", Flow("a/b", "c/d", 53, UDP), id="protocol first"),
        pytest.param("a/b -> c/d udp 53", Flow("a/b", "c/d", 53, UDP), id="any case"),
        pytest.param("a/b -> c/d 53/udp", Flow("a/b", "c/d", 53, UDP), id="port/protocol"),
        pytest.param("a/b->c/d http", Flow("a/b", "c/d", "http"), id="a named port, tight arrow"),
        pytest.param("  user -> a/b SCTP 9  ", Flow("user", "a/b", 9, SCTP), id="spaces around"),
        pytest.param("user:shop/web:80", Flow("user", "shop/web", 80), id="draw form"),
        pytest.param("a/b:c/d:dns/udp", Flow("a/b", "c/d", "dns", UDP), id="draw form, protocol"),
    ],
)
def test_flow_parse(text: str, expected: Flow) -> None:
    assert Flow.parse(text) == expected


def test_flow_parse_uses_the_callers_default_port_in_the_draw_form() -> None:
    assert Flow.parse("a/b:c/d", default_port=53, default_protocol="udp") == Flow(
        "a/b", "c/d", 53, UDP
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("a/b -> c/d", "write it as 'SRC -> DST [PROTOCOL] PORT'", id="no port"),
        pytest.param("a/b -> c/d ICMP 1", "unknown protocol 'ICMP'", id="unknown protocol"),
        pytest.param("a/b -> c/d 0", "port 0 must be between 1 and 65535", id="port 0"),
        pytest.param("a/b -> c/d 70000", "must be between 1 and 65535", id="port too big"),
        pytest.param("a/b -> c/d UDP 53/udp", "give the protocol once", id="protocol twice"),
        pytest.param("a/b:c/d", "no port", id="draw form without a port"),
        pytest.param("a/b", "cannot read flow", id="one peer"),
        pytest.param(42, "expected a flow written", id="not text"),
    ],
)
def test_flow_parse_refuses(text: object, message: str) -> None:
    with pytest.raises(FlowError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Flow.parse(text)


def test_flow_text_round_trips() -> None:
    flow = Flow("shop/api", "shop/db", "mysql", "udp")  # type: ignore[arg-type]
    assert flow.protocol is UDP
    assert str(flow) == flow.text == "shop/api -> shop/db UDP mysql"
    assert Flow.parse(str(flow)) == flow


names = st.from_regex(r"[a-z][a-z0-9-]{0,8}(/[a-z][a-z0-9-]{0,8})?", fullmatch=True)


@given(
    names,
    names,
    st.one_of(ports, st.from_regex(r"[a-z][a-z-]{0,6}[a-z]", fullmatch=True)),
    st.sampled_from(list(Protocol)),
)
def test_any_flow_round_trips(src: str, dst: str, port: int | str, protocol: Protocol) -> None:
    flow = Flow(src, dst, port, protocol)
    assert Flow.parse(flow.text) == flow


def test_flow_connection_finds_the_peers() -> None:
    connection = Flow("user", "shop/web", "http").connection(CLUSTER)
    assert (connection.src, connection.dst, connection.port) == (
        USER,
        CLUSTER.pod("shop/web"),
        "http",
    )
    with pytest.raises(UnknownPeerError, match="unknown peer 'shop/nope'"):
        Flow("user", "shop/nope", 80).connection(CLUSTER)


# --- read_plain: the hardened reader for text that is not a manifest ----------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", None, id="empty"),
        pytest.param("# only a comment\n", None, id="only comments"),
        pytest.param("a: [1, two]\nb: {c: null}", {"a": [1, "two"], "b": {"c": None}}, id="mixed"),
        pytest.param('{"a": [true, 1.5]}', {"a": [True, 1.5]}, id="JSON"),
        pytest.param("- x\n- 2024-01-01\n", ["x", "2024-01-01"], id="timestamps stay text"),
        pytest.param("x: &a [1]\ny: *a", {"x": [1], "y": [1]}, id="an alias"),
        pytest.param(
            "b: &b {p: 1, q: 1}\nd:\n  <<: *b\n  q: 2",
            {"b": {"p": 1, "q": 1}, "d": {"p": 1, "q": 2}},
            id="a merge key",
        ),
    ],
)
def test_read_plain(text: str, expected: object) -> None:
    assert read_plain(text) == expected


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    ("text", "limits", "location", "message"),
    [
        pytest.param("a: 1\na: 2", Limits(), "answer:2:1", "duplicate key 'a'", id="duplicate key"),
        pytest.param("a: [", Limits(), "answer:", "YAML syntax error", id="syntax"),
        pytest.param("a:\n\tb: 1", Limits(), "answer:2:1", "indent with spaces", id="a tab"),
        pytest.param(
            "a: 1\n---\nb: 2",
            Limits(),
            "answer:3:1",
            "expected one YAML document",
            id="two documents",
        ),
        pytest.param(
            "[" * 50 + "]" * 50,
            Limits(max_depth=10),
            "answer:1:11",
            "nested more than 10",
            id="depth",
        ),
        pytest.param(LAUGHS, Limits(), "answer:", "billion laughs", id="alias bomb"),
        pytest.param(
            "x: &a [1]\n" + "y: *a\n" * 0 + "z: [*a, *a, *a]",
            Limits(max_aliases=2),
            "answer:2:",
            "more than 2 aliases",
            id="alias count",
        ),
        pytest.param(
            "a: " + "x" * 200, Limits(max_bytes=100), "answer", "larger than 100 bytes", id="size"
        ),
        pytest.param(
            "? [1]\n: 2",
            Limits(),
            "answer:1:3",
            "a mapping key must be a plain value",
            id="a list as key",
        ),
        pytest.param("a: \udc80", Limits(), "answer:1:4", "not valid Unicode", id="a surrogate"),
    ],
)
def test_read_plain_refuses(text: str, limits: Limits, location: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_plain(text, limits=limits)
    shown = str(caught.value)
    assert shown.startswith(location) and message in shown
    assert len(caught.value.errors) == 1


def test_read_plain_names_the_text() -> None:
    with pytest.raises(ParseError, match=r"^answer\.yaml:\d+:\d+: YAML syntax error"):
        read_plain("a: [", "answer.yaml")
