"""``ipBlock`` matching with the standard ``ipaddress`` module.

Rules of this file:

* An address matches an ``IPBlock`` when it lies inside ``cidr`` and outside every
  ``except`` entry.  IPv4 and IPv6 are both supported; an address never matches a block
  of the other family.
* CIDRs are parsed in one place, :func:`parse_cidr`, as the API server's
  ``ParseCIDRSloppy`` does for the legacy ``ipBlock`` fields: host bits may be set
  (``10.0.0.1/24`` means ``10.0.0.0/24``), a prefix length is required, and IPv4 octets
  with leading zeros are refused (core/validation/ips.go).  Validation reports the
  reason; :func:`parse_network` raises it.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from npcore.model import IPBlock

__all__ = [
    "CIDR_INVALID",
    "IPNetwork",
    "ipblock_contains",
    "ipblock_networks",
    "parse_cidr",
    "parse_network",
]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CIDR_SHAPE_RE = re.compile(r"[0-9A-Fa-f:.]+/[0-9]+")
CIDR_INVALID = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_CIDR_LEADING_ZEROS = "must not have leading 0s in IP or prefix length"
_IPV4_LEADING_ZERO_RE = re.compile(r"(^|\.)0[0-9]")


def parse_cidr(value: str) -> tuple[IPNetwork | None, str | None]:
    """Parse a CIDR as ``ParseCIDRSloppy`` does: ``(network, None)`` or ``(None, why)``.

    Host bits may be set; the address part must be followed by ``/`` and a prefix length.

    >>> parse_cidr("10.0.0.1/8")[0], parse_cidr("010.0.0.0/8")[1]
    (IPv4Network('10.0.0.0/8'), 'must not have leading 0s in IP or prefix length')
    """
    if _CIDR_SHAPE_RE.fullmatch(value) is None:
        return None, CIDR_INVALID
    address, _, length = value.partition("/")
    if len(length) > 3:
        return None, CIDR_INVALID
    if "." in address and _IPV4_LEADING_ZERO_RE.search(address.rpartition(":")[2]):
        try:
            ipaddress.ip_network(_strip_zeros(address) + "/" + length, strict=False)
        except ValueError:
            return None, CIDR_INVALID
        return None, _CIDR_LEADING_ZEROS
    try:
        return ipaddress.ip_network(value, strict=False), None
    except ValueError:
        return None, CIDR_INVALID


def _strip_zeros(address: str) -> str:
    head, sep, tail = address.rpartition(":")
    octets = [o.lstrip("0") or "0" for o in tail.split(".")]
    return head + sep + ".".join(octets)


@lru_cache(maxsize=65536)
def parse_network(text: str) -> IPNetwork:
    """Parse a CIDR with :func:`parse_cidr`; ``ValueError`` with the reason if it is not one."""
    network, why = parse_cidr(text.strip())
    if network is None:
        raise ValueError(f"{text!r} {why}")
    return network


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
