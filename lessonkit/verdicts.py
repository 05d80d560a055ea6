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
from typing import Literal

from npcore import Cluster, Connection, Protocol, is_allowed
from npcore.engine import isolation as _isolation
from npcore.explain import explain_text
from npcore.flows import Flow as _NpcoreFlow

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
ALLOWED_STYLE: Literal["-"] = "-"
DENIED_STYLE: Literal["--"] = "--"


@dataclass(frozen=True, slots=True)
class Flow(_NpcoreFlow):
    """npcore's :class:`~npcore.flows.Flow` (``src``, ``dst``, ``port``, ``protocol``)
    with a ``label`` for the picture; every decision about it is npcore's.

    >>> Flow.parse("user:shop/web:80")
    Flow(src='user', dst='shop/web', port=80, protocol=<Protocol.TCP: 'TCP'>, label=None)
    >>> Flow.parse("shop/web:shop/db:mysql/tcp").text
    'shop/web -> shop/db TCP mysql'
    """

    label: str | None = None

    @classmethod
    def parse(
        cls,
        text: object,
        default_port: int | str | None = None,
        default_protocol: Protocol | str = Protocol.TCP,
    ) -> Flow:
        """npcore's :meth:`~npcore.flows.Flow.parse` (the defaults may be positional)."""
        flow = _NpcoreFlow.parse(text, default_port=default_port, default_protocol=default_protocol)
        return cls(flow.src, flow.dst, flow.port, flow.protocol)

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
            if sides:
                lines.append(f"{pod} is isolated for {' and '.join(sides)}")
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


def connection_for(cluster: Cluster, flow: Flow) -> Connection:
    """The npcore Connection a flow stands for (npcore's peer lookup and its error for an
    unknown name, which lists the known peers)."""
    return flow.connection(cluster)


def isolation(cluster: Cluster) -> dict[str, tuple[bool, bool]]:
    """``pod -> (isolated for ingress, isolated for egress)`` for every pod, as
    :func:`npcore.engine.isolation` decides (nothing is isolated on a CNI that does not
    enforce policies)."""
    out: dict[str, tuple[bool, bool]] = {}
    for pod in cluster.pods:
        isolated = _isolation(cluster, pod)
        out[pod.key] = (isolated.ingress, isolated.egress)
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
