"""Exercises as data: one YAML definition per exercise under ``autograder/exercises/``.

Rules of this file:

* A definition is read with ``yaml.safe_load`` and checked field by field; every problem
  is collected and reported at once as an :class:`ExerciseError` whose lines read
  ``autograder/exercises/ID.yaml: FIELD.PATH: what is wrong (what to do)``.
* The Kubernetes parts of a definition (``scenario``, ``reference``, ``candidates``) are
  plain manifests kept as text; only :mod:`npcore.load` reads them
  (:meth:`Exercise.scenario_cluster`, :func:`autograder.grade.check_definition`).
* Flows are written ``SRC -> DST [PROTOCOL] PORT`` with peers named ``namespace/pod``
  or by an external's name: ``shop/api -> shop/db TCP 3306``, ``shop/web -> kube-system/
  coredns-0 UDP 53``.  The protocol defaults to TCP; a port may be a name (``mysql``),
  resolved against the destination pod's container ports.
* The schema is documented in ``exercises/README.md``; :data:`SCHEMA` lists the keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml

from npcore.model import Protocol

if TYPE_CHECKING:
    from npcore.cluster import Cluster

__all__ = [
    "DEFAULT_EXTERNALS",
    "EXERCISES_DIR",
    "KINDS",
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
    "parse_exercise",
    "parse_flow",
]

# The course's exercises ship inside the package (package data, read with importlib.resources);
# an instructor points NETPOL_EXERCISES (or ``directory=``) at a folder of their own.
PACKAGE_EXERCISES_DIR = Path(str(resources.files("autograder") / "exercises"))
EXERCISES_DIR = Path(os.environ.get("NETPOL_EXERCISES") or PACKAGE_EXERCISES_DIR)

KINDS = ("policy", "choice", "predict", "pick")

# An endpoint outside the cluster that every policy exercise probes (TEST-NET-2).
DEFAULT_EXTERNALS: tuple[tuple[str, str], ...] = (("internet", "198.51.100.10"),)

# Points per requirement group when a definition does not say.
DEFAULT_POINTS: Mapping[str, Mapping[str, float]] = {
    "policy": {"allowed": 2, "denied": 2, "unchanged": 1, "constraints": 1},
    "choice": {"answer": 1},
    "predict": {"answer": 1},
    "pick": {"answer": 1},
}

# key -> (required for kinds, allowed for kinds, description)
SCHEMA: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "id": (KINDS, KINDS, "the exercise id, equal to the file name without .yaml"),
    "title": (KINDS, KINDS, "a short title"),
    "kind": (KINDS, KINDS, "policy, choice, predict or pick"),
    "task": (KINDS, KINDS, "the task text shown to the learner (markdown)"),
    "lesson": ((), KINDS, "the lesson this exercise follows"),
    "cka": ((), KINDS, "true for a CKA-style drill"),
    "time_budget": ((), KINDS, "minutes a learner should need (drills)"),
    "cni": ((), KINDS, "the CNI of the scenario (default calico)"),
    "scenario": (("policy", "predict", "pick"), KINDS, "Kubernetes manifests of the cluster"),
    "externals": ((), ("policy", "predict", "pick"), "endpoints outside the cluster"),
    "reference": (("policy",), ("policy",), "a reference solution (NetworkPolicy manifests)"),
    "requirements": (("policy",), ("policy",), "flows that must be allowed / denied"),
    "constraints": ((), ("policy",), "object name, namespace and count"),
    "hints": ((), KINDS, "misconception id -> hint text"),
    "points": ((), KINDS, "requirement group -> points"),
    "options": ((), ("choice", "pick"), "option key -> text shown to the learner"),
    "answer": (("choice", "pick"), ("choice", "pick"), "the correct answer"),
    "explanations": ((), ("choice", "pick", "predict"), "wrong answer -> explanation"),
    "candidates": (("pick",), ("pick",), "candidate key -> NetworkPolicy manifests"),
    "flows": (("predict",), ("predict",), "flows whose verdict the learner predicts"),
    "examples": ((), KINDS, "answers with their expected grade (tested)"),
}

_FLOW = re.compile(
    r"^\s*(?P<src>[^\s>]+)\s*->\s*(?P<dst>[^\s]+)\s+"
    r"(?:(?P<protocol>[A-Za-z]+)\s+)?(?P<port>[A-Za-z0-9-]+)\s*$"
)


class ExerciseError(ValueError):
    """A definition that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


class UnknownExerciseError(KeyError):
    """No definition with that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown exercise"


@dataclass(frozen=True, slots=True)
class Flow:
    """A connection named by its peers: ``src -> dst PROTOCOL port``."""

    src: str
    dst: str
    protocol: Protocol
    port: int | str

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} {self.protocol} {self.port}"


def parse_flow(text: object) -> Flow:
    """Parse ``SRC -> DST [PROTOCOL] PORT``; ``ValueError`` with what to write otherwise.

    >>> str(parse_flow("shop/api -> shop/db 3306"))
    'shop/api -> shop/db TCP 3306'
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a flow written 'SRC -> DST [PROTOCOL] PORT', got {text!r}")
    match = _FLOW.match(text)
    if match is None:
        raise ValueError(
            f"cannot read flow {text!r}: write it as 'SRC -> DST [PROTOCOL] PORT', "
            "e.g. 'shop/api -> shop/db TCP 3306'"
        )
    protocol_text = (match["protocol"] or "TCP").upper()
    try:
        protocol = Protocol(protocol_text)
    except ValueError:
        raise ValueError(
            f"flow {text!r}: unknown protocol {match['protocol']!r} (use TCP, UDP or SCTP)"
        ) from None
    port_text = match["port"]
    port: int | str = int(port_text) if port_text.isdigit() else port_text
    if isinstance(port, int) and not 1 <= port <= 65535:
        raise ValueError(f"flow {text!r}: port {port} must be between 1 and 65535")
    return Flow(match["src"], match["dst"], protocol, port)


@dataclass(frozen=True, slots=True)
class Requirements:
    """Flows that must be allowed, flows that must be denied, and whether every other
    connection must behave as under the reference solution (``unchanged``)."""

    allowed: tuple[Flow, ...] = ()
    denied: tuple[Flow, ...] = ()
    unchanged: bool = True


@dataclass(frozen=True, slots=True)
class Constraints:
    """What the answer must consist of: object name, namespace and count (``None``: any)."""

    name: str | None = None
    namespace: str | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """An answer stored with the definition and the grade it must get (tested)."""

    name: str
    answer: str
    passes: bool
    feedback: tuple[str, ...] = ()
    misconceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exercise:
    """One exercise, as read from ``autograder/exercises/<id>.yaml``."""

    id: str
    title: str
    kind: str
    task: str
    scenario: str = ""
    cni: str = "calico"
    reference: str = ""
    requirements: Requirements = field(default_factory=Requirements)
    externals: tuple[tuple[str, str], ...] = DEFAULT_EXTERNALS
    constraints: Constraints = field(default_factory=Constraints)
    hints: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    points: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    time_budget: float | None = None
    cka: bool = False
    lesson: str | None = None
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    answer: Any = None
    explanations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    candidates: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    flows: tuple[Flow, ...] = ()
    examples: tuple[Example, ...] = ()
    path: str = ""

    @property
    def max_score(self) -> float:
        """The total of the points of every requirement group."""
        return float(sum(self.points.values()))

    def scenario_cluster(self) -> Cluster:
        """The scenario as an npcore ``Cluster`` with the probe externals added."""
        from autograder.grade import scenario_cluster

        return scenario_cluster(self)

    def listing(self) -> dict[str, object]:
        """What ``npgrade list`` shows."""
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "points": self.max_score,
            "time_budget": self.time_budget,
            "cka": self.cka,
        }


def _text(value: object, where: str, problems: list[str], required: bool = True) -> str:
    if value is None:
        if required:
            problems.append(f"{where}: required (write a string)")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}: must be a non-empty string, got {value!r}")
        return ""
    return value


def _str_map(value: object, where: str, problems: list[str]) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a mapping of key -> text, got {type(value).__name__}")
        return MappingProxyType({})
    out: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(text, str):
            problems.append(f"{where}.{key}: must be a string, got {text!r}")
            continue
        out[str(key)] = text
    return MappingProxyType(dict(sorted(out.items())))


def _flows(value: object, where: str, problems: list[str]) -> tuple[Flow, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of flows 'SRC -> DST [PROTOCOL] PORT'")
        return ()
    flows: list[Flow] = []
    for i, item in enumerate(value):
        try:
            flows.append(parse_flow(item))
        except ValueError as exc:
            problems.append(f"{where}[{i}]: {exc}")
    return tuple(flows)


def parse_exercise(data: object, path: str = "<definition>") -> Exercise:
    """Check a loaded definition and build the :class:`Exercise` (``ExerciseError`` lists
    every problem)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ExerciseError(path, ["the definition must be a YAML mapping (key: value lines)"])
    kind = data.get("kind")
    if kind not in KINDS:
        problems.append(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
        raise ExerciseError(path, problems)
    for key in sorted(data, key=str):
        if key not in SCHEMA:
            problems.append(f"{key}: unknown field (known fields: {', '.join(sorted(SCHEMA))})")
        elif kind not in SCHEMA[key][1]:
            problems.append(f"{key}: not used by kind {kind} exercises (remove it)")
    for key, (required_for, _, description) in SCHEMA.items():
        if kind in required_for and data.get(key) is None:
            problems.append(f"{key}: required for kind {kind} ({description})")

    ex_id = _text(data.get("id"), "id", problems)
    stem = Path(path).stem
    if ex_id and path.endswith(".yaml") and ex_id != stem:
        problems.append(f"id: {ex_id!r} must equal the file name {stem!r}")
    if ex_id and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ex_id):
        problems.append(f"id: {ex_id!r} must be lower-case letters, digits and dashes")
    title = _text(data.get("title"), "title", problems)
    task = _text(data.get("task"), "task", problems)
    scenario = _text(data.get("scenario"), "scenario", problems, required=False)
    reference = _text(data.get("reference"), "reference", problems, required=False)
    lesson = data.get("lesson")
    if lesson is not None and not isinstance(lesson, str):
        problems.append(f"lesson: must be a string, got {lesson!r}")
    cni = data.get("cni", "calico")
    if not isinstance(cni, str):
        problems.append(f"cni: must be a string such as calico or flannel, got {cni!r}")
        cni = "calico"
    cka = data.get("cka", False)
    if not isinstance(cka, bool):
        problems.append(f"cka: must be true or false, got {cka!r}")
        cka = False
    budget = data.get("time_budget")
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0
    ):
        problems.append(f"time_budget: must be a positive number of minutes, got {budget!r}")
        budget = None
    if cka and budget is None:
        problems.append("time_budget: a CKA drill (cka: true) needs a time budget in minutes")

    requirements = Requirements()
    req = data.get("requirements")
    if req is not None:
        if not isinstance(req, dict):
            problems.append("requirements: must be a mapping with allowed, denied, unchanged")
        else:
            for key in req:
                if key not in ("allowed", "denied", "unchanged"):
                    problems.append(
                        f"requirements.{key}: unknown field (use allowed, denied, unchanged)"
                    )
            unchanged = req.get("unchanged", True)
            if not isinstance(unchanged, bool):
                problems.append(f"requirements.unchanged: must be true or false, got {unchanged!r}")
                unchanged = True
            requirements = Requirements(
                _flows(req.get("allowed"), "requirements.allowed", problems),
                _flows(req.get("denied"), "requirements.denied", problems),
                unchanged,
            )

    constraints = Constraints()
    con = data.get("constraints")
    if con is not None:
        if not isinstance(con, dict):
            problems.append("constraints: must be a mapping with name, namespace, count")
        else:
            for key in con:
                if key not in ("name", "namespace", "count"):
                    problems.append(
                        f"constraints.{key}: unknown field (use name, namespace, count)"
                    )
            name, namespace, count = con.get("name"), con.get("namespace"), con.get("count")
            if name is not None and not isinstance(name, str):
                problems.append(f"constraints.name: must be a string, got {name!r}")
                name = None
            if namespace is not None and not isinstance(namespace, str):
                problems.append(f"constraints.namespace: must be a string, got {namespace!r}")
                namespace = None
            if count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 1
            ):
                problems.append(f"constraints.count: must be a positive integer, got {count!r}")
                count = None
            constraints = Constraints(name, namespace, count)

    externals = DEFAULT_EXTERNALS
    ext = data.get("externals")
    if ext is not None:
        parsed: list[tuple[str, str]] = []
        if not isinstance(ext, list):
            problems.append("externals: must be a list of {name: ..., ip: ...}")
        else:
            for i, item in enumerate(ext):
                if (
                    not isinstance(item, dict)
                    or set(item) != {"name", "ip"}
                    or not all(isinstance(v, str) for v in item.values())
                ):
                    problems.append(f"externals[{i}]: must be {{name: NAME, ip: ADDRESS}}")
                    continue
                parsed.append((item["name"], item["ip"]))
        externals = tuple(parsed)

    from autograder.feedback import DEFAULT_HINTS

    hints = _str_map(data.get("hints"), "hints", problems)
    for key in hints:
        if key not in DEFAULT_HINTS:
            problems.append(
                f"hints.{key}: unknown misconception (known: {', '.join(sorted(DEFAULT_HINTS))})"
            )

    points: dict[str, float] = dict(DEFAULT_POINTS[kind])
    raw_points = data.get("points")
    if raw_points is not None:
        if not isinstance(raw_points, dict):
            problems.append("points: must be a mapping of requirement group -> points")
        else:
            for key, value in raw_points.items():
                if key not in points:
                    problems.append(
                        f"points.{key}: unknown group for kind {kind} (use {', '.join(points)})"
                    )
                elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    problems.append(f"points.{key}: must be a number >= 0, got {value!r}")
                else:
                    points[key] = float(value)
    if kind == "policy" and not requirements.unchanged:
        points.pop("unchanged", None)

    options = _str_map(data.get("options"), "options", problems)
    explanations = _str_map(data.get("explanations"), "explanations", problems)
    candidates = _str_map(data.get("candidates"), "candidates", problems)
    answer = data.get("answer")
    if kind == "pick" and answer is not None and str(answer) not in candidates:
        problems.append(
            f"answer: {answer!r} is not one of the candidates ({', '.join(candidates)})"
        )
    if kind == "choice" and answer is not None:
        if isinstance(answer, dict | list) and not answer:
            problems.append("answer: must not be empty")
        if options and not isinstance(answer, dict):
            chosen = answer if isinstance(answer, list) else [answer]
            for item in chosen:
                if str(item) not in options:
                    problems.append(f"answer: {item!r} is not one of the options")
    flows = _flows(data.get("flows"), "flows", problems)
    if kind == "predict" and not flows and data.get("flows") is not None:
        problems.append("flows: list at least one flow to predict")

    examples: list[Example] = []
    raw_examples = data.get("examples")
    if raw_examples is not None:
        if not isinstance(raw_examples, list):
            problems.append("examples: must be a list of {name, answer, passes, ...}")
        else:
            names: set[str] = set()
            for i, item in enumerate(raw_examples):
                where = f"examples[{i}]"
                if not isinstance(item, dict):
                    problems.append(f"{where}: must be a mapping")
                    continue
                unknown = set(item) - {"name", "answer", "passes", "feedback", "misconceptions"}
                if unknown:
                    problems.append(f"{where}: unknown fields {sorted(unknown)}")
                ename = item.get("name")
                if not isinstance(ename, str) or not ename:
                    problems.append(f"{where}.name: required (a short id for the test)")
                    continue
                if ename in names:
                    problems.append(f"{where}.name: duplicate name {ename!r}")
                names.add(ename)
                eanswer = item.get("answer")
                if not isinstance(eanswer, str):
                    problems.append(f"{where}.answer: must be the answer text (a string)")
                    continue
                passes = item.get("passes")
                if not isinstance(passes, bool):
                    problems.append(f"{where}.passes: must be true or false")
                    continue
                fb = item.get("feedback", [])
                mc = item.get("misconceptions", [])
                if not isinstance(fb, list) or not all(isinstance(s, str) for s in fb):
                    problems.append(f"{where}.feedback: must be a list of expected sentences")
                    fb = []
                if not isinstance(mc, list) or not all(isinstance(s, str) for s in mc):
                    problems.append(f"{where}.misconceptions: must be a list of ids")
                    mc = []
                for m in mc:
                    if m not in DEFAULT_HINTS:
                        problems.append(f"{where}.misconceptions: unknown id {m!r}")
                examples.append(Example(ename, eanswer, passes, tuple(fb), tuple(mc)))

    if problems:
        raise ExerciseError(path, problems)
    return Exercise(
        id=ex_id,
        title=title,
        kind=kind,
        task=task,
        scenario=scenario,
        cni=cni,
        reference=reference,
        requirements=requirements,
        externals=externals,
        constraints=constraints,
        hints=hints,
        points=MappingProxyType(points),
        time_budget=float(budget) if budget is not None else None,
        cka=cka,
        lesson=lesson,
        options=options,
        answer=answer,
        explanations=explanations,
        candidates=candidates,
        flows=flows,
        examples=tuple(examples),
        path=path,
    )


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(PACKAGE_EXERCISES_DIR.parent.parent))
    except ValueError:
        return str(path)


def load_exercise_file(path: str | Path) -> Exercise:
    """Read and check one definition file."""
    file = Path(path)
    shown = _display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExerciseError(shown, [f"cannot read the file: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ExerciseError(shown, [f"{where}not valid YAML: {exc}"]) from None
    exercise = parse_exercise(data, shown)
    from autograder.grade import check_definition

    problems = check_definition(exercise)
    if problems:
        raise ExerciseError(shown, problems)
    return exercise


@cache
def _load_cached(exercise_id: str, directory: Path) -> Exercise:
    path = directory / f"{exercise_id}.yaml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", exercise_id) or not path.is_file():
        known = ", ".join(p.stem for p in sorted(directory.glob("*.yaml")))
        raise UnknownExerciseError(f"unknown exercise {exercise_id!r}; known exercises: {known}")
    return load_exercise_file(path)


def load_exercise(exercise_id: str, directory: str | Path | None = None) -> Exercise:
    """The exercise ``exercise_id`` (``UnknownExerciseError`` if there is no such file,
    ``ExerciseError`` if the definition is wrong)."""
    return _load_cached(exercise_id, Path(directory) if directory else EXERCISES_DIR)


def list_exercises(directory: str | Path | None = None) -> list[Exercise]:
    """Every exercise, sorted: lesson exercises first, then drills; each by lesson, then
    time budget (easy before hard), then id."""
    folder = Path(directory) if directory else EXERCISES_DIR
    exercises = [load_exercise(p.stem, folder) for p in sorted(folder.glob("*.yaml"))]
    return sorted(exercises, key=lambda e: (e.cka, e.lesson or "", e.time_budget or 0, e.id))
