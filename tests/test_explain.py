"""Golden tests of npcore.explain: the wording of each kind of reason, and the dict shape.

Each case names the rule of kubernetes.io "Network Policies" its explanation teaches.
"""

from __future__ import annotations

import doctest
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import PORT_NAMES, PROBE_PORTS, clusters

import npcore.explain
import npcore.services
from npcore.cluster import Cluster, ContainerPort, External, Pod, Service, ServicePort
from npcore.engine import Connection, is_allowed
from npcore.explain import explain_dict, explain_service_dict, explain_service_text, explain_text
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
from npcore.services import ServicePortError, evaluate_service, resolve_service

A = Pod("x", "a", {"app": "a"})
B = Pod("x", "b", {"app": "b"}, ports=(ContainerPort(8080, name="http"),))
WEB = Pod("y", "web-0", {"app": "web"}, ports=(ContainerPort(8080, name="http"),))
INTERNET = External("internet", "8.8.8.8")

ALLOW_B = NetworkPolicy(
    "allow-b",
    "x",
    LabelSelector.of({"app": "b"}),
    ingress=(
        NetworkPolicyIngressRule(
            ports=(NetworkPolicyPort(port=443), NetworkPolicyPort(port="http")),
            from_=(
                NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "z"})),
                NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "a"})),
            ),
        ),
        NetworkPolicyIngressRule(ports=(NetworkPolicyPort(port=22),)),
    ),
)
DENY_EGRESS = NetworkPolicy("deny-egress", "x", policy_types=(PolicyType.EGRESS,))
EGRESS_TO_WORLD = NetworkPolicy(
    "egress-web",
    "y",
    LabelSelector.of({"app": "web"}),
    egress=(
        NetworkPolicyEgressRule(
            to=(NetworkPolicyPeer(ip_block=IPBlock("0.0.0.0/0", ("10.0.0.0/8",))),)
        ),
    ),
)

BASE = Cluster.build(pods=[A, B, WEB], externals=[INTERNET], policies=[ALLOW_B])
# Admits ingress to x/b from the pod range by ipBlock, or from app=admin pods.
CIDR_TO_B = NetworkPolicy(
    "b-from-cidr",
    "x",
    pod_selector=LabelSelector.of({"app": "b"}),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(
                NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "admin"})),
                NetworkPolicyPeer(ip_block=IPBlock("10.0.0.0/8")),
            )
        ),
    ),
)
CIDR_CILIUM = BASE.with_policies([CIDR_TO_B]).with_cni("cilium")
BOTH = BASE.with_policies([ALLOW_B, DENY_EGRESS, EGRESS_TO_WORLD])

NOT_ISOLATED_A = (
    "Egress from x/a: not isolated (no policy selects x/a for egress), so all egress is allowed."
)
ISOLATED_A = [
    "Egress from x/a: isolated for egress by x/deny-egress.",
    "  - x/deny-egress has no egress rules: it admits nothing.",
    "  Egress is denied: no rule of a selecting policy admits it.",
]
INGRESS_B_DENIED = [
    "Ingress to x/b: isolated for ingress by x/allow-b.",
    "  - x/allow-b spec.ingress[0] does not admit it: port does not match.",
    "  - x/allow-b spec.ingress[1] does not admit it: port does not match.",
    "  Ingress is denied: no rule of a selecting policy admits it.",
]
INGRESS_B_ADMITTED = [
    "Ingress to x/b: isolated for ingress by x/allow-b.",
    "  - x/allow-b spec.ingress[0] admits it (peer from[1], port ports[1]).",
    "  - x/allow-b spec.ingress[1] does not admit it: port does not match.",
    "  Ingress is allowed.",
]
CALICO = "CNI: calico (enforces NetworkPolicy)."

CASES = [
    pytest.param(
        BASE,
        "x/a",
        "x/b",
        8080,
        [
            "Connection: x/a -> x/b on TCP port 8080",
            CALICO,
            NOT_ISOLATED_A,
            *INGRESS_B_ADMITTED,
            "ALLOWED: egress from x/a and ingress to x/b both allow it.",
        ],
        id="rule-admits: peer from[1] AND named port ports[1] (http = 8080 on x/b)",
    ),
    pytest.param(
        BASE,
        "x/a",
        "x/b",
        "http",
        [
            "Connection: x/a -> x/b on TCP port http (a named port: 8080 on x/b)",
            CALICO,
            NOT_ISOLATED_A,
            *INGRESS_B_ADMITTED,
            "ALLOWED: egress from x/a and ingress to x/b both allow it.",
        ],
        id="named-port: resolved against the destination pod",
    ),
    pytest.param(
        BASE,
        "x/a",
        "x/b",
        80,
        [
            "Connection: x/a -> x/b on TCP port 80",
            CALICO,
            NOT_ISOLATED_A,
            *INGRESS_B_DENIED,
            "DENIED: blocked by ingress to x/b.",
        ],
        id="isolated-ingress: no rule admits port 80",
    ),
    pytest.param(
        BASE,
        "x/b",
        "x/a",
        80,
        [
            "Connection: x/b -> x/a on TCP port 80",
            CALICO,
            "Egress from x/b: not isolated (no policy selects x/b for egress), "
            "so all egress is allowed.",
            "Ingress to x/a: not isolated (no policy selects x/a for ingress), "
            "so all ingress is allowed.",
            "ALLOWED: egress from x/b and ingress to x/a both allow it.",
        ],
        id="default-allow: a pod no policy selects",
    ),
    pytest.param(
        BOTH,
        "x/a",
        "x/b",
        80,
        [
            "Connection: x/a -> x/b on TCP port 80",
            CALICO,
            *ISOLATED_A,
            *INGRESS_B_DENIED,
            "DENIED: blocked by egress from x/a and ingress to x/b.",
        ],
        id="both-sides: egress of the source AND ingress of the destination",
    ),
    pytest.param(
        BOTH.with_cni("flannel"),
        "x/a",
        "x/b",
        80,
        [
            "Connection: x/a -> x/b on TCP port 80",
            "CNI: flannel. Flannel does not enforce NetworkPolicy: the policies below exist "
            "but have no effect; the connection is allowed.",
            *ISOLATED_A,
            *INGRESS_B_DENIED,
            "ALLOWED: Flannel does not enforce NetworkPolicy (on a CNI that does, it would be "
            "blocked by egress from x/a and ingress to x/b).",
        ],
        id="cni: Flannel does not enforce",
    ),
    pytest.param(
        BOTH,
        "x/a",
        "x/a",
        80,
        [
            "Connection: x/a -> x/a on TCP port 80",
            CALICO,
            "Self traffic: a pod can always reach itself; policies cannot block it.",
            *ISOLATED_A,
            "Ingress to x/a: not isolated (no policy selects x/a for ingress), "
            "so all ingress is allowed.",
            "ALLOWED: a pod can always reach itself.",
        ],
        id="self: a pod cannot block access to itself",
    ),
    pytest.param(
        BOTH,
        "internet",
        "x/b",
        "http",
        [
            "Connection: internet -> x/b on TCP port http (a named port: 8080 on x/b)",
            CALICO,
            "Egress from internet: internet is outside the cluster; no policy applies to it, "
            "so its egress side allows the connection.",
            "Ingress to x/b: isolated for ingress by x/allow-b.",
            "  - x/allow-b spec.ingress[0] does not admit it: peer does not match.",
            "  - x/allow-b spec.ingress[1] does not admit it: port does not match.",
            "  Ingress is denied: no rule of a selecting policy admits it.",
            "DENIED: blocked by ingress to x/b.",
        ],
        id="external: podSelector peers never match an IP outside the cluster",
    ),
    pytest.param(
        BOTH,
        "y/web-0",
        "internet",
        443,
        [
            "Connection: y/web-0 -> internet on TCP port 443",
            CALICO,
            "Egress from y/web-0: isolated for egress by y/egress-web.",
            "  - y/egress-web spec.egress[0] admits it (peer to[0], port all ports).",
            "  Egress is allowed.",
            "Ingress to internet: internet is outside the cluster; no policy applies to it, "
            "so its ingress side allows the connection.",
            "ALLOWED: egress from y/web-0 and ingress to internet both allow it.",
        ],
        id="ipBlock: egress to an external inside the cidr, any port",
    ),
    pytest.param(
        BOTH,
        "x/b",
        "x/a",
        "nope",
        [
            "Connection: x/b -> x/a on TCP port nope (a named port, not defined on x/a)",
            CALICO,
            "Named port nope is not defined on x/a for TCP: nothing listens there, so the "
            "connection fails whatever the policies say.",
            "Egress from x/b: isolated for egress by x/deny-egress.",
            "  - x/deny-egress has no egress rules: it admits nothing.",
            "  Egress is denied: no rule of a selecting policy admits it.",
            "Ingress to x/a: not isolated (no policy selects x/a for ingress), "
            "so all ingress is allowed.",
            "DENIED: named port nope is not defined on x/a.",
        ],
        id="named-port: undefined on the destination",
    ),
    pytest.param(
        CIDR_CILIUM,
        "x/a",
        "x/b",
        8080,
        [
            "Connection: x/a -> x/b on TCP port 8080",
            "CNI: cilium (enforces NetworkPolicy; ipBlock peers do not match pod IPs).",
            NOT_ISOLATED_A,
            "Ingress to x/b: isolated for ingress by x/b-from-cidr.",
            "  - x/b-from-cidr spec.ingress[0] does not admit it: peer does not match "
            "(from[1] is an ipBlock that contains x/a's IP, but on cilium an ipBlock never "
            "matches a pod, only addresses outside the cluster).",
            "  Ingress is denied: no rule of a selecting policy admits it.",
            "DENIED: blocked by ingress to x/b.",
        ],
        id="cilium: an ipBlock holding the pod's IP does not match the pod",
    ),
]


def _flatten(lines: list[object]) -> str:
    return "\n".join(str(line) for line in lines)


def _peer(cluster: Cluster, name: str) -> Pod | External:
    return cluster.pod(name) if "/" in name else cluster.external(name)


@pytest.mark.parametrize(("cluster", "src", "dst", "port", "expected"), CASES)
def test_explain_text_golden(
    cluster: Cluster, src: str, dst: str, port: int | str, expected: list[object]
) -> None:
    verdict = is_allowed(cluster, Connection(_peer(cluster, src), _peer(cluster, dst), port))
    assert explain_text(verdict) == _flatten(expected)


def test_explain_text_last_line_agrees_with_verdict() -> None:
    for param in CASES:
        cluster, src, dst, port, _ = param.values
        verdict = is_allowed(cluster, Connection(_peer(cluster, src), _peer(cluster, dst), port))
        last = explain_text(verdict).splitlines()[-1]
        assert last.startswith("ALLOWED" if verdict.allowed else "DENIED"), param.id


def test_explain_dict_exact_shape() -> None:
    verdict = is_allowed(BOTH, Connection(A, BOTH.pod("x/b"), 8080))
    data = explain_dict(verdict)
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "from": "x/a",
        "to": "x/b",
        "protocol": "TCP",
        "port": 8080,
        "resolved_port": 8080,
        "cni": "calico",
        "enforced": True,
        "allowed": False,
        "policy_allows": False,
        "self_traffic": False,
        "blocked_by": ["egress from x/a"],
        "egress": {
            "pod": "x/a",
            "isolated": True,
            "policies": ["x/deny-egress"],
            "allowed": False,
            "admitted_by": [],
            "not_admitted_by": [],
        },
        "ingress": {
            "pod": "x/b",
            "isolated": True,
            "policies": ["x/allow-b"],
            "allowed": True,
            "admitted_by": [
                {
                    "policy": "x/allow-b",
                    "rule": "spec.ingress[0]",
                    "peer": "from[1]",
                    "port": "ports[1]",
                }
            ],
            "not_admitted_by": [
                {
                    "policy": "x/allow-b",
                    "rule": "spec.ingress[1]",
                    "peer_matches": True,
                    "port_matches": False,
                    "ipblock_ignores_pod": None,
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("cluster", "expected"),
    [(CIDR_CILIUM, "from[1]"), (CIDR_CILIUM.with_cni("calico"), "admitted")],
)
def test_explain_dict_names_the_ipblock_a_plugin_ignores_for_pods(
    cluster: Cluster, expected: str
) -> None:
    """On Cilium the miss names the ipBlock peer that holds the pod's IP; where ipBlock
    matches pods (the specification) the same peer admits the connection."""
    verdict = is_allowed(cluster, Connection(cluster.pod("x/a"), cluster.pod("x/b"), 8080))
    ingress = explain_dict(verdict)["ingress"]
    assert isinstance(ingress, dict)
    if expected == "admitted":
        assert [m["peer"] for m in ingress["admitted_by"]] == ["from[1]"]
        assert ingress["not_admitted_by"] == []
    else:
        assert ingress["not_admitted_by"] == [
            {
                "policy": "x/b-from-cidr",
                "rule": "spec.ingress[0]",
                "peer_matches": False,
                "port_matches": True,
                "ipblock_ignores_pod": expected,
            }
        ]


def test_explain_dict_all_peers_all_ports_are_null_and_externals_have_no_pod() -> None:
    verdict = is_allowed(BOTH, Connection(BOTH.pod("y/web-0"), INTERNET, 443))
    data = explain_dict(verdict)
    assert data["egress"] == {
        "pod": "y/web-0",
        "isolated": True,
        "policies": ["y/egress-web"],
        "allowed": True,
        "admitted_by": [
            {"policy": "y/egress-web", "rule": "spec.egress[0]", "peer": "to[0]", "port": None}
        ],
        "not_admitted_by": [],
    }
    assert data["ingress"] == {
        "pod": None,
        "isolated": False,
        "policies": [],
        "allowed": True,
        "admitted_by": [],
        "not_admitted_by": [],
    }


def test_explain_dict_flannel_allowed_though_policies_deny() -> None:
    verdict = is_allowed(BOTH.with_cni("flannel"), Connection(A, BOTH.pod("x/b"), 80))
    data = explain_dict(verdict)
    assert (data["cni"], data["enforced"], data["allowed"], data["policy_allows"]) == (
        "flannel",
        False,
        True,
        False,
    )
    assert data["blocked_by"] == ["egress from x/a", "ingress to x/b"]


# --- Services: policies see the pod port after DNAT -----------------------------------------

SVC = Service(
    "y",
    "web",
    {"app": "web"},
    (ServicePort(80, "http", name="web"), ServicePort(53, 5353, Protocol.UDP, "dns")),
)
ONLY_80 = NetworkPolicy(
    "only-80",
    "y",
    LabelSelector.of({"app": "web"}),
    ingress=(NetworkPolicyIngressRule(ports=(NetworkPolicyPort(port=80),)),),
)
SVC_CLUSTER = Cluster.build(pods=[A, WEB], services=[SVC], policies=[ONLY_80])


def test_service_resolves_to_endpoint_and_target_port() -> None:
    target = resolve_service(SVC_CLUSTER, SVC, 80)
    assert target.service_port.target_port == "http"
    assert [p.key for p in target.endpoints] == ["y/web-0"]
    assert resolve_service(SVC_CLUSTER, SVC, "web").service_port.port == 80
    assert resolve_service(SVC_CLUSTER, SVC, 53, Protocol.UDP).service_port.target_port == 5353


SERVICE_PORTS = "80/TCP (web) -> targetPort http, 53/UDP (dns) -> targetPort 5353"


@pytest.mark.parametrize(
    ("port", "protocol", "hint"),
    [
        (
            8080,
            Protocol.TCP,
            " (8080 is a targetPort, the pod port the Service sends traffic to; clients "
            "connect to the Service port 80)",
        ),
        ("nope", Protocol.TCP, ""),
        (53, Protocol.TCP, ""),
    ],
    ids=["pod-port-is-not-a-service-port", "unknown-name", "wrong-protocol"],
)
def test_service_port_that_does_not_exist_lists_the_ports(
    port: int | str, protocol: Protocol, hint: str
) -> None:
    with pytest.raises(ServicePortError) as info:
        resolve_service(SVC_CLUSTER, SVC, port, protocol)
    assert info.value.args[0] == (
        f"Service y/web has no {protocol} port {port}; its ports: {SERVICE_PORTS}{hint}"
    )


def test_service_policy_on_service_port_does_not_admit_the_pod_port() -> None:
    sv = evaluate_service(SVC_CLUSTER, A, SVC, 80)
    assert not sv.allowed
    assert [v.port for v in sv.verdicts] == [8080]
    assert explain_service_text(sv) == _flatten(
        [
            "Connection: x/a -> Service y/web on TCP port 80",
            "The Service sends it to targetPort http (a container port name, resolved on "
            "each endpoint pod) on 1 endpoint pod(s): y/web-0.",
            "NetworkPolicy sees the pod port after DNAT, not the Service port: policies must "
            "allow the targetPort, not 80.",
            "",
            "[endpoint y/web-0]",
            "Connection: x/a -> y/web-0 on TCP port http (a named port: 8080 on y/web-0)",
            CALICO,
            NOT_ISOLATED_A,
            "Ingress to y/web-0: isolated for ingress by y/only-80.",
            "  - y/only-80 spec.ingress[0] does not admit it: port does not match.",
            "  Ingress is denied: no rule of a selecting policy admits it.",
            "DENIED: blocked by ingress to y/web-0.",
            "",
            "DENIED to all 1 endpoint(s) of Service y/web.",
        ]
    )
    data = explain_service_dict(sv)
    assert {k: v for k, v in data.items() if k != "verdicts"} == {
        "from": "x/a",
        "service": "y/web",
        "protocol": "TCP",
        "service_port": 80,
        "target_port": "http",
        "endpoints": ["y/web-0"],
        "allowed": False,
    }
    assert data["verdicts"] == [explain_dict(sv.verdicts[0])]


def test_service_partly_allowed_when_endpoints_differ() -> None:
    web1 = Pod("y", "web-1", {"app": "web", "open": "no"}, ports=WEB.ports)
    closed = NetworkPolicy("closed", "y", LabelSelector.of({"open": "no"}), ingress=())
    cluster = Cluster.build(pods=[A, WEB, web1], services=[SVC], policies=[closed])
    sv = evaluate_service(cluster, A, SVC, 80)
    assert [v.allowed for v in sv.verdicts] == [True, False]
    assert explain_service_text(sv).splitlines()[-1] == (
        "PARTLY ALLOWED: 1 of 2 endpoints of Service y/web accept it; the Service "
        "load-balances, so some connections fail."
    )


def test_service_without_endpoints() -> None:
    lonely = Service("y", "lonely", {"app": "nobody"}, (ServicePort(80, 80),))
    cluster = Cluster.build(pods=[A, WEB], services=[lonely])
    sv = evaluate_service(cluster, A, lonely, 80)
    assert not sv.allowed
    text = explain_service_text(sv)
    assert text.splitlines()[-2:] == [
        "No pod in namespace y matches the Service's selector (app=nobody): there is "
        "nothing to connect to.",
        "DENIED: Service y/lonely has no endpoints.",
    ]


@pytest.mark.parametrize("module", [npcore.explain, npcore.services], ids=lambda m: m.__name__)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


# --- properties on random small clusters (tests/strategies.py) ------------------------------


@settings(max_examples=60, deadline=None)
@given(clusters(), st.data())
def test_explanations_agree_with_the_verdict(cluster: Cluster, data: st.DataObject) -> None:
    peers = cluster.peers()
    src = data.draw(st.sampled_from(peers))
    dst = data.draw(st.sampled_from(peers))
    port = data.draw(st.sampled_from([*PROBE_PORTS, *PORT_NAMES]))
    protocol = data.draw(st.sampled_from(list(Protocol)))
    verdict = is_allowed(cluster, Connection(src, dst, port, protocol))
    text = explain_text(verdict)
    lines = text.splitlines()
    assert lines[-1].startswith("ALLOWED" if verdict.allowed else "DENIED")
    for side in (verdict.egress, verdict.ingress):
        for policy in side.selecting_policies:
            assert policy in text
        for match in side.admitted_by:
            assert (
                f"{match.policy} spec.{side.direction.lower()}[{match.rule_index}] admits it"
                in text
            )
    data_dict = explain_dict(verdict)
    assert json.loads(json.dumps(data_dict)) == data_dict
    assert data_dict["allowed"] == verdict.allowed
    assert data_dict["policy_allows"] == verdict.policy_allows
    sides = {"egress": verdict.egress, "ingress": verdict.ingress}
    expected = (
        []
        if verdict.policy_allows
        else [
            f"{name} {'from' if name == 'egress' else 'to'} {side_endpoint}"
            for name, side_endpoint in (("egress", src.key), ("ingress", dst.key))
            if not sides[name].allowed
        ]
    )
    assert data_dict["blocked_by"] == expected
    if not verdict.policy_allows and verdict.port is not None:
        assert expected, "a denied connection names the side that blocks it"


@pytest.mark.parametrize(
    ("src", "peer_ok"),
    [(A, True), (Pod("x", "c", {"app": "c"}), False)],
    ids=["peer-in-from", "peer-not-in-from"],
)
def test_undeclared_named_port_still_matches_peers_honestly(src: Pod, peer_ok: bool) -> None:
    """A connection to a port name the destination does not declare matches no port;
    the peers are still matched, so the explanation gives the real reason for each rule
    (kubernetes.io: a named port resolves against the destination pod's ports)."""
    cluster = Cluster.build(pods=[src, B], policies=[ALLOW_B])
    verdict = is_allowed(cluster, Connection(src, B, "metrics"))
    assert not verdict.allowed
    misses = verdict.ingress.misses
    assert [(m.peer_ok, m.port_ok) for m in misses] == [(peer_ok, False), (True, False)]
