"""autograder: NetworkPolicy exercises as data, graded by behaviour.

Layers, lowest first (no module imports one above it; checked by lint-imports):

* :mod:`autograder.definition` is an exercise as data (imports npcore only);
  :mod:`autograder.feedback` holds every sentence; :mod:`autograder.results` the values.
* :mod:`autograder.universe` adds the peers that may come later and one address per
  address region; :mod:`autograder.loaded` turns a definition into npcore values.
* :mod:`autograder.detectors` names misconceptions; :mod:`autograder.judge` grades policy
  answers; :mod:`autograder.selfcheck` grades choice, pick and predict answers.
* :mod:`autograder.catalog` finds and loads the definition files
  (``autograder/exercises/``, package data, or ``$NETPOL_EXERCISES``).
* :func:`autograder.grade.grade` and :func:`autograder.checks.check` are the entry
  points; ``npgrade`` (:mod:`autograder.cli`, :mod:`autograder.drill`) grades files and
  runs timed drills; :mod:`autograder.sandbox` and :mod:`autograder.classroom` are the
  nbgrader side.
"""

from autograder.catalog import list_exercises, load_exercise
from autograder.checks import check
from autograder.definition import Exercise, ExerciseError
from autograder.grade import grade
from autograder.results import CheckResult, GradeResult, Misconception

__all__ = [
    "CheckResult",
    "Exercise",
    "ExerciseError",
    "GradeResult",
    "Misconception",
    "check",
    "grade",
    "list_exercises",
    "load_exercise",
]
