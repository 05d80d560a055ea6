"""Golden tests of npcore.describe against kubectl's describe.go output format.

The expected texts follow kubectl ``pkg/describe/describe.go`` (``describeNetworkPolicy``
and the two ``printNetworkPolicySpec...`` functions) with ``Created on`` left out; the
first case is the policy of the kubernetes.io "Network Policies" page.
"""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from strategies import network_policies

import npcore.describe
from npcore.describe import describe_policies, describe_policy, format_label_selector
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

HEADER_NONE = [
    "Labels:       <none>",
    "Annotations:  <none>",
]


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


DOCS_EXAMPLE = NetworkPolicy(
    "test-network-policy",
    "default",
    LabelSelector.of({"role": "db"}),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(
                NetworkPolicyPeer(ip_block=IPBlock("172.17.0.0/16", ("172.17.1.0/24",))),
                NetworkPolicyPeer(namespace_selector=LabelSelector.of({"project": "myproject"})),
                NetworkPolicyPeer(pod_selector=LabelSelector.of({"role": "frontend"})),
            ),
            ports=(NetworkPolicyPort(Protocol.TCP, 6379),),
        ),
    ),
    egress=(
        NetworkPolicyEgressRule(
            to=(NetworkPolicyPeer(ip_block=IPBlock("10.0.0.0/24")),),
            ports=(NetworkPolicyPort(Protocol.TCP, 5978),),
        ),
    ),
    policy_types=(PolicyType.INGRESS, PolicyType.EGRESS),
)

DOCS_EXPECTED = [
    "Name:         test-network-policy",
    "Namespace:    default",
    *HEADER_NONE,
    "Spec:",
    "  PodSelector:     role=db",
    "  Allowing ingress traffic:",
    "    To Port: 6379/TCP",
    "    From:",
    "      IPBlock:",
    "        CIDR: 172.17.0.0/16",
    "        Except: 172.17.1.0/24",
    "    From:",
    "      NamespaceSelector: project=myproject",
    "    From:",
    "      PodSelector: role=frontend",
    "  Allowing egress traffic:",
    "    To Port: 5978/TCP",
    "    To:",
    "      IPBlock:",
    "        CIDR: 10.0.0.0/24",
    "        Except: ",  # kubectl prints the empty join, trailing space included
    "  Policy Types: Ingress, Egress",
]

EXPRESSIONS = NetworkPolicy(
    "expr",
    "prod",
    LabelSelector.of(
        {"tier": "api"},
        [
            LabelSelectorRequirement("app", Operator.IN, ("b", "a")),
            LabelSelectorRequirement("legacy", Operator.DOES_NOT_EXIST),
            LabelSelectorRequirement("env", Operator.NOT_IN, ("dev",)),
            LabelSelectorRequirement("canary", Operator.EXISTS),
        ],
    ),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(
                NetworkPolicyPeer(
                    pod_selector=LabelSelector.of({"app": "web"}),
                    namespace_selector=LabelSelector.of({"kubernetes.io/metadata.name": "web"}),
                ),
                NetworkPolicyPeer(namespace_selector=LabelSelector()),
                NetworkPolicyPeer(pod_selector=LabelSelector()),
            )
        ),
    ),
)

PORTS = NetworkPolicy(
    "ports",
    "x",
    ingress=(
        NetworkPolicyIngressRule(
            ports=(
                NetworkPolicyPort(port="http"),
                NetworkPolicyPort(Protocol.TCP, 32000, 32768),
                NetworkPolicyPort(Protocol.UDP),
                NetworkPolicyPort(Protocol.SCTP, 9000),
            )
        ),
        NetworkPolicyIngressRule(),
    ),
    egress=(NetworkPolicyEgressRule(ports=(NetworkPolicyPort(Protocol.UDP, 53),)),),
)

EGRESS_ONLY = NetworkPolicy(
    "deny-egress",
    "x",
    LabelSelector.of({"app": "a"}),
    ingress=(NetworkPolicyIngressRule(),),  # ignored: Ingress is not in policyTypes
    policy_types=(PolicyType.EGRESS,),
    labels=(("team", "blue"), ("app.kubernetes.io/name", "lab")),
)

CASES = [
    pytest.param(DOCS_EXAMPLE, None, DOCS_EXPECTED, id="kubernetes.io example"),
    pytest.param(
        EXPRESSIONS,
        None,
        [
            "Name:         expr",
            "Namespace:    prod",
            *HEADER_NONE,
            "Spec:",
            "  PodSelector:     app in (a,b),canary,env notin (dev),!legacy,tier=api",
            "  Allowing ingress traffic:",
            "    To Port: <any> (traffic allowed to all ports)",
            "    From:",
            "      NamespaceSelector: kubernetes.io/metadata.name=web",
            "      PodSelector: app=web",
            "    From:",
            "      NamespaceSelector: <none>",
            "    From:",
            "      PodSelector: <none>",
            "  Not affecting egress traffic",
            "  Policy Types: Ingress",
        ],
        id="matchExpressions sorted by key; namespace AND pod selector; empty selectors",
    ),
    pytest.param(
        PORTS,
        None,
        [
            "Name:         ports",
            "Namespace:    x",
            *HEADER_NONE,
            "Spec:",
            "  PodSelector:     <none> (Allowing the specific traffic to all pods in this "
            "namespace)",
            "  Allowing ingress traffic:",
            "    To Port: http/TCP",
            "    To Port Range: 32000-32768/TCP",
            "    To Port: <nil>/UDP",
            "    To Port: 9000/SCTP",
            "    From: <any> (traffic not restricted by source)",
            "    ----------",
            "    To Port: <any> (traffic allowed to all ports)",
            "    From: <any> (traffic not restricted by source)",
            "  Allowing egress traffic:",
            "    To Port: 53/UDP",
            "    To: <any> (traffic not restricted by destination)",
            "  Policy Types: Ingress, Egress",
        ],
        id="named port, endPort, protocol without port; policyTypes defaulted with egress",
    ),
    pytest.param(
        EGRESS_ONLY,
        {"note": "short", "kubectl.kubernetes.io/last-applied-configuration": "{...}"},
        [
            "Name:         deny-egress",
            "Namespace:    x",
            "Labels:       app.kubernetes.io/name=lab",
            "              team=blue",
            "Annotations:  note: short",
            "Spec:",
            "  PodSelector:     app=a",
            "  Not affecting ingress traffic",
            "  Allowing egress traffic:",
            "    <none> (Selected pods are isolated for egress connectivity)",
            "  Policy Types: Egress",
        ],
        id="egress only; labels multiline; last-applied annotation skipped",
    ),
]


@pytest.mark.parametrize(("policy", "annotations", "expected"), CASES)
def test_describe_policy_golden(
    policy: NetworkPolicy, annotations: dict[str, str] | None, expected: list[str]
) -> None:
    assert describe_policy(policy, annotations=annotations) == _text(expected)


def test_long_and_multiline_annotations_are_wrapped_as_kubectl_does() -> None:
    long_value = "v" * 150
    text = describe_policy(
        NetworkPolicy("p", "x"),
        annotations={"b-long": long_value, "a-lines": "one\ntwo\n", "c": "x"},
    )
    assert text.splitlines()[3:9] == [
        "Annotations:  a-lines:",
        "                one",
        "                two",
        "              b-long:",
        "                " + "v" * 138 + "...",
        "              c: x",
    ]


def test_the_empty_pod_selector_and_egress_without_rules() -> None:
    policy = NetworkPolicy("lockdown", "x", egress=(), policy_types=(PolicyType.EGRESS,))
    assert describe_policy(policy).splitlines()[5:] == [
        "  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)",
        "  Not affecting ingress traffic",
        "  Allowing egress traffic:",
        "    <none> (Selected pods are isolated for egress connectivity)",
        "  Policy Types: Egress",
    ]


def test_describe_policies_separates_by_blank_lines() -> None:
    text = describe_policies([DOCS_EXAMPLE, EGRESS_ONLY])
    first = describe_policy(DOCS_EXAMPLE)
    assert text == first + "\n" + describe_policy(EGRESS_ONLY)
    assert text.count("\n\nName:") == 1


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (LabelSelector(), "<none>"),
        (LabelSelector.of({"b": "2", "a": "1"}), "a=1,b=2"),
        (LabelSelector.of({}, [LabelSelectorRequirement("k", Operator.IN, ())]), "<error>"),
        (
            LabelSelector.of({}, [LabelSelectorRequirement("k", Operator.EXISTS, ("v",))]),
            "<error>",
        ),
        (
            LabelSelector.of(
                {"app": "x"}, [LabelSelectorRequirement("app", Operator.NOT_IN, ("y", "w"))]
            ),
            "app=x,app notin (w,y)",
        ),
    ],
    ids=["empty", "sorted-keys", "in-without-values", "exists-with-values", "same-key-stable"],
)
def test_format_label_selector(selector: LabelSelector, expected: str) -> None:
    assert format_label_selector(selector) == expected


def test_doctests() -> None:
    result = doctest.testmod(npcore.describe)
    assert result.attempted > 0
    assert result.failed == 0


@settings(max_examples=80, deadline=None)
@given(network_policies())
def test_every_rule_port_and_peer_of_an_enabled_direction_is_printed(
    policy: NetworkPolicy,
) -> None:
    text = describe_policy(policy)
    lines = text.splitlines()
    types = policy.policy_types or (
        (PolicyType.INGRESS, PolicyType.EGRESS) if policy.egress else (PolicyType.INGRESS,)
    )
    port_lines = sum(1 for line in lines if line.startswith("    To Port"))
    peer_lines = sum(1 for line in lines if line in ("    From:", "    To:"))
    separators = lines.count("    ----------")
    want_ports = want_peers = want_separators = 0
    for direction, rules in (
        (PolicyType.INGRESS, policy.ingress),
        (PolicyType.EGRESS, policy.egress),
    ):
        if direction not in types or not rules:
            continue
        want_separators += len(rules) - 1
        for rule in rules:
            want_ports += len(rule.ports) if rule.ports else 1
            want_peers += len(rule.peers) if rule.peers else 0
    assert (port_lines, peer_lines, separators) == (want_ports, want_peers, want_separators)
    assert lines[-1] == "  Policy Types: " + ", ".join(str(t) for t in types)
    assert "<error>" not in text  # valid selectors always format
