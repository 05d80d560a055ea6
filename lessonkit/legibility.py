"""Is a drawn flow diagram legible?  :func:`problems` lists what a reader could not read:
two texts that overlap; a text over a cross (✖), a lamp, an arrowhead or where an arrow
starts; an arrow's label or a namespace header over a pod box; a text cut by the edge of
the picture; an arrow with under ``MIN_ARROW_PX`` of its length visible outside every
text and box; an arrow through the legend, or a text over it.

The course's test renders every diagram the lessons and ``npcore draw`` make and checks
them with this function; ``npcore draw`` checks every picture with it before writing it.
"""

from __future__ import annotations

import itertools
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox, BboxBase

__all__ = ["MIN_ARROW_PX", "problems"]

MIN_ARROW_PX = 40  # the visible length an arrow keeps outside every text and box


def _overlap(a: Bbox, b: Bbox, tolerance: float = 0.5) -> bool:
    return bool(
        min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
        and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance
    )


def _text_extent(text: Text, renderer: Any) -> Bbox:
    """What a text covers: its white box when it has one, else its glyphs."""
    patch = text.get_bbox_patch()
    if patch is not None:
        return patch.get_window_extent(renderer)
    return text.get_window_extent(renderer)


def _name(text: Text) -> str:
    """A text as a message names it: quoted, on one line."""
    return repr(" ".join(text.get_text().split()))


def _mark_name(gid: str) -> str:
    """How a message names a cross or a lamp (``block:SIDE:FLOW``, ``lamp:POD:...``)."""
    kind, _, rest = gid.partition(":")
    if kind == "block":
        side, _, flow = rest.partition(":")
        return f"the {side} ✖ of {flow}"
    return f"a lamp of {rest.split(':')[0]}"


def _arrows(ax: Axes) -> list[FancyArrowPatch]:
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _arrow_ends(ax: Axes) -> list[tuple[str, Bbox]]:
    """(name, extent) of every drawn arrowhead and of where each arrow starts (its tail
    stays as visible as its head), in display coordinates."""
    ends = []
    for patch in _arrows(ax):
        paths, fillables = patch._get_path_in_displaycoord()  # type: ignore[attr-defined]
        for path, filled in zip(paths, fillables, strict=True):
            if filled:
                extent = Bbox.from_extents(*path.get_extents().extents)
                ends.append((f"the head of {patch.get_gid()}", extent))
    for patch in _arrows(ax):
        x, y = ax.transData.transform(patch._path_original.vertices[0])  # type: ignore[attr-defined]
        ends.append(
            (f"the tail of {patch.get_gid()}", Bbox.from_extents(x - 3, y - 3, x + 3, y + 3))
        )
    return ends


def _text_problems(
    frame: BboxBase, boxes: list[tuple[str, Bbox]], marks: list[tuple[str, Bbox]]
) -> list[str]:
    """Texts cut by the edge, overlapping each other, or over a mark (cross, lamp, end)."""
    found = []
    for i, (name, box) in enumerate(boxes):
        if box.x0 < frame.x0 - 0.5 or box.x1 > frame.x1 + 0.5 or box.y0 < -0.5:
            found.append(f"{name} is cut by the edge of the picture")
        if box.y1 > frame.y1 + 0.5:
            found.append(f"{name} is cut by the edge of the picture")
        for other, obox in boxes[i + 1 :]:
            if _overlap(box, obox):
                found.append(f"{name} overlaps {other}")
        for mark, mbox in marks:
            if _overlap(box, mbox):
                found.append(f"{name} overlaps {mark}")
    return found


def _arrow_problems(ax: Axes, solid: list[Bbox], legend: Bbox | None) -> list[str]:
    """Arrows with under MIN_ARROW_PX visible outside ``solid``, or through the legend."""
    found = []
    for patch in _arrows(ax):
        p0, c, p2 = ax.transData.transform(patch._path_original.vertices[:3])  # type: ignore[attr-defined]
        points = [
            (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t**2 * p2
            for t in (i / 200 for i in range(201))
        ]
        visible = 0.0
        for a, b in itertools.pairwise(points):
            mid = (a + b) / 2
            if not any(s.contains(mid[0], mid[1]) for s in solid):
                visible += float(((b - a) ** 2).sum() ** 0.5)
        if visible < MIN_ARROW_PX:
            found.append(f"{patch.get_gid()}: only {visible:.0f} px visible")
        if legend is not None and any(legend.contains(x, y) for x, y in points):
            found.append(f"{patch.get_gid()} crosses the legend")
    return found


def problems(fig: Figure, ax: Axes) -> list[str]:
    """What a reader of the flow diagram drawn on ``ax`` could not read, one sentence
    each (see the module docstring); empty when the diagram is legible."""
    canvas = fig.canvas
    canvas.draw()
    renderer = canvas.get_renderer()  # type: ignore[attr-defined]
    texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
    legend = ax.get_legend()
    legend_texts = [t for t in legend.get_texts() if t.get_text().strip()] if legend else []
    boxes = [(_name(t), _text_extent(t, renderer)) for t in texts + legend_texts]
    outside = [  # texts that belong outside every pod box: labels and headers
        (_name(t), _text_extent(t, renderer))
        for t in texts
        if (t.get_gid() or "").startswith(("label:", "header:"))
    ]
    pod_boxes = [
        (str(p.get_gid()), p.get_window_extent(renderer))
        for p in ax.patches
        if isinstance(p, FancyBboxPatch) and (p.get_gid() or "").startswith("box:")
    ]
    marks = [
        (_mark_name(str(line.get_gid())), line.get_window_extent(renderer))
        for line in ax.lines
        if (line.get_gid() or "").startswith(("block:", "lamp:"))
    ]
    found = _text_problems(fig.bbox, boxes, marks + _arrow_ends(ax))
    for name, box in outside:
        for pod, pbox in pod_boxes:
            if _overlap(box, pbox):
                found.append(f"{name} covers the pod box {pod}")
    area = legend.get_window_extent(renderer) if legend else None
    solid = [b for _, b in boxes] + [b for _, b in pod_boxes]
    found += _arrow_problems(ax, solid, area)
    if area is not None:
        found += [
            f"{_name(t)} covers the legend"
            for t in texts
            if _overlap(_text_extent(t, renderer), area)
        ]
    return found
