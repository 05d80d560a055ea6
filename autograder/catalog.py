"""The course's exercises: where the definition files are, and loading them.

Rules of this file:

* The definitions ship inside the package (``autograder/exercises/*.yaml``, package data
  read through :mod:`importlib.resources`).  An instructor with a course of their own sets
  ``NETPOL_EXERCISES`` to a folder of definitions, or passes ``directory=``.
* A definition file is read with npcore's hardened YAML reader, checked field by field
  (:func:`autograder.definition.parse_exercise`), then its Kubernetes side is checked
  (:func:`check_definition`): scenario and solutions load, every flow names a peer of the
  scenario, and every correct solution passes its own exercise with full marks.
* :func:`load` gives the :class:`~autograder.loaded.LoadedExercise` (cached per id and
  folder: definitions do not change while a process runs).
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

from autograder.definition import (
    ID_PATTERN,
    Exercise,
    ExerciseError,
    UnknownExerciseError,
    parse_exercise,
)
from autograder.judge import flow_ports, grade_policies
from autograder.loaded import LoadedExercise, load_definition
from npcore.errors import NpcoreError
from npcore.load.yaml_safe import read_plain

__all__ = [
    "EXERCISES_DIR",
    "PACKAGE_EXERCISES_DIR",
    "check_definition",
    "exercises_dir",
    "list_exercises",
    "load",
    "load_exercise",
    "load_exercise_file",
]

PACKAGE_EXERCISES_DIR = Path(str(resources.files("autograder") / "exercises"))


def exercises_dir(directory: str | Path | None = None) -> Path:
    """``directory``, else ``$NETPOL_EXERCISES``, else the package's own exercises."""
    if directory:
        return Path(directory)
    return Path(os.environ.get("NETPOL_EXERCISES") or PACKAGE_EXERCISES_DIR)


# The folder this process reads (``$NETPOL_EXERCISES`` as it was at import time).
EXERCISES_DIR = exercises_dir()


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(PACKAGE_EXERCISES_DIR.parent.parent))
    except ValueError:
        return str(path)


def _flow_problems(loaded: LoadedExercise) -> list[str]:
    exercise = loaded.definition
    cluster = loaded.scenario
    names = {p.key for p in cluster.peers()}
    problems = []
    flows = [
        *(("requirements.allowed", f) for f in exercise.requirements.allowed),
        *(("requirements.denied", f) for f in exercise.requirements.denied),
        *(("flows", f) for f in exercise.flows),
    ]
    for where, flow in flows:
        missing = [peer for peer in (flow.src, flow.dst) if peer not in names]
        for peer in missing:
            problems.append(
                f"{where}: {flow}: no peer named {peer!r} (peers: {', '.join(sorted(names))})"
            )
        if not missing and flow_ports(cluster, flow).is_empty:
            problems.append(
                f"{where}: {flow}: {flow.dst} defines no {flow.protocol} port named {flow.port!r}"
            )
    return problems


def check_definition(exercise: Exercise) -> list[str]:
    """Problems with the Kubernetes side of a definition: scenario, solutions and
    candidates load, every flow names peers of the scenario, and every correct solution
    gets full marks.  Empty when all is well."""
    if exercise.kind == "choice":
        return []
    try:
        loaded = load_definition(exercise)
    except ExerciseError as exc:
        return list(exc.problems)
    problems = _flow_problems(loaded)
    if exercise.kind != "policy" or problems:
        return problems
    for i, solution in enumerate(loaded.solutions):
        result = grade_policies(loaded, solution)
        if not result.passed:
            what = "reference" if i == 0 else f"alternatives[{i - 1}]"
            problems.append(
                f"{what}: this solution does not meet the requirements: "
                + "; ".join(result.feedback)
            )
    return problems


def load_exercise_file(path: str | Path) -> Exercise:
    """Read and check one definition file."""
    file = Path(path)
    shown = _display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExerciseError(shown, [f"cannot read the file: {exc}"]) from None
    try:
        data = read_plain(text, shown)
    except NpcoreError as exc:
        raise ExerciseError(shown, [f"not valid YAML: {exc}"]) from None
    exercise = parse_exercise(data, shown)
    problems = check_definition(exercise)
    if problems:
        raise ExerciseError(shown, problems)
    return exercise


@cache
def _load_cached(exercise_id: str, directory: Path) -> LoadedExercise:
    path = directory / f"{exercise_id}.yaml"
    if not ID_PATTERN.fullmatch(exercise_id) or not path.is_file():
        known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
        shown = exercise_id[:80]
        raise UnknownExerciseError(f"unknown exercise {shown!r}; known exercises: {known}")
    return load_definition(load_exercise_file(path))


def load(exercise_id: str, directory: str | Path | None = None) -> LoadedExercise:
    """The exercise ``exercise_id``, ready to grade (``UnknownExerciseError`` if there is
    no such file, ``ExerciseError`` if the definition is wrong)."""
    return _load_cached(exercise_id, exercises_dir(directory))


def load_exercise(exercise_id: str, directory: str | Path | None = None) -> Exercise:
    """The definition of exercise ``exercise_id`` (see :func:`load`)."""
    return load(exercise_id, directory).definition


def list_exercises(directory: str | Path | None = None) -> list[Exercise]:
    """Every exercise, sorted: lesson exercises first, then drills; each by lesson, then
    time budget (easy before hard), then id."""
    folder = exercises_dir(directory)
    exercises = [load_exercise(p.stem, folder) for p in sorted(folder.glob("*.yaml"))]
    return sorted(exercises, key=lambda e: (e.cka, e.lesson or "", e.time_budget or 0, e.id))
