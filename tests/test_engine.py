"""``npcore.engine.is_allowed``: one table row per rule, each citing its source.

Every row is ``(case_id, source, policies, connection, expected)``: ``policies`` are
added to the fixed world below, ``connection`` is ``(src, dst, port[, protocol])`` with
peers named ``namespace/pod`` or by external name, and ``expected`` is whether the
connection succeeds on Calico (an enforcing CNI).  ``source`` quotes or names the
networking/v1 ``types.go`` sentence or the kubernetes.io "Network Policies" section the
row checks (abbreviated "docs: <section>").  The rules are those of
``npcore/engine.py``'s module docstring; docs/semantics.md links each rule to its rows.

The world (ports are container ports; ``http`` means 80 on x/a but 8080 on x/b):

=========  ===========  ==============================================================
peer       IP           labels / container ports
=========  ===========  ==============================================================
x/a        10.1.0.1     pod=a, app=web; 80/TCP http, 8080/TCP alt, 53/UDP dns,
                        9000/SCTP sig
x/b        10.1.0.2     pod=b, app=web; 8080/TCP http
x/c        10.1.0.3     pod=c; (none)
y/a        10.2.0.1     pod=a; 80/TCP http
y/b        10.2.0.2     pod=b; (none)
default/d  10.3.0.1     pod=d; (none)
internet   8.8.8.8      external
corp       172.17.1.5   external
v6ext      2001:db8::5  external
=========  ===========  ==============================================================

Namespaces x and y carry ``team: <name>`` plus the automatic
``kubernetes.io/metadata.name``; ``default`` has only the automatic label.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from npcore.cluster import Cluster, ContainerPort, External, Namespace, Pod
from npcore.engine import (
    Connection,
    DirectionVerdict,
    RuleMatch,
    RuleMiss,
    is_allowed,
    isolation,
    peer_matches,
    policy_selects,
    port_matches,
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
from npcore.selectors import selector_matches

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
INGRESS, EGRESS = PolicyType.INGRESS, PolicyType.EGRESS
MD = "kubernetes.io/metadata.name"

WORLD = Cluster.build(
    namespaces=[
        Namespace("x", {"team": "x"}),
        Namespace("y", {"team": "y"}),
        Namespace("default"),
    ],
    pods=[
        Pod(
            "x",
            "a",
            {"pod": "a", "app": "web"},
            "10.1.0.1",
            (
                ContainerPort(80, TCP, "http"),
                ContainerPort(8080, TCP, "alt"),
                ContainerPort(53, UDP, "dns"),
                ContainerPort(9000, SCTP, "sig"),
            ),
        ),
        Pod("x", "b", {"pod": "b", "app": "web"}, "10.1.0.2", (ContainerPort(8080, TCP, "http"),)),
        Pod("x", "c", {"pod": "c"}, "10.1.0.3"),
        Pod("y", "a", {"pod": "a"}, "10.2.0.1", (ContainerPort(80, TCP, "http"),)),
        Pod("y", "b", {"pod": "b"}, "10.2.0.2"),
        Pod("default", "d", {"pod": "d"}, "10.3.0.1"),
    ],
    externals=[
        External("internet", "8.8.8.8"),
        External("corp", "172.17.1.5"),
        External("v6ext", "2001:db8::5"),
    ],
)


# ---------------------------------------------------------------- builders


def sel(**labels: str) -> LabelSelector:
    return LabelSelector.of(labels)


def pods(**labels: str) -> NetworkPolicyPeer:
    """A podSelector-only peer."""
    return NetworkPolicyPeer(pod_selector=sel(**labels))


def nss(**labels: str) -> NetworkPolicyPeer:
    """A namespaceSelector-only peer."""
    return NetworkPolicyPeer(namespace_selector=sel(**labels))


def both(ns: dict[str, str], pod: dict[str, str]) -> NetworkPolicyPeer:
    """One peer with both selectors (AND)."""
    return NetworkPolicyPeer(
        pod_selector=LabelSelector.of(pod), namespace_selector=LabelSelector.of(ns)
    )


def block(cidr: str, *except_: str) -> NetworkPolicyPeer:
    return NetworkPolicyPeer(ip_block=IPBlock(cidr, tuple(except_)))


def port(
    number: int | str | None = None, protocol: Protocol | None = None, end: int | None = None
) -> NetworkPolicyPort:
    return NetworkPolicyPort(protocol=protocol, port=number, end_port=end)


def ing(
    peers: tuple[NetworkPolicyPeer, ...] | None = None,
    ports: tuple[NetworkPolicyPort, ...] | None = None,
) -> NetworkPolicyIngressRule:
    return NetworkPolicyIngressRule(ports=ports, from_=peers)


def eg(
    peers: tuple[NetworkPolicyPeer, ...] | None = None,
    ports: tuple[NetworkPolicyPort, ...] | None = None,
) -> NetworkPolicyEgressRule:
    return NetworkPolicyEgressRule(ports=ports, to=peers)


def policy(
    name: str,
    namespace: str = "x",
    select: LabelSelector | None = None,
    ingress: tuple[NetworkPolicyIngressRule, ...] | None = None,
    egress: tuple[NetworkPolicyEgressRule, ...] | None = None,
    types: tuple[PolicyType, ...] | None = None,
) -> NetworkPolicy:
    return NetworkPolicy(
        name,
        namespace,
        select if select is not None else LabelSelector(),
        ingress,
        egress,
        types,
    )


def endpoint(cluster: Cluster, name: str) -> Pod | External:
    return cluster.pod(name) if "/" in name else cluster.external(name)


def connect(
    cluster: Cluster, src: str, dst: str, number: int | str, protocol: Protocol = TCP
) -> Connection:
    return Connection(endpoint(cluster, src), endpoint(cluster, dst), number, protocol)


A = sel(pod="a")
DENY_IN_X = policy("deny-in", select=LabelSelector(), types=(INGRESS,))
DENY_OUT_X = policy("deny-out", select=LabelSelector(), types=(EGRESS,))
DENY_IN_A = policy("deny-in-a", select=A)  # omitted policyTypes, no rules: ingress only
DENY_OUT_A = policy("deny-out-a", select=A, types=(EGRESS,))


def only_in(*rules: NetworkPolicyIngressRule, name: str = "in-a") -> NetworkPolicy:
    """A policy selecting x/a whose ingress rules are ``rules``."""
    return policy(name, select=A, ingress=rules)


def only_out(*rules: NetworkPolicyEgressRule, name: str = "out-a") -> NetworkPolicy:
    """A policy selecting x/a, Egress only, whose egress rules are ``rules``."""
    return policy(name, select=A, egress=rules, types=(EGRESS,))


# ---------------------------------------------------------------- the table

Case = tuple[str, str, list[NetworkPolicy], tuple[object, ...], bool]

CASES: list[Case] = [
    # --- no policies -------------------------------------------------------------
    (
        "no-policy/default-allow",
        'docs: The two sorts of pod isolation: "By default, a pod '
        'is non-isolated for ingress; all inbound connections are allowed"',
        [],
        ("y/b", "x/a", 12345, UDP),
        True,
    ),
    # --- selection ----------------------------------------------------------------
    (
        "select/only-own-namespace",
        'types.go NetworkPolicySpec.podSelector: "Selects the '
        "pods to which this NetworkPolicy object applies\" (in the policy's namespace)",
        [policy("deny", "y")],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "select/only-own-namespace-isolates-y",
        "types.go NetworkPolicySpec.podSelector",
        [policy("deny", "y")],
        ("x/b", "y/a", 80),
        False,
    ),
    (
        "select/absent-namespace-is-default",
        "kubectl apply without -n lands in default",
        [NetworkPolicy("deny")],
        ("x/a", "default/d", 80),
        False,
    ),
    (
        "select/absent-namespace-leaves-x-alone",
        "kubectl apply without -n lands in default",
        [NetworkPolicy("deny")],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "select/empty-podselector-all-pods",
        'types.go podSelector: "An empty podSelector selects all pods in this namespace"',
        [DENY_IN_X],
        ("x/a", "x/c", 80),
        False,
    ),
    (
        "select/labels-only-matching",
        'types.go podSelector; docs: "Other pods in the '
        "namespace that are not selected by any NetworkPolicy will continue to accept all "
        'traffic"',
        [DENY_IN_A],
        ("x/a", "x/c", 80),
        True,
    ),
    (
        "select/labels-matching-isolated",
        "types.go podSelector",
        [DENY_IN_A],
        ("x/c", "x/a", 80),
        False,
    ),
    # --- effective policyTypes ----------------------------------------------------
    (
        "types/omitted-no-egress-means-ingress-only",
        'types.go policyTypes: "all policies '
        '(whether or not they contain an ingress section) are assumed to affect ingress"',
        [DENY_IN_A],
        ("x/a", "y/b", 80),
        True,
    ),
    (
        "types/omitted-with-egress-rules-adds-egress",
        'types.go policyTypes: "policies that '
        'contain an egress section are assumed to affect egress"',
        [policy("p", select=A, egress=(eg((pods(pod="b"),)),))],
        ("x/a", "y/b", 80),
        False,
    ),
    (
        "types/omitted-with-egress-rules-allows-rule",
        "types.go policyTypes",
        [policy("p", select=A, egress=(eg((pods(pod="b"),)),))],
        ("x/a", "x/b", 80),
        True,
    ),
    (
        "types/omitted-egress-empty-list-does-not-count",
        "API defaulting: Egress only if len(spec.egress) > 0 (pkg/apis/networking/v1/defaults.go)",
        [policy("p", select=A, egress=())],
        ("x/a", "y/b", 80),
        True,
    ),
    (
        "types/egress-only-ignores-ingress-rules",
        'types.go policyTypes: "Valid options are '
        '[\\"Ingress\\"], [\\"Egress\\"], or [\\"Ingress\\", \\"Egress\\"]"; rules of '
        "a direction not listed have no effect",
        [policy("p", select=A, ingress=(ing((pods(pod="b"),)),), egress=(eg(),), types=(EGRESS,))],
        ("y/b", "x/a", 80),
        True,
    ),
    (
        "types/egress-only-no-egress-rules-denies-egress",
        "types.go policyTypes",
        [policy("p", select=A, ingress=(ing(),), types=(EGRESS,))],
        ("x/a", "y/b", 80),
        False,
    ),
    (
        "types/ingress-only-ignores-egress-rules",
        "types.go policyTypes",
        [policy("p", select=A, ingress=(ing(),), egress=(eg((pods(pod="c"),)),), types=(INGRESS,))],
        ("x/a", "y/b", 80),
        True,
    ),
    (
        "types/both-listed-no-rules-denies-both",
        "docs: Default deny all ingress and all egress traffic",
        [policy("p", select=A, types=(INGRESS, EGRESS))],
        ("x/a", "y/b", 80),
        False,
    ),
    (
        "types/both-listed-no-rules-denies-ingress",
        "docs: Default deny all ingress and all egress traffic",
        [policy("p", select=A, types=(INGRESS, EGRESS))],
        ("y/b", "x/a", 80),
        False,
    ),
    # --- isolation per direction --------------------------------------------------
    (
        "isolation/ingress-isolated-egress-open",
        "docs: The two sorts of pod isolation "
        '("Isolation for ingress and egress are declared independently")',
        [DENY_IN_A],
        ("x/a", "x/b", 80),
        True,
    ),
    (
        "isolation/egress-isolated-ingress-open",
        "docs: The two sorts of pod isolation",
        [DENY_OUT_A],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "isolation/egress-isolated-denies",
        "docs: The two sorts of pod isolation",
        [DENY_OUT_A],
        ("x/a", "x/b", 80),
        False,
    ),
    # --- union ---------------------------------------------------------------------
    (
        "union/either-policy-admits-first",
        'docs: "Network policies do not conflict; they '
        "are additive ... the union of those policies' ingress rules\"",
        [only_in(ing((pods(pod="b"),)), name="p1"), only_in(ing((pods(pod="c"),)), name="p2")],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "union/either-policy-admits-second",
        "docs: additive",
        [only_in(ing((pods(pod="b"),)), name="p1"), only_in(ing((pods(pod="c"),)), name="p2")],
        ("x/c", "x/a", 80),
        True,
    ),
    (
        "union/neither-admits",
        "docs: additive",
        [only_in(ing((pods(pod="b"),)), name="p1"), only_in(ing((pods(pod="c"),)), name="p2")],
        ("y/a", "x/a", 80),
        False,
    ),
    (
        "union/deny-all-cannot-override-allow",
        'docs: additive; "the order of evaluation does not affect the policy result"',
        [DENY_IN_X, only_in(ing())],
        ("y/b", "x/a", 80),
        True,
    ),
    # --- both sides ---------------------------------------------------------------
    (
        "sides/egress-allows-ingress-denies",
        'docs: "both the egress policy on the source '
        'pod and the ingress policy on the destination pod need to allow the connection"',
        [only_out(eg((pods(pod="b"),))), policy("deny-b", select=sel(pod="b"))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "sides/ingress-allows-egress-denies",
        "docs: both sides must allow",
        [DENY_OUT_A, policy("allow-b", select=sel(pod="b"), ingress=(ing((pods(pod="a"),)),))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "sides/both-allow",
        "docs: both sides must allow",
        [
            only_out(eg((pods(pod="b"),))),
            policy("allow-b", select=sel(pod="b"), ingress=(ing((pods(pod="a"),)),)),
        ],
        ("x/a", "x/b", 80),
        True,
    ),
    # --- self ----------------------------------------------------------------------
    (
        "self/always-allowed-ingress-deny",
        'docs: What you can\'t do / pod isolation: "a pod cannot block access to itself"',
        [DENY_IN_X, DENY_OUT_X],
        ("x/a", "x/a", 80),
        True,
    ),
    (
        "self/always-allowed-any-port",
        "docs: a pod cannot block access to itself",
        [DENY_IN_X],
        ("x/c", "x/c", 4242, UDP),
        True,
    ),
    # --- rules: empty and absent ---------------------------------------------------
    (
        "rules/ingress-empty-list-denies",
        'types.go ingress: "If this field is empty then '
        'this NetworkPolicy does not allow any traffic"',
        [policy("p", select=A, ingress=())],
        ("x/b", "x/a", 80),
        False,
    ),
    (
        "rules/ingress-absent-denies",
        'types.go ingress: "If this field is empty ..."',
        [policy("p", select=A, ingress=None)],
        ("x/b", "x/a", 80),
        False,
    ),
    (
        "rules/egress-empty-list-with-type-denies",
        'types.go egress: "If this field is empty '
        'then this NetworkPolicy limits all outgoing traffic"',
        [policy("p", select=A, egress=(), types=(EGRESS,))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "rules/empty-rule-allows-all-pods",
        "docs: Allow all ingress traffic (ingress: [{}])",
        [only_in(ing())],
        ("y/b", "x/a", 8080),
        True,
    ),
    (
        "rules/empty-rule-allows-externals",
        "docs: Allow all ingress traffic",
        [only_in(ing())],
        ("internet", "x/a", 53, UDP),
        True,
    ),
    (
        "rules/empty-egress-rule-allows-all",
        "docs: Allow all egress traffic",
        [only_out(eg())],
        ("x/a", "internet", 443),
        True,
    ),
    (
        "rules/from-empty-list-matches-all",
        'types.go from: "If this field is empty or missing, this rule matches all sources"',
        [only_in(ing((), (port(80),)))],
        ("corp", "x/a", 80),
        True,
    ),
    (
        "rules/from-missing-matches-all",
        'types.go from: "empty or missing"',
        [only_in(ing(None, (port(80),)))],
        ("default/d", "x/a", 80),
        True,
    ),
    (
        "rules/from-all-but-port-restricted",
        'types.go NetworkPolicyIngressRule: "traffic ... must match both ports and from"',
        [only_in(ing(None, (port(80),)))],
        ("default/d", "x/a", 8080),
        False,
    ),
    (
        "rules/to-empty-list-matches-all",
        'types.go to: "If this field is empty or missing, this rule matches all destinations"',
        [only_out(eg((), (port(443),)))],
        ("x/a", "v6ext", 443),
        True,
    ),
    (
        "rules/ports-empty-list-matches-all",
        'types.go ports: "If this field is empty or missing, this rule matches all ports"',
        [only_in(ing((pods(pod="b"),), ()))],
        ("x/b", "x/a", 9000, SCTP),
        True,
    ),
    (
        "rules/ports-missing-matches-all",
        'types.go ports: "empty or missing"',
        [only_in(ing((pods(pod="b"),), None))],
        ("x/b", "x/a", 53, UDP),
        True,
    ),
    # --- rules: OR and AND ----------------------------------------------------------
    (
        "logic/peers-or-first",
        'types.go from: "If this field is present and contains at '
        "least one item, this rule allows traffic only if the traffic matches at least one item "
        'in the from list"',
        [only_in(ing((pods(pod="b"), pods(pod="c"))))],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "logic/peers-or-second",
        'types.go from: "at least one item"',
        [only_in(ing((pods(pod="b"), pods(pod="c"))))],
        ("x/c", "x/a", 80),
        True,
    ),
    (
        "logic/ports-or",
        'types.go ports: "traffic matches at least one port in the list"',
        [only_in(ing(None, (port(80), port(8080))))],
        ("x/b", "x/a", 8080),
        True,
    ),
    (
        "logic/ports-or-none-matches",
        'types.go ports: "at least one port"',
        [only_in(ing(None, (port(80), port(8080))))],
        ("x/b", "x/a", 443),
        False,
    ),
    (
        "logic/peer-and-port-both",
        'types.go NetworkPolicyIngressRule: "must match both ports and from"',
        [only_in(ing((pods(pod="b"),), (port(80),)))],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "logic/peer-and-port-wrong-port",
        'types.go: "must match both ports and from"',
        [only_in(ing((pods(pod="b"),), (port(80),)))],
        ("x/b", "x/a", 8080),
        False,
    ),
    (
        "logic/peer-and-port-wrong-peer",
        'types.go: "must match both ports and from"',
        [only_in(ing((pods(pod="b"),), (port(80),)))],
        ("x/c", "x/a", 80),
        False,
    ),
    (
        "logic/rules-are-not-cross-multiplied",
        'types.go ingress: "traffic ... matches at '
        'least one ingress rule" (each rule is its own (peer, port) pair)',
        [only_in(ing((pods(pod="b"),), (port(80),)), ing((pods(pod="c"),), (port(8080),)))],
        ("x/b", "x/a", 8080),
        False,
    ),
    (
        "logic/second-rule-admits",
        'types.go ingress: "at least one ingress rule"',
        [only_in(ing((pods(pod="b"),), (port(80),)), ing((pods(pod="c"),), (port(8080),)))],
        ("x/c", "x/a", 8080),
        True,
    ),
    # --- peers ----------------------------------------------------------------------
    (
        "peer/podselector-own-namespace",
        'types.go NetworkPolicyPeer.podSelector: "Otherwise '
        "it selects the pods matching podSelector in the policy's own namespace\"",
        [policy("p", select=sel(pod="b"), ingress=(ing((pods(pod="a"),)),))],
        ("x/a", "x/b", 80),
        True,
    ),
    (
        "peer/podselector-not-other-namespace",
        'types.go podSelector: "the policy\'s own namespace"',
        [policy("p", select=sel(pod="b"), ingress=(ing((pods(pod="a"),)),))],
        ("y/a", "x/b", 80),
        False,
    ),
    (
        "peer/empty-podselector-own-namespace-only",
        "docs: podSelector {} in from = all pods of the same namespace",
        [only_in(ing((pods(),)))],
        ("y/b", "x/a", 80),
        False,
    ),
    (
        "peer/empty-podselector-own-namespace",
        "docs: podSelector {} in from",
        [only_in(ing((pods(),)))],
        ("x/c", "x/a", 80),
        True,
    ),
    (
        "peer/namespaceselector-all-pods-of-namespace",
        'types.go namespaceSelector: "If '
        'podSelector is not set, it selects all pods in the namespaces selected"',
        [only_in(ing((nss(team="y"),)))],
        ("y/b", "x/a", 80),
        True,
    ),
    (
        "peer/namespaceselector-other-namespace-denied",
        "types.go namespaceSelector",
        [only_in(ing((nss(team="y"),)))],
        ("x/c", "x/a", 80),
        False,
    ),
    (
        "peer/both-is-and-match",
        "docs: Behavior of to and from selectors (one element with "
        "namespaceSelector and podSelector)",
        [only_in(ing((both({"team": "y"}, {"pod": "a"}),)))],
        ("y/a", "x/a", 80),
        True,
    ),
    (
        "peer/both-is-and-wrong-pod",
        "docs: Behavior of to and from selectors",
        [only_in(ing((both({"team": "y"}, {"pod": "a"}),)))],
        ("y/b", "x/a", 80),
        False,
    ),
    (
        "peer/both-is-and-same-labels-other-ns",
        "docs: Behavior of to and from selectors",
        [policy("p", select=sel(pod="b"), ingress=(ing((both({"team": "y"}, {"pod": "a"}),)),))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "peer/two-elements-is-or",
        "docs: Behavior of to and from selectors (two elements)",
        [only_in(ing((nss(team="y"), pods(pod="c"))))],
        ("x/c", "x/a", 80),
        True,
    ),
    (
        "peer/two-elements-is-or-namespace",
        "docs: Behavior of to and from selectors",
        [only_in(ing((nss(team="y"), pods(pod="c"))))],
        ("y/b", "x/a", 80),
        True,
    ),
    (
        "peer/two-elements-neither",
        "docs: Behavior of to and from selectors",
        [only_in(ing((nss(team="y"), pods(pod="c"))))],
        ("x/b", "x/a", 80),
        False,
    ),
    (
        "peer/empty-namespaceselector-all-namespaces",
        'types.go namespaceSelector: "an empty namespaceSelector selects all namespaces"',
        [only_in(ing((nss(),)))],
        ("default/d", "x/a", 80),
        True,
    ),
    (
        "peer/empty-namespaceselector-not-externals",
        "docs: namespaceSelector selects pods; cluster-external IPs only via ipBlock",
        [only_in(ing((nss(),)))],
        ("internet", "x/a", 80),
        False,
    ),
    (
        "peer/empty-both-selectors-not-externals",
        "docs: namespaceSelector + podSelector {}",
        [only_in(ing((both({}, {}),)))],
        ("corp", "x/a", 80),
        False,
    ),
    (
        "peer/empty-both-selectors-all-pods",
        "docs: namespaceSelector + podSelector {}",
        [only_in(ing((both({}, {}),)))],
        ("y/b", "x/a", 80),
        True,
    ),
    (
        "peer/namespace-by-name-label",
        "docs: Targeting a Namespace by its name (kubernetes.io/metadata.name)",
        [only_in(ing((nss(**{MD: "default"}),)))],
        ("default/d", "x/a", 80),
        True,
    ),
    (
        "peer/namespace-by-name-label-other",
        "docs: Targeting a Namespace by its name",
        [only_in(ing((nss(**{MD: "default"}),)))],
        ("y/a", "x/a", 80),
        False,
    ),
    (
        "peer/namespace-notin-expression",
        'selector.go NotIn; e2e "PodSelector or NamespaceSelector"',
        [
            only_in(
                ing(
                    (
                        NetworkPolicyPeer(
                            namespace_selector=LabelSelector.of(
                                None, [LabelSelectorRequirement(MD, Operator.NOT_IN, ("x",))]
                            )
                        ),
                    )
                )
            )
        ],
        ("default/d", "x/a", 80),
        True,
    ),
    (
        "peer/namespace-notin-expression-excluded",
        "selector.go NotIn",
        [
            only_in(
                ing(
                    (
                        NetworkPolicyPeer(
                            namespace_selector=LabelSelector.of(
                                None, [LabelSelectorRequirement(MD, Operator.NOT_IN, ("x",))]
                            )
                        ),
                    )
                )
            )
        ],
        ("x/b", "x/a", 80),
        False,
    ),
    # --- ipBlock ----------------------------------------------------------------------
    (
        "ipblock/external-in-cidr",
        'types.go IPBlock: "a particular CIDR ... that is allowed"',
        [only_in(ing((block("8.8.0.0/16"),)))],
        ("internet", "x/a", 80),
        True,
    ),
    (
        "ipblock/external-outside-cidr",
        "types.go IPBlock",
        [only_in(ing((block("8.8.0.0/16"),)))],
        ("corp", "x/a", 80),
        False,
    ),
    (
        "ipblock/external-in-except",
        'types.go IPBlock.except: "CIDRs that should not be included within an IPBlock"',
        [only_in(ing((block("172.17.0.0/16", "172.17.1.0/24"),)))],
        ("corp", "x/a", 80),
        False,
    ),
    (
        "ipblock/external-outside-except",
        "docs: test-network-policy example (172.17.0.0/16 except 172.17.1.0/24)",
        [only_in(ing((block("172.17.0.0/16", "172.17.2.0/24"),)))],
        ("corp", "x/a", 80),
        True,
    ),
    (
        "ipblock/matches-pod-ip",
        'e2e "should allow egress access to server in CIDR block"',
        [only_out(eg((block("10.2.0.2/32"),)))],
        ("x/a", "y/b", 80),
        True,
    ),
    (
        "ipblock/pod-ip-other",
        'e2e "should allow egress access to server in CIDR block"',
        [only_out(eg((block("10.2.0.2/32"),)))],
        ("x/a", "y/a", 80),
        False,
    ),
    (
        "ipblock/pod-ip-in-except",
        'e2e "should enforce except clause while egress access to server in CIDR block"',
        [only_out(eg((block("10.1.0.0/16", "10.1.0.2/32"),)))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "ipblock/pod-ip-outside-except",
        "e2e except clause",
        [only_out(eg((block("10.1.0.0/16", "10.1.0.2/32"),)))],
        ("x/a", "x/c", 80),
        True,
    ),
    (
        "ipblock/ingress-from-pod-ip",
        "types.go IPBlock (pod IPs are IPs too)",
        [only_in(ing((block("10.3.0.0/24"),)))],
        ("default/d", "x/a", 80),
        True,
    ),
    (
        "ipblock/ipv6-in-cidr",
        'types.go IPBlock.cidr: "Valid examples are \\"192.168.1.0/24\\" or \\"2001:db8::/64\\""',
        [only_in(ing((block("2001:db8::/64"),)))],
        ("v6ext", "x/a", 80),
        True,
    ),
    (
        "ipblock/ipv6-in-except",
        "types.go IPBlock.except",
        [only_in(ing((block("2001:db8::/64", "2001:db8::/120"),)))],
        ("v6ext", "x/a", 80),
        False,
    ),
    (
        "ipblock/ipv4-block-never-matches-ipv6",
        "an address never matches a block of the other family",
        [only_in(ing((block("0.0.0.0/0"),)))],
        ("v6ext", "x/a", 80),
        False,
    ),
    (
        "ipblock/ipv6-block-never-matches-ipv4",
        "an address never matches a block of the other family",
        [only_in(ing((block("::/0"),)))],
        ("internet", "x/a", 80),
        False,
    ),
    (
        "ipblock/zero-cidr-matches-all-ipv4",
        "docs: 0.0.0.0/0",
        [only_in(ing((block("0.0.0.0/0"),)))],
        ("internet", "x/a", 80),
        True,
    ),
    (
        "ipblock/egress-to-external",
        "docs: test-network-policy egress to 10.0.0.0/24",
        [only_out(eg((block("8.8.8.0/24"),), (port(443),)))],
        ("x/a", "internet", 443),
        True,
    ),
    (
        "ipblock/egress-to-external-other",
        "docs: egress ipBlock",
        [only_out(eg((block("8.8.8.0/24"),), (port(443),)))],
        ("x/a", "corp", 443),
        False,
    ),
    # --- ports -------------------------------------------------------------------------
    (
        "port/protocol-defaults-to-tcp",
        'types.go NetworkPolicyPort.protocol: "If not specified, this field defaults to TCP"',
        [only_in(ing(None, (port(53),)))],
        ("x/b", "x/a", 53, UDP),
        False,
    ),
    (
        "port/protocol-defaults-to-tcp-matches-tcp",
        "types.go protocol default TCP",
        [only_in(ing(None, (port(53),)))],
        ("x/b", "x/a", 53, TCP),
        True,
    ),
    (
        "port/protocol-only-entry-all-ports",
        'types.go NetworkPolicyPort.port: "If this '
        'field is not provided, this matches all port names and numbers"',
        [only_in(ing(None, (port(None, UDP),)))],
        ("x/b", "x/a", 5353, UDP),
        True,
    ),
    (
        "port/protocol-only-entry-other-protocol",
        "types.go NetworkPolicyPort.port",
        [only_in(ing(None, (port(None, UDP),)))],
        ("x/b", "x/a", 80, TCP),
        False,
    ),
    (
        "port/sctp-not-tcp",
        "e2e \"should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP'\"",
        [only_in(ing(None, (port(81, SCTP),)))],
        ("y/a", "x/a", 81, TCP),
        False,
    ),
    (
        "port/sctp-matches-sctp",
        "types.go protocol",
        [only_in(ing(None, (port(81, SCTP),)))],
        ("y/a", "x/a", 81, SCTP),
        True,
    ),
    (
        "port/endport-lower-bound",
        'types.go endPort: "the range of ports from port to endPort if set, inclusive"',
        [only_in(ing(None, (port(32000, TCP, 32768),)))],
        ("x/b", "x/a", 32000),
        True,
    ),
    (
        "port/endport-upper-bound-inclusive",
        'types.go endPort: "inclusive"',
        [only_in(ing(None, (port(32000, TCP, 32768),)))],
        ("x/b", "x/a", 32768),
        True,
    ),
    (
        "port/endport-above",
        "types.go endPort",
        [only_in(ing(None, (port(32000, TCP, 32768),)))],
        ("x/b", "x/a", 32769),
        False,
    ),
    (
        "port/endport-below",
        "types.go endPort",
        [only_in(ing(None, (port(32000, TCP, 32768),)))],
        ("x/b", "x/a", 31999),
        False,
    ),
    (
        "port/endport-equal-to-port",
        "types.go endPort (endPort == port is one port)",
        [only_in(ing(None, (port(80, TCP, 80),)))],
        ("x/b", "x/a", 80),
        True,
    ),
    # --- named ports ---------------------------------------------------------------------
    (
        "named/ingress-resolves-on-destination",
        'types.go NetworkPolicyPort.port: "port '
        "represents the port on the given protocol. This can either be a numerical or named port "
        'on a pod"',
        [only_in(ing(None, (port("http"),)))],
        ("x/b", "x/a", 80),
        True,
    ),
    (
        "named/ingress-other-number-denied",
        "types.go NetworkPolicyPort.port",
        [only_in(ing(None, (port("http"),)))],
        ("x/b", "x/a", 8080),
        False,
    ),
    (
        "named/same-name-other-number-per-pod",
        "named ports resolve per destination pod",
        [policy("p", ingress=(ing(None, (port("http"),)),))],
        ("x/a", "x/b", 8080),
        True,
    ),
    (
        "named/same-name-other-number-per-pod-80",
        "named ports resolve per destination pod",
        [policy("p", ingress=(ing(None, (port("http"),)),))],
        ("x/a", "x/b", 80),
        False,
    ),
    (
        "named/protocol-must-match-tcp",
        "a named port is the container port of that name and protocol",
        [only_in(ing(None, (port("dns", TCP),)))],
        ("x/b", "x/a", 53, TCP),
        False,
    ),
    (
        "named/protocol-must-match-udp",
        "named port + protocol",
        [only_in(ing(None, (port("dns", UDP),)))],
        ("x/b", "x/a", 53, UDP),
        True,
    ),
    (
        "named/egress-resolves-on-destination",
        "named ports resolve against the destination "
        'pod, in egress too (e2e "should allow egress access on one named port")',
        [policy("p", select=sel(pod="c"), egress=(eg(None, (port("http"),)),), types=(EGRESS,))],
        ("x/c", "x/b", 8080),
        True,
    ),
    (
        "named/egress-other-destination-number",
        "named port in egress",
        [policy("p", select=sel(pod="c"), egress=(eg(None, (port("http"),)),), types=(EGRESS,))],
        ("x/c", "x/a", 80),
        True,
    ),
    (
        "named/egress-not-the-source-number",
        "named port resolves on the destination, not the source",
        [policy("p", select=sel(pod="c"), egress=(eg(None, (port("http"),)),), types=(EGRESS,))],
        ("x/c", "x/b", 80),
        False,
    ),
    (
        "named/egress-to-external-never-matches",
        "externals have no container ports",
        [policy("p", select=sel(pod="c"), egress=(eg(None, (port("http"),)),), types=(EGRESS,))],
        ("x/c", "internet", 80),
        False,
    ),
    (
        "named/undefined-name-matches-nothing",
        "a name the destination does not define matches nothing",
        [only_in(ing(None, (port("nope"),)))],
        ("x/b", "x/a", 80),
        False,
    ),
    (
        "named/undefined-on-this-destination",
        "named port not on x/c",
        [policy("p", ingress=(ing(None, (port("http"),)),))],
        ("x/a", "x/c", 80),
        False,
    ),
    # --- externals ------------------------------------------------------------------------
    (
        "external/source-has-no-policies",
        "externals are outside the cluster: no policy can select them",
        [DENY_OUT_X, DENY_IN_A],
        ("internet", "x/b", 80),
        True,
    ),
    (
        "external/destination-has-no-policies",
        "externals have no ingress side",
        [DENY_IN_X],
        ("x/a", "internet", 80),
        True,
    ),
    (
        "external/external-to-external",
        "no policy governs external-to-external",
        [DENY_IN_X, DENY_OUT_X],
        ("internet", "corp", 80),
        True,
    ),
]


def _ids(cases: list[Case]) -> list[str]:
    return [c[0] for c in cases]


def test_case_ids_are_unique_and_cite_a_source() -> None:
    ids = _ids(CASES)
    assert len(ids) == len(set(ids))
    assert all(c[1].strip() for c in CASES)


@pytest.mark.parametrize(
    ("source", "policies", "conn", "expected"), [c[1:] for c in CASES], ids=_ids(CASES)
)
def test_rule(
    source: str, policies: list[NetworkPolicy], conn: tuple[object, ...], expected: bool
) -> None:
    cluster = WORLD.with_policies(policies)
    verdict = is_allowed(cluster, connect(cluster, *conn))  # type: ignore[arg-type]
    assert verdict.allowed is expected, source
    assert verdict.policy_allows is expected
    assert verdict.enforced is True
    # The verdict is consistent with its reasons.
    if not verdict.self_traffic and verdict.port is not None:
        assert expected is (verdict.egress.allowed and verdict.ingress.allowed)
    for side in (verdict.egress, verdict.ingress):
        _check_reasons(cluster, side)


def _check_reasons(cluster: Cluster, side: DirectionVerdict) -> None:
    """A side's reasons, against the rules computed another way: the selecting policies
    are those of the pod's namespace whose podSelector matches it and whose effective
    policyTypes hold the direction; every rule of those policies is reported exactly
    once, as admitting or missing; and the side is isolated as :func:`isolation` says."""
    if side.pod is None:
        assert (side.selecting_policies, side.admitted_by, side.misses) == ((), (), ())
        return
    pod = cluster.pod(side.pod)
    selecting = [
        p
        for p in cluster.policies
        if p.namespace == pod.namespace
        and selector_matches(p.pod_selector, pod.labels)
        and side.direction in p.effective_policy_types()
    ]
    assert side.selecting_policies == tuple(p.key for p in selecting)
    every_rule = sorted((p.key, i) for p in selecting for i in range(len(p.rules(side.direction))))
    reported = sorted((r.policy, r.rule_index) for r in (*side.admitted_by, *side.misses))
    assert reported == every_rule
    sides = isolation(cluster, pod)
    isolated = sides.ingress if side.direction is PolicyType.INGRESS else sides.egress
    assert side.isolated is isolated


@pytest.mark.parametrize(
    ("source", "policies", "conn", "expected"), [c[1:] for c in CASES], ids=_ids(CASES)
)
def test_rule_on_flannel_has_no_effect(
    source: str, policies: list[NetworkPolicy], conn: tuple[object, ...], expected: bool
) -> None:
    """docs: Prerequisites ("Creating a NetworkPolicy resource without a controller that
    implements it will have no effect"): same verdict reasons, but allowed."""
    cluster = WORLD.with_policies(policies).with_cni("flannel")
    verdict = is_allowed(cluster, connect(cluster, *conn))  # type: ignore[arg-type]
    assert verdict.enforced is False
    assert verdict.cni == "flannel"
    assert verdict.policy_allows is expected
    assert verdict.allowed is True


# ---------------------------------------------------------------- reasons


def test_reasons_ingress_admitted_by_second_rule_second_peer_first_port() -> None:
    p = only_in(
        ing((pods(pod="b"),), (port(80),)),
        ing((pods(pod="b"), pods(pod="c")), (port(443), port(8080))),
    )
    cluster = WORLD.with_policies([p])
    v = is_allowed(cluster, connect(cluster, "x/c", "x/a", 443))
    assert v.allowed
    assert v.ingress.direction is INGRESS
    assert v.ingress.pod == "x/a"
    assert v.ingress.selecting_policies == ("x/in-a",)
    assert v.ingress.isolated
    assert v.ingress.admitted_by == (RuleMatch("x/in-a", 1, 1, 0),)
    assert v.ingress.misses == (RuleMiss("x/in-a", 0, peer_ok=False, port_ok=False),)
    assert v.egress.direction is EGRESS
    assert v.egress.pod == "x/c"
    assert not v.egress.isolated
    assert v.egress.selecting_policies == ()
    assert v.egress.admitted_by == ()


def test_reasons_rule_without_peers_or_ports_has_none_indices() -> None:
    cluster = WORLD.with_policies([only_in(ing())])
    v = is_allowed(cluster, connect(cluster, "y/b", "x/a", 80))
    assert v.ingress.admitted_by == (RuleMatch("x/in-a", 0, None, None),)
    assert v.ingress.misses == ()


def test_reasons_misses_say_which_half_failed() -> None:
    p = only_in(ing((pods(pod="b"),), (port(80),)), ing((pods(pod="c"),), (port(81),)))
    cluster = WORLD.with_policies([p])
    v = is_allowed(cluster, connect(cluster, "x/b", "x/a", 81))
    assert not v.allowed
    assert v.ingress.admitted_by == ()
    assert v.ingress.misses == (
        RuleMiss("x/in-a", 0, peer_ok=True, port_ok=False),
        RuleMiss("x/in-a", 1, peer_ok=False, port_ok=True),
    )


def test_reasons_every_selecting_policy_listed_in_cluster_order() -> None:
    policies = [
        only_in(ing((pods(pod="b"),)), name="first"),
        DENY_IN_X,
        only_in(ing((pods(pod="b"),)), name="third"),
        DENY_OUT_X,  # egress only: does not select x/a for ingress
        policy("other-ns", "y"),
    ]
    cluster = WORLD.with_policies(policies)
    v = is_allowed(cluster, connect(cluster, "x/b", "x/a", 80))
    assert v.ingress.selecting_policies == ("x/first", "x/deny-in", "x/third")
    assert v.ingress.admitted_by == (
        RuleMatch("x/first", 0, 0, None),
        RuleMatch("x/third", 0, 0, None),
    )
    assert v.egress.selecting_policies == ("x/deny-out",)
    assert not v.egress.allowed
    assert not v.allowed


def test_reasons_egress_side() -> None:
    p = only_out(eg((block("10.2.0.0/16"),), (port(80), port(81))))
    cluster = WORLD.with_policies([p])
    v = is_allowed(cluster, connect(cluster, "x/a", "y/b", 81))
    assert v.allowed
    assert v.egress.pod == "x/a"
    assert v.egress.selecting_policies == ("x/out-a",)
    assert v.egress.admitted_by == (RuleMatch("x/out-a", 0, 0, 1),)
    assert v.ingress.pod == "y/b"
    assert not v.ingress.isolated


def test_reasons_external_side_has_no_pod() -> None:
    cluster = WORLD.with_policies([DENY_IN_X])
    v = is_allowed(cluster, connect(cluster, "internet", "x/a", 80))
    assert v.egress.pod is None
    assert v.egress.selecting_policies == ()
    assert v.egress.allowed
    assert v.ingress.selecting_policies == ("x/deny-in",)
    assert not v.allowed


def test_reasons_self_traffic_is_flagged_and_still_reports_isolation() -> None:
    cluster = WORLD.with_policies([DENY_IN_X])
    v = is_allowed(cluster, connect(cluster, "x/a", "x/a", 80))
    assert v.self_traffic
    assert v.allowed and v.policy_allows
    assert v.ingress.isolated and not v.ingress.allowed


# ---------------------------------------------------------------- named-port connections


def test_connection_to_named_port_resolves_on_destination() -> None:
    cluster = WORLD.with_policies([policy("p", ingress=(ing(None, (port(8080),)),))])
    v = is_allowed(cluster, connect(cluster, "x/a", "x/b", "http"))
    assert v.port == 8080
    assert v.allowed
    v = is_allowed(cluster, connect(cluster, "x/b", "x/a", "http"))
    assert v.port == 80
    assert not v.allowed


def test_connection_to_undefined_named_port_fails_even_without_policies() -> None:
    v = is_allowed(WORLD, connect(WORLD, "x/a", "x/c", "http"))
    assert v.port is None
    assert not v.allowed
    assert not v.policy_allows
    flannel = WORLD.with_cni("flannel")
    assert not is_allowed(flannel, connect(flannel, "x/a", "x/c", "http")).allowed


def test_connection_named_port_protocol_matters() -> None:
    assert is_allowed(WORLD, connect(WORLD, "x/b", "x/a", "dns", UDP)).port == 53
    assert is_allowed(WORLD, connect(WORLD, "x/b", "x/a", "dns", TCP)).port is None


def test_connection_to_named_port_on_external_fails() -> None:
    v = is_allowed(WORLD, connect(WORLD, "x/a", "internet", "http"))
    assert v.port is None and not v.allowed


# ---------------------------------------------------------------- building blocks


def test_policy_selects_only_own_namespace() -> None:
    p = policy("p", "x", select=sel(pod="a"))
    assert policy_selects(p, WORLD.pod("x/a"))
    assert not policy_selects(p, WORLD.pod("y/a"))
    assert not policy_selects(p, WORLD.pod("x/b"))


def test_peer_with_nothing_set_matches_nothing() -> None:
    labels = WORLD.namespace_labels()
    for name in ("x/a", "y/a"):
        assert not peer_matches(NetworkPolicyPeer(), "x", WORLD.pod(name), labels)
    assert not peer_matches(NetworkPolicyPeer(), "x", WORLD.external("internet"), labels)


def test_port_matches_named_port_against_external_is_false() -> None:
    assert not port_matches(port("http"), WORLD.external("internet"), 80, TCP)
    assert port_matches(port("http"), WORLD.pod("x/a"), 80, TCP)
    assert not port_matches(port("http"), WORLD.pod("x/a"), 80, UDP)


# ---------------------------------------------------------------- policyTypes: []


def test_empty_policy_types_list_defaults_like_omitted() -> None:
    """defaults.go: ``if len(spec.PolicyTypes) == 0`` → [Ingress] (+ Egress if egress
    rules exist), so ``policyTypes: []`` means the same as an omitted field."""
    p = replace(DENY_IN_A, policy_types=())
    assert p.effective_policy_types() == {INGRESS}
    cluster = WORLD.with_policies([p])
    assert not is_allowed(cluster, connect(cluster, "x/b", "x/a", 80)).allowed
    assert is_allowed(cluster, connect(cluster, "x/a", "x/b", 80)).allowed
    with_egress = replace(p, egress=(eg((pods(pod="b"),)),))
    assert with_egress.effective_policy_types() == {INGRESS, EGRESS}
    cluster = WORLD.with_policies([with_egress])
    assert not is_allowed(cluster, connect(cluster, "x/a", "y/a", 80)).allowed


# ------------------------------------------- regressions (bugs found by these tables)


@pytest.mark.parametrize("number", [80, "http"], ids=["numeric", "named"])
def test_plain_string_protocol_is_not_silently_different(number: int | str) -> None:
    """A plain ``"TCP"`` string means ``Protocol.TCP`` (protocols once compared with ``is``)."""
    cluster = WORLD.with_policies([only_in(ing(None, (port(80),)))])
    src, dst = cluster.pod("x/b"), cluster.pod("x/a")
    expected = is_allowed(cluster, Connection(src, dst, number, TCP))
    assert expected.allowed
    got = is_allowed(cluster, Connection(src, dst, number, "TCP"))  # type: ignore[arg-type]
    assert got.allowed is expected.allowed
    assert got.port == expected.port
