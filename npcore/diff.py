"""What changes between two clusters: every ordered pair whose allowed ports differ.

Rules of this file:

* Both clusters must have the same peers (the same pods and externals, by name); they
  typically differ only in their policies (``npcore diff``) or their CNI.
* The allowed ports of each pair come from :func:`npcore.reachability.connectivity_map`
  on each cluster; a pair is reported when the two :class:`PortSet` values differ.
* ``gained`` = after minus before, ``lost`` = before minus after.
* Changes are listed in the peers' order: by source, then by destination.
"""

from __future__ import annotations

from dataclasses import dataclass

from npcore.cluster import Cluster
from npcore.ports import MAX_PORT, PROTOCOLS, PortSet, Ranges
from npcore.reachability import connectivity_map

__all__ = ["Change", "diff", "diff_dict", "diff_text", "port_difference"]


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 1
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= MAX_PORT:
        out.append((start, MAX_PORT))
    return tuple(out)


def port_difference(a: PortSet, b: PortSet) -> PortSet:
    """The ports in ``a`` and not in ``b``.

    >>> from npcore.model import Protocol
    >>> from npcore.ports import ALL_PORTS
    >>> port_difference(ALL_PORTS, PortSet.of(Protocol.TCP, 80)).describe()
    ['TCP 1-79', 'TCP 81-65535', 'UDP all', 'SCTP all']
    """
    complement = PortSet.from_ranges({p: _complement(b.ranges(p)) for p in PROTOCOLS})
    return a.intersection(complement)


def _describe(ports: PortSet) -> str:
    return ", ".join(ports.describe()) or "none"


@dataclass(frozen=True, slots=True)
class Change:
    """One ordered pair whose allowed ports differ between the two clusters."""

    src: str
    dst: str
    before: PortSet
    after: PortSet

    @property
    def gained(self) -> PortSet:
        """Ports allowed after and not before."""
        return port_difference(self.after, self.before)

    @property
    def lost(self) -> PortSet:
        """Ports allowed before and not after."""
        return port_difference(self.before, self.after)

    def text(self) -> str:
        """``x/a -> x/b: before TCP 80; after all (gained: TCP 1-79, ...)``."""
        notes = []
        if not self.gained.is_empty:
            notes.append(f"gained: {_describe(self.gained)}")
        if not self.lost.is_empty:
            notes.append(f"lost: {_describe(self.lost)}")
        return (
            f"{self.src} -> {self.dst}: before {_describe(self.before)}; "
            f"after {_describe(self.after)} ({'; '.join(notes)})"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-able: ``from``, ``to``, and port lists as ``PortSet.describe()`` gives them."""
        return {
            "from": self.src,
            "to": self.dst,
            "before": self.before.describe(),
            "after": self.after.describe(),
            "gained": self.gained.describe(),
            "lost": self.lost.describe(),
        }


def diff(cluster_a: Cluster, cluster_b: Cluster) -> list[Change]:
    """Every ordered pair of peers whose allowed ports differ from ``a`` to ``b``.

    ``ValueError`` when the clusters do not have the same peers.

    >>> from npcore.cluster import Pod
    >>> from npcore.model import NetworkPolicy
    >>> a = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")])
    >>> for change in diff(a, a.with_policies([NetworkPolicy("deny", "x")])):
    ...     print(change.text())
    x/a -> x/b: before all; after none (lost: all)
    x/b -> x/a: before all; after none (lost: all)
    """
    map_a = connectivity_map(cluster_a)
    map_b = connectivity_map(cluster_b)
    if map_a.peers != map_b.peers:
        only_a = sorted(set(map_a.peers) - set(map_b.peers))
        only_b = sorted(set(map_b.peers) - set(map_a.peers))
        detail = []
        if only_a:
            detail.append(f"only in the first: {', '.join(only_a)}")
        if only_b:
            detail.append(f"only in the second: {', '.join(only_b)}")
        if not detail:
            detail.append("the same peers in another order")
        raise ValueError("the two clusters do not have the same peers (" + "; ".join(detail) + ")")
    changes = []
    for i, src in enumerate(map_a.peers):
        for j, dst in enumerate(map_a.peers):
            before = map_a.ports_at(i, j)
            after = map_b.ports_at(i, j)
            if before != after:
                changes.append(Change(src, dst, before, after))
    return changes


def diff_text(changes: list[Change]) -> str:
    """One line per change, or ``no difference``."""
    if not changes:
        return "no difference"
    return "\n".join(c.text() for c in changes)


def diff_dict(changes: list[Change]) -> dict[str, object]:
    """``{"count": N, "changes": [Change.to_dict(), ...]}``."""
    return {"count": len(changes), "changes": [c.to_dict() for c in changes]}
