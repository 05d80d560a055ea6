"""Former home of the exercise definitions, kept so existing imports keep working.

The definition values and their parser are in :mod:`autograder.definition`; finding and
loading the files is :mod:`autograder.catalog`.
"""

from __future__ import annotations

from autograder.catalog import (
    EXERCISES_DIR,
    PACKAGE_EXERCISES_DIR,
    list_exercises,
    load_exercise,
    load_exercise_file,
)
from autograder.definition import (
    DEFAULT_EXTERNALS,
    KINDS,
    SCHEMA,
    Constraints,
    Example,
    Exercise,
    ExerciseError,
    Flow,
    Requirements,
    UnknownExerciseError,
    parse_exercise,
)

__all__ = [
    "DEFAULT_EXTERNALS",
    "EXERCISES_DIR",
    "KINDS",
    "PACKAGE_EXERCISES_DIR",
    "SCHEMA",
    "Constraints",
    "Example",
    "Exercise",
    "ExerciseError",
    "Flow",
    "Requirements",
    "UnknownExerciseError",
    "list_exercises",
    "load_exercise",
    "load_exercise_file",
    "parse_exercise",
]
