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
from npcore.ports import PortSet
from npcore.reachability import ConnectivityMap, connectivity_map

__all__ = ["Change", "diff", "diff_dict", "diff_maps", "diff_text", "port_difference"]


def port_difference(a: PortSet, b: PortSet) -> PortSet:
    """The ports in ``a`` and not in ``b``: :meth:`PortSet.difference` (the name kept for
    callers written before it)."""
    return a.difference(b)


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
        return self.after.difference(self.before)

    @property
    def lost(self) -> PortSet:
        """Ports allowed before and not after."""
        return self.before.difference(self.after)

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
    return diff_maps(connectivity_map(cluster_a), connectivity_map(cluster_b))


def diff_maps(map_a: ConnectivityMap, map_b: ConnectivityMap) -> list[Change]:
    """Every ordered pair of peers whose allowed ports differ from ``map_a`` to ``map_b``,
    by source then destination in the peers' order; ``ValueError`` when the two maps do
    not have the same peers in the same order.

    >>> from npcore.cluster import Pod
    >>> from npcore.model import NetworkPolicy
    >>> a = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")])
    >>> b = a.with_policies([NetworkPolicy("deny", "x")])
    >>> [c.text() for c in diff_maps(connectivity_map(a), connectivity_map(b))][0]
    'x/a -> x/b: before all; after none (lost: all)'
    """
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
