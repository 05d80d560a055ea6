"""lessonkit: what the lessons draw and click, built on npcore (never the other way round).

Submodules (import the one you need; ``import lessonkit`` alone imports nothing heavy):

* :mod:`lessonkit.diagrams`: flow diagrams from npcore's verdicts (matplotlib; plot
  helpers take an ``ax``), their text alternative, PNG/SVG rendering, truth-table heat-maps.
* :mod:`lessonkit.widgets`: ``FlowExplorer`` and ``PolicyEditor`` (ipywidgets).
* :mod:`lessonkit.cli`: ``npcore draw`` / ``npcore-draw``, the diagram without Jupyter.
* :mod:`lessonkit.scenes` and :mod:`lessonkit.quiz`: the lessons' worlds and self-checks.

See docs/widgets.md.
"""

__all__ = ["cli", "diagrams", "quiz", "scenes", "widgets"]
