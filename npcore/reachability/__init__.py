"""All-pairs reachability: the single-port truth table and the full connectivity map.

Rules of this file:

* The verdicts are exactly those of :func:`npcore.engine.is_allowed` (a property test
  checks every pair); this module only computes them many at a time, with the engine's
  tables: which endpoints a peer entry stands for (:func:`npcore.engine.peer_scope`) and
  which ports a ``ports`` entry admits (:func:`npcore.engine.entry_range`).
* Peers are the cluster's pods, then its externals, named ``namespace/pod`` and by name.
* Pods that no selector, ipBlock or named port can tell apart form one *class*
  (the replicas of a Deployment, typically); every decision is made once per pair of
  classes with Python integers as bit sets, then read back per pair of peers.
* Self traffic (a pod to itself) is always allowed; traffic between two externals is
  not governed by any policy and counts as allowed; on a CNI that does not enforce
  policies every pair is allowed.  A named port that the destination does not define
  reaches nothing, so that cell is denied whatever the policies say.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from npcore.cluster import Cluster, Pod, resolve_port
from npcore.engine import entry_range
from npcore.model import NetworkPolicyPort, PolicyType, Protocol
from npcore.ports import ALL_PORTS, NO_PORTS, PortSet
from npcore.reachability.classes import (
    _bits,
    _compile,
    _Compiled,
    _entry_ports,
    peer_name,
    sum_bits,
)


@dataclass(frozen=True, slots=True)
class Matrix:
    """The truth table for one port and protocol over every ordered pair of peers.

    ``port`` is the number or name probed; a name resolves per destination pod.
    """

    port: int | str
    protocol: Protocol
    cni: str
    enforced: bool
    peers: tuple[str, ...]
    _class_of: tuple[int, ...]
    _rows: tuple[int, ...]  # per source class: bit set over destination classes
    _reachable: int  # classes on which the probed port exists
    _index: Mapping[str, int]

    def allowed(self, src: str, dst: str) -> bool:
        """Whether ``src`` may open a connection to ``dst`` (peer names)."""
        return self.allowed_at(self._index[src], self._index[dst])

    def allowed_at(self, i: int, j: int) -> bool:
        """Same as :meth:`allowed`, by peer index."""
        dst_class = self._class_of[j]
        if not self._reachable >> dst_class & 1:
            return False
        if i == j or not self.enforced:
            return True
        return bool(self._rows[self._class_of[i]] >> dst_class & 1)

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``npcore matrix --format json``."""
        allowed = {
            src: {dst: self.allowed_at(i, j) for j, dst in enumerate(self.peers)}
            for i, src in enumerate(self.peers)
        }
        return {**self._head(), "allowed": allowed}

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text, exactly ``json.dumps(self.to_dict(), indent=2)``,
        written row by row without building the dict: each distinct source class's row
        is made once (a 1,000-peer table in a fraction of the time ``json`` takes)."""
        head = {**self._head(), "allowed": None}
        text = json.dumps(head, indent=2)
        assert text.endswith('"allowed": null\n}')
        if not self.peers:
            return text[: -len("null\n}")] + "{}\n}"
        keys = [json.dumps(p) for p in self.peers]
        true = [f"      {k}: true" for k in keys]
        false = [f"      {k}: false" for k in keys]
        everything = (1 << (max(self._class_of) + 1)) - 1
        row_cache: dict[int, list[str]] = {}
        parts = []
        for i, key in enumerate(keys):
            src_class = self._class_of[i]
            row = row_cache.get(src_class)
            if row is None:
                mask = self._reachable & (self._rows[src_class] if self.enforced else everything)
                row = row_cache[src_class] = [
                    t if mask >> c & 1 else f
                    for t, f, c in zip(true, false, self._class_of, strict=True)
                ]
            own = true[i] if self._reachable >> src_class & 1 else false[i]
            if row[i] is not own:
                row = [*row[:i], own, *row[i + 1 :]]
            parts.append(f"    {key}: {{\n" + ",\n".join(row) + "\n    }")
        return text[: -len("null\n}")] + "{\n" + ",\n".join(parts) + "\n  }\n}"

    def _head(self) -> dict[str, object]:
        """Every field of :meth:`to_dict` but ``allowed``."""
        return {
            "port": self.port,
            "protocol": str(self.protocol),
            "cni": self.cni,
            "enforced": self.enforced,
            "peers": list(self.peers),
        }


def matrix(cluster: Cluster, port: int | str, protocol: Protocol = Protocol.TCP) -> Matrix:
    """Every ordered pair of peers, for one port (number or name) and protocol.

    >>> from npcore.cluster import Cluster, Pod
    >>> from npcore.model import NetworkPolicy
    >>> deny = NetworkPolicy("deny", "x")
    >>> c = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")], policies=[deny])
    >>> m = matrix(c, 80)
    >>> m.allowed("x/a", "x/b"), m.allowed("x/a", "x/a")
    (False, True)
    """
    protocol = Protocol(protocol)  # a plain "TCP" string means the same
    compiled = _compile(cluster)
    n = len(compiled.reps)
    # The number probed at each destination class (None: the named port is not there).
    numbers: list[int | None] = [resolve_port(rep, port, protocol) for rep in compiled.reps]
    reachable = sum_bits(1 << cid for cid, number in enumerate(numbers) if number is not None)
    port_ok = _port_classes(compiled, numbers, protocol)
    egress_row = _egress_rows(compiled, port_ok)
    transposed, open_dsts = _ingress_sources(compiled, port_ok)
    rows = tuple(egress_row[c] & (transposed[c] | open_dsts) for c in range(n))
    names = tuple(peer_name(p) for p in compiled.peers)
    return Matrix(
        port=port,
        protocol=protocol,
        cni=cluster.cni,
        enforced=cluster.enforced,
        peers=names,
        _class_of=compiled.class_of,
        _rows=rows,
        _reachable=reachable,
        _index={name: i for i, name in enumerate(names)},
    )


def _port_classes(compiled: _Compiled, numbers: list[int | None], protocol: Protocol) -> list[int]:
    """Per rule: the destination classes whose probed number its ``ports`` admit (the
    table of :func:`npcore.engine.entry_range`, decided per class)."""
    reps, all_classes = compiled.reps, compiled.all_classes
    by_number: dict[int, int] = {}
    for cid, number in enumerate(numbers):
        if number is not None:
            by_number[number] = by_number.get(number, 0) | 1 << cid
    named_cache: dict[tuple[str, Protocol], int] = {}

    def entry_classes(entry: NetworkPolicyPort) -> int:
        if entry.effective_protocol != protocol:  # admits nothing on this probe
            return 0
        if isinstance(entry.port, str):  # resolved on each destination class
            key = (entry.port, protocol)
            if key not in named_cache:
                named_cache[key] = sum_bits(
                    1 << cid
                    for cid, rep in enumerate(reps)
                    if numbers[cid] is not None
                    and entry_range(entry, rep) == (protocol, numbers[cid], numbers[cid])
                )
            return named_cache[key]
        admitted = entry_range(entry, None)  # the same at every destination
        if admitted is None or admitted[0] != protocol:
            return 0
        if entry.port is None:
            return all_classes
        _, lo, hi = admitted
        return sum_bits(c for number, c in by_number.items() if lo <= number <= hi)

    return [
        sum_bits(entry_classes(e) for e in rule.ports) if rule.ports else all_classes
        for rule in compiled.rules
    ]


def _egress_rows(compiled: _Compiled, port_ok: list[int]) -> list[int]:
    """Per source class: the destination classes its egress side admits."""
    egress_of_policy: dict[int, int] = {}

    def egress_allows(pindex: int) -> int:
        if pindex not in egress_of_policy:
            egress_of_policy[pindex] = sum_bits(
                compiled.rules[r].peers & port_ok[r]
                for r in compiled.policy_rules.get((pindex, PolicyType.EGRESS), [])
            )
        return egress_of_policy[pindex]

    return [
        sum_bits(egress_allows(p) for p in isolating) if isolating else compiled.all_classes
        for isolating in compiled.isolating[PolicyType.EGRESS]
    ]


def _ingress_sources(compiled: _Compiled, port_ok: list[int]) -> tuple[list[int], int]:
    """Per source class, the isolated destination classes whose ingress side admits it;
    and the destination classes not isolated for ingress (they admit every source)."""
    n = len(compiled.reps)
    transposed = [0] * n
    by_sources: dict[int, int] = {}
    open_dsts = 0
    for cid in range(n):
        isolating = compiled.isolating[PolicyType.INGRESS][cid]
        if not isolating:
            open_dsts |= 1 << cid
            continue
        bit = 1 << cid
        sources = 0
        for p in isolating:
            for r in compiled.policy_rules.get((p, PolicyType.INGRESS), []):
                if port_ok[r] & bit:
                    sources |= compiled.rules[r].peers
        by_sources[sources] = by_sources.get(sources, 0) | bit
    for sources, dsts in by_sources.items():
        for src in _bits(sources):
            transposed[src] |= dsts
    return transposed, open_dsts


@dataclass(frozen=True, slots=True)
class ConnectivityMap:
    """For every ordered pair of peers, the ports and protocols on which it is allowed."""

    cni: str
    enforced: bool
    peers: tuple[str, ...]
    _src: tuple[int, ...]  # per peer: its row in _cells
    _dst: tuple[int, ...]  # per peer: its column in _cells
    _cells: tuple[tuple[PortSet, ...], ...]
    _index: Mapping[str, int]

    def ports(self, src: str, dst: str) -> PortSet:
        """The allowed ports from ``src`` to ``dst`` (peer names)."""
        return self.ports_at(self._index[src], self._index[dst])

    def ports_at(self, i: int, j: int) -> PortSet:
        """Same as :meth:`ports`, by peer index."""
        if i == j or not self.enforced:
            return ALL_PORTS
        return self._cells[self._src[i]][self._dst[j]]

    def to_dict(self) -> dict[str, object]:
        """The JSON shape of ``npcore matrix --format json`` without ``--port``.

        Equal cells share one list: treat the result as read-only (it is meant for
        ``json.dump``).
        """
        described: dict[int, list[str]] = {}

        def text(cell: PortSet) -> list[str]:
            key = id(cell)
            if key not in described:
                described[key] = cell.describe()
            return described[key]

        everything = text(ALL_PORTS)
        if self.enforced:
            # One row per distinct source signature, copied for each peer that has it.
            base_rows = [
                {dst: text(cells[self._dst[j]]) for j, dst in enumerate(self.peers)}
                for cells in self._cells
            ]
        else:
            base_rows = [{dst: everything for dst in self.peers}]
        allowed: dict[str, dict[str, list[str]]] = {}
        for i, src in enumerate(self.peers):
            row = dict(base_rows[self._src[i] if self.enforced else 0])
            row[src] = everything  # a pod can always reach itself
            allowed[src] = row
        return {
            "port": None,
            "protocol": None,
            "cni": self.cni,
            "enforced": self.enforced,
            "peers": list(self.peers),
            "allowed": allowed,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text, exactly ``json.dumps(self.to_dict(), indent=2)``,
        written row by row without building the dict (each distinct cell's list once)."""
        head = {
            "port": None,
            "protocol": None,
            "cni": self.cni,
            "enforced": self.enforced,
            "peers": list(self.peers),
            "allowed": None,
        }
        text = json.dumps(head, indent=2)[: -len("null\n}")]
        if not self.peers:
            return text + "{}\n}"
        fragments: dict[int, str] = {}

        def fragment(cell: PortSet) -> str:
            found = fragments.get(id(cell))
            if found is None:
                listed = json.dumps(cell.describe(), indent=2).replace("\n", "\n      ")
                found = fragments[id(cell)] = listed
            return found

        prefixes = [f"      {json.dumps(p)}: " for p in self.peers]
        everything = fragment(ALL_PORTS)
        base_rows: dict[int, list[str]] = {}
        parts = []
        for i, src in enumerate(self.peers):
            signature = self._src[i] if self.enforced else -1
            row = base_rows.get(signature)
            if row is None:
                if self.enforced:
                    cells = self._cells[signature]
                    row = [p + fragment(cells[d]) for p, d in zip(prefixes, self._dst, strict=True)]
                else:
                    row = [p + everything for p in prefixes]
                base_rows[signature] = row
            row = [*row[:i], prefixes[i] + everything, *row[i + 1 :]]
            parts.append(f"    {json.dumps(src)}: {{\n" + ",\n".join(row) + "\n    }")
        return text + "{\n" + ",\n".join(parts) + "\n  }\n}"


def connectivity_map(cluster: Cluster) -> ConnectivityMap:
    """The allowed ports and protocols of every ordered pair of peers.

    >>> from npcore.cluster import Cluster, Pod
    >>> from npcore.model import NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort
    >>> rule = NetworkPolicyIngressRule(ports=(NetworkPolicyPort(port=80),))
    >>> only_80 = NetworkPolicy("web", "x", ingress=(rule,))
    >>> c = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")], policies=[only_80])
    >>> connectivity_map(c).ports("x/a", "x/b").describe()
    ['TCP 80']
    """
    compiled = _compile(cluster)
    rule_masks = {d: _rule_masks(compiled, d) for d in PolicyType}
    ports = _RulePorts(compiled)
    egress_isolated = [bool(x) for x in compiled.isolating[PolicyType.EGRESS]]
    ingress_isolated = [bool(x) for x in compiled.isolating[PolicyType.INGRESS]]
    member = compiled.member
    # A cell depends on its source only through (egress isolation, egress rules, the
    # rules whose peers contain it) and on its destination through (ingress isolation,
    # ingress rules, the rules whose peers contain it, its port list): decide each
    # distinct pair of such signatures once.
    src_sigs: dict[tuple[bool, int, int], int] = {}
    src_of = [
        src_sigs.setdefault(
            (
                egress_isolated[a],
                rule_masks[PolicyType.EGRESS][a] if egress_isolated[a] else 0,
                member[a],
            ),
            len(src_sigs),
        )
        for a in range(len(compiled.reps))
    ]
    dst_sigs: dict[tuple[bool, int, int, int], int] = {}
    dst_rep: list[int] = []
    dst_of: list[int] = []
    for b in range(len(compiled.reps)):
        key = (
            ingress_isolated[b],
            rule_masks[PolicyType.INGRESS][b] if ingress_isolated[b] else 0,
            member[b],
            ports.profile[b],
        )
        if key not in dst_sigs:
            dst_sigs[key] = len(dst_rep)
            dst_rep.append(b)
        dst_of.append(dst_sigs[key])
    meet_cache: dict[tuple[int, int], PortSet] = {}
    grid: list[tuple[PortSet, ...]] = []
    for e_isolated, e_mask, member_a in src_sigs:
        row: list[PortSet] = []
        for b in dst_rep:
            e = ports.union(e_mask & member[b], b) if e_isolated else ALL_PORTS
            if e.is_empty:
                row.append(NO_PORTS)
                continue
            i = (
                ports.union(rule_masks[PolicyType.INGRESS][b] & member_a, b)
                if ingress_isolated[b]
                else ALL_PORTS
            )
            # Port sets live in the caches above, so their ids are stable keys here.
            pair = (id(e), id(i))
            cell = meet_cache.get(pair)
            if cell is None:
                cell = meet_cache[pair] = e.intersection(i)
            row.append(cell)
        grid.append(tuple(row))
    names = tuple(peer_name(p) for p in compiled.peers)
    return ConnectivityMap(
        cni=cluster.cni,
        enforced=cluster.enforced,
        peers=names,
        _src=tuple(src_of[c] for c in compiled.class_of),
        _dst=tuple(dst_of[c] for c in compiled.class_of),
        _cells=tuple(grid),
        _index={name: i for i, name in enumerate(names)},
    )


def _rule_masks(compiled: _Compiled, direction: PolicyType) -> list[int]:
    """Per class: the rules (bit set) of the policies that isolate it for ``direction``."""
    masks = []
    for isolating in compiled.isolating[direction]:
        mask = 0
        for p in isolating:
            for r in compiled.policy_rules.get((p, direction), []):
                mask |= 1 << r
        masks.append(mask)
    return masks


class _RulePorts:
    """The ports a set of rules admits towards a destination class, cached.

    Pods with the same container ports resolve named ports alike: ``profile`` gives one
    id per port list, and only rules with a named port depend on it.
    """

    def __init__(self, compiled: _Compiled) -> None:
        self.rules = compiled.rules
        self.reps = compiled.reps
        self.named_rules = sum_bits(
            1 << rid
            for rid, rule in enumerate(self.rules)
            if any(isinstance(e.port, str) for e in rule.ports)
        )
        profile_ids: dict[tuple[object, ...], int] = {}
        self.profile = [
            profile_ids.setdefault(rep.ports, len(profile_ids)) if isinstance(rep, Pod) else -1
            for rep in self.reps
        ]
        self.cache: dict[tuple[int, int], PortSet] = {}

    def union(self, mask: int, b: int) -> PortSet:
        """The ports that the rules in ``mask`` admit towards class ``b``."""
        key = (mask, self.profile[b] if mask & self.named_rules else -2)
        cached = self.cache.get(key)
        if cached is None:
            entries: list[PortSet] = []
            for r in _bits(mask):
                rule = self.rules[r]
                if not rule.ports:
                    entries = [ALL_PORTS]
                    break
                entries.extend(_entry_ports(entry, self.reps[b]) for entry in rule.ports)
            cached = self.cache[key] = PortSet.union_all(entries)
        return cached
