"""Flow diagrams drawn from npcore's verdicts (matplotlib, never by hand).

Rules of this file:

* What is drawn is a :class:`~lessonkit.verdicts.FlowDiagram` (npcore's verdicts); the
  drawing adds nothing of its own.  Allowed is blue and solid, denied vermillion and
  dashed; the side that blocks a denied connection (the source's egress, the
  destination's ingress, or both) carries a cross on its half of the arrow, and the
  arrow's label says which side blocks.
* Every pod shows two lamps, ``in`` and ``out``: filled when the pod is isolated for that
  direction, hollow when it is not (fill, not colour, carries the meaning).  On a CNI that
  does not enforce NetworkPolicy a banner says so, every arrow is allowed, and the lamps
  give way to the words "not enforced": the picture never contradicts its banner.
* Nothing overlaps: labels sit beside their arrow (never on it), in room measured from
  their longest possible text, so every arrow keeps a visible shaft and no label or
  namespace header covers a pod box, an arrowhead, a cross or another text (a long
  "blocked by egress and ingress" is two short lines).  tests/test_diagrams.py renders
  every diagram the course makes (as drawn, on Flannel, and with every pod isolated)
  and fails on any of these overlaps and on an arrow too short to see.
* One size for every diagram: the same scale (inches per layout unit) and, for scenes up
  to :data:`_PER_ROW` pods a row, the same width (:data:`WIDTH_INCHES`).  Title, banner
  and legend live inside the axes, in bands reserved for them, so nothing is cut.
* Plot helpers take an ``ax``.  Rendering to bytes uses a bare :class:`Figure` with the
  Agg canvas, so nothing here depends on pyplot or on the notebook's backend.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from lessonkit.layout import (
    _BOX_H,
    _BOX_W,
    _CROSS_AT,
    _TITLE_BAND,
    LABEL_FONT,
    LABEL_LINESPACING,
    LABEL_PAD,
    SCALE,
    WIDTH_INCHES,
    _Curve,
    _curves,
    _label_anchor,
    _Layout,
    _layout,
    label_lines,
)
from lessonkit.verdicts import (
    ALLOWED_COLOR,
    ALLOWED_STYLE,
    DENIED_COLOR,
    DENIED_STYLE,
    Arrow,
    Flow,
    FlowDiagram,
    compute_diagram,
    connection_for,
    isolation,
)
from npcore import Cluster, Pod
from npcore.reachability import Matrix

__all__ = [
    "ALLOWED_COLOR",
    "ALLOWED_STYLE",
    "DENIED_COLOR",
    "DENIED_STYLE",
    "WIDTH_INCHES",
    "Arrow",
    "Flow",
    "FlowCanvas",
    "FlowDiagram",
    "FlowPicture",
    "compute_diagram",
    "connection_for",
    "draw_flows",
    "draw_matrix",
    "flow_figure",
    "isolation",
    "picture",
    "render",
    "render_png",
    "render_svg",
]

BANNER_COLOR = "#F0E442"  # yellow
POD_FILL = "#E8F1FA"
EXTERNAL_FILL = "#FFF3D1"
NAMESPACE_FILL = "#F4F4F4"
LAMP_ON = "#222222"
MUTED = "#666666"

# --- drawing ------------------------------------------------------------------------------


def _draw_box(
    ax: Axes, key: str, center: tuple[float, float], title: str, sub: str, *, fill: str
) -> None:
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
    ax.text(x, y + 0.28, title, ha="center", va="center", fontsize=9, weight="bold", zorder=4)
    ax.text(x, y + 0.0, sub, ha="center", va="center", fontsize=7, color="#444444", zorder=4)


def _lamp_positions(center: tuple[float, float]) -> tuple[tuple[float, float], ...]:
    x, y = center
    return ((x - 0.5, y - 0.3), (x + 0.14, y - 0.3))


def _draw_lamps(
    ax: Axes, key: str, center: tuple[float, float], isolated: tuple[bool, bool], enforced: bool
) -> None:
    """Two lamps, filled when the pod is isolated for that direction, hollow when not;
    on a CNI that does not enforce policies, the words "not enforced" instead."""
    if not enforced:
        x, y = center
        ax.text(
            x,
            y - 0.3,
            "not enforced",
            ha="center",
            va="center",
            fontsize=6.5,
            style="italic",
            color=MUTED,
            gid=f"lamp:{key}:not-enforced",
            zorder=5,
        )
        return
    for (lx, ly), label, on in zip(_lamp_positions(center), ("in", "out"), isolated, strict=True):
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
        ax.text(lx + 0.14, ly, label, fontsize=6.5, va="center", ha="left", zorder=5)


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
    ``block:egress:SRC->DST:PORT``, ``label:SRC->DST:PORT``, ``lamp:POD:in:on``,
    ``lamp:POD:not-enforced``, ``banner``) so tests and tools can find them.
    """
    flow_list = list(flows)
    diagram = compute_diagram(cluster, flow_list)
    layout = _layout(cluster, flow_list)
    curves = _curves(layout, flow_list)
    _draw_scene(ax, cluster, layout, title=title, legend=legend)
    _draw_verdicts(ax, cluster, layout, diagram, curves)
    return diagram


def _draw_scene(
    ax: Axes, cluster: Cluster, layout: _Layout, *, title: str | None, legend: bool
) -> None:
    """What does not depend on policies or the CNI: bands, boxes, the legend, the title."""
    ax.set_xlim(*layout.xlim)
    ax.set_ylim(*layout.ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    for (header, x0, y0, x1, y1), (hx, hy, ha) in zip(layout.bands, layout.headers, strict=True):
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
                gid=f"band:{header}",
                zorder=1,
            )
        )
        ax.text(
            hx,
            hy,
            header,
            fontsize=9,
            style="italic",
            ha=ha,
            va="center",
            zorder=2,
            gid=f"header:{header}",
        )
    for pod in cluster.pods:
        _draw_box(ax, pod.key, layout.centers[pod.key], pod.name, _pod_subtitle(pod), fill=POD_FILL)
    for ext in cluster.externals:
        _draw_box(ax, ext.key, layout.centers[ext.key], ext.name, ext.ip, fill=EXTERNAL_FILL)
    if title:
        ax.text(
            0.5,
            1 - 0.15 / (layout.ylim[1] - layout.ylim[0]),
            title,
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=11,
            gid="title",
            zorder=2,
        )
    if legend:
        _legend(ax, layout)


def _draw_verdicts(
    ax: Axes, cluster: Cluster, layout: _Layout, diagram: FlowDiagram, curves: Sequence[_Curve]
) -> None:
    """What the policies and the CNI decide: lamps, arrows, labels, crosses, the banner.

    Everything here has a zorder above everything :func:`_draw_scene` draws, so a
    :class:`FlowCanvas` can draw it over a cached picture of the scene.
    """
    for pod in cluster.pods:
        isolated = diagram.isolated.get(pod.key, (False, False))
        _draw_lamps(ax, pod.key, layout.centers[pod.key], isolated, diagram.enforced)
    for arrow, curve in zip(diagram.arrows, curves, strict=True):
        _draw_arrow(ax, arrow, curve)
        _draw_flow_label(ax, arrow, curve)
    if not diagram.enforced:
        height = layout.ylim[1] - layout.ylim[0]
        ax.text(
            0.5,
            1 - (_TITLE_BAND + 0.1) / height,
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


def _flow_name(flow: Flow) -> str:
    return f"{flow.src}->{flow.dst}:{flow.port}"


def _label_text(arrow: Arrow) -> str:
    return "\n".join(label_lines(arrow.flow, arrow.blocked_by, arrow.allowed))


def _draw_flow_label(ax: Axes, arrow: Arrow, curve: _Curve) -> None:
    """The port, the label and the blocking side, beside the middle of the arrow."""
    x, y, ha, va = _label_anchor(curve)
    ax.text(
        x,
        y,
        _label_text(arrow),
        ha=ha,
        va=va,
        fontsize=LABEL_FONT,
        color=arrow.color,
        linespacing=LABEL_LINESPACING,
        gid=f"label:{_flow_name(arrow.flow)}",
        zorder=7,
        bbox={"boxstyle": f"round,pad={LABEL_PAD}", "facecolor": "white", "edgecolor": "none"},
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
    for side, t in _CROSS_AT.items():
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


def _legend(ax: Axes, layout: _Layout) -> None:
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
    height = layout.ylim[1] - layout.ylim[0]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.1 / height),
        ncol=5,
        fontsize=7.5,
        frameon=False,
        handlelength=2.6,
    )


# --- figures and files --------------------------------------------------------------------


def _figure(layout: _Layout, title: str | None, dpi: int) -> tuple[Figure, Axes]:
    """A figure at the common scale, with one axes filling it (title, banner and legend
    are drawn inside the axes, in their reserved bands)."""
    width = layout.xlim[1] - layout.xlim[0]
    height = layout.ylim[1] - layout.ylim[0]
    scale = min(SCALE, 16.0 / width, 14.0 / height)  # very large scenes shrink to fit
    fig = Figure(figsize=(width * scale, height * scale), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    return fig, ax


def flow_figure(
    cluster: Cluster, flows: Iterable[Flow], *, title: str | None = None, dpi: int = 100
) -> tuple[Figure, FlowDiagram]:
    """A new Agg-backed Figure at the common size, with the flows drawn on it."""
    flow_list = list(flows)
    fig, ax = _figure(_layout(cluster, flow_list), title, dpi)
    diagram = draw_flows(ax, cluster, flow_list, title=title)
    return fig, diagram


class FlowPicture:
    """A flow diagram for a lesson cell: shows itself as a PNG (with the text
    alternative as its plain-text form); ``.diagram`` and ``.text()`` for the rest."""

    def __init__(self, cluster: Cluster, flows: Iterable[Flow], *, title: str | None = None):
        self.png, self.diagram = render(cluster, flows, title=title)

    def text(self) -> str:
        """The text alternative (see :meth:`FlowDiagram.text`)."""
        return self.diagram.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return {"image/png": self.png, "text/plain": self.diagram.text()}


def picture(cluster: Cluster, flows: Iterable[Flow], *, title: str | None = None) -> FlowPicture:
    """The diagram of ``flows`` on ``cluster`` as a lesson cell shows it."""
    return FlowPicture(cluster, flows, title=title)


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
        _draw_scene(self.ax, cluster, self._layout, title=self.title, legend=True)
        canvas = self.figure.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        self._canvas = canvas
        canvas.draw()  # type: ignore[no-untyped-call]
        self._background = canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[no-untyped-call]
        self._verdict_artists: list[Artist] = []

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
        self._canvas.restore_region(self._background)  # type: ignore[no-untyped-call]
        for artist in sorted(added, key=lambda a: a.get_zorder()):
            self.ax.draw_artist(artist)
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        width, height = self._canvas.get_width_height(physical=True)
        image = Image.frombuffer(
            "RGBA",
            (width, height),
            self._canvas.buffer_rgba(),  # type: ignore[no-untyped-call]
            "raw",
            "RGBA",
            0,
            1,
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
    return figure_bytes(fig, diagram, fmt=fmt, title=title), diagram


def figure_bytes(
    fig: Figure, diagram: FlowDiagram, *, fmt: str = "png", title: str | None = None
) -> bytes:
    """A figure from :func:`flow_figure` as PNG or SVG bytes (a PNG carries the text
    alternative as its description)."""
    buffer = io.BytesIO()
    metadata = {"Title": title or "flow diagram"}
    if fmt == "png":
        metadata = {"Title": title or "flow diagram", "Description": diagram.text()}
    fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def render_png(
    cluster: Cluster, flows: Iterable[Flow], path: str | None = None, **kw: Any
) -> bytes:
    """PNG bytes of the diagram, also written to ``path`` when given."""
    data, _ = render(cluster, flows, fmt="png", **kw)
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


def render_svg(
    cluster: Cluster, flows: Iterable[Flow], path: str | None = None, **kw: Any
) -> bytes:
    """SVG bytes of the diagram, also written to ``path`` when given."""
    data, _ = render(cluster, flows, fmt="svg", **kw)
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)
    return data


# --- truth table --------------------------------------------------------------------------


def draw_matrix(ax: Axes, matrix: Matrix, *, title: str | None = None) -> None:
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
