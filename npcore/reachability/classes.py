"""Peers reduced to classes of interchangeable peers, and policies to rules as bit sets.

Rules of this file:

* Pods alike in namespace, labels, the ipBlocks that contain them and their container
  ports form one class; so do externals alike in ipBlocks.  Every decision of
  :mod:`npcore.reachability` is made once per class (a bit in a Python integer).
* Which classes a ``from``/``to`` entry stands for is the engine's table
  (:func:`npcore.engine.peer_scope`); which ports a ``ports`` entry admits is
  :func:`npcore.engine.entry_range`.  A CNI that does not enforce policies has no rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from npcore.cluster import Cluster, Pod
from npcore.cni import as_enforced
from npcore.engine import Endpoint, entry_range, peer_scope
from npcore.ipblock import ipblock_networks
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    PolicyType,
)
from npcore.ports import NO_PORTS, PortSet
from npcore.selectors import selector_matches

__all__ = ["peer_name", "sum_bits"]


def peer_name(peer: Endpoint) -> str:
    """``namespace/pod`` for a pod, the name for an external."""
    return peer.key


def sum_bits(values: Iterable[int]) -> int:
    """The union (bitwise OR) of bit sets."""
    result = 0
    for value in values:
        result |= value
    return result


def _bits(value: int) -> Iterator[int]:
    """Indices of the set bits of ``value``."""
    while value:
        low = value & -value
        yield low.bit_length() - 1
        value ^= low


@dataclass(slots=True)
class _Rule:
    policy: int
    direction: PolicyType
    ports: tuple[NetworkPolicyPort, ...]  # empty: all ports
    peers: int  # bit set over classes


@dataclass(slots=True)
class _Compiled:
    """The cluster reduced to classes of interchangeable peers, rules as bit sets."""

    cluster: Cluster
    peers: tuple[Endpoint, ...]
    class_of: tuple[int, ...]
    reps: list[Endpoint]
    all_classes: int
    rules: list[_Rule] = field(default_factory=list)
    policy_rules: dict[tuple[int, PolicyType], list[int]] = field(default_factory=dict)
    # per class: the policies isolating it, per direction
    isolating: dict[PolicyType, list[list[int]]] = field(default_factory=dict)
    member: list[int] = field(default_factory=list)  # per class: bit set over rule ids


def _ip_key(ip: str | None) -> tuple[int, int] | None:
    if not ip:
        return None
    address = ipaddress.ip_address(ip)
    return address.version, int(address)


def _block_ranges(block: IPBlock) -> tuple[int, int, int, list[tuple[int, int]]]:
    cidr, excepts = ipblock_networks(block)
    return (
        cidr.version,
        int(cidr.network_address),
        int(cidr.broadcast_address),
        [
            (int(e.network_address), int(e.broadcast_address))
            for e in excepts
            if e.version == cidr.version
        ],
    )


def _ip_blocks(policies: Iterable[NetworkPolicy]) -> dict[IPBlock, int]:
    """Every distinct ipBlock used by an effective rule, numbered."""
    blocks: dict[IPBlock, int] = {}
    for policy in policies:
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            for rule in policy.rules(direction):
                for peer in rule.peers or ():
                    if peer.ip_block is not None and peer.ip_block not in blocks:
                        blocks[peer.ip_block] = len(blocks)
    return blocks


def _ip_mask(
    ip: str | None, block_ranges: list[tuple[int, int, int, list[tuple[int, int]]]]
) -> int:
    """The ipBlocks (bit set over their numbers) that contain ``ip``."""
    key = _ip_key(ip)
    if key is None:
        return 0
    version, value = key
    mask = 0
    for i, (v, lo, hi, excepts) in enumerate(block_ranges):
        if v == version and lo <= value <= hi and not any(a <= value <= b for a, b in excepts):
            mask |= 1 << i
    return mask


@dataclass(slots=True)
class _Classes:
    """Peers grouped into classes of interchangeable peers."""

    class_of: list[int] = field(default_factory=list)
    reps: list[Endpoint] = field(default_factory=list)
    group_ids: dict[tuple[str, tuple[tuple[str, str], ...]], int] = field(default_factory=dict)
    class_group: list[int] = field(default_factory=list)  # -1 for externals
    class_ipmask: list[int] = field(default_factory=list)


def _classify(peers: Iterable[Endpoint], blocks: dict[IPBlock, int]) -> _Classes:
    """Pods alike in namespace, labels, ipBlocks and container ports form one class;
    externals alike in ipBlocks form one class."""
    block_ranges = [_block_ranges(b) for b in blocks]
    classes = _Classes()
    class_ids: dict[tuple[object, ...], int] = {}
    for endpoint in peers:
        mask = _ip_mask(endpoint.ip, block_ranges)
        if isinstance(endpoint, Pod):
            gkey = (endpoint.namespace, tuple(sorted(endpoint.labels.items())))
            gid = classes.group_ids.setdefault(gkey, len(classes.group_ids))
            ckey: tuple[object, ...] = ("pod", gid, mask, endpoint.ports)
        else:
            gid = -1
            ckey = ("ext", mask)
        cid = class_ids.get(ckey)
        if cid is None:
            cid = class_ids[ckey] = len(classes.reps)
            classes.reps.append(endpoint)
            classes.class_group.append(gid)
            classes.class_ipmask.append(mask)
        classes.class_of.append(cid)
    return classes


class _Scopes:
    """The classes each :class:`~npcore.engine.PeerScope` stands for (cached)."""

    def __init__(self, cluster: Cluster, classes: _Classes, n_blocks: int) -> None:
        # Label groups, by namespace, as class bit sets.
        self.groups_by_ns: dict[str, list[tuple[Mapping[str, str], int]]] = {}
        group_classes = [0] * len(classes.group_ids)
        for cid, gid in enumerate(classes.class_group):
            if gid >= 0:
                group_classes[gid] |= 1 << cid
        for (namespace, labels), gid in classes.group_ids.items():
            self.groups_by_ns.setdefault(namespace, []).append((dict(labels), group_classes[gid]))
        self.block_classes = [0] * n_blocks
        pods_in_blocks = cluster.cni_plugin.ipblock_matches_pods
        for cid, mask in enumerate(classes.class_ipmask):
            if isinstance(classes.reps[cid], Pod) and not pods_in_blocks:
                continue  # CNI capability: this plugin's ipBlock never matches a pod
            for i in _bits(mask):
                self.block_classes[i] |= 1 << cid
        self.ns_labels = cluster.namespace_labels()
        for namespace in self.groups_by_ns:
            self.ns_labels.setdefault(namespace, cluster.namespace(namespace).labels)
        self.cache: dict[tuple[str, LabelSelector | None, LabelSelector | None], int] = {}

    def pods(
        self, namespace: str | None, ns_sel: LabelSelector | None, pod_sel: LabelSelector | None
    ) -> int:
        """Classes of pods in ``namespace`` (or in namespaces ``ns_sel`` selects) that
        ``pod_sel`` selects (``None``: every pod)."""
        key = (namespace or "", ns_sel, pod_sel)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if ns_sel is None:
            namespaces = [namespace] if namespace in self.groups_by_ns else []
        else:
            namespaces = [
                ns for ns in self.groups_by_ns if selector_matches(ns_sel, self.ns_labels[ns])
            ]
        result = 0
        for ns in namespaces:
            for labels, group in self.groups_by_ns[ns]:
                if pod_sel is None or selector_matches(pod_sel, labels):
                    result |= group
        self.cache[key] = result
        return result

    def peer(
        self, peer: NetworkPolicyPeer, policy_namespace: str, blocks: dict[IPBlock, int]
    ) -> int:
        """Classes one ``from``/``to`` entry matches (the table of
        :func:`npcore.engine.peer_scope`)."""
        scope = peer_scope(peer, policy_namespace)
        if scope.ip_block is not None:
            return self.block_classes[blocks[scope.ip_block]]
        if scope.nothing:
            return 0
        return self.pods(scope.namespace, scope.namespace_selector, scope.pod_selector)


def _compile_rules(
    compiled: _Compiled,
    policies: Sequence[NetworkPolicy],
    scopes: _Scopes,
    blocks: dict[IPBlock, int],
) -> None:
    """Fill in ``isolating``, ``rules``, ``policy_rules`` and ``member``."""
    n_classes = len(compiled.reps)
    all_classes = compiled.all_classes
    compiled.isolating = {d: [[] for _ in range(n_classes)] for d in PolicyType}
    for pindex, policy in enumerate(policies):
        selected = scopes.pods(policy.namespace, None, policy.pod_selector)
        for direction in policy.effective_policy_types():
            for cid in _bits(selected):
                compiled.isolating[direction][cid].append(pindex)
            ids: list[int] = []
            for rule in policy.rules(direction):
                if rule.peers:
                    members = sum_bits(scopes.peer(p, policy.namespace, blocks) for p in rule.peers)
                else:
                    members = all_classes
                ids.append(len(compiled.rules))
                compiled.rules.append(_Rule(pindex, direction, tuple(rule.ports or ()), members))
            compiled.policy_rules[(pindex, direction)] = ids
    member = [0] * n_classes
    everywhere = 0
    for rid, compiled_rule in enumerate(compiled.rules):
        if compiled_rule.peers == all_classes:
            everywhere |= 1 << rid
            continue
        for cid in _bits(compiled_rule.peers):
            member[cid] |= 1 << rid
    compiled.member = [m | everywhere for m in member]


def _compile(cluster: Cluster) -> _Compiled:
    peers: tuple[Endpoint, ...] = cluster.peers()
    # CNI capabilities: endPort via as_enforced; ipBlock and pods in _Scopes.
    policies = as_enforced(cluster.cni_plugin, cluster.policies) if cluster.enforced else ()
    blocks = _ip_blocks(policies)
    classes = _classify(peers, blocks)
    all_classes = (1 << len(classes.reps)) - 1
    compiled = _Compiled(cluster, peers, tuple(classes.class_of), classes.reps, all_classes)
    _compile_rules(compiled, policies, _Scopes(cluster, classes, len(blocks)), blocks)
    return compiled


def _entry_ports(entry: NetworkPolicyPort, dst: Endpoint) -> PortSet:
    """The ports one ``ports`` entry admits at ``dst`` (the table of
    :func:`npcore.engine.entry_range`)."""
    admitted = entry_range(entry, dst)
    return NO_PORTS if admitted is None else PortSet.of(*admitted)
