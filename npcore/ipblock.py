"""``ipBlock`` matching with the standard ``ipaddress`` module.

Rules of this file:

* An address matches an ``IPBlock`` when it lies inside ``cidr`` and outside every
  ``except`` entry.  IPv4 and IPv6 are both supported; an address never matches a block
  of the other family.
* ``cidr`` strings are parsed leniently (host bits may be set, ``10.0.0.1/24`` means
  ``10.0.0.0/24``), as the API server's ``ParseCIDRSloppy`` does.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from npcore.model import IPBlock

__all__ = ["IPNetwork", "ipblock_contains", "ipblock_networks", "parse_network"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=65536)
def parse_network(text: str) -> IPNetwork:
    """Parse a CIDR (host bits allowed).  Raises ``ValueError`` on malformed input."""
    return ipaddress.ip_network(text.strip(), strict=False)


@lru_cache(maxsize=65536)
def parse_address(text: str) -> IPAddress:
    """Parse an IP address.  Raises ``ValueError`` on malformed input."""
    return ipaddress.ip_address(text.strip())


@lru_cache(maxsize=65536)
def ipblock_networks(block: IPBlock) -> tuple[IPNetwork, tuple[IPNetwork, ...]]:
    """``(cidr, excepts)`` parsed."""
    return parse_network(block.cidr), tuple(parse_network(e) for e in block.except_)


def ipblock_contains(block: IPBlock, ip: str) -> bool:
    """Whether ``ip`` is in ``block.cidr`` and in none of ``block.except_``.

    >>> ipblock_contains(IPBlock("10.0.0.0/8", ("10.1.0.0/16",)), "10.2.3.4")
    True
    >>> ipblock_contains(IPBlock("10.0.0.0/8", ("10.1.0.0/16",)), "10.1.3.4")
    False
    """
    address = parse_address(ip)
    cidr, excepts = ipblock_networks(block)
    if address.version != cidr.version or address not in cidr:
        return False
    return not any(address.version == e.version and address in e for e in excepts)
