"""Network plugins (CNI): whether they enforce NetworkPolicy, and what they enforce.

"Network policies are implemented by the network plugin. To use network policies, you
must be using a networking solution which supports NetworkPolicy. Creating a
NetworkPolicy resource without a controller that implements it will have no effect."
(kubernetes.io, Network Policies, Prerequisites.)

Enforcing is not all-or-nothing.  The specification leaves room, and plugins use it.
npcore models the two capabilities that change a verdict in the course's scenarios:

* **ipBlock matches pod IPs** (:attr:`CNI.ipblock_matches_pods`).  The API reference says
  ipBlock peers "should be cluster-external IPs"; it does not say a pod IP inside the
  CIDR is not matched, and most plugins match it.  Cilium does not: its CIDR rules "do
  not apply to traffic where both sides of the connection are either managed by Cilium or
  use an IP belonging to a node in the cluster".  On Cilium the common metadata-blocking
  egress rule ``ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}`` therefore
  admits no pod at all: pod-to-pod traffic and DNS to the cluster's DNS pods stop.
* **endPort is honoured** (:attr:`CNI.end_port`).  "endPort field MUST BE SUPPORTED by
  the Network Policy provider. In case your provider does not support endPort and this
  field is specified in a Network Policy, the Network Policy will be created covering
  only the port field (single port)." (kubernetes/kubernetes#110868, the GA release
  note.)  npcore evaluates such a rule as ``port`` alone.

The catalogue, with the source of every capability (each plugin's ``sources`` lists the
same addresses):

``spec``
    The plain specification: the Kubernetes API reference and the "Network Policies"
    concept page.  ipBlock matches every address in the CIDR, pods included; endPort is a
    range.  Calico, Antrea, kube-router and kube-network-policies behave this way.
``calico``
    ipBlock matches pod IPs: projectcalico/calico#6634 ("ipBlock matches cluster internal
    IPs", open since Calico 3.22) reports and keeps that behaviour.  endPort: supported
    since Calico v3.19 (projectcalico/libcalico-go#1357; Kubernetes bumped its e2e
    Calico to v3.19 to run the endPort tests, kubernetes/kubernetes#102386).
``cilium``
    ipBlock does not match pod IPs: Cilium's layer-3 policy docs ("IP/CIDR based": CIDR
    rules do not apply when both sides are managed by Cilium) and the "Known missing
    features" table of Cilium's Kubernetes NetworkPolicy page ("ipBlock set with a pod
    IP", cilium/cilium#9209).  endPort: honoured since Cilium 1.16 (port ranges,
    cilium/cilium#16622, documented in cilium/cilium#33389, July 2024); older releases
    accepted the field and silently ignored it (cilium/cilium#28684), which is why
    ``cilium-1.15`` is in the catalogue too.
``antrea``
    ipBlock matches pod IPs: Antrea matches the packet's address in its OVS flows and
    treated a pod-IP ipBlock that failed as a bug (vmware-tanzu/antrea#1764); its CI runs
    the upstream ``[Feature:NetworkPolicy]`` e2e suite (ci/run-k8s-e2e-tests.sh).
    endPort: supported since Antrea v1.1 (antrea-io/antrea#1638).
``kube-router``
    ipBlock matches pod IPs: CIDRs become ipsets matched on the packet's address
    (cloudnativelabs/kube-router#193).  endPort: supported
    (cloudnativelabs/kube-router#1080, merged 2021).
``kube-network-policies``
    kind's policy controller (kind enforces NetworkPolicy by default since v0.24.0,
    kubernetes-sigs/kind#842 and #3612).  Its evaluator (pkg/networkpolicy in
    kubernetes-sigs/kube-network-policies) tests ipBlock against the packet's IP, pods
    included, and admits ``port`` to ``endPort``.
``canal``
    Flannel for the network, Calico for policy: Calico's capabilities.
``flannel``
    Flannel alone does not enforce NetworkPolicy (k3s-io/k3s#445, flannel-io/flannel#2183):
    the policies are accepted and listed, with no effect.
``weave-net``, ``romana``
    Historical: their last releases (Weave Net 2.8.1, January 2021; Romana 2018) predate
    endPort (alpha in Kubernetes 1.21, April 2021), so a range covers only ``port``.

Facts are stated carefully (see shared/design/teaching.md §2); a plugin's version and
configuration can change them (Cilium's ``policy-cidr-match-mode: nodes`` lets ipBlock
select node IPs, never pod IPs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from npcore.model import (
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPort,
)

__all__ = [
    "CNI",
    "DEFAULT_CNI",
    "KNOWN_CNIS",
    "SPEC_CNI",
    "UnknownCNIError",
    "as_enforced",
    "cni_info",
]

K8S_DOCS = "https://kubernetes.io/docs/concepts/services-networking/network-policies/"
ENDPORT_GA = "https://github.com/kubernetes/kubernetes/pull/110868"


@dataclass(frozen=True, slots=True)
class CNI:
    """A network plugin and what it enforces.

    ``enforces``: whether NetworkPolicy has any effect.  ``ipblock_matches_pods``: whether
    an ipBlock peer matches a pod whose IP is in the CIDR (the specification: yes).
    ``end_port``: whether a ``port``/``endPort`` range is honoured (otherwise only
    ``port``).  ``sources``: where each fact comes from (see the module docstring).
    """

    name: str
    enforces: bool
    note: str
    ipblock_matches_pods: bool = True
    end_port: bool = True
    sources: tuple[str, ...] = ()

    @property
    def differences(self) -> tuple[str, ...]:
        """How this plugin departs from the plain specification, in words (empty: none)."""
        if not self.enforces:
            return ("does not enforce NetworkPolicy: everything is allowed",)
        found = []
        if not self.ipblock_matches_pods:
            found.append("ipBlock peers do not match pod IPs")
        if not self.end_port:
            found.append("endPort is ignored: a range covers only its first port")
        return tuple(found)

    @property
    def summary(self) -> str:
        """``enforces NetworkPolicy`` and any difference from the specification."""
        if not self.enforces:
            return self.differences[0]
        return "; ".join(("enforces NetworkPolicy", *self.differences))


def _cni(
    name: str,
    note: str,
    *sources: str,
    enforces: bool = True,
    ipblock_matches_pods: bool = True,
    end_port: bool = True,
) -> CNI:
    return CNI(name, enforces, note, ipblock_matches_pods, end_port, sources)


_CILIUM_L3 = "https://docs.cilium.io/en/stable/security/policy/language/#ip-cidr-based"
_CILIUM_K8S = "https://docs.cilium.io/en/stable/network/kubernetes/policy/"

KNOWN_CNIS: dict[str, CNI] = {
    c.name: c
    for c in (
        _cni(
            "spec",
            "The plain NetworkPolicy specification: no plugin-specific behaviour.",
            K8S_DOCS,
            "https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/",
        ),
        _cni(
            "calico",
            "Calico enforces NetworkPolicy; ipBlock matches pod IPs and endPort is honoured "
            "(Calico v3.19 and later).",
            "https://github.com/projectcalico/calico/issues/6634",
            "https://github.com/projectcalico/libcalico-go/pull/1357",
            "https://github.com/kubernetes/kubernetes/pull/102386",
        ),
        _cni(
            "cilium",
            "Cilium enforces NetworkPolicy, but its ipBlock (CIDR) rules never match pods "
            "it manages: an egress rule to 0.0.0.0/0 admits no pod, not even DNS. endPort "
            "is honoured since Cilium 1.16.",
            _CILIUM_L3,
            _CILIUM_K8S,
            "https://github.com/cilium/cilium/issues/9209",
            "https://github.com/cilium/cilium/issues/16622",
            "https://github.com/cilium/cilium/pull/33389",
            ipblock_matches_pods=False,
        ),
        _cni(
            "cilium-1.15",
            "Cilium before 1.16: ipBlock never matches pods it manages, and endPort is "
            "accepted and silently ignored (only port is allowed).",
            _CILIUM_L3,
            _CILIUM_K8S,
            "https://github.com/cilium/cilium/issues/28684",
            ipblock_matches_pods=False,
            end_port=False,
        ),
        _cni(
            "antrea",
            "Antrea enforces NetworkPolicy; ipBlock matches pod IPs and endPort is honoured "
            "(Antrea v1.1 and later).",
            "https://github.com/vmware-tanzu/antrea/issues/1764",
            "https://github.com/antrea-io/antrea/issues/1638",
            "https://github.com/antrea-io/antrea/blob/main/ci/run-k8s-e2e-tests.sh",
        ),
        _cni(
            "kube-router",
            "kube-router enforces NetworkPolicy; ipBlock matches pod IPs and endPort is honoured.",
            "https://github.com/cloudnativelabs/kube-router/pull/193",
            "https://github.com/cloudnativelabs/kube-router/pull/1080",
        ),
        _cni(
            "kube-network-policies",
            "kube-network-policies (kind's policy controller since kind v0.24.0) enforces "
            "NetworkPolicy; ipBlock matches pod IPs and endPort is honoured.",
            "https://github.com/kubernetes-sigs/kind/issues/842",
            "https://github.com/kubernetes-sigs/kind/pull/3612",
            "https://github.com/kubernetes-sigs/kube-network-policies",
        ),
        _cni(
            "weave-net",
            "Weave Net enforced NetworkPolicy (historical: Weaveworks closed in 2024 and the "
            "project is archived); its last release predates endPort.",
            "https://github.com/weaveworks/weave",
            ENDPORT_GA,
            end_port=False,
        ),
        _cni(
            "romana",
            "Romana was listed by Kubernetes as supporting NetworkPolicy (historical: "
            "unmaintained since 2019); it predates endPort.",
            "https://github.com/romana/romana",
            ENDPORT_GA,
            end_port=False,
        ),
        _cni(
            "canal",
            "Canal is Flannel for networking plus Calico for policy (Calico's capabilities).",
            "https://github.com/projectcalico/canal",
            "https://github.com/projectcalico/calico/issues/6634",
        ),
        _cni(
            "flannel",
            "Flannel does not enforce NetworkPolicy: policies are accepted and listed, and "
            "have no effect, with no error or warning.",
            "https://github.com/k3s-io/k3s/issues/445",
            "https://github.com/flannel-io/flannel/issues/2183",
            enforces=False,
        ),
    )
}

SPEC_CNI = KNOWN_CNIS["spec"]

#: The plugin assumed when none is named.  Calico's capabilities are the specification's,
#: so the default verdicts are the plain specification's.
DEFAULT_CNI = "calico"

_ALIASES = {
    "weave": "weave-net",
    "weavenet": "weave-net",
    "kuberouter": "kube-router",
    "kind": "kube-network-policies",
    "kindnet": "kube-network-policies",
    "kindnetd": "kube-network-policies",
    "specification": "spec",
    "spec-only": "spec",
}


class UnknownCNIError(ValueError):
    """A CNI name this project does not know."""


def cni_info(name: str) -> CNI:
    """Look a plugin up by name (case-insensitive; ``weave`` means ``weave-net``, ``kind``
    means ``kube-network-policies``).

    >>> cni_info("Flannel").enforces
    False
    >>> cni_info("cilium").summary
    'enforces NetworkPolicy; ipBlock peers do not match pod IPs'
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = _ALIASES.get(key, key)
    try:
        return KNOWN_CNIS[key]
    except KeyError:
        known = ", ".join(sorted(KNOWN_CNIS))
        raise UnknownCNIError(f"unknown CNI {name!r}; known plugins: {known}") from None


def _port_as_enforced(entry: NetworkPolicyPort) -> NetworkPolicyPort:
    return entry if entry.end_port is None else replace(entry, end_port=None)


def as_enforced(plugin: CNI, policies: Iterable[NetworkPolicy]) -> tuple[NetworkPolicy, ...]:
    """The policies as ``plugin`` enforces them: on a plugin that ignores endPort, every
    ``port``/``endPort`` entry becomes ``port`` alone (the GA release note's "covering only
    the port field").  Rule and entry indices are kept, so explanations still point at the
    policy as written.  The ipBlock capability is a peer decision, made by the engine.

    >>> from npcore.model import NetworkPolicyIngressRule
    >>> p = NetworkPolicy("r", "x", ingress=(NetworkPolicyIngressRule(
    ...     ports=(NetworkPolicyPort(port=8000, end_port=8009),)),))
    >>> as_enforced(cni_info("cilium-1.15"), [p])[0].ingress[0].ports[0].end_port is None
    True
    >>> as_enforced(cni_info("cilium"), [p])[0] is p
    True
    """
    policies = tuple(policies)
    if plugin.end_port:
        return policies
    return tuple(_policy_without_end_port(policy) for policy in policies)


_R = TypeVar("_R", NetworkPolicyIngressRule, NetworkPolicyEgressRule)


def _rules_without_end_port(rules: tuple[_R, ...] | None) -> tuple[_R, ...] | None:
    if rules is None:
        return None
    return tuple(
        replace(rule, ports=tuple(_port_as_enforced(e) for e in rule.ports))
        if rule.ports and any(e.end_port is not None for e in rule.ports)
        else rule
        for rule in rules
    )


def _policy_without_end_port(policy: NetworkPolicy) -> NetworkPolicy:
    ingress = _rules_without_end_port(policy.ingress)
    egress = _rules_without_end_port(policy.egress)
    if ingress == policy.ingress and egress == policy.egress:
        return policy
    return replace(policy, ingress=ingress, egress=egress)
