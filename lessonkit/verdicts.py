"""What a flow diagram shows, decided by npcore and drawn by nothing: flows, arrows
(one verdict each), and the :class:`FlowDiagram` value that the drawing
(:mod:`lessonkit.diagrams`), the widgets, the text alternative and the tests all read.

Rules of this file:

* Every decision comes from :func:`npcore.is_allowed`; :func:`compute_diagram` is pure.
* Allowed and denied are told apart by colour AND line style (Okabe-Ito palette, safe
  for colour-blind readers): allowed is blue and solid, denied is vermillion and dashed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from npcore import Cluster, Connection, External, Pod, PolicyType, Protocol, is_allowed
from npcore.engine import policy_selects
from npcore.explain import explain_text

__all__ = [
    "ALLOWED_COLOR",
    "ALLOWED_STYLE",
    "DENIED_COLOR",
    "DENIED_STYLE",
    "Arrow",
    "Flow",
    "FlowDiagram",
    "arrow_for",
    "compute_diagram",
    "connection_for",
    "isolation",
]

# Okabe-Ito palette (Okabe & Ito, "Color Universal Design").
ALLOWED_COLOR = "#0072B2"  # blue
DENIED_COLOR = "#D55E00"  # vermillion
ALLOWED_STYLE = "-"
DENIED_STYLE = "--"


@dataclass(frozen=True)
class Flow:
    """A connection to draw: ``src`` and ``dst`` are npcore peer names (``ns/pod`` or an
    external's name); ``port`` is a number or a named container port of ``dst``."""

    src: str
    dst: str
    port: int | str
    protocol: str = "TCP"
    label: str | None = None

    @classmethod
    def parse(
        cls, text: str, default_port: int | str | None = None, default_protocol: str = "TCP"
    ) -> Flow:
        """``SRC:DST[:PORT[/PROTOCOL]]``, as ``npcore-draw --flow`` takes it.

        >>> Flow.parse("user:shop/web:80")
        Flow(src='user', dst='shop/web', port=80, protocol='TCP', label=None)
        >>> Flow.parse("shop/web:shop/db:mysql/tcp")
        Flow(src='shop/web', dst='shop/db', port='mysql', protocol='TCP', label=None)
        """
        parts = text.split(":")
        if len(parts) not in (2, 3) or not all(parts[:2]):
            raise ValueError(f"flow {text!r}: expected SRC:DST or SRC:DST:PORT[/PROTOCOL]")
        protocol = default_protocol.upper()
        port: int | str | None = default_port
        if len(parts) == 3:
            port_text, _, proto_text = parts[2].partition("/")
            if proto_text:
                protocol = proto_text.upper()
            port = int(port_text) if port_text.isdigit() else port_text
            if not port_text:
                raise ValueError(f"flow {text!r}: empty port")
        if port is None:
            raise ValueError(f"flow {text!r}: no port (give SRC:DST:PORT or --port)")
        if protocol not in Protocol.__members__:
            raise ValueError(f"flow {text!r}: protocol must be TCP, UDP or SCTP")
        return cls(parts[0], parts[1], port, protocol)

    @property
    def name(self) -> str:
        """``src -> dst PROTO PORT`` (plus the label, if any)."""
        text = f"{self.src} -> {self.dst} {self.protocol} {self.port}"
        return f"{text} ({self.label})" if self.label else text


@dataclass(frozen=True)
class Arrow:
    """One flow and its verdict, as drawn."""

    flow: Flow
    allowed: bool
    blocked_by: tuple[str, ...]  # subset of ("egress", "ingress"); empty if allowed
    color: str
    linestyle: str
    explanation: str
    policy_allows: bool = True
    port: int | None = None  # the resolved port number (None: named port undefined)

    def line(self, cni: str = "") -> str:
        """The text-alternative line for this arrow."""
        src, dst = self.flow.src, self.flow.dst
        port = f"{self.flow.port}"
        if isinstance(self.flow.port, str) and self.port is not None:
            port = f"{self.flow.port} ({self.port})"
        head = f"{src} -> {dst} {self.flow.protocol} {port}"
        if self.flow.label:
            head = f"{head} [{self.flow.label}]"
        if self.allowed:
            if not self.policy_allows:
                return f"{head}: ALLOWED (policies would deny it, but {cni} does not enforce them)"
            return f"{head}: ALLOWED"
        if self.port is None:
            return f"{head}: DENIED (no port named {self.flow.port!r} on {dst})"
        sides = []
        if "egress" in self.blocked_by:
            sides.append(f"egress of {src}")
        if "ingress" in self.blocked_by:
            sides.append(f"ingress of {dst}")
        return f"{head}: DENIED ({' and '.join(sides)})"


@dataclass(frozen=True)
class FlowDiagram:
    """What a flow diagram shows: the arrows, the CNI, and which pods are isolated."""

    arrows: tuple[Arrow, ...]
    enforced: bool
    cni: str
    isolated: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # (ingress, egress)

    def text(self) -> str:
        """The text alternative: one line per arrow, the isolated pods, then the CNI."""
        lines = [a.line(self.cni) for a in self.arrows]
        for pod, (ingress, egress) in self.isolated.items():
            sides = [d for d, on in (("ingress", ingress), ("egress", egress)) if on]
            if sides and self.enforced:
                lines.append(f"{pod} is isolated for {' and '.join(sides)}")
            elif sides:
                lines.append(
                    f"{pod} would be isolated for {' and '.join(sides)} "
                    f"(not enforced by {self.cni})"
                )
        if self.enforced:
            lines.append(f"CNI: {self.cni} (enforces NetworkPolicy)")
        else:
            lines.append(
                f"CNI: {self.cni}: policies NOT enforced by {self.cni}; every connection is allowed"
            )
        return "\n".join(lines)

    def arrow(self, src: str, dst: str) -> Arrow:
        """The first arrow from ``src`` to ``dst``; ``KeyError`` if there is none."""
        for a in self.arrows:
            if a.flow.src == src and a.flow.dst == dst:
                return a
        raise KeyError(f"{src} -> {dst}")

    @property
    def summary(self) -> str:
        """``3 of 4 connections allowed``."""
        allowed = sum(a.allowed for a in self.arrows)
        return f"{allowed} of {len(self.arrows)} connections allowed"


# --- deciding -----------------------------------------------------------------------------


def _peer(cluster: Cluster, name: str) -> Pod | External:
    try:
        return cluster.pod(name) if "/" in name else cluster.external(name)
    except KeyError:
        known = ", ".join(p.key for p in cluster.peers()) or "none"
        raise ValueError(f"unknown peer {name!r} in a flow; known peers: {known}") from None


def connection_for(cluster: Cluster, flow: Flow) -> Connection:
    """The npcore Connection a flow stands for."""
    try:
        protocol = Protocol(flow.protocol.upper())
    except ValueError:
        raise ValueError(
            f"flow {flow.name}: protocol must be TCP, UDP or SCTP, not {flow.protocol!r}"
        ) from None
    return Connection(_peer(cluster, flow.src), _peer(cluster, flow.dst), flow.port, protocol)


def isolation(cluster: Cluster) -> dict[str, tuple[bool, bool]]:
    """``pod -> (isolated for ingress, isolated for egress)`` for every pod."""
    out: dict[str, tuple[bool, bool]] = {}
    for pod in cluster.pods:
        ingress = egress = False
        for policy in cluster.policies:
            if not policy_selects(policy, pod):
                continue
            types = policy.effective_policy_types()
            ingress = ingress or PolicyType.INGRESS in types
            egress = egress or PolicyType.EGRESS in types
        out[pod.key] = (ingress, egress)
    return out


def arrow_for(cluster: Cluster, flow: Flow) -> Arrow:
    """Decide one flow with npcore and describe how to draw it."""
    verdict = is_allowed(cluster, connection_for(cluster, flow))
    blocked: tuple[str, ...] = ()
    if not verdict.allowed and verdict.port is not None:
        blocked = tuple(
            side
            for side, dv in (("egress", verdict.egress), ("ingress", verdict.ingress))
            if not dv.allowed
        )
    return Arrow(
        flow=flow,
        allowed=verdict.allowed,
        blocked_by=blocked,
        color=ALLOWED_COLOR if verdict.allowed else DENIED_COLOR,
        linestyle=ALLOWED_STYLE if verdict.allowed else DENIED_STYLE,
        explanation=explain_text(verdict),
        policy_allows=verdict.policy_allows,
        port=verdict.port,
    )


def compute_diagram(cluster: Cluster, flows: Iterable[Flow]) -> FlowDiagram:
    """Decide every flow; pure (no drawing)."""
    return FlowDiagram(
        arrows=tuple(arrow_for(cluster, f) for f in flows),
        enforced=cluster.enforced,
        cni=cluster.cni,
        isolated=isolation(cluster),
    )
