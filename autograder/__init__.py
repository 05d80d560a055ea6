"""autograder: NetworkPolicy exercises as data, graded by behaviour.

* :mod:`autograder.definition` is an exercise as data; :mod:`autograder.catalog` finds
  and loads the definition files (``autograder/exercises/``, package data).
* :func:`autograder.grade.grade` compares the connectivity the learner's policies
  produce with the reference solution's, over every pair of peers, port and protocol.
* :func:`autograder.checks.check` is the one-liner for notebook test cells;
  ``npgrade`` (:mod:`autograder.cli`) grades files and runs timed drills.
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
