"""Sets of (protocol, port) as sorted, merged inclusive ranges.

A ``PortSet`` is what a full connectivity map holds in each cell: the ports and
protocols on which one peer may open a connection to another.  Ports run 1-65535.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from npcore.model import Protocol

__all__ = ["ALL_PORTS", "MAX_PORT", "NO_PORTS", "PROTOCOLS", "PortSet"]

MAX_PORT = 65535
PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
Ranges = tuple[tuple[int, int], ...]
_FULL: Ranges = ((1, MAX_PORT),)


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    """Sort and merge overlapping or adjacent ranges: O(n log n) for n ranges."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    """The ports 1-65535 not in ``ranges`` (sorted and merged)."""
    out: list[tuple[int, int]] = []
    start = 1
    for lo, hi in ranges:
        if lo > start:
            out.append((start, lo - 1))
        start = max(start, hi + 1)
    if start <= MAX_PORT:
        out.append((start, MAX_PORT))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PortSet:
    """Ranges of ports per protocol, in the order TCP, UDP, SCTP.

    >>> PortSet.of(Protocol.TCP, 80).union(PortSet.of(Protocol.UDP)).describe()
    ['TCP 80', 'UDP all']
    """

    tcp: Ranges = ()
    udp: Ranges = ()
    sctp: Ranges = ()

    @classmethod
    def of(
        cls, protocol: Protocol, port: int | None = None, end_port: int | None = None
    ) -> PortSet:
        """One protocol: every port (``port=None``), one port, or ``port``-``end_port``."""
        ranges: Ranges = _FULL if port is None else ((port, end_port or port),)
        return cls.from_ranges({protocol: ranges})

    @classmethod
    def from_ranges(cls, ranges: dict[Protocol, Iterable[tuple[int, int]]]) -> PortSet:
        """Build from ``{protocol: [(lo, hi), ...]}`` (merged and sorted)."""
        return cls(
            _merge(ranges.get(Protocol.TCP, ())),
            _merge(ranges.get(Protocol.UDP, ())),
            _merge(ranges.get(Protocol.SCTP, ())),
        )

    def ranges(self, protocol: Protocol) -> Ranges:
        """The ranges of one protocol."""
        return {Protocol.TCP: self.tcp, Protocol.UDP: self.udp, Protocol.SCTP: self.sctp}[protocol]

    @classmethod
    def union_all(cls, sets: Iterable[PortSet]) -> PortSet:
        """Ports in any of ``sets``, merged once: O(n log n) in the number of ranges,
        where folding :meth:`union` over many sets would be quadratic.

        >>> PortSet.union_all(PortSet.of(Protocol.TCP, p) for p in (82, 80, 81)).describe()
        ['TCP 80-82']
        """
        tcp: list[tuple[int, int]] = []
        udp: list[tuple[int, int]] = []
        sctp: list[tuple[int, int]] = []
        for ports in sets:
            tcp.extend(ports.tcp)
            udp.extend(ports.udp)
            sctp.extend(ports.sctp)
        merged = cls(_merge(tcp), _merge(udp), _merge(sctp))
        # The shared values, so that callers caching by identity see one object.
        if merged.is_all:
            return ALL_PORTS
        return NO_PORTS if merged.is_empty else merged

    def union(self, other: PortSet) -> PortSet:
        """Ports in either set."""
        return PortSet(
            _merge(self.tcp + other.tcp),
            _merge(self.udp + other.udp),
            _merge(self.sctp + other.sctp),
        )

    def intersection(self, other: PortSet) -> PortSet:
        """Ports in both sets."""
        return PortSet(
            _intersect(self.tcp, other.tcp),
            _intersect(self.udp, other.udp),
            _intersect(self.sctp, other.sctp),
        )

    def difference(self, other: PortSet) -> PortSet:
        """Ports in this set and not in ``other``.

        >>> ALL_PORTS.difference(PortSet.of(Protocol.TCP, 80)).describe()
        ['TCP 1-79', 'TCP 81-65535', 'UDP all', 'SCTP all']
        """
        return PortSet(
            _intersect(self.tcp, _complement(other.tcp)),
            _intersect(self.udp, _complement(other.udp)),
            _intersect(self.sctp, _complement(other.sctp)),
        )

    def contains(self, protocol: Protocol, port: int) -> bool:
        """Whether ``port``/``protocol`` is in the set (a binary search of the ranges)."""
        ranges = self.ranges(protocol)
        i = bisect_right(ranges, (port, MAX_PORT + 1)) - 1
        return i >= 0 and ranges[i][0] <= port <= ranges[i][1]

    @property
    def is_empty(self) -> bool:
        """No port at all."""
        return not (self.tcp or self.udp or self.sctp)

    @property
    def is_all(self) -> bool:
        """Every port of every protocol."""
        return self.tcp == _FULL and self.udp == _FULL and self.sctp == _FULL

    def describe(self) -> list[str]:
        """``["all"]``, ``[]``, or entries like ``"TCP 80"``, ``"TCP 1-79"``, ``"UDP all"``."""
        if self.is_all:
            return ["all"]
        out: list[str] = []
        for protocol in PROTOCOLS:
            for lo, hi in self.ranges(protocol):
                if (lo, hi) == (1, MAX_PORT):
                    out.append(f"{protocol} all")
                elif lo == hi:
                    out.append(f"{protocol} {lo}")
                else:
                    out.append(f"{protocol} {lo}-{hi}")
        return out


ALL_PORTS = PortSet(_FULL, _FULL, _FULL)
NO_PORTS = PortSet()
