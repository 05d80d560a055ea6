"""Where a flow diagram puts things (pure geometry, no drawing): boxes in bands, arrows
as quadratic curves that avoid other boxes, and label spots that cover nothing already
placed.  :mod:`lessonkit.diagrams` draws what this module places.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lessonkit.verdicts import Flow
from npcore import Cluster, Pod

# Layout, in data units.
_BOX_W, _BOX_H = 1.7, 1.1
_COL_STEP, _ROW_STEP = 3.4, 2.3
_PER_ROW = 4
_NS_PAD = 0.45
_NS_HEADER = 0.9
_NS_GAP = 0.6
_EXTERNAL_X = 0.0
_CLUSTER_X = 3.9
_TITLE_BAND = 0.7
_BANNER_BAND = 0.7
_LEGEND_BAND = 0.8
_LABEL_GAP = 0.08  # between an arrow and its label

# One scale and one width for every diagram.
SCALE = 0.78  # inches per layout unit
WIDTH_INCHES = 11.0


# --- layout -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    centers: dict[str, tuple[float, float]]
    bands: tuple[tuple[str, float, float, float, float], ...]  # header, x0, y0, x1, y1
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    headers: tuple[tuple[float, float, str], ...] = ()  # each band's header anchor


def _namespace_bands(
    cluster: Cluster, centers: dict[str, tuple[float, float]]
) -> tuple[list[tuple[str, float, float, float, float]], int]:
    """Each namespace a band of pods (at most ``_PER_ROW`` a row), top to bottom."""
    by_ns: dict[str, list[Pod]] = {}
    for pod in cluster.pods:
        by_ns.setdefault(pod.namespace, []).append(pod)
    bands: list[tuple[str, float, float, float, float]] = []
    y_top = 0.0
    widest = 1
    for ns, pods in by_ns.items():
        per_row = min(len(pods), _PER_ROW)
        widest = max(widest, per_row)
        rows = math.ceil(len(pods) / per_row)
        y0 = y_top - _NS_HEADER - _BOX_H / 2
        for i, pod in enumerate(pods):
            row, col = divmod(i, per_row)
            centers[pod.key] = (_CLUSTER_X + col * _COL_STEP, y0 - row * _ROW_STEP)
        y_bottom = y0 - (rows - 1) * _ROW_STEP - _BOX_H / 2 - _NS_PAD
        x1 = _CLUSTER_X + (per_row - 1) * _COL_STEP + _BOX_W / 2 + _NS_PAD
        bands.append((f"namespace {ns}", _CLUSTER_X - _BOX_W / 2 - _NS_PAD, y_bottom, x1, y_top))
        y_top = y_bottom - _NS_GAP
    return bands, widest


def _layout(cluster: Cluster, flows: Sequence[Flow]) -> _Layout:
    """Externals in a band on the left ("outside the cluster"); each namespace a band of
    pods on the right; reserved bands for the title and banner (top) and legend (bottom)."""
    centers: dict[str, tuple[float, float]] = {}
    bands, widest = _namespace_bands(cluster, centers)
    cluster_bottom = min((b[2] for b in bands), default=-_ROW_STEP)
    externals = list(cluster.externals)
    if externals:
        top = -_NS_HEADER - _BOX_H / 2
        for i, ext in enumerate(externals):
            centers[ext.key] = (_EXTERNAL_X, top - i * _ROW_STEP)
        bottom = top - (len(externals) - 1) * _ROW_STEP - _BOX_H / 2 - _NS_PAD
        x0, x1 = _EXTERNAL_X - _BOX_W / 2 - _NS_PAD, _EXTERNAL_X + _BOX_W / 2 + _NS_PAD
        bands.append(("outside the cluster", x0, bottom, x1, 0.0))
        cluster_bottom = min(cluster_bottom, bottom)
    x_right = _CLUSTER_X + (widest - 1) * _COL_STEP + _BOX_W / 2 + _NS_PAD + 0.4
    x_left = (_EXTERNAL_X if externals else _CLUSTER_X) - _BOX_W / 2 - _NS_PAD - 0.4
    width = max(x_right - x_left, WIDTH_INCHES / SCALE)
    middle = (x_left + x_right) / 2
    xlim = (middle - width / 2, middle + width / 2)
    draft = _Layout(centers, tuple(bands), xlim, (0.0, 0.0))
    # room above the highest arrow and the highest label
    curves = _curves(draft, flows)
    highest = max(
        [y for c in curves for _, y in c.points(20)] + [_label_rect(c)[3] for c in curves],
        default=0.0,
    )
    lowest = min(  # below the lowest box, arrow and label: the legend's band is free
        [cluster_bottom]
        + [y for c in curves for _, y in c.points(20)]
        + [_label_rect(c)[1] for c in curves]
    )
    top = max(0.3, highest + 0.1)
    ylim = (lowest - 0.3 - _LEGEND_BAND, top + _BANNER_BAND + _TITLE_BAND)
    placed = _Layout(centers, tuple(bands), xlim, ylim)
    headers = tuple(anchor for anchor, _ in _headers(placed, _paths(placed, flows)))
    return _Layout(centers, tuple(bands), xlim, ylim, headers)


def _bezier(
    p0: tuple[float, float], c: tuple[float, float], p2: tuple[float, float], t: float
) -> tuple[float, float]:
    u = 1 - t
    return (
        u * u * p0[0] + 2 * u * t * c[0] + t * t * p2[0],
        u * u * p0[1] + 2 * u * t * c[1] + t * t * p2[1],
    )


def _inside(point: tuple[float, float], center: tuple[float, float], pad: float = 0.08) -> bool:
    return (
        abs(point[0] - center[0]) <= _BOX_W / 2 + pad
        and abs(point[1] - center[1]) <= _BOX_H / 2 + pad
    )


@dataclass(frozen=True)
class _Curve:
    start: tuple[float, float]
    control: tuple[float, float]
    end: tuple[float, float]
    label_t: float = 0.5  # where along the arrow its label sits
    label_side: int = 1  # 1: on the outer side of the bend, -1: on the inner side
    label_gap: float = 0.08  # how far from the arrow (more when the arrow's side is full)
    label_size: tuple[float, float] = (1.75, 0.5)  # the label's room, in layout units

    def at(self, t: float) -> tuple[float, float]:
        return _bezier(self.start, self.control, self.end, t)

    def points(self, n: int = 60) -> list[tuple[float, float]]:
        return [self.at(i / n) for i in range(n + 1)]


def _clip(a: tuple[float, float], c: tuple[float, float], b: tuple[float, float]) -> _Curve:
    """The part of the quadratic curve a-c-b outside the boxes centred at a and b."""
    steps = 120
    t0, t1 = 0.0, 1.0
    for i in range(steps + 1):
        if not _inside(_bezier(a, c, b, i / steps), a):
            t0 = i / steps
            break
    for i in range(steps, -1, -1):
        if not _inside(_bezier(a, c, b, i / steps), b):
            t1 = i / steps
            break
    if t1 <= t0:
        t0, t1 = 0.0, 1.0

    def blossom(s: float, u: float) -> tuple[float, float]:
        w0, w1, w2 = (1 - s) * (1 - u), (1 - s) * u + s * (1 - u), s * u
        return (w0 * a[0] + w1 * c[0] + w2 * b[0], w0 * a[1] + w1 * c[1] + w2 * b[1])

    return _Curve(blossom(t0, t0), blossom(t0, t1), blossom(t1, t1))


def _curve(a: tuple[float, float], b: tuple[float, float], rad: float) -> _Curve:
    """An arc from box ``a`` to box ``b`` (bent by ``rad``), outside both boxes."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    return _clip(a, (mid[0] + rad * dy, mid[1] - rad * dx), b)


def _box_hits(curve: _Curve, boxes: Sequence[tuple[float, float]]) -> int:
    """How many sample points of ``curve`` fall inside a box other than its own ends."""
    return sum(
        1 for point in curve.points(40) for center in boxes if _inside(point, center, pad=0.15)
    )


def _arc(
    a: tuple[float, float], b: tuple[float, float], rad: float, others: list[tuple[float, float]]
) -> _Curve:
    """The arc from ``a`` to ``b`` that crosses the fewest other boxes: bent by ``rad``,
    bent the other way, or bent more."""
    candidates = [_curve(a, b, r) for r in (-rad, rad, -1.7 * rad, 1.7 * rad, -2.4 * rad)]
    return min(candidates, key=lambda c: _box_hits(c, others))


def _paths(layout: _Layout, flows: Sequence[Flow]) -> list[_Curve]:
    """The path of each flow's arrow; several flows between one pair bend apart."""
    seen: dict[tuple[str, str], int] = {}
    curves = []
    for flow in flows:
        a, b = layout.centers[flow.src], layout.centers[flow.dst]
        key = (flow.src, flow.dst)
        k = seen.get(key, 0)
        seen[key] = k + 1
        if key[0] == key[1]:  # a pod to itself: a loop above the box
            start = (a[0] - 0.4, a[1] + _BOX_H / 2)
            end = (a[0] + 0.4, a[1] + _BOX_H / 2)
            curves.append(_Curve(start, (a[0], a[1] + _BOX_H / 2 + 1.1 + 0.35 * k), end))
            continue
        # neighbours bend a little; longer arrows rise above the neighbours' labels
        span = math.hypot(b[0] - a[0], b[1] - a[1])
        near = max(_COL_STEP, _CLUSTER_X - _EXTERNAL_X) + 0.01
        rad = (0.22 if span <= near else max(0.22, 3.3 / span)) + 0.16 * k
        others = [c for name, c in layout.centers.items() if name not in key]
        curves.append(_arc(a, b, rad, others))
    return curves


def _head_rect(curve: _Curve) -> Rect:
    """The room of an arrowhead (drawn at the curve's end), with a margin."""
    (x, y), (cx, cy) = curve.end, curve.control
    length = math.hypot(x - cx, y - cy) or 1.0
    back = (x - 0.14 * (x - cx) / length, y - 0.14 * (y - cy) / length)
    return (back[0] - 0.17, back[1] - 0.17, back[0] + 0.17, back[1] + 0.17)


def _tail_rect(curve: _Curve) -> Rect:
    """The room around where an arrow starts (its tail stays visible too)."""
    x, y = curve.start
    return (x - 0.12, y - 0.12, x + 0.12, y + 0.12)


def _box_rects(layout: _Layout) -> list[Rect]:
    return [
        (x - _BOX_W / 2 - 0.06, y - _BOX_H / 2 - 0.06, x + _BOX_W / 2 + 0.06, y + _BOX_H / 2 + 0.06)
        for x, y in layout.centers.values()
    ]


def _curves(layout: _Layout, flows: Sequence[Flow]) -> list[_Curve]:
    """The path of each flow's arrow, and where its label sits: the spot nearest the
    middle that covers no pod box, namespace header, arrowhead or tail, cross or other
    label (and as little of any arrow's shaft as can be)."""
    paths = _paths(layout, flows)
    scale = _scale(layout)
    hard: list[Rect] = [*_box_rects(layout), *(r for _, r in _headers(layout, paths))]
    left, right = layout.xlim
    if right > left:  # beyond the left and right edges: a label there would be cut
        hard += [(left - 100.0, -1e4, left + 0.05, 1e4), (right - 0.05, -1e4, right + 100.0, 1e4)]
    for path in paths:
        hard += [
            _head_rect(path),
            _tail_rect(path),
            *(_cross_rect(path.at(t)) for t in _CROSS_AT.values()),
        ]
    shafts = [point for path in paths for point in path.points(40)]
    curves = []
    for flow, path in zip(flows, paths, strict=True):
        sized = _Curve(path.start, path.control, path.end, label_size=_label_size(flow, scale))
        placed = _label_spot(sized, hard, shafts)
        hard.append(_label_rect(placed))
        curves.append(placed)
    return curves


Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in layout units

_Band = tuple[str, float, float, float, float]


def _header_candidates(band: _Band, width: float) -> list[tuple[float, float, str]]:
    """Where a band's header may go, best first: namespaces top right, then top left,
    bottom right, bottom left; the outside world bottom left, then top left."""
    header, x0, y0, x1, y1 = band
    top_right = (x1 - 0.15, y1 - 0.22, "right")
    top_left = (x0 + 0.15, y1 - 0.22, "left")
    bottom_right = (x1 - 0.15, y0 + 0.22, "right")
    bottom_left = (x0 + 0.15, y0 + 0.22, "left")
    if header.startswith("namespace "):
        return [top_right, top_left, bottom_right, bottom_left]
    return [bottom_left, top_left]


def _header_rect_at(anchor: tuple[float, float, str], width: float) -> Rect:
    x, y, ha = anchor
    x0 = x - width if ha == "right" else x
    return (x0, y - 0.2, x0 + width, y + 0.2)


def _headers(
    layout: _Layout, paths: Sequence[_Curve]
) -> list[tuple[tuple[float, float, str], Rect]]:
    """Each band's header anchor and room: the first candidate spot that covers no
    arrowhead or tail, then the fewest crosses, then the fewest arrow points."""
    scale = _scale(layout)
    points = [p for path in paths for p in path.points(60)]
    ends = [_head_rect(path) for path in paths] + [_tail_rect(path) for path in paths]
    crosses = [_cross_rect(path.at(t)) for path in paths for t in _CROSS_AT.values()]
    chosen = []
    for band in layout.bands:
        width = _text_width(band[0], 9, scale, italic=True) + 0.1

        def cost(anchor: tuple[float, float, str], width: float = width) -> tuple[int, ...]:
            rect = _header_rect_at(anchor, width)
            return (
                sum(_area(rect, m) > 0 for m in ends),
                sum(_area(rect, m) > 0 for m in crosses),
                sum(rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3] for x, y in points),
            )

        candidates = _header_candidates(band, width)
        best = min(candidates, key=lambda a: (cost(a), candidates.index(a)))
        chosen.append((best, _header_rect_at(best, width)))
    return chosen


def _header_anchor(
    band: _Band, layout: _Layout | None = None, paths: Sequence[_Curve] = ()
) -> tuple[float, float, str]:
    """Where a band's header goes (see :func:`_headers`)."""
    if layout is None:
        return _header_candidates(band, 0.0)[0]
    return _headers(layout, paths)[layout.bands.index(band)][0]


def _scale(layout: _Layout) -> float:
    """Inches per layout unit of the figure drawn from ``layout`` (see diagrams._figure)."""
    return min(SCALE, 16.0 / (layout.xlim[1] - layout.xlim[0]))


def _text_width(text: str, size: float, scale: float, *, italic: bool = False) -> float:
    """The width of one line of ``text`` at ``size`` points, in layout units."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    props = FontProperties(size=size, style="italic" if italic else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, props, ismath=False)
    return float(width) / 72.0 / scale


def _area(a: Rect, b: Rect) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


# Where a blocked side's cross sits along its arrow.
_CROSS_AT = {"egress": 0.25, "ingress": 0.75}


def _cross_rect(point: tuple[float, float]) -> tuple[float, float, float, float]:
    return (point[0] - 0.13, point[1] - 0.13, point[0] + 0.13, point[1] + 0.13)


# Labels: 7 pt, line spacing 1.15, a white box padded by 0.12 of the font size.
LABEL_FONT = 7.0
LABEL_LINESPACING = 1.15
LABEL_PAD = 0.12


def label_lines(flow: Flow, blocked_by: Sequence[str] = (), allowed: bool = True) -> list[str]:
    """The lines of a flow's label: port, the flow's own label, and (when denied) the
    side that blocks, "blocked by egress" / "and ingress" on two short lines."""
    lines = [f"{flow.protocol} {flow.port}"]
    if flow.label:
        lines.append(flow.label)
    if blocked_by:
        lines.append(f"blocked by {blocked_by[0]}")
        lines += [f"and {side}" for side in blocked_by[1:]]
    elif not allowed:
        lines.append("no such port")
    return lines


def _label_size(flow: Flow, scale: float) -> tuple[float, float]:
    """The room the largest label of ``flow`` needs (whatever npcore decides)."""
    lines = label_lines(flow, ("egress", "ingress"))
    pad = 2 * LABEL_PAD * LABEL_FONT / 72.0 / scale
    width = max(_text_width(line, LABEL_FONT, scale) for line in lines)
    line_height = LABEL_FONT * 1.2 * LABEL_LINESPACING / 72.0 / scale
    return width + pad + 0.06, len(lines) * line_height + pad + 0.04


def _label_rect(
    curve: _Curve, t: float | None = None, side: int | None = None, gap: float | None = None
) -> Rect:
    width, height = curve.label_size
    x, y, ha, va = _label_anchor(curve, t, side, gap)
    x0 = {"left": x, "right": x - width, "center": x - width / 2}[ha]
    y0 = {"bottom": y, "top": y - height, "center": y - height / 2}[va]
    return (x0, y0, x0 + width, y0 + height)


_GAPS = (_LABEL_GAP, _LABEL_GAP + 0.3, _LABEL_GAP + 0.65, _LABEL_GAP + 1.0)


def _label_spot(
    curve: _Curve, taken: Sequence[Rect], shafts: Sequence[tuple[float, float]]
) -> _Curve:
    """``curve`` with its label placed: nearest the middle and the arrow, outer side
    first, where it covers nothing in ``taken`` (boxes, headers, heads, crosses, labels)
    and as few arrow points (``shafts``) as can be."""

    def cost(t: float, side: int, gap: float) -> tuple[float, int, float, bool, float]:
        rect = _label_rect(curve, t, side, gap)
        clash = sum(_area(rect, b) for b in taken)
        covered = sum(rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3] for x, y in shafts)
        return (round(clash, 3), covered, gap, side < 0, abs(t - 0.5))

    spots = [
        (t, s, g) for g in _GAPS for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74) for s in (1, -1)
    ]
    t, side, gap = min(spots, key=lambda tsg: cost(*tsg))
    return _Curve(curve.start, curve.control, curve.end, t, side, gap, curve.label_size)


def _label_anchor(
    curve: _Curve, t: float | None = None, side: int | None = None, gap: float | None = None
) -> tuple[float, float, str, str]:
    """Where an arrow's label goes: beside the arrow (at ``t``, by default the curve's
    ``label_t``), on its outer side (away from the chord), so it never hides the shaft."""
    at = curve.label_t if t is None else t
    mx, my = curve.at(at)
    (x0, y0), (cx, cy), (x2, y2) = curve.start, curve.control, curve.end
    tx = 2 * (1 - at) * (cx - x0) + 2 * at * (x2 - cx)  # the tangent at ``at``
    ty = 2 * (1 - at) * (cy - y0) + 2 * at * (y2 - cy)
    nx, ny = -ty, tx
    bulge = (cx - (x0 + x2) / 2, cy - (y0 + y2) / 2)  # towards the outer side
    if bulge[0] * nx + bulge[1] * ny < 0 or (
        math.hypot(*bulge) < 1e-6 and (ny < 0 or (ny == 0 and nx < 0))
    ):
        nx, ny = -nx, -ny
    if (curve.label_side if side is None else side) < 0:
        nx, ny = -nx, -ny
    norm = math.hypot(nx, ny) or 1.0
    nx, ny = nx / norm, ny / norm
    away = curve.label_gap if gap is None else gap
    x, y = mx + nx * away, my + ny * away
    if abs(ny) >= abs(nx):
        return x, y, "center", "bottom" if ny > 0 else "top"
    return x, y, "left" if nx > 0 else "right", "center"
