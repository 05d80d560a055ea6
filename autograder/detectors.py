"""Detectors: recognise the misconception behind a wrong answer.

Rules of this file:

* A detector is a pure function of a :class:`Context` (the scenario, the learner's
  policies, the reference policies, and the connectivity *diff* between the reference and
  the learner's policies, as :class:`npcore.diff.Change` values whose ``gained`` ports the
  learner allows too many and ``lost`` ports too few) returning
  :class:`~autograder.results.Misconception` values.  It fires only when the policies have
  the tell-tale shape AND the diff shows the consequence at a pod the named policy acts on,
  so a correct policy next to the mistake is never blamed.  Detectors look at today's pods
  only (peers added by :mod:`autograder.universe` are never named in a likely cause).
* Every detector is registered in :data:`DETECTORS` under its misconception id (the ids
  of :data:`autograder.feedback.DEFAULT_HINTS`).  :func:`detect` runs them all and
  returns their findings sorted by id, then detail (deterministic output).
* Each detector has a table of cases in ``tests/test_detectors.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import groupby

from autograder import feedback as fb
from autograder.definition import Constraints
from autograder.results import Misconception
from npcore.cluster import Cluster, Peer, Pod
from npcore.diff import Change
from npcore.engine import peer_matches, policy_selects, resolve_port
from npcore.ipblock import ipblock_contains
from npcore.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    PolicyType,
    Protocol,
)
from npcore.selectors import selector_matches

__all__ = ["DETECTORS", "Context", "detect"]


@dataclass(frozen=True)
class Context:
    """What a detector may look at."""

    scenario: Cluster
    learner: tuple[NetworkPolicy, ...]
    reference: tuple[NetworkPolicy, ...]
    diffs: tuple[Change, ...]
    constraints: Constraints = field(default_factory=Constraints)

    @cached_property
    def _peers(self) -> dict[str, Peer]:
        return {peer.key: peer for peer in self.scenario.peers()}

    def peer(self, name: str) -> Peer | None:
        """Today's peer called ``name`` (``None`` for a peer that may come later)."""
        return self._peers.get(name)

    def pod(self, name: str) -> Pod | None:
        """Today's pod called ``namespace/name`` (``None`` for an external)."""
        peer = self._peers.get(name)
        return peer if isinstance(peer, Pod) else None

    @cached_property
    def _extra(self) -> tuple[Change, ...]:
        return tuple(d for d in self.diffs if not d.gained.is_empty)

    @cached_property
    def _missing(self) -> tuple[Change, ...]:
        return tuple(d for d in self.diffs if not d.lost.is_empty)

    def extra(self) -> Iterator[Change]:
        """Diffs where the learner allows more (computed once per context)."""
        return iter(self._extra)

    def missing(self) -> Iterator[Change]:
        """Diffs where the learner allows less (computed once per context)."""
        return iter(self._missing)


Detector = Callable[[Context], list[Misconception]]
Rule = NetworkPolicyIngressRule | NetworkPolicyEgressRule


def _rules(policy: NetworkPolicy) -> Iterator[tuple[str, int, Rule]]:
    """``(direction name, index, rule)`` of the rules that count."""
    ingress: tuple[Rule, ...] = policy.rules(PolicyType.INGRESS)
    egress: tuple[Rule, ...] = policy.rules(PolicyType.EGRESS)
    for index, rule in enumerate(ingress):
        yield "ingress", index, rule
    for index, rule in enumerate(egress):
        yield "egress", index, rule


def _selects(policy: NetworkPolicy, pod: Pod | None, direction: PolicyType) -> bool:
    return (
        pod is not None
        and direction in policy.effective_policy_types()
        and policy_selects(policy, pod)
    )


def _affected(ctx: Context, policy: NetworkPolicy, diffs: Iterator[Change]) -> bool:
    """Whether a diff touches a pod the policy selects (ingress of dst / egress of src)."""
    for d in diffs:
        if _selects(policy, ctx.pod(d.dst), PolicyType.INGRESS):
            return True
        if _selects(policy, ctx.pod(d.src), PolicyType.EGRESS):
            return True
    return False


def _selector_text(selector: LabelSelector) -> str:
    if selector.is_empty:
        return "{}"
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    parts += [
        f"{r.key} {r.operator} ({', '.join(r.values)})" if r.values else f"{r.key} {r.operator}"
        for r in selector.match_expressions
    ]
    return "{" + ", ".join(parts) + "}"


def or_instead_of_and(ctx: Context) -> list[Misconception]:
    """A from/to list with a namespaceSelector-only entry and a podSelector-only entry,
    and the learner allows more than the reference."""
    found = []
    for policy in ctx.learner:
        for direction, index, rule in _rules(policy):
            peers = rule.peers or ()
            ns_only = [
                p for p in peers if p.namespace_selector is not None and p.pod_selector is None
            ]
            pod_only = [
                p for p in peers if p.pod_selector is not None and p.namespace_selector is None
            ]
            if ns_only and pod_only and _affected(ctx, policy, ctx.extra()):
                side = "from" if direction == "ingress" else "to"
                ns_text = _selector_text(ns_only[0].namespace_selector or LabelSelector())
                pod_text = _selector_text(pod_only[0].pod_selector or LabelSelector())
                found.append(
                    Misconception(
                        "or-instead-of-and",
                        fb.detail(
                            "or-instead-of-and",
                            where=f"{policy.key} {direction}[{index}].{side}",
                            ns=ns_text,
                            pod=pod_text,
                        ),
                    )
                )
    return found


def empty_pod_selector(ctx: Context) -> list[Misconception]:
    """``spec.podSelector: {}`` and the diff touches pods that no reference policy selects
    (in any direction: where the reference selects them too, the cause lies elsewhere);
    or ``podSelector: {}`` inside a namespace peer that admits pods the reference does not."""
    found = []
    for policy in ctx.learner:
        found += _empty_peer_selector(ctx, policy)
        if not policy.pod_selector.is_empty:
            continue
        hit: set[str] = set()
        for d in ctx.diffs:
            for name, direction in ((d.dst, PolicyType.INGRESS), (d.src, PolicyType.EGRESS)):
                pod = ctx.pod(name)
                if (
                    pod is not None
                    and _selects(policy, pod, direction)
                    and not any(policy_selects(ref, pod) for ref in ctx.reference)
                ):
                    hit.add(name)
        if hit:
            found.append(
                Misconception(
                    "empty-pod-selector",
                    fb.detail(
                        "empty-pod-selector", policy=policy.key, pods=fb.name_list(sorted(hit))
                    ),
                )
            )
    return found


def _empty_peer_selector(ctx: Context, policy: NetworkPolicy) -> list[Misconception]:
    """``podSelector: {}`` inside a namespace peer, where the extra traffic comes from (or
    goes to) pods that peer admits only because its podSelector is empty."""
    found = []
    labels = ctx.scenario.namespace_labels()
    for direction, index, rule in _rules(policy):
        side = "from" if direction == "ingress" else "to"
        for pindex, peer in enumerate(rule.peers or ()):
            if peer.namespace_selector is None or peer.pod_selector is None:
                continue
            if not peer.pod_selector.is_empty:
                continue
            others = set()
            for d in ctx.extra():
                local, other = (d.dst, d.src) if direction == "ingress" else (d.src, d.dst)
                local_pod, other_pod = ctx.pod(local), ctx.pod(other)
                if (
                    local_pod is not None
                    and other_pod is not None
                    and policy_selects(policy, local_pod)
                    and peer_matches(peer, policy.namespace, other_pod, labels)
                ):
                    others.add(other)
            if others:
                found.append(
                    Misconception(
                        "empty-pod-selector",
                        fb.detail(
                            "empty-peer-pod-selector",
                            where=f"{policy.key} {direction}[{index}].{side}[{pindex}]",
                            pods=fb.name_list(sorted(others)),
                        ),
                    )
                )
    return found


def wrong_namespace(ctx: Context) -> list[Misconception]:
    """A policy outside the namespace the task (or the reference) works in."""
    wanted = (
        {ctx.constraints.namespace}
        if ctx.constraints.namespace
        else {p.namespace for p in ctx.reference}
    )
    if not wanted:
        return []
    found = []
    for policy in ctx.learner:
        if policy.namespace not in wanted:
            found.append(
                Misconception(
                    "wrong-namespace",
                    fb.detail(
                        "wrong-namespace",
                        name=policy.name,
                        namespace=policy.namespace,
                        wanted=fb.name_list(sorted(wanted)),
                    ),
                )
            )
    return found


def service_port(ctx: Context) -> list[Misconception]:
    """A rule port equal to a Service port whose target is another container port, on a
    rule that governs traffic to that Service's pods, and that traffic is missing."""
    found = set()
    missing_dsts = {d.dst for d in ctx.missing()}
    labels = ctx.scenario.namespace_labels()
    for policy in ctx.learner:
        for direction, index, rule in _rules(policy):
            for entry in rule.ports or ():
                if not isinstance(entry.port, int):
                    continue
                for service in ctx.scenario.services:
                    for sp in service.ports:
                        if sp.port != entry.port or sp.protocol is not entry.effective_protocol:
                            continue
                        targets = set()
                        for pod in ctx.scenario.endpoints(service):
                            if pod.key not in missing_dsts:
                                continue
                            if direction == "ingress":
                                governs = policy_selects(policy, pod)
                            else:
                                governs = not rule.peers or any(
                                    peer_matches(peer, policy.namespace, pod, labels)
                                    for peer in rule.peers
                                )
                            number = resolve_port(pod, sp.target_port, sp.protocol)
                            if governs and number is not None and number != sp.port:
                                targets.add(number)
                        if targets:
                            shown = ", ".join(str(t) for t in sorted(targets))
                            found.add(
                                Misconception(
                                    "service-port",
                                    fb.detail(
                                        "service-port",
                                        where=f"{policy.key} {direction}[{index}]",
                                        port=entry.port,
                                        service=service.key,
                                        targets=shown,
                                    ),
                                )
                            )
    return sorted(found, key=lambda m: m.detail)


def dns_udp_and_tcp(ctx: Context) -> list[Misconception]:
    """The learner denies DNS (port 53, to a pod listening on 53) that the reference
    allows, on a protocol for which no egress rule of theirs names port 53."""
    lost: set[Protocol] = set()
    for d in ctx.missing():
        server = ctx.pod(d.dst)
        for protocol in (Protocol.UDP, Protocol.TCP):
            listens = server is not None and any(
                p.port == 53 and p.protocol is protocol for p in server.ports
            )
            if listens and d.lost.contains(protocol, 53):
                lost.add(protocol)
    if not lost:
        return []
    written: set[Protocol] = set()
    for policy in ctx.learner:
        for direction, _, rule in _rules(policy):
            if direction != "egress":
                continue
            for entry in rule.ports or ():
                if entry.port == 53 or (
                    isinstance(entry.port, int)
                    and entry.end_port
                    and entry.port <= 53 <= entry.end_port
                ):
                    written.add(entry.effective_protocol)
    if written and lost <= written:
        return []  # port 53 is written for each lost protocol: the peer is what is wrong
    if written:
        have = " and ".join(sorted(p.value for p in written))
        lacking = " and ".join(sorted(p.value for p in lost - written))
        detail = fb.detail("dns-one-protocol", have=have, lacking=lacking)
    else:
        detail = fb.detail("dns-none")
    return [Misconception("dns-udp-and-tcp", detail)]


def _ignored_matters(ctx: Context, policy: NetworkPolicy, ignored: list[str]) -> bool:
    """Whether a wrong flow touches a pod of ``policy`` in a direction whose rules it drops."""
    for d in ctx.diffs:
        dst, src = ctx.pod(d.dst), ctx.pod(d.src)
        if "ingress" in ignored and dst is not None and policy_selects(policy, dst):
            return True
        if "egress" in ignored and src is not None and policy_selects(policy, src):
            return True
    return False


def policy_types_omitted(ctx: Context) -> list[Misconception]:
    """Rules of a direction that policyTypes leaves out, or no policyTypes and no egress
    rules where the reference isolates egress; the learner allows more.  When several
    policies qualify, only those whose pods no other qualifying policy covers are named."""
    found = []
    unisolated: dict[str, set[str]] = {}
    for policy in ctx.learner:
        types = policy.effective_policy_types()
        ignored = []
        if policy.ingress and PolicyType.INGRESS not in types:
            ignored.append("ingress")
        if policy.egress and PolicyType.EGRESS not in types:
            ignored.append("egress")
        if ignored and _ignored_matters(ctx, policy, ignored):
            found.append(
                Misconception(
                    "policy-types-omitted",
                    fb.detail(
                        "policy-types-ignored",
                        policy=policy.key,
                        directions=" and ".join(ignored),
                        types=[str(t) for t in policy.policy_types or ()],
                    ),
                )
            )
            continue
        if policy.policy_types is None and policy.egress and not policy.ingress:
            blocked = {
                d.dst
                for d in ctx.missing()
                if (pod := ctx.pod(d.dst)) is not None
                and policy_selects(policy, pod)
                and not any(_selects(ref, pod, PolicyType.INGRESS) for ref in ctx.reference)
            }
            if blocked:
                found.append(
                    Misconception(
                        "policy-types-omitted",
                        fb.detail(
                            "policy-types-ingress-too",
                            policy=policy.key,
                            pods=fb.name_list(sorted(blocked)),
                        ),
                    )
                )
            continue
        if policy.policy_types is None and not policy.egress:
            lost = {
                d.src
                for d in ctx.extra()
                if (pod := ctx.pod(d.src)) is not None
                and policy_selects(policy, pod)
                and any(_selects(ref, pod, PolicyType.EGRESS) for ref in ctx.reference)
            }
            if lost:
                unisolated[policy.key] = lost
    for key, pods in unisolated.items():
        if any(other != key and pods < more for other, more in unisolated.items()):
            continue
        found.append(
            Misconception(
                "policy-types-omitted",
                fb.detail("policy-types-no-egress", policy=key, pods=fb.name_list(sorted(pods))),
            )
        )
    return found


def egress_isolated_no_rules(ctx: Context) -> list[Misconception]:
    """Egress in policyTypes and no egress rules, at a pod whose outgoing traffic is lost
    and whose egress no other learner policy opens (with a rule of its own, the pod's
    egress is decided there, so this policy is not the cause)."""
    found = []
    for policy in ctx.learner:
        if PolicyType.EGRESS not in policy.effective_policy_types() or policy.egress:
            continue
        lost = {
            d.src
            for d in ctx.missing()
            if (pod := ctx.pod(d.src)) is not None
            and policy_selects(policy, pod)
            and not any(
                other.egress and _selects(other, pod, PolicyType.EGRESS) for other in ctx.learner
            )
        }
        if lost:
            found.append(
                Misconception(
                    "egress-isolated-no-rules",
                    fb.detail(
                        "egress-isolated-no-rules",
                        policy=policy.key,
                        pods=fb.name_list(sorted(lost)),
                    ),
                )
            )
    return found


def named_port_undefined(ctx: Context) -> list[Misconception]:
    """A named port that no pod the rule can reach defines (and traffic is missing)."""
    found = []
    for policy in ctx.learner:
        if not _affected(ctx, policy, ctx.missing()):
            continue
        for direction, index, rule in _rules(policy):
            for pindex, entry in enumerate(rule.ports or ()):
                if not isinstance(entry.port, str):
                    continue
                if direction == "ingress":
                    dsts = [p for p in ctx.scenario.pods if policy_selects(policy, p)]
                else:
                    dsts = list(ctx.scenario.pods)
                protocol = entry.effective_protocol
                if any(
                    port.name == entry.port and port.protocol is protocol
                    for pod in dsts
                    for port in pod.ports
                ):
                    continue
                defined = sorted(
                    {
                        f"{port.name} ({port.port}/{port.protocol})"
                        for pod in dsts
                        for port in pod.ports
                        if port.name
                    }
                )
                pods = [p.key for p in dsts] if direction == "ingress" else []
                found.append(
                    Misconception(
                        "named-port-undefined",
                        fb.detail(
                            "named-port-undefined",
                            where=f"{policy.key} {direction}[{index}].ports[{pindex}]",
                            port=repr(entry.port),
                            protocol=protocol,
                            on=fb.on_pods(pods),
                            known=fb.names_defined(defined),
                        ),
                    )
                )
    return found


def pod_selector_namespace_scoped(ctx: Context) -> list[Misconception]:
    """A podSelector-only peer, while traffic from/to matching pods of another namespace
    is missing at a pod that the reference also isolates (and so admits explicitly)."""
    found = []
    for policy in ctx.learner:
        for direction, index, rule in _rules(policy):
            for peer in rule.peers or ():
                if peer.pod_selector is None or peer.namespace_selector is not None:
                    continue
                others = set()
                kind = PolicyType.INGRESS if direction == "ingress" else PolicyType.EGRESS
                for d in ctx.missing():
                    local, other = (d.dst, d.src) if direction == "ingress" else (d.src, d.dst)
                    local_pod, other_pod = ctx.pod(local), ctx.pod(other)
                    if (
                        local_pod is not None
                        and other_pod is not None
                        and policy_selects(policy, local_pod)
                        and any(_selects(ref, local_pod, kind) for ref in ctx.reference)
                        and other_pod.namespace != policy.namespace
                        and selector_matches(peer.pod_selector, other_pod.labels)
                    ):
                        others.add(other)
                if others:
                    found.append(
                        Misconception(
                            "pod-selector-namespace-scoped",
                            fb.detail(
                                "pod-selector-namespace-scoped",
                                where=f"{policy.key} {direction}[{index}]",
                                selector=_selector_text(peer.pod_selector),
                                namespace=policy.namespace,
                                others=fb.name_list(sorted(others)),
                            ),
                        )
                    )
    return found


def peers_and_ports_merged(ctx: Context) -> list[Misconception]:
    """One rule with several peers and several ports, where the learner allows more than
    the reference between that policy's pods and a peer of the rule that the reference
    admits on other ports: every peer gets every port (a common exam-practice mistake)."""
    found = []
    labels = ctx.scenario.namespace_labels()
    for policy in ctx.learner:
        for direction, index, rule in _rules(policy):
            peers, ports = rule.peers or (), rule.ports or ()
            if len(peers) < 2 or len(ports) < 2:
                continue
            for d in ctx.extra():
                local, other = (d.dst, d.src) if direction == "ingress" else (d.src, d.dst)
                local_pod = ctx.pod(local)
                endpoint = ctx.peer(other)
                if (
                    local_pod is not None
                    and endpoint is not None
                    and not d.before.is_empty
                    and policy_selects(policy, local_pod)
                    and any(peer_matches(p, policy.namespace, endpoint, labels) for p in peers)
                ):
                    found.append(
                        Misconception(
                            "peers-and-ports-merged",
                            fb.detail(
                                "peers-and-ports-merged",
                                where=f"{policy.key} {direction}[{index}]",
                                peers=len(peers),
                                ports=len(ports),
                            ),
                        )
                    )
                    break
    return found


def _pods_in(ctx: Context, namespaces: set[str], selector: LabelSelector | None) -> bool:
    return any(
        pod.namespace in namespaces and (selector is None or selector_matches(selector, pod.labels))
        for pod in ctx.scenario.pods
    )


def _peer_problem(ctx: Context, policy: NetworkPolicy, peer: NetworkPolicyPeer) -> str | None:
    """What a peer's selectors fail to match, if anything."""
    labels = ctx.scenario.namespace_labels()
    if peer.namespace_selector is not None:
        sel = peer.namespace_selector
        spaces = {ns for ns, lab in labels.items() if selector_matches(sel, lab)}
        if not spaces:
            return fb.detail("no-namespace", selector=_selector_text(sel))
    elif peer.pod_selector is not None:
        spaces = {policy.namespace}
    else:
        return None
    if peer.pod_selector is not None and not _pods_in(ctx, spaces, peer.pod_selector):
        where = fb.name_list(sorted(spaces))
        return fb.detail("no-pod", selector=_selector_text(peer.pod_selector), where=where)
    return None


def selector_matches_nothing(ctx: Context) -> list[Misconception]:
    """A podSelector or namespaceSelector of the learner's policies that matches no pod or
    namespace of the scenario (``app: db`` where the pod has ``role: db``)."""
    found = []
    for policy in ctx.learner:
        if not _pods_in(ctx, {policy.namespace}, None):
            continue  # an empty namespace: wrong-namespace says it better
        if not _pods_in(ctx, {policy.namespace}, policy.pod_selector):
            found.append(
                Misconception(
                    "selector-matches-nothing",
                    fb.detail(
                        "selects-nothing",
                        policy=policy.key,
                        selector=_selector_text(policy.pod_selector),
                        namespace=policy.namespace,
                    ),
                )
            )
            continue
        for direction, index, rule in _rules(policy):
            side = "from" if direction == "ingress" else "to"
            for pindex, peer in enumerate(rule.peers or ()):
                problem = _peer_problem(ctx, policy, peer)
                if problem is not None:
                    found.append(
                        Misconception(
                            "selector-matches-nothing",
                            f"{policy.key} {direction}[{index}].{side}[{pindex}] {problem}",
                        )
                    )
    return found


def pod_ip_in_ipblock(ctx: Context) -> list[Misconception]:
    """An ipBlock of the learner's that holds a pod's IP no reference ipBlock holds: the
    learner names the pod by its address."""
    found = []
    for policy in ctx.learner:
        for direction, index, rule in _rules(policy):
            for peer in rule.peers or ():
                block = peer.ip_block
                if block is None:
                    continue
                named = sorted(
                    pod.key
                    for pod in ctx.scenario.pods
                    if pod.ip
                    and ipblock_contains(block, pod.ip)
                    and not any(
                        ref_peer.ip_block is not None
                        and ipblock_contains(ref_peer.ip_block, pod.ip)
                        for ref in ctx.reference
                        for _, _, ref_rule in _rules(ref)
                        for ref_peer in ref_rule.peers or ()
                    )
                )
                if named:
                    found.append(
                        Misconception(
                            "pod-ip-in-ipblock",
                            fb.detail(
                                "pod-ip-in-ipblock",
                                where=f"{policy.key} {direction}[{index}]",
                                cidr=block.cidr,
                                pods=fb.name_list(named),
                            ),
                        )
                    )
    return found


DETECTORS: dict[str, Detector] = {
    "dns-udp-and-tcp": dns_udp_and_tcp,
    "egress-isolated-no-rules": egress_isolated_no_rules,
    "empty-pod-selector": empty_pod_selector,
    "named-port-undefined": named_port_undefined,
    "pod-ip-in-ipblock": pod_ip_in_ipblock,
    "or-instead-of-and": or_instead_of_and,
    "peers-and-ports-merged": peers_and_ports_merged,
    "pod-selector-namespace-scoped": pod_selector_namespace_scoped,
    "policy-types-omitted": policy_types_omitted,
    "selector-matches-nothing": selector_matches_nothing,
    "service-port": service_port,
    "wrong-namespace": wrong_namespace,
}


def detect(ctx: Context) -> list[Misconception]:
    """Every finding of every detector, sorted by id then detail, without duplicates, at
    most ``feedback.MAX_NAMES`` per id."""
    if not ctx.diffs:
        # Nothing differs from the reference: only a misplaced policy can still be wrong.
        return _capped(sorted(set(wrong_namespace(ctx)), key=lambda m: (m.id, m.detail)))
    found: set[Misconception] = set()
    for detector in DETECTORS.values():
        found.update(detector(ctx))
    return _capped(sorted(found, key=lambda m: (m.id, m.detail)))


def _capped(found: list[Misconception]) -> list[Misconception]:
    """At most ``MAX_NAMES`` findings per id, ``found`` sorted by id (thousands of
    misplaced policies make one finding each; a few say it)."""
    return [m for _, same in groupby(found, key=lambda m: m.id) for m in [*same][: fb.MAX_NAMES]]
