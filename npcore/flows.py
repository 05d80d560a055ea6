"""Flows: connections named by their peers, the one vocabulary of lessons, grader and CLIs.

Rules of this file:

* A :class:`Flow` names a connection by its peers' names (``namespace/pod``, an external
  endpoint's name, or anything else :meth:`Cluster.peer <npcore.cluster.Cluster.peer>`
  finds), a port (a number 1-65535, or the name of one of the destination pod's container
  ports) and a protocol (TCP unless written).
* Written forms that :meth:`Flow.parse` reads (protocol names in any case):

  =====================================  ==========================================
  text                                   flow
  =====================================  ==========================================
  ``shop/api -> shop/db 3306``           TCP 3306 (the default protocol)
  ``shop/api -> shop/db UDP 53``         protocol before the port
  ``shop/api -> shop/db 53/udp``         protocol after the port, with a slash
  ``user:shop/web:80`` (``:80/UDP``)     the ``npcore-draw --flow`` form
  ``user:shop/web``                      the same, with the caller's default port
  =====================================  ==========================================

* ``str(flow)`` (and ``flow.text``) is ``SRC -> DST PROTOCOL PORT``, which
  :meth:`Flow.parse` reads back to the same flow.
* A flow that cannot be read is a :class:`FlowError` (a ``ValueError``) that says what
  to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from npcore.cluster import Cluster
from npcore.engine import Connection
from npcore.errors import NpcoreError
from npcore.model import Protocol
from npcore.ports import MAX_PORT

__all__ = ["Flow", "FlowError"]

_ARROW = re.compile(
    r"^\s*(?P<src>[^\s>]+)\s*->\s*(?P<dst>[^\s]+)\s+"
    r"(?:(?P<protocol>[A-Za-z]+)\s+)?(?P<port>[A-Za-z0-9-]+)(?:/(?P<slash>[A-Za-z]+))?\s*$"
)
_PORT_TEXT = re.compile(r"^[A-Za-z0-9-]+$")
_HOW = "write it as 'SRC -> DST [PROTOCOL] PORT', e.g. 'shop/api -> shop/db TCP 3306'"


class FlowError(NpcoreError):
    """Text that is not a flow; the message says what to write."""


def _protocol(text: str, written: str) -> Protocol:
    try:
        return Protocol(written.upper())
    except ValueError:
        raise FlowError(
            f"flow {text!r}: unknown protocol {written!r} (use TCP, UDP or SCTP)"
        ) from None


def _port(text: str, written: str) -> int | str:
    if not written or not _PORT_TEXT.match(written):
        raise FlowError(f"flow {text!r}: {written!r} is not a port number or name")
    if not written.isdigit():
        return written
    number = int(written)
    if not 1 <= number <= MAX_PORT:
        raise FlowError(f"flow {text!r}: port {number} must be between 1 and {MAX_PORT}")
    return number


@dataclass(frozen=True, slots=True)
class Flow:
    """A connection named by its peers: ``src -> dst PROTOCOL port``.

    >>> Flow.parse("shop/api -> shop/db 3306")
    Flow(src='shop/api', dst='shop/db', port=3306, protocol=<Protocol.TCP: 'TCP'>)
    >>> str(Flow.parse("user:shop/web:dns/udp"))
    'user -> shop/web UDP dns'
    """

    src: str
    dst: str
    port: int | str
    protocol: Protocol = Protocol.TCP

    def __post_init__(self) -> None:
        # A plain "udp" string means Protocol.UDP; anything else is refused here, once.
        if not isinstance(self.protocol, Protocol):
            object.__setattr__(self, "protocol", _protocol(str(self), str(self.protocol)))

    @classmethod
    def parse(
        cls,
        text: object,
        *,
        default_port: int | str | None = None,
        default_protocol: Protocol | str = Protocol.TCP,
    ) -> Flow:
        """Read one of the written forms of the module docstring; :class:`FlowError`
        with what to write otherwise."""
        if not isinstance(text, str):
            raise FlowError(f"expected a flow written 'SRC -> DST [PROTOCOL] PORT', got {text!r}")
        if "->" in text:
            return cls._parse_arrow(text)
        return cls._parse_colons(text, default_port, default_protocol)

    @classmethod
    def _parse_arrow(cls, text: str) -> Flow:
        match = _ARROW.match(text)
        if match is None:
            raise FlowError(f"cannot read flow {text!r}: {_HOW}")
        if match["protocol"] and match["slash"]:
            raise FlowError(f"flow {text!r}: give the protocol once, e.g. 'UDP 53' or '53/udp'")
        written = match["protocol"] or match["slash"] or "TCP"
        return cls(match["src"], match["dst"], _port(text, match["port"]), _protocol(text, written))

    @classmethod
    def _parse_colons(
        cls, text: str, default_port: int | str | None, default_protocol: Protocol | str
    ) -> Flow:
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts[:2]):
            raise FlowError(f"cannot read flow {text!r}: {_HOW} (or SRC:DST:PORT[/PROTOCOL])")
        protocol = _protocol(text, str(default_protocol))
        port = default_port
        if len(parts) == 3:
            port_text, slash, proto_text = parts[2].strip().partition("/")
            if slash:
                protocol = _protocol(text, proto_text)
            port = _port(text, port_text)
        if port is None:
            raise FlowError(f"flow {text!r}: no port (give SRC:DST:PORT, or a default port)")
        return cls(parts[0].strip(), parts[1].strip(), port, protocol)

    @property
    def text(self) -> str:
        """``SRC -> DST PROTOCOL PORT`` (what :meth:`parse` reads back)."""
        return f"{self.src} -> {self.dst} {self.protocol} {self.port}"

    def __str__(self) -> str:
        return self.text

    def connection(self, cluster: Cluster) -> Connection:
        """The :class:`~npcore.engine.Connection` this flow stands for in ``cluster``;
        :class:`~npcore.cluster.UnknownPeerError` (a ``KeyError``) when a peer is unknown.

        >>> from npcore.cluster import Pod
        >>> c = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")])
        >>> Flow("x/a", "x/b", 80).connection(c).dst.key
        'x/b'
        """
        return Connection(cluster.peer(self.src), cluster.peer(self.dst), self.port, self.protocol)
