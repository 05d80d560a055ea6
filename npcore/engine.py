"""Pure evaluation of one connection, with the reasons for the verdict.

Rules of this file (kubernetes.io "Network Policies" and networking/v1 types.go):

* **Selection.** A policy applies only to pods in its own namespace that its
  ``spec.podSelector`` selects; ``podSelector: {}`` selects every pod of that namespace.
* **Isolation, per direction.** A pod is isolated for ingress (egress) when at least one
  policy selects it with ``Ingress`` (``Egress``) in its effective policyTypes
  (:meth:`NetworkPolicy.effective_policy_types`).  A pod that is not isolated for a
  direction allows everything in that direction.
* **Additive.** An isolated pod allows exactly the union of the rules of every policy
  that selects it for that direction.  There are no deny rules; order is irrelevant.
* **Both sides.** A connection from a source to a destination is allowed when the
  source's egress side AND the destination's ingress side allow it.  An endpoint outside
  the cluster has no policies: its side always allows.  Replies to an allowed connection
  are always allowed (policies are about who *starts* a connection).
* **Self.** "A pod cannot block access to itself": pod -> same pod is always allowed.
* **Rules.** A rule matches when one of its peers AND one of its ports match; an absent
  or empty ``from``/``to`` matches every peer, an absent or empty ``ports`` every port.
* **Enforcement.** On a CNI that does not enforce NetworkPolicy (Flannel), policies are
  stored and have no effect: every connection to a listening port is allowed.
* **Capabilities.** A plugin enforces the policies as :func:`npcore.cni.as_enforced`
  rewrites them (``endPort`` dropped where it is ignored), and its ipBlock peers match
  pods only where it says so (:attr:`npcore.cni.CNI.ipblock_matches_pods`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from npcore.cluster import NAMESPACE_NAME_LABEL, Cluster, External, Pod, resolve_port
from npcore.cni import CNI, as_enforced
from npcore.ipblock import ipblock_contains
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
from npcore.ports import MAX_PORT
from npcore.selectors import selector_matches

__all__ = [
    "Connection",
    "DirectionVerdict",
    "Endpoint",
    "Isolation",
    "PeerScope",
    "RuleMatch",
    "RuleMiss",
    "Verdict",
    "entry_range",
    "is_allowed",
    "isolation",
    "peer_matches",
    "peer_scope",
    "policy_selects",
    "port_matches",
    "resolve_port",
    "rule_matches",
]

Endpoint = Pod | External


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection attempt: who starts it, to whom, on which port and protocol.

    ``port`` is a number, or the name of one of the destination pod's container ports.
    """

    src: Endpoint
    dst: Endpoint
    port: int | str
    protocol: Protocol = Protocol.TCP


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that admits the connection: ``policy`` (``ns/name``), the rule's index, and
    which peer and port entry matched (``None``: the rule has no peers / no ports, so it
    matches all)."""

    policy: str
    rule_index: int
    peer_index: int | None
    port_index: int | None


@dataclass(frozen=True, slots=True)
class RuleMiss:
    """A rule of a selecting policy that does not admit the connection, and why.

    ``ipblock_ignored``: the index of a peer of the rule that is an ipBlock containing the
    other pod's IP, which does not match because the plugin's ipBlock never matches pods
    (Cilium); ``None`` otherwise."""

    policy: str
    rule_index: int
    peer_ok: bool
    port_ok: bool
    ipblock_ignored: int | None = None


@dataclass(frozen=True, slots=True)
class DirectionVerdict:
    """One side of a connection: the source's egress or the destination's ingress.

    ``pod`` is ``None`` when that side is outside the cluster (no policy can apply).
    ``selecting_policies`` are the policies that select the pod *and* have this
    direction in their effective policyTypes; the pod is isolated when there is one.
    """

    direction: PolicyType
    pod: str | None
    selecting_policies: tuple[str, ...]
    admitted_by: tuple[RuleMatch, ...]
    misses: tuple[RuleMiss, ...]

    @property
    def isolated(self) -> bool:
        """Whether at least one policy isolates the pod for this direction."""
        return bool(self.selecting_policies)

    @property
    def allowed(self) -> bool:
        """Not isolated, or admitted by at least one rule."""
        return not self.isolated or bool(self.admitted_by)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision on a connection, with every reason that led to it.

    ``port`` is the resolved port number (``None`` when a named port is not defined on
    the destination, in which case nothing listens and the connection fails).
    ``policy_allows`` is what the policies decide; ``allowed`` is what happens on this
    cluster's CNI (everything is allowed where policies are not enforced).
    """

    connection: Connection
    port: int | None
    cni: str
    enforced: bool
    self_traffic: bool
    egress: DirectionVerdict
    ingress: DirectionVerdict

    @property
    def policy_allows(self) -> bool:
        """Whether the policies allow the connection (ignoring the CNI)."""
        if self.port is None:
            return False
        if self.self_traffic:
            return True
        return self.egress.allowed and self.ingress.allowed

    @property
    def allowed(self) -> bool:
        """Whether the connection succeeds on this cluster."""
        if self.port is None:
            return False
        return self.policy_allows or not self.enforced


def policy_selects(policy: NetworkPolicy, pod: Pod) -> bool:
    """A policy selects the pods of its own namespace that its podSelector matches."""
    return pod.namespace == policy.namespace and selector_matches(policy.pod_selector, pod.labels)


@dataclass(frozen=True, slots=True)
class PeerScope:
    """The endpoints one ``from``/``to`` entry stands for, as a row of the table of
    :func:`peer_scope`: the endpoints whose IP is in ``ip_block``; or the pods that
    ``pod_selector`` selects (``None``: every pod) in ``namespace`` or, when that is
    ``None``, in the namespaces ``namespace_selector`` selects; or nothing."""

    ip_block: IPBlock | None = None
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    nothing: bool = False


def peer_scope(peer: NetworkPolicyPeer, policy_namespace: str) -> PeerScope:
    """What one ``from``/``to`` entry of a policy in ``policy_namespace`` matches.

    ============  ==================  =======  =========================================
    podSelector   namespaceSelector   ipBlock  matches
    ============  ==================  =======  =========================================
    set           absent              absent   pods of the policy's namespace it selects
    absent        set                 absent   every pod of the namespaces it selects
    set           set                 absent   pods it selects in namespaces it selects
    absent        absent              set      pod or external IPs in cidr, not in except
    ============  ==================  =======  =========================================

    ``namespaceSelector: {}`` selects every namespace, never an endpoint outside the
    cluster; only ``ipBlock`` matches externals.  A peer with nothing set is rejected by
    validation and matches nothing here.  :func:`peer_matches` decides one endpoint with
    this table; :mod:`npcore.reachability` decides classes of endpoints with it.
    """
    if peer.ip_block is not None:
        return PeerScope(ip_block=peer.ip_block)
    if peer.namespace_selector is None:
        if peer.pod_selector is None:
            return PeerScope(nothing=True)
        return PeerScope(namespace=policy_namespace, pod_selector=peer.pod_selector)
    return PeerScope(namespace_selector=peer.namespace_selector, pod_selector=peer.pod_selector)


def peer_matches(
    peer: NetworkPolicyPeer,
    policy_namespace: str,
    endpoint: Endpoint,
    namespace_labels: Mapping[str, Mapping[str, str]],
    *,
    ipblock_matches_pods: bool = True,
) -> bool:
    """Whether one ``from``/``to`` entry matches an endpoint (the table of
    :func:`peer_scope`).  Plugin capability (:mod:`npcore.cni`): with
    ``ipblock_matches_pods=False`` (Cilium) an ipBlock matches no pod, only endpoints
    outside the cluster."""
    scope = peer_scope(peer, policy_namespace)
    if scope.ip_block is not None:
        if isinstance(endpoint, Pod) and not ipblock_matches_pods:  # CNI capability
            return False
        return endpoint.ip is not None and ipblock_contains(scope.ip_block, endpoint.ip)
    if scope.nothing or not isinstance(endpoint, Pod):
        return False
    if scope.namespace_selector is None:
        in_namespace = endpoint.namespace == scope.namespace
    else:
        # A namespace known only by reference still has its automatic name label.
        labels = namespace_labels.get(
            endpoint.namespace, {NAMESPACE_NAME_LABEL: endpoint.namespace}
        )
        in_namespace = selector_matches(scope.namespace_selector, labels)
    if not in_namespace:
        return False
    return scope.pod_selector is None or selector_matches(scope.pod_selector, endpoint.labels)


def entry_range(entry: NetworkPolicyPort, dst: Endpoint | None) -> tuple[Protocol, int, int] | None:
    """What one ``ports`` entry admits at ``dst``: ``(protocol, first, last)``, or ``None``.

    ==========  ========  ==========================================================
    port        endPort   admits (protocol: the entry's, default TCP)
    ==========  ========  ==========================================================
    absent      -         every port, 1-65535
    a number    absent    that port
    a number    set       the inclusive range port-endPort
    a name      -         ``dst``'s container port of that name and protocol, in
                          ingress and egress rules alike; ``None`` if ``dst`` does not
                          define it (an external, or ``dst`` not given, defines none)
    ==========  ========  ==========================================================

    :func:`port_matches` decides one port with this table; :mod:`npcore.reachability`
    decides port sets and classes of destinations with it.
    """
    protocol = entry.effective_protocol
    if entry.port is None:
        return protocol, 1, MAX_PORT
    if isinstance(entry.port, int):
        return protocol, entry.port, entry.end_port or entry.port
    number = resolve_port(dst, entry.port, protocol) if dst is not None else None
    return None if number is None else (protocol, number, number)


def port_matches(entry: NetworkPolicyPort, dst: Endpoint, port: int, protocol: Protocol) -> bool:
    """Whether one ``ports`` entry matches traffic to ``port``/``protocol`` at ``dst``
    (the table of :func:`entry_range`)."""
    admitted = entry_range(entry, dst)
    return admitted is not None and admitted[0] == protocol and admitted[1] <= port <= admitted[2]


@dataclass(frozen=True, slots=True)
class Isolation:
    """Whether a pod is isolated for ingress and for egress."""

    ingress: bool
    egress: bool


def isolation(cluster: Cluster, pod: Pod | External | str) -> Isolation:
    """Whether ``pod`` (a peer or its name) is isolated, per direction.

    A pod is isolated for a direction when a policy of its namespace selects it and has
    that direction in its effective policyTypes (the isolation rule of this file).  On a
    CNI that does not enforce NetworkPolicy nothing is isolated: the policies are stored
    and have no effect.  An endpoint outside the cluster is never isolated.

    >>> from npcore.model import NetworkPolicy
    >>> c = Cluster.build(pods=[Pod("x", "a")], policies=[NetworkPolicy("deny", "x")])
    >>> isolation(c, "x/a"), isolation(c.with_cni("flannel"), "x/a").ingress
    (Isolation(ingress=True, egress=False), False)
    """
    peer = cluster.peer(pod) if isinstance(pod, str) else pod
    if not isinstance(peer, Pod) or not cluster.enforced:
        return Isolation(False, False)
    ingress = egress = False
    for policy in cluster.policies:
        if policy_selects(policy, peer):
            types = policy.effective_policy_types()
            ingress = ingress or PolicyType.INGRESS in types
            egress = egress or PolicyType.EGRESS in types
    return Isolation(ingress, egress)


def rule_matches(
    rule: NetworkPolicyIngressRule | NetworkPolicyEgressRule,
    policy_namespace: str,
    peer: Endpoint,
    dst: Endpoint,
    port: int | None,
    protocol: Protocol,
    namespace_labels: Mapping[str, Mapping[str, str]],
    *,
    ipblock_matches_pods: bool = True,
) -> tuple[int | None, int | None, bool, bool]:
    """Match a rule: ``(peer_index, port_index, peer_ok, port_ok)``.

    ``peer`` is the other side (the source for ingress, the destination for egress);
    ``dst`` is the destination, against which named ports resolve.  Indices are ``None``
    when the rule has no peers (no ports) and so matches all.  ``port`` is ``None`` when
    the connection names a port the destination does not declare: no port matches then,
    and the peers are still matched (so an explanation names the right reason).
    """
    peer_index: int | None = None
    peer_ok = True
    if rule.peers:
        peer_ok = False
        for i, candidate in enumerate(rule.peers):
            if peer_matches(
                candidate,
                policy_namespace,
                peer,
                namespace_labels,
                ipblock_matches_pods=ipblock_matches_pods,
            ):
                peer_index, peer_ok = i, True
                break
    port_index: int | None = None
    port_ok = port is not None
    if rule.ports and port is not None:
        port_ok = False
        for i, entry in enumerate(rule.ports):
            if port_matches(entry, dst, port, protocol):
                port_index, port_ok = i, True
                break
    return peer_index, port_index, peer_ok, port_ok


def _ipblock_ignored(
    rule: NetworkPolicyIngressRule | NetworkPolicyEgressRule, other: Endpoint, plugin: CNI
) -> int | None:
    """The first ipBlock peer of ``rule`` whose CIDR holds the pod ``other``'s IP when the
    plugin's ipBlock matches no pod (so the peer would match under the specification)."""
    if plugin.ipblock_matches_pods or not isinstance(other, Pod) or other.ip is None:
        return None
    for i, candidate in enumerate(rule.peers or ()):
        if candidate.ip_block is not None and ipblock_contains(candidate.ip_block, other.ip):
            return i
    return None


def _direction(
    cluster: Cluster,
    direction: PolicyType,
    pod: Endpoint,
    other: Endpoint,
    dst: Endpoint,
    port: int | None,
    protocol: Protocol,
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> DirectionVerdict:
    if not isinstance(pod, Pod):
        return DirectionVerdict(direction, None, (), (), ())
    selecting: list[str] = []
    admitted: list[RuleMatch] = []
    misses: list[RuleMiss] = []
    plugin = cluster.cni_plugin  # CNI capabilities: endPort via as_enforced, ipBlock below
    for policy in as_enforced(plugin, cluster.policies):
        if direction not in policy.effective_policy_types() or not policy_selects(policy, pod):
            continue
        selecting.append(policy.key)
        rules: tuple[NetworkPolicyIngressRule | NetworkPolicyEgressRule, ...] = policy.rules(
            direction
        )
        for index, rule in enumerate(rules):
            peer_i, port_i, peer_ok, port_ok = rule_matches(
                rule,
                policy.namespace,
                other,
                dst,
                port,
                protocol,
                namespace_labels,
                ipblock_matches_pods=plugin.ipblock_matches_pods,
            )
            if peer_ok and port_ok:
                admitted.append(RuleMatch(policy.key, index, peer_i, port_i))
            else:
                ignored = None if peer_ok else _ipblock_ignored(rule, other, plugin)
                misses.append(RuleMiss(policy.key, index, peer_ok, port_ok, ignored))
    return DirectionVerdict(direction, pod.key, tuple(selecting), tuple(admitted), tuple(misses))


def is_allowed(cluster: Cluster, connection: Connection) -> Verdict:
    """Decide ``connection`` on ``cluster`` and record why.

    >>> from npcore.cluster import Cluster, Pod
    >>> from npcore.model import NetworkPolicy
    >>> a, b = Pod("x", "a", {"app": "a"}), Pod("x", "b", {"app": "b"})
    >>> deny = NetworkPolicy("deny-all", "x")  # selects every pod of x, no ingress rules
    >>> c = Cluster.build(pods=[a, b], policies=[deny])
    >>> is_allowed(c, Connection(c.pod("x/a"), c.pod("x/b"), 80)).allowed
    False
    >>> is_allowed(c.with_cni("flannel"), Connection(c.pod("x/a"), c.pod("x/b"), 80)).allowed
    True
    """
    src, dst = connection.src, connection.dst
    protocol = Protocol(connection.protocol)  # a plain "TCP" string means the same
    port = resolve_port(dst, connection.port, protocol)
    labels = cluster.namespace_labels()
    egress = _direction(cluster, PolicyType.EGRESS, src, dst, dst, port, protocol, labels)
    ingress = _direction(cluster, PolicyType.INGRESS, dst, src, dst, port, protocol, labels)
    self_traffic = isinstance(src, Pod) and isinstance(dst, Pod) and src.key == dst.key
    return Verdict(
        connection=connection,
        port=port,
        cni=cluster.cni,
        enforced=cluster.enforced,
        self_traffic=self_traffic,
        egress=egress,
        ingress=ingress,
    )
