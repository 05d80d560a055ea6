"""The universe an answer is judged in: today's peers plus the peers that may come later.

Rules of this file:

* Two sets of policies are equivalent when they allow the same connections between every
  pair of peers that can ever exist, not only between today's pods.  :func:`universe` adds
  to a scenario one representative of every kind of peer a policy can tell apart:

  - **Addresses.**  The boundaries of every ``cidr`` and ``except`` of every policy given
    cut IPv4 and IPv6 into regions; inside one region every ipBlock either holds every
    address or none, so one address decides for the whole region.  Regions held by the
    same set of rules behave alike under every policy given, so one address stands for
    each such set (a sweep over the range ends finds them).  Each set without a named
    external endpoint gets one (named ``addresses CIDR``).  The whole of IPv6 is one
    region when no policy names an IPv6 block, so ``::/0`` is never forgotten.
  - **Pods created later.**  In every namespace: a pod with no labels, a pod with an
    unseen value for each label key the policies' pod selectors use, and a pod like each
    pod of the other namespaces (same labels and ports).
  - **Namespaces created later.**  A namespace with no labels, and one with each existing
    namespace's labels except ``kubernetes.io/metadata.name``, each holding the same kinds
    of pods (plus one like every existing pod).

  New pods declare the container ports their namespace's pods declare (first name wins),
  so a named port resolves for them as it does for today's pods.
* Names of added peers start with ``(new`` and say what they stand for:
  ``shop/(new pod without labels)``, ``(new namespace)/(new pod like db)``.
* Pure: values in, values out, deterministic order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from npcore.cluster import NAMESPACE_NAME_LABEL, Cluster, ContainerPort, External, Namespace, Pod
from npcore.ipblock import ipblock_networks
from npcore.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    PolicyType,
)

__all__ = ["NEW_PREFIX", "Boundaries", "boundaries", "is_new", "label_keys", "universe"]

NEW_PREFIX = "(new"
UNSEEN_VALUE = "unseen-value"
_SIZE = {4: 1 << 32, 6: 1 << 128}

Boundaries = frozenset[tuple[int, int]]  # (IP version, first address of a region)


def is_new(name: str) -> bool:
    """Whether a peer name stands for a pod or address :func:`universe` added."""
    return NEW_PREFIX in name or name.startswith("addresses ")


def _selectors(policy: NetworkPolicy) -> Iterator[tuple[str, LabelSelector]]:
    """``("pod" | "namespace", selector)`` for every selector of ``policy``."""
    yield "pod", policy.pod_selector
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        for rule in policy.rules(direction):
            for peer in rule.peers or ():
                if peer.pod_selector is not None:
                    yield "pod", peer.pod_selector
                if peer.namespace_selector is not None:
                    yield "namespace", peer.namespace_selector


def label_keys(policies: Iterable[NetworkPolicy]) -> frozenset[str]:
    """The label keys the pod selectors of ``policies`` look at."""
    keys: set[str] = set()
    for policy in policies:
        for what, selector in _selectors(policy):
            if what == "pod":
                keys.update(k for k, _ in selector.match_labels)
                keys.update(r.key for r in selector.match_expressions)
    return frozenset(keys)


def _label_values(policies: Iterable[NetworkPolicy]) -> set[str]:
    values: set[str] = set()
    for policy in policies:
        for _, selector in _selectors(policy):
            values.update(v for _, v in selector.match_labels)
            for requirement in selector.match_expressions:
                values.update(requirement.values)
    return values


def boundaries(policies: Iterable[NetworkPolicy]) -> Boundaries:
    """Where the ipBlocks of ``policies`` start and stop holding addresses."""
    cuts: set[tuple[int, int]] = set()
    for policy in policies:
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            for rule in policy.rules(direction):
                for peer in rule.peers or ():
                    if peer.ip_block is None:
                        continue
                    cidr, excepts = ipblock_networks(peer.ip_block)
                    for network in (cidr, *excepts):
                        cuts.add((network.version, int(network.network_address)))
                        cuts.add((network.version, int(network.broadcast_address) + 1))
    return frozenset(cuts)


def _region_name(version: int, lo: int, hi: int) -> str:
    """``addresses 10.0.0.0/24`` (or a range when many CIDRs would be needed)."""
    if version == 4:
        networks: list[ipaddress.IPv4Network] | list[ipaddress.IPv6Network] = list(
            ipaddress.summarize_address_range(
                ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi - 1)
            )
        )
    else:
        networks = list(
            ipaddress.summarize_address_range(
                ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi - 1)
            )
        )
    if len(networks) <= 2:
        return "addresses " + " and ".join(str(n) for n in networks)
    return f"addresses {networks[0].network_address} to {networks[-1].broadcast_address}"


def _rule_intervals(
    policies: Sequence[NetworkPolicy],
) -> Iterator[tuple[tuple[int, str, int], int, int, int]]:
    """``(rule key, IP version, first, last + 1)`` for every address range an ipBlock peer
    of a rule holds (its cidr minus its excepts)."""
    for index, policy in enumerate(policies):
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            rules: tuple[NetworkPolicyIngressRule | NetworkPolicyEgressRule, ...] = policy.rules(
                direction
            )
            for rindex, rule in enumerate(rules):
                key = (index, str(direction), rindex)
                for peer in rule.peers or ():
                    if peer.ip_block is None:
                        continue
                    cidr, excepts = ipblock_networks(peer.ip_block)
                    start = int(cidr.network_address)
                    holes = sorted(
                        (int(e.network_address), int(e.broadcast_address) + 1)
                        for e in excepts
                        if e.version == cidr.version
                    )
                    for lo, hi in holes:
                        if lo > start:
                            yield key, cidr.version, start, lo
                        start = max(start, hi)
                    end = int(cidr.broadcast_address) + 1
                    if start < end:
                        yield key, cidr.version, start, end


def _signatures(
    policies: Sequence[NetworkPolicy], version: int
) -> list[tuple[int, int, frozenset[tuple[int, str, int]]]]:
    """The regions of one IP version, each with the set of rules whose ipBlocks hold it
    (a sweep over the range ends)."""
    events: dict[int, list[tuple[tuple[int, str, int], int]]] = {0: [], _SIZE[version]: []}
    for key, ver, lo, hi in _rule_intervals(policies):
        if ver == version:
            events.setdefault(lo, []).append((key, 1))
            events.setdefault(hi, []).append((key, -1))
    active: dict[tuple[int, str, int], int] = {}
    regions = []
    edges = sorted(events)
    for lo, hi in pairwise(edges):
        for key, step in events[lo]:
            active[key] = active.get(key, 0) + step
        regions.append((lo, hi, frozenset(k for k, n in active.items() if n > 0)))
    return regions


def _regions(
    policies: Sequence[NetworkPolicy], taken: Sequence[str], pod_ips: set[str]
) -> list[External]:
    """One external per kind of address no named external already stands for: regions
    held by the same rules behave alike under every policy given, so one stands for all."""
    named: list[tuple[int, int]] = []
    for ip in taken:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        named.append((address.version, int(address)))
    added: list[External] = []
    for version in (4, 6):
        groups: dict[frozenset[tuple[int, str, int]], list[tuple[int, int]]] = {}
        covered: set[frozenset[tuple[int, str, int]]] = set()
        for lo, hi, signature in _signatures(policies, version):
            groups.setdefault(signature, []).append((lo, hi))
            if any(ver == version and lo <= value < hi for ver, value in named):
                covered.add(signature)
        for signature, ranges in groups.items():
            if signature in covered:
                continue
            lo, hi = ranges[0]
            rep = lo
            while rep + 1 < hi and str(ipaddress.ip_address(rep)) in pod_ips:
                rep += 1
            address = ipaddress.IPv4Address(rep) if version == 4 else ipaddress.IPv6Address(rep)
            name = _region_name(version, lo, hi)
            if len(ranges) > 1:
                name += f" (and {len(ranges) - 1} more ranges treated alike)"
            added.append(External(name, str(address)))
    return added


@dataclass(frozen=True, slots=True)
class _Kind:
    """A kind of pod to add to each namespace."""

    name: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...] | None  # None: the namespace's ports


def _namespace_ports(pods: Iterable[Pod]) -> tuple[ContainerPort, ...]:
    seen: dict[tuple[object, ...], ContainerPort] = {}
    for pod in pods:
        for port in pod.ports:
            key = (port.name, port.protocol) if port.name else (port.port, port.protocol)
            seen.setdefault(key, port)
    return tuple(seen.values())


def _unseen(values: set[str]) -> str:
    value, n = UNSEEN_VALUE, 1
    while value in values:
        n += 1
        value = f"{UNSEEN_VALUE}-{n}"
    return value


def _new_namespaces(cluster: Cluster) -> list[Namespace]:
    out: list[Namespace] = [Namespace("(new namespace)", {})]
    seen: set[tuple[tuple[str, str], ...]] = {()}
    for ns in cluster.namespaces:
        labels = {k: v for k, v in ns.labels.items() if k != NAMESPACE_NAME_LABEL}
        key = tuple(sorted(labels.items()))
        if key in seen:
            continue
        seen.add(key)
        out.append(Namespace(f"(new namespace like {ns.name})", labels))
    return out


def _pods_for(
    namespace: str, kinds: Sequence[_Kind], like: Sequence[Pod], cluster_pods: Sequence[Pod]
) -> list[Pod]:
    here = [p for p in cluster_pods if p.namespace == namespace]
    ports = _namespace_ports(here) or _namespace_ports(cluster_pods)
    present = {tuple(sorted(p.labels.items())) for p in here}
    pods = [
        Pod(
            namespace,
            kind.name,
            dict(kind.labels),
            None,
            ports if kind.ports is None else kind.ports,
        )
        for kind in kinds
    ]
    for pod in like:
        key = tuple(sorted(pod.labels.items()))
        if pod.namespace != namespace and key not in present:
            present.add(key)
            pods.append(
                Pod(namespace, f"(new pod like {pod.name})", dict(pod.labels), None, pod.ports)
            )
    return pods


def universe(scenario: Cluster, policy_sets: Iterable[Sequence[NetworkPolicy]]) -> Cluster:
    """``scenario`` with the peers of the module docstring added (policies unchanged)."""
    policies = [p for group in policy_sets for p in group]
    everything = [*scenario.policies, *policies]
    keys = sorted(label_keys(everything))
    unseen = _unseen(_label_values(everything))
    kinds = [_Kind("(new pod without labels)", {}, None)]
    kinds += [_Kind(f"(new pod {key}={unseen})", {key: unseen}, None) for key in keys]
    pods = list(scenario.pods)
    added: list[Pod] = []
    for ns in scenario.namespaces:
        added += _pods_for(ns.name, kinds, pods, pods)
    new_namespaces = _new_namespaces(scenario)
    for ns in new_namespaces:
        added += _pods_for(ns.name, kinds, pods, pods)
    taken = {p.ip for p in pods if p.ip}
    externals = _regions(everything, [e.ip for e in scenario.externals], taken)
    grown = Cluster.build(
        namespaces=[*scenario.namespaces, *new_namespaces],
        pods=[*pods, *added],
        services=scenario.services,
        policies=scenario.policies,
        externals=[*scenario.externals, *externals],
        cni=scenario.cni,
    )
    return replace(grown, cni=scenario.cni)
