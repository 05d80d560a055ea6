"""Exercise definitions as data: the schema, the values, and the parser that checks them.

Rules of this file:

* Pure: :func:`parse_exercise` takes the already-read YAML value of a definition and
  returns an :class:`Exercise` or raises :class:`ExerciseError` listing every problem, each
  ``FIELD.PATH: what is wrong (what to do)``.  No files, no grading: this module imports
  npcore only (finding and loading files is :mod:`autograder.catalog`).
* Each top-level section has its own parser (``_parse_requirements``, ``_parse_points``...)
  that appends its problems to one list, so a definition with five mistakes shows five lines.
* The Kubernetes parts (``scenario``, ``reference``, ``alternatives``, ``candidates``) are
  plain manifests kept as text; :mod:`autograder.loaded` turns them into npcore values.
* Flows are :class:`npcore.flows.Flow` values (read by ``Flow.parse``), written
  ``SRC -> DST [PROTOCOL] PORT`` with peers named ``namespace/pod`` or by an external's
  name: ``shop/api -> shop/db TCP 3306``.  The protocol defaults to
  TCP; a port may be a name (``mysql``), resolved against the destination's container ports.
* The schema is documented in ``exercises/README.md``; :data:`SCHEMA` lists the keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from npcore.flows import Flow

__all__ = [
    "DEFAULT_EXTERNALS",
    "KINDS",
    "MISCONCEPTION_IDS",
    "SCHEMA",
    "Constraints",
    "Example",
    "Exercise",
    "ExerciseError",
    "Flow",
    "Requirements",
    "UnknownExerciseError",
    "parse_exercise",
]

KINDS = ("policy", "choice", "predict", "pick")

# The misconception ids a definition may name in ``hints`` and ``examples`` (the
# detectors of :mod:`autograder.detectors`; their wording is in :mod:`autograder.feedback`).
MISCONCEPTION_IDS = (
    "dns-udp-and-tcp",
    "egress-isolated-no-rules",
    "empty-pod-selector",
    "named-port-undefined",
    "or-instead-of-and",
    "peers-and-ports-merged",
    "pod-ip-in-ipblock",
    "pod-selector-namespace-scoped",
    "policy-types-omitted",
    "selector-matches-nothing",
    "service-port",
    "wrong-namespace",
)

# An endpoint outside the cluster that every policy exercise names (TEST-NET-2).
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
    "alternatives": ((), ("policy",), "other correct solutions, each graded like the reference"),
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

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")


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


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


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
    alternatives: tuple[str, ...] = ()
    requirements: Requirements = field(default_factory=Requirements)
    externals: tuple[tuple[str, str], ...] = DEFAULT_EXTERNALS
    constraints: Constraints = field(default_factory=Constraints)
    hints: Mapping[str, str] = field(default_factory=_empty)
    points: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    time_budget: float | None = None
    cka: bool = False
    lesson: str | None = None
    options: Mapping[str, str] = field(default_factory=_empty)
    answer: Any = None
    explanations: Mapping[str, str] = field(default_factory=_empty)
    candidates: Mapping[str, str] = field(default_factory=_empty)
    flows: tuple[Flow, ...] = ()
    examples: tuple[Example, ...] = ()
    path: str = ""

    @property
    def max_score(self) -> float:
        """The total of the points of every requirement group."""
        return float(sum(self.points.values()))

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


# --- field readers ----------------------------------------------------------------------------


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
        return _empty()
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a mapping of key -> text, got {type(value).__name__}")
        return _empty()
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
            flows.append(Flow.parse(item))
        except ValueError as exc:
            problems.append(f"{where}[{i}]: {exc}")
    return tuple(flows)


def _known_keys(value: dict[Any, Any], where: str, known: tuple[str, ...]) -> list[str]:
    return [
        f"{where}.{key}: unknown field (use {', '.join(known)})"
        for key in value
        if key not in known
    ]


# --- one parser per section ---------------------------------------------------------------


def _check_keys(data: dict[Any, Any], kind: str, problems: list[str]) -> None:
    for key in sorted(data, key=str):
        if key not in SCHEMA:
            problems.append(f"{key}: unknown field (known fields: {', '.join(sorted(SCHEMA))})")
        elif kind not in SCHEMA[key][1]:
            problems.append(f"{key}: not used by kind {kind} exercises (remove it)")
    for key, (required_for, _, description) in SCHEMA.items():
        if kind in required_for and data.get(key) is None:
            problems.append(f"{key}: required for kind {kind} ({description})")


def _parse_id(data: dict[Any, Any], path: str, problems: list[str]) -> str:
    ex_id = _text(data.get("id"), "id", problems)
    stem = PurePath(path).stem
    if ex_id and path.endswith(".yaml") and ex_id != stem:
        problems.append(f"id: {ex_id!r} must equal the file name {stem!r}")
    if ex_id and not ID_PATTERN.fullmatch(ex_id):
        problems.append(f"id: {ex_id!r} must be lower-case letters, digits and dashes")
    return ex_id


def _parse_setting(data: dict[Any, Any], problems: list[str]) -> dict[str, Any]:
    """``lesson``, ``cni``, ``cka`` and ``time_budget``."""
    lesson = data.get("lesson")
    if lesson is not None and not isinstance(lesson, str):
        problems.append(f"lesson: must be a string, got {lesson!r}")
        lesson = None
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
    return {
        "lesson": lesson,
        "cni": cni,
        "cka": cka,
        "time_budget": float(budget) if budget is not None else None,
    }


def _parse_requirements(value: object, problems: list[str]) -> Requirements:
    if value is None:
        return Requirements()
    if not isinstance(value, dict):
        problems.append("requirements: must be a mapping with allowed, denied, unchanged")
        return Requirements()
    problems += _known_keys(value, "requirements", ("allowed", "denied", "unchanged"))
    unchanged = value.get("unchanged", True)
    if not isinstance(unchanged, bool):
        problems.append(f"requirements.unchanged: must be true or false, got {unchanged!r}")
        unchanged = True
    return Requirements(
        _flows(value.get("allowed"), "requirements.allowed", problems),
        _flows(value.get("denied"), "requirements.denied", problems),
        unchanged,
    )


def _parse_constraints(value: object, problems: list[str]) -> Constraints:
    if value is None:
        return Constraints()
    if not isinstance(value, dict):
        problems.append("constraints: must be a mapping with name, namespace, count")
        return Constraints()
    problems += _known_keys(value, "constraints", ("name", "namespace", "count"))
    name, namespace, count = value.get("name"), value.get("namespace"), value.get("count")
    if name is not None and not isinstance(name, str):
        problems.append(f"constraints.name: must be a string, got {name!r}")
        name = None
    if namespace is not None and not isinstance(namespace, str):
        problems.append(f"constraints.namespace: must be a string, got {namespace!r}")
        namespace = None
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        problems.append(f"constraints.count: must be a positive integer, got {count!r}")
        count = None
    return Constraints(name, namespace, count)


def _parse_externals(value: object, problems: list[str]) -> tuple[tuple[str, str], ...]:
    if value is None:
        return DEFAULT_EXTERNALS
    if not isinstance(value, list):
        problems.append("externals: must be a list of {name: ..., ip: ...}")
        return ()
    parsed: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if (
            not isinstance(item, dict)
            or set(item) != {"name", "ip"}
            or not all(isinstance(v, str) for v in item.values())
        ):
            problems.append(f"externals[{i}]: must be {{name: NAME, ip: ADDRESS}}")
            continue
        parsed.append((item["name"], item["ip"]))
    return tuple(parsed)


def _parse_alternatives(value: object, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append("alternatives: must be a list of manifests (each a YAML text)")
        return ()
    return tuple(value)


def _parse_hints(value: object, problems: list[str]) -> Mapping[str, str]:
    hints = _str_map(value, "hints", problems)
    for key in hints:
        if key not in MISCONCEPTION_IDS:
            problems.append(
                f"hints.{key}: unknown misconception (known: {', '.join(MISCONCEPTION_IDS)})"
            )
    return hints


def _parse_points(
    value: object, kind: str, requirements: Requirements, problems: list[str]
) -> Mapping[str, float]:
    points: dict[str, float] = dict(DEFAULT_POINTS[kind])
    if value is not None and not isinstance(value, dict):
        problems.append("points: must be a mapping of requirement group -> points")
    elif value is not None:
        for key, number in value.items():
            if key not in points:
                problems.append(
                    f"points.{key}: unknown group for kind {kind} (use {', '.join(points)})"
                )
            elif isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                problems.append(f"points.{key}: must be a number >= 0, got {number!r}")
            else:
                points[key] = float(number)
    if kind == "policy" and not requirements.unchanged:
        points.pop("unchanged", None)
    return MappingProxyType(points)


def _check_answer(
    kind: str,
    answer: object,
    options: Mapping[str, str],
    candidates: Mapping[str, str],
    problems: list[str],
) -> None:
    if answer is None:
        return
    if kind == "pick" and str(answer) not in candidates:
        problems.append(
            f"answer: {answer!r} is not one of the candidates ({', '.join(candidates)})"
        )
    if kind != "choice":
        return
    if isinstance(answer, dict | list) and not answer:
        problems.append("answer: must not be empty")
    if options and not isinstance(answer, dict):
        chosen = answer if isinstance(answer, list) else [answer]
        for item in chosen:
            if str(item) not in options:
                problems.append(f"answer: {item!r} is not one of the options")


def _parse_example(item: object, where: str, problems: list[str]) -> Example | None:
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    unknown = set(item) - {"name", "answer", "passes", "feedback", "misconceptions"}
    if unknown:
        problems.append(f"{where}: unknown fields {sorted(unknown)}")
    name, answer, passes = item.get("name"), item.get("answer"), item.get("passes")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}.name: required (a short id for the test)")
        return None
    if not isinstance(answer, str):
        problems.append(f"{where}.answer: must be the answer text (a string)")
        return None
    if not isinstance(passes, bool):
        problems.append(f"{where}.passes: must be true or false")
        return None
    feedback, found = item.get("feedback", []), item.get("misconceptions", [])
    if not isinstance(feedback, list) or not all(isinstance(s, str) for s in feedback):
        problems.append(f"{where}.feedback: must be a list of expected sentences")
        feedback = []
    if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
        problems.append(f"{where}.misconceptions: must be a list of ids")
        found = []
    for m in found:
        if m not in MISCONCEPTION_IDS:
            problems.append(f"{where}.misconceptions: unknown id {m!r}")
    return Example(name, answer, passes, tuple(feedback), tuple(found))


def _parse_examples(value: object, problems: list[str]) -> tuple[Example, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append("examples: must be a list of {name, answer, passes, ...}")
        return ()
    examples: list[Example] = []
    names: set[str] = set()
    for i, item in enumerate(value):
        example = _parse_example(item, f"examples[{i}]", problems)
        if example is None:
            continue
        if example.name in names:
            problems.append(f"examples[{i}].name: duplicate name {example.name!r}")
        names.add(example.name)
        examples.append(example)
    return tuple(examples)


def parse_exercise(data: object, path: str = "<definition>") -> Exercise:
    """Check a loaded definition and build the :class:`Exercise` (``ExerciseError`` lists
    every problem).

    >>> try:
    ...     parse_exercise({"kind": "quiz"}, "x.yaml")
    ... except ExerciseError as error:
    ...     print(error.problems[0])
    kind: must be one of policy, choice, predict, pick, got 'quiz'
    """
    if not isinstance(data, dict):
        raise ExerciseError(path, ["the definition must be a YAML mapping (key: value lines)"])
    kind = data.get("kind")
    if kind not in KINDS:
        raise ExerciseError(path, [f"kind: must be one of {', '.join(KINDS)}, got {kind!r}"])
    problems: list[str] = []
    _check_keys(data, kind, problems)
    ex_id = _parse_id(data, path, problems)
    requirements = _parse_requirements(data.get("requirements"), problems)
    options = _str_map(data.get("options"), "options", problems)
    candidates = _str_map(data.get("candidates"), "candidates", problems)
    _check_answer(kind, data.get("answer"), options, candidates, problems)
    flows = _flows(data.get("flows"), "flows", problems)
    if kind == "predict" and not flows and data.get("flows") is not None:
        problems.append("flows: list at least one flow to predict")
    exercise = Exercise(
        id=ex_id,
        title=_text(data.get("title"), "title", problems),
        kind=kind,
        task=_text(data.get("task"), "task", problems),
        scenario=_text(data.get("scenario"), "scenario", problems, required=False),
        reference=_text(data.get("reference"), "reference", problems, required=False),
        alternatives=_parse_alternatives(data.get("alternatives"), problems),
        requirements=requirements,
        externals=_parse_externals(data.get("externals"), problems),
        constraints=_parse_constraints(data.get("constraints"), problems),
        hints=_parse_hints(data.get("hints"), problems),
        points=_parse_points(data.get("points"), kind, requirements, problems),
        options=options,
        answer=data.get("answer"),
        explanations=_str_map(data.get("explanations"), "explanations", problems),
        candidates=candidates,
        flows=flows,
        examples=_parse_examples(data.get("examples"), problems),
        path=path,
        **_parse_setting(data, problems),
    )
    if problems:
        raise ExerciseError(path, problems)
    return exercise
