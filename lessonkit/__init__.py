"""lessonkit: what the lessons draw and click, built on npcore (never the other way round).

Submodules (import the one you need; ``import lessonkit`` alone imports nothing heavy):

* :mod:`lessonkit.verdicts`: flows and their npcore verdicts as values (``FlowDiagram``).
* :mod:`lessonkit.layout` and :mod:`lessonkit.diagrams`: where things go (pure geometry)
  and the flow pictures (matplotlib; plot helpers take an ``ax``), PNG/SVG rendering,
  truth-table heat-maps, ``picture`` for lesson cells.
* :mod:`lessonkit.widgets`: ``FlowExplorer`` and ``PolicyEditor`` (ipywidgets).
* :mod:`lessonkit.quiz`: what a lesson cell calls, ``quiz.show(id)`` and
  ``quiz.challenge(id, grade)``; the checks are data in :mod:`lessonkit.bank`, their kinds
  in :mod:`lessonkit.selfcheck`, the "write it" challenges in :mod:`lessonkit.challenges`
  (graded by a callable the cell passes in: lessonkit never imports autograder).
* :mod:`lessonkit.scenes` and :mod:`lessonkit.policy_yaml`: the lessons' worlds and YAML.
* :mod:`lessonkit.workspace`: the learner's git-ignored copies of the lessons (``make lab``).
* :mod:`lessonkit.cli`: ``npcore draw`` / ``npcore-draw``, the diagram without Jupyter.

See docs/widgets.md.
"""

__all__ = [
    "bank",
    "challenges",
    "cli",
    "diagrams",
    "layout",
    "policy_yaml",
    "quiz",
    "scenes",
    "selfcheck",
    "verdicts",
    "widgets",
    "workspace",
]
