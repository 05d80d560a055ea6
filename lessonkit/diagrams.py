"""Flow diagrams drawn from npcore's verdicts (matplotlib, never by hand).

Rules of this file:

* Every decision comes from :func:`npcore.is_allowed`; :func:`compute_diagram` is pure and
  returns a :class:`FlowDiagram` value that the drawing, the text alternative and the
  tests all read.
* Allowed and denied are told apart by colour AND line style (Okabe-Ito palette, safe
  for colour-blind readers): allowed is blue and solid, denied is vermillion and dashed.
  The side that blocks a denied connection (the source's egress, the destination's
  ingress, or both) carries a cross marker on its half of the arrow.
* Every pod shows two lamps, ``in`` and ``out``: filled when the pod is isolated for that
  direction, hollow when it is not (fill, not colour, carries the meaning).
* On a CNI that does not enforce NetworkPolicy a banner says so, and every arrow is
  allowed, as it is in such a cluster.
* Plot helpers take an ``ax``.  Rendering to bytes uses a bare :class:`Figure` with the
  Agg canvas, so nothing here depends on pyplot or on the notebook's backend.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

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
    "FlowCanvas",
    "FlowDiagram",
    "compute_diagram",
    "draw_flows",
    "draw_matrix",
    "flow_figure",
    "isolation",
    "render",
    "render_png",
    "render_svg",
]

# Okabe-Ito palette (Okabe & Ito, "Color Universal Design").
ALLOWED_COLOR = "#0072B2"  # blue
DENIED_COLOR = "#D55E00"  # vermillion
BANNER_COLOR = "#F0E442"  # yellow
POD_FILL = "#E8F1FA"
EXTERNAL_FILL = "#FFF3D1"
NAMESPACE_FILL = "#F4F4F4"
LAMP_ON = "#222222"
ALLOWED_STYLE = "-"
DENIED_STYLE = "--"

# Layout, in data units.
_BOX_W, _BOX_H = 1.7, 1.0
_COL_STEP, _ROW_STEP = 2.5, 1.7
_PER_ROW = 5
_NS_PAD = 0.45
_NS_HEADER = 0.45
_NS_GAP = 0.5
_EXTERNAL_X = 0.0
_CLUSTER_X = 3.2


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


# --- layout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    centers: dict[str, tuple[float, float]]
    namespaces: tuple[tuple[str, float, float, float, float], ...]  # name, x0, y0, x1, y1
    xlim: tuple[float, float]
    ylim: tuple[float, float]


def _layout(cluster: Cluster, flows: Sequence[Flow]) -> _Layout:
    """Externals in a column on the left; each namespace a band of pods on the right."""
    by_ns: dict[str, list[Pod]] = {}
    for pod in cluster.pods:
        by_ns.setdefault(pod.namespace, []).append(pod)
    centers: dict[str, tuple[float, float]] = {}
    bands: list[tuple[str, float, float, float, float]] = []
    y_top = 0.0
    widest = 1
    for ns, pods in by_ns.items():
        per_row = min(len(pods), _PER_ROW)
        widest = max(widest, per_row)
        rows = math.ceil(len(pods) / per_row)
        y0 = y_top - _NS_HEADER - _NS_PAD - _BOX_H / 2
        for i, pod in enumerate(pods):
            row, col = divmod(i, per_row)
            centers[pod.key] = (_CLUSTER_X + col * _COL_STEP, y0 - row * _ROW_STEP)
        y_bottom = y0 - (rows - 1) * _ROW_STEP - _BOX_H / 2 - _NS_PAD
        x1 = _CLUSTER_X + (per_row - 1) * _COL_STEP + _BOX_W / 2 + _NS_PAD
        bands.append((ns, _CLUSTER_X - _BOX_W / 2 - _NS_PAD, y_bottom, x1, y_top))
        y_top = y_bottom - _NS_GAP
    cluster_bottom = min((b[2] for b in bands), default=-_ROW_STEP)
    externals = list(cluster.externals)
    if externals:
        span = (len(externals) - 1) * _ROW_STEP
        mid = cluster_bottom / 2
        for i, ext in enumerate(externals):
            centers[ext.key] = (_EXTERNAL_X, mid + span / 2 - i * _ROW_STEP)
    ys = [c[1] for c in centers.values()] or [0.0]
    top = max(0.0, max(ys) + _BOX_H)
    bottom = min(cluster_bottom, min(ys) - _BOX_H)
    x_right = _CLUSTER_X + (widest - 1) * _COL_STEP + _BOX_W / 2 + _NS_PAD + 0.8
    x_left = (_EXTERNAL_X if externals else _CLUSTER_X) - _BOX_W / 2 - 0.5
    return _Layout(centers, tuple(bands), (x_left, x_right), (bottom - 0.4, top + 0.9))


def _bezier(p0: tuple[float, float], c: tuple[float, float], p2: tuple[float, float], t: float):
    u = 1 - t
    return (
        u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0],
        u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1],
    )


def _inside(point: tuple[float, float], center: tuple[float, float], pad: float = 0.06) -> bool:
    return (
        abs(point[0] - center[0]) <= _BOX_W / 2 + pad
        and abs(point[1] - center[1]) <= _BOX_H / 2 + pad
    )


@dataclass(frozen=True)
class _Curve:
    start: tuple[float, float]
    control: tuple[float, float]
    end: tuple[float, float]

    def at(self, t: float) -> tuple[float, float]:
        return _bezier(self.start, self.control, self.end, t)


def _curve(a: tuple[float, float], b: tuple[float, float], rad: float) -> _Curve:
    """The part of an arc from box ``a`` to box ``b`` outside both boxes."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    c = (mid[0] + rad * dy, mid[1] - rad * dx)
    steps = 120
    t0, t1 = 0.0, 1.0
    for i in range(steps + 1):
        t = i / steps
        if not _inside(_bezier(a, c, b, t), a):
            t0 = t
            break
    for i in range(steps, -1, -1):
        t = i / steps
        if not _inside(_bezier(a, c, b, t), b):
            t1 = t
            break
    if t1 <= t0:
        t0, t1 = 0.0, 1.0

    def blossom(s: float, u: float) -> tuple[float, float]:
        w0, w1, w2 = (1 - s) * (1 - u), (1 - s) * u + s * (1 - u), s * u
        return (w0 * a[0] + w1 * c[0] + w2 * b[0], w0 * a[1] + w1 * c[1] + w2 * b[1])

    return _Curve(blossom(t0, t0), blossom(t0, t1), blossom(t1, t1))


# --- drawing ------------------------------------------------------------------------------


def _draw_box(ax: Axes, key: str, center: tuple[float, float], title: str, sub: str, *, fill: str):
    x, y = center
    ax.add_artist(
        FancyBboxPatch(
            (x - _BOX_W / 2, y - _BOX_H / 2),
            _BOX_W,
            _BOX_H,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=fill,
            edgecolor="#333333",
            linewidth=1.2,
            gid=f"box:{key}",
            zorder=3,
        )
    )
    ax.text(x, y + 0.24, title, ha="center", va="center", fontsize=9, weight="bold", zorder=4)
    ax.text(x, y - 0.02, sub, ha="center", va="center", fontsize=7, color="#444444", zorder=4)


def _lamp_positions(center: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    x, y = center
    return ((x - 0.42, y - 0.3), (x + 0.12, y - 0.3))


def _draw_lamp_labels(ax: Axes, center: tuple[float, float]) -> None:
    for (lx, ly), label in zip(_lamp_positions(center), ("in", "out"), strict=True):
        ax.text(lx + 0.1, ly, label, fontsize=6.5, va="center", ha="left", zorder=4)


def _draw_lamps(ax: Axes, key: str, center: tuple[float, float], ingress: bool, egress: bool):
    """Two lamps: filled when the pod is isolated for that direction, hollow when not."""
    for (lx, ly), label, on in zip(
        _lamp_positions(center), ("in", "out"), (ingress, egress), strict=True
    ):
        ax.add_artist(
            Line2D(
                [lx],
                [ly],
                marker="o",
                markersize=6.5,
                markerfacecolor=LAMP_ON if on else "white",
                markeredgecolor=LAMP_ON,
                linestyle="none",
                gid=f"lamp:{key}:{label}:{'on' if on else 'off'}",
                zorder=5,
            )
        )


def _pod_subtitle(pod: Pod) -> str:
    ports = ", ".join(
        f"{p.name}:{p.port}" if p.name else f"{p.port}" for p in pod.ports if p is not None
    )
    return ports or pod.ip or ""


def draw_flows(
    ax: Axes,
    cluster: Cluster,
    flows: Iterable[Flow],
    *,
    title: str | None = None,
    legend: bool = True,
) -> FlowDiagram:
    """Draw ``flows`` on ``ax`` as npcore decides them on ``cluster``; return the diagram.

    Artists carry ``gid`` values that name what they show (``arrow:SRC->DST:PORT``,
    ``block:egress:SRC->DST:PORT``, ``lamp:POD:in:on``, ``banner``) so tests and tools
    can find them.
    """
    flow_list = list(flows)
    diagram = compute_diagram(cluster, flow_list)
    layout = _layout(cluster, flow_list)
    curves = _curves(layout, flow_list)
    _draw_scene(ax, cluster, layout, title=title, legend=legend, banner_room=not diagram.enforced)
    _draw_verdicts(ax, cluster, layout, diagram, curves)
    return diagram


def _draw_scene(
    ax: Axes,
    cluster: Cluster,
    layout: _Layout,
    *,
    title: str | None,
    legend: bool,
    banner_room: bool,
) -> None:
    """What does not depend on policies or the CNI: namespaces, boxes, the lamps'
    labels, the legend, the title."""
    ax.set_xlim(*layout.xlim)
    bottom, top = layout.ylim
    ax.set_ylim(bottom, top if banner_room else top - 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    for ns, x0, y0, x1, y1 in layout.namespaces:
        ax.add_artist(
            FancyBboxPatch(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                boxstyle="round,pad=0,rounding_size=0.2",
                facecolor=NAMESPACE_FILL,
                edgecolor="#888888",
                linewidth=1,
                linestyle=":",
                gid=f"namespace:{ns}",
                zorder=1,
            )
        )
        ax.text(x0 + 0.15, y1 - 0.25, f"namespace {ns}", fontsize=9, style="italic", zorder=2)
    for pod in cluster.pods:
        _draw_box(ax, pod.key, layout.centers[pod.key], pod.name, _pod_subtitle(pod), fill=POD_FILL)
        _draw_lamp_labels(ax, layout.centers[pod.key])
    for ext in cluster.externals:
        _draw_box(ax, ext.key, layout.centers[ext.key], ext.name, ext.ip, fill=EXTERNAL_FILL)
    if cluster.externals:
        top = max(layout.centers[e.key][1] for e in cluster.externals)
        ax.text(
            _EXTERNAL_X, top + _BOX_H / 2 + 0.25, "outside the cluster", ha="center", fontsize=8
        )
    if title:
        ax.set_title(title, fontsize=11)
    if legend:
        _legend(ax)


def _draw_verdicts(
    ax: Axes, cluster: Cluster, layout: _Layout, diagram: FlowDiagram, curves: Sequence[_Curve]
) -> None:
    """What the policies and the CNI decide: lamps, arrows, blocking marks, the banner.

    Everything here has a zorder above everything :func:`_draw_scene` draws, so a
    :class:`FlowCanvas` can draw it over a cached picture of the scene.
    """
    for pod in cluster.pods:
        ingress, egress = diagram.isolated.get(pod.key, (False, False))
        _draw_lamps(ax, pod.key, layout.centers[pod.key], ingress, egress)
    for arrow, curve in zip(diagram.arrows, curves, strict=True):
        _draw_arrow(ax, arrow, curve)
        _draw_flow_label(ax, arrow, curve)
    if not diagram.enforced:
        ax.text(
            0.5,
            0.985,
            f"Policies NOT enforced by {diagram.cni}: every connection is allowed",
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=10,
            weight="bold",
            bbox={"boxstyle": "round", "facecolor": BANNER_COLOR, "edgecolor": "#333333"},
            gid="banner",
            zorder=10,
        )


def _curves(layout: _Layout, flows: Sequence[Flow]) -> list[_Curve]:
    """The path of each flow's arrow; several flows between one pair bend apart."""
    seen: dict[tuple[str, str], int] = {}
    curves = []
    for flow in flows:
        a, b = layout.centers[flow.src], layout.centers[flow.dst]
        key = (flow.src, flow.dst)
        k = seen.get(key, 0)
        seen[key] = k + 1
        if key[0] == key[1]:
            # A pod to itself: a small loop above the box.
            a = (a[0] - 0.35, a[1] + _BOX_H / 2)
            b = (b[0] + 0.35, b[1] + _BOX_H / 2)
            curves.append(_Curve(a, (a[0] + 0.35, a[1] + 0.9 + 0.3 * k), b))
        else:
            curves.append(_curve(a, b, -0.3 - 0.14 * k))
    return curves


def _flow_name(flow: Flow) -> str:
    return f"{flow.src}->{flow.dst}:{flow.port}"


def _draw_flow_label(ax: Axes, arrow: Arrow, curve: _Curve) -> None:
    """The port (and label) on the middle of the arrow, in the arrow's colour."""
    flow = arrow.flow
    mx, my = curve.at(0.5)
    ax.text(
        mx,
        my,
        f"{flow.protocol} {flow.port}" + (f"\n{flow.label}" if flow.label else ""),
        ha="center",
        va="center",
        fontsize=7,
        color=arrow.color,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        zorder=7,
    )


def _draw_arrow(ax: Axes, arrow: Arrow, curve: _Curve) -> None:
    name = _flow_name(arrow.flow)
    path = Path([curve.start, curve.control, curve.end], [Path.MOVETO, Path.CURVE3, Path.CURVE3])
    ax.add_artist(
        FancyArrowPatch(
            path=path,
            arrowstyle="-|>,head_length=6,head_width=3.5",
            color=arrow.color,
            linestyle=arrow.linestyle,
            linewidth=1.8,
            gid=f"arrow:{name}",
            zorder=6,
        )
    )
    for side, t in (("egress", 0.22), ("ingress", 0.78)):
        if side not in arrow.blocked_by:
            continue
        mx, my = curve.at(t)
        ax.add_artist(
            Line2D(
                [mx],
                [my],
                marker="X",
                markersize=10,
                color=DENIED_COLOR,
                markeredgecolor="white",
                linestyle="none",
                gid=f"block:{side}:{name}",
                zorder=8,
            )
        )
        ax.text(
            mx, my + 0.22, f"{side} blocks", ha="center", fontsize=6.5, color=DENIED_COLOR, zorder=8
        )


def _legend(ax: Axes) -> None:
    handles = [
        Line2D([], [], color=ALLOWED_COLOR, linestyle=ALLOWED_STYLE, lw=2, label="allowed"),
        Line2D([], [], color=DENIED_COLOR, linestyle=DENIED_STYLE, lw=2, label="denied"),
        Line2D([], [], color=DENIED_COLOR, marker="X", linestyle="none", label="side that blocks"),
        Line2D(
            [],
            [],
            marker="o",
            markerfacecolor=LAMP_ON,
            markeredgecolor=LAMP_ON,
            linestyle="none",
            label="isolated (in / out)",
        ),
        Line2D(
            [],
            [],
            marker="o",
            markerfacecolor="white",
            markeredgecolor=LAMP_ON,
            linestyle="none",
            label="not isolated",
        ),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=5,
        fontsize=7.5,
        frameon=False,
        handlelength=2.6,
    )


# --- figures and files --------------------------------------------------------------------


def _figure(layout: _Layout, title: str | None, dpi: int) -> tuple[Figure, Axes]:
    width = layout.xlim[1] - layout.xlim[0]
    height = layout.ylim[1] - layout.ylim[0]
    scale = min(0.95, 13.0 / width, 11.0 / height)
    fig = Figure(figsize=(max(6.0, width * scale), max(3.0, height * scale + 0.6)), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.08, 0.98, 0.86 if title else 0.9))
    return fig, ax


def flow_figure(
    cluster: Cluster, flows: Iterable[Flow], *, title: str | None = None, dpi: int = 100
) -> tuple[Figure, FlowDiagram]:
    """A new Agg-backed Figure sized to the scene, with the flows drawn on it."""
    flow_list = list(flows)
    fig, ax = _figure(_layout(cluster, flow_list), title, dpi)
    diagram = draw_flows(ax, cluster, flow_list, title=title)
    return fig, diagram


def _scene_key(cluster: Cluster) -> tuple[object, ...]:
    """What the static part of a picture depends on: the peers, their names and ports."""
    return (
        tuple((p.key, p.ip, p.ports) for p in cluster.pods),
        tuple((e.key, e.ip) for e in cluster.externals),
    )


class FlowCanvas:
    """A flow diagram redrawn many times over one scene (what the widgets use).

    The scene (namespaces, boxes, legend, title) is drawn once and cached; each
    :meth:`render` draws only what npcore decides (arrows, lamps, blocking marks, the
    banner) over the cached picture (Agg blitting) and encodes a PNG.  The picture
    always keeps room for the banner, so it does not jump when the CNI changes.  A
    cluster with other pods or externals gets a new cached scene.
    """

    def __init__(
        self, cluster: Cluster, flows: Iterable[Flow], *, title: str | None = None, dpi: int = 100
    ) -> None:
        self.flows = list(flows)
        self.title = title
        self.dpi = dpi
        self._key: tuple[object, ...] | None = None
        self._prepare(cluster)

    def _prepare(self, cluster: Cluster) -> None:
        for flow in self.flows:
            connection_for(cluster, flow)  # a readable error for an unknown peer
        self._key = _scene_key(cluster)
        self._layout = _layout(cluster, self.flows)
        self._curves = _curves(self._layout, self.flows)
        self.figure, self.ax = _figure(self._layout, self.title, self.dpi)
        _draw_scene(self.ax, cluster, self._layout, title=self.title, legend=True, banner_room=True)
        canvas = self.figure.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        self._canvas = canvas
        canvas.draw()
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._verdict_artists: list = []

    def render(self, cluster: Cluster) -> tuple[bytes, FlowDiagram]:
        """PNG bytes of ``cluster``'s flows, and the FlowDiagram they show."""
        if _scene_key(cluster) != self._key:
            self._prepare(cluster)
        diagram = compute_diagram(cluster, self.flows)
        for artist in self._verdict_artists:
            artist.remove()
        before = set(self.ax.get_children())
        _draw_verdicts(self.ax, cluster, self._layout, diagram, self._curves)
        added = [a for a in self.ax.get_children() if a not in before]
        self._verdict_artists = added
        self._canvas.restore_region(self._background)
        for artist in sorted(added, key=lambda a: a.get_zorder()):
            self.ax.draw_artist(artist)
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        width, height = self._canvas.get_width_height(physical=True)
        image = Image.frombuffer(
            "RGBA", (width, height), self._canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        )
        info = PngInfo()
        info.add_text("Title", self.title or "flow diagram")
        info.add_text("Description", diagram.text())
        buffer = io.BytesIO()
        image.save(buffer, format="png", pnginfo=info, compress_level=3)
        return buffer.getvalue(), diagram


def render(
    cluster: Cluster,
    flows: Iterable[Flow],
    *,
    fmt: str = "png",
    title: str | None = None,
    dpi: int = 100,
) -> tuple[bytes, FlowDiagram]:
    """The diagram as PNG or SVG bytes, and the FlowDiagram it shows."""
    fig, diagram = flow_figure(cluster, flows, title=title, dpi=dpi)
    buffer = io.BytesIO()
    metadata = {"Title": title or "flow diagram"}
    if fmt == "png":
        metadata = {"Title": title or "flow diagram", "Description": diagram.text()}
    fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue(), diagram


def render_png(cluster: Cluster, flows: Iterable[Flow], path: str | None = None, **kw) -> bytes:
    """PNG bytes of the diagram, also written to ``path`` when given."""
    data, _ = render(cluster, flows, fmt="png", **kw)
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


def render_svg(cluster: Cluster, flows: Iterable[Flow], path: str | None = None, **kw) -> bytes:
    """SVG bytes of the diagram, also written to ``path`` when given."""
    data, _ = render(cluster, flows, fmt="svg", **kw)
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


# --- truth table --------------------------------------------------------------------------


def draw_matrix(ax: Axes, matrix, *, title: str | None = None) -> None:
    """A heat-map of an :class:`npcore.Matrix`: rows are sources, columns destinations.

    Cells carry a mark as well as a colour (``✓`` blue allowed, ``✗`` vermillion denied).
    """
    from matplotlib.colors import ListedColormap

    peers = list(matrix.peers)
    n = len(peers)
    grid = [[1 if matrix.allowed_at(i, j) else 0 for j in range(n)] for i in range(n)]
    ax.imshow(
        grid, cmap=ListedColormap([DENIED_COLOR, ALLOWED_COLOR]), vmin=0, vmax=1, aspect="equal"
    )
    size = 9 if n <= 8 else 6 if n <= 20 else 4
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                "✓" if grid[i][j] else "✗",
                ha="center",
                va="center",
                color="white",
                fontsize=size,
            )
    ax.set_xticks(range(n), peers, rotation=60, ha="right", fontsize=size)
    ax.set_yticks(range(n), peers, fontsize=size)
    ax.set_xlabel("to (destination)")
    ax.set_ylabel("from (source)")
    port = f"{matrix.protocol} {matrix.port}"
    state = "" if matrix.enforced else f"; policies NOT enforced by {matrix.cni}"
    ax.set_title(title or f"Who can connect on {port}{state}", fontsize=10)
