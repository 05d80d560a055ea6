"""Grade an answer to an exercise by its behaviour.

Rules of this file:

* :func:`grade` is pure and deterministic, and never raises on learner input: text that
  npcore cannot load scores 0 with npcore's messages (file, line, field, what to do).
  It raises only for an unknown exercise id or a broken definition (instructor errors).
* **policy** exercises compare connectivity, not YAML.  The learner's policies are added
  to the scenario; the reference solution is added to the scenario; both clusters get the
  definition's externals.  :func:`npcore.reachability.connectivity_map` gives the allowed
  ports and protocols of every ordered pair of peers in each, and every pair whose ports
  differ is a :class:`~autograder.detectors.FlowDiff`.  So an over-broad answer loses
  points (least permissive wins), and so does one that breaks unrelated traffic.
* Requirement groups, each all-or-nothing (partial credit per group): ``allowed`` (the
  flows the task names as allowed are allowed), ``denied`` (the named denied flows are
  denied), ``unchanged`` (every other connection, on every port and protocol, behaves as
  under the reference) and ``constraints`` (object count, name, namespace).
* **choice** and **pick** answers are compared exactly with the definition's ``answer``;
  **predict** answers (``flow: allowed|denied``) with npcore's verdict on the scenario.
* Feedback comes in a fixed order: input errors, constraints, named flows, other
  traffic, likely causes (detectors); inside each part it is sorted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

import yaml

from autograder import feedback as fb
from autograder.detectors import Context, FlowDiff, detect
from autograder.exercise import Exercise, ExerciseError, Flow, load_exercise, parse_flow
from autograder.results import CheckResult, GradeResult
from npcore.cluster import Cluster, External, Pod
from npcore.engine import Connection, Verdict, is_allowed, resolve_port
from npcore.errors import NpcoreError
from npcore.load import load_cluster, parse_policies
from npcore.model import NetworkPolicy, PolicyType
from npcore.ports import PortSet
from npcore.reachability import ConnectivityMap, connectivity_map

__all__ = [
    "check_definition",
    "connectivity_diff",
    "grade",
    "grade_exercise",
    "grade_files",
    "grade_policies",
    "scenario_cluster",
]

Answer = tuple[str, str]  # (filename, text)

# Choice, predict and pick answers are a few lines of YAML.
MAX_ANSWER_CHARS = 100_000
MAX_ANSWER_DEPTH = 50


def _bracket_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` (an upper bound: brackets in strings count too)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


# --- scenario ------------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _scenario(text: str, cni: str, externals: tuple[tuple[str, str], ...]) -> Cluster:
    cluster = load_cluster(text=text, filename="scenario", cni=cni)
    extra = tuple(External(name, ip) for name, ip in externals)
    return replace(cluster, externals=(*cluster.externals, *extra))


def scenario_cluster(exercise: Exercise) -> Cluster:
    """The exercise's scenario as a cluster, with its probe externals added."""
    try:
        return _scenario(exercise.scenario, exercise.cni, exercise.externals)
    except NpcoreError as exc:
        raise ExerciseError(exercise.path or exercise.id, [f"scenario: {exc}"]) from None


@lru_cache(maxsize=128)
def _policies(text: str, filename: str) -> tuple[NetworkPolicy, ...]:
    return parse_policies(text, filename)


def _reference(exercise: Exercise) -> tuple[NetworkPolicy, ...]:
    try:
        return _policies(exercise.reference, "reference")
    except NpcoreError as exc:
        raise ExerciseError(exercise.path or exercise.id, [f"reference: {exc}"]) from None


@lru_cache(maxsize=128)
def _map_with(
    scenario: str, cni: str, externals: tuple[tuple[str, str], ...], policies: str, name: str
) -> ConnectivityMap:
    cluster = _scenario(scenario, cni, externals)
    added = _policies(policies, name)
    return connectivity_map(cluster.with_policies((*cluster.policies, *added)))


def _expected_map(exercise: Exercise) -> ConnectivityMap:
    """The connectivity of the scenario with the reference solution applied (cached)."""
    scenario_cluster(exercise)
    _reference(exercise)
    return _map_with(
        exercise.scenario, exercise.cni, exercise.externals, exercise.reference, "reference"
    )


# --- connectivity diff ---------------------------------------------------------------------


_minus = fb.ports_minus


def connectivity_diff(learner: ConnectivityMap, expected: ConnectivityMap) -> tuple[FlowDiff, ...]:
    """Every ordered pair whose allowed ports differ, sorted by source then destination."""
    diffs = []
    for i, src in enumerate(learner.peers):
        for j, dst in enumerate(learner.peers):
            got, want = learner.ports_at(i, j), expected.ports_at(i, j)
            if got != want:
                diffs.append(FlowDiff(src, dst, _minus(got, want), _minus(want, got)))
    return tuple(sorted(diffs, key=lambda d: (d.src, d.dst)))


def _endpoint(cluster: Cluster, name: str) -> Pod | External:
    for peer in cluster.peers():
        if peer.key == name:
            return peer
    raise KeyError(name)


def _verdict(cluster: Cluster, flow: Flow) -> Verdict:
    connection = Connection(
        _endpoint(cluster, flow.src), _endpoint(cluster, flow.dst), flow.port, flow.protocol
    )
    return is_allowed(cluster, connection)


def _listening(cluster: Cluster, name: str) -> PortSet | None:
    """The container ports of pod ``name`` (``None`` for an external or a pod without)."""
    for pod in cluster.pods:
        if pod.key == name and pod.ports:
            return PortSet.from_ranges(
                {
                    protocol: [(p.port, p.port) for p in pod.ports if p.protocol is protocol]
                    for protocol in {p.protocol for p in pod.ports}
                }
            )
    return None


def _flow_ports(cluster: Cluster, flow: Flow) -> PortSet:
    number = resolve_port(_endpoint(cluster, flow.dst), flow.port, flow.protocol)
    return PortSet() if number is None else PortSet.of(flow.protocol, number)


# --- policy exercises ----------------------------------------------------------------------


def _constraints(exercise: Exercise, policies: Sequence[NetworkPolicy]) -> list[str]:
    con = exercise.constraints
    problems = []
    if con.count is not None and len(policies) != con.count:
        what = "NetworkPolicy" if con.count == 1 else "NetworkPolicies"
        problems.append(f"the task asks for {con.count} {what}; your answer has {len(policies)}")
    if con.name is not None and policies and not any(p.name == con.name for p in policies):
        names = ", ".join(sorted(p.name for p in policies))
        problems.append(f"the task asks for a NetworkPolicy named {con.name}; yours: {names}")
    if con.namespace is not None:
        for policy in sorted(policies, key=lambda p: p.key):
            if policy.namespace != con.namespace:
                problems.append(
                    f"policy {policy.name} is in namespace {policy.namespace}; the task asks "
                    f"for namespace {con.namespace} (a manifest without metadata.namespace "
                    "lands in default)"
                )
    return problems


def grade_policies(
    exercise: Exercise,
    policies: Sequence[NetworkPolicy],
    *,
    scenario_policies: Sequence[NetworkPolicy] | None = None,
) -> GradeResult:
    """Grade already-loaded learner policies against a policy exercise.

    ``scenario_policies``: the scenario's own policies as they are now (a cluster the
    learner changed, see :mod:`autograder.fromcluster`); ``None``: as the scenario has them.
    """
    scenario = scenario_cluster(exercise)
    expected = _expected_map(exercise)
    base = scenario.policies if scenario_policies is None else tuple(scenario_policies)
    learner_cluster = scenario.with_policies((*base, *policies))
    got = connectivity_map(learner_cluster)
    diffs = connectivity_diff(got, expected)
    points = exercise.points
    checks: list[CheckResult] = []
    lines: list[str] = []

    constraint_problems = _constraints(exercise, policies)
    if "constraints" in points:
        checks.append(
            CheckResult(
                "constraints",
                not constraint_problems,
                0.0 if constraint_problems else points["constraints"],
                points["constraints"],
                "; ".join(constraint_problems) or "name, namespace and count as asked",
            )
        )
    lines += constraint_problems

    mentioned: dict[tuple[str, str], PortSet] = {}
    for group, flows, want in (
        ("allowed", exercise.requirements.allowed, True),
        ("denied", exercise.requirements.denied, False),
    ):
        wrong = []
        for flow in flows:
            key = (flow.src, flow.dst)
            mentioned[key] = mentioned.get(key, PortSet()).union(_flow_ports(learner_cluster, flow))
            verdict = _verdict(learner_cluster, flow)
            if verdict.allowed != want:
                wrong.append(fb.explicit_flow_line(str(flow), verdict.allowed, _why(verdict)))
        wrong.sort()
        if group in points:
            checks.append(
                CheckResult(
                    group,
                    not wrong,
                    0.0 if wrong else points[group],
                    points[group],
                    "; ".join(wrong) or f"every {group} flow the task names is {group}",
                )
            )
        lines += wrong

    if exercise.requirements.unchanged:
        hidden: list[str] = []
        for d in diffs:
            skip = mentioned.get((d.src, d.dst), PortSet())
            extra, missing = _minus(d.extra, skip), _minus(d.missing, skip)
            listening = _listening(scenario, d.dst)
            if not extra.is_empty:
                hidden.append(fb.hidden_flow_line(d.src, d.dst, extra, True, listening))
            if not missing.is_empty:
                hidden.append(fb.hidden_flow_line(d.src, d.dst, missing, False, listening))
        shown = hidden[: fb.MAX_HIDDEN_LINES]
        if len(hidden) > len(shown):
            shown.append(
                f"... and {len(hidden) - len(shown)} more changes to traffic the task did not "
                "mention"
            )
        if "unchanged" in points:
            checks.append(
                CheckResult(
                    "unchanged",
                    not hidden,
                    0.0 if hidden else points["unchanged"],
                    points["unchanged"],
                    f"{len(hidden)} other connections changed"
                    if hidden
                    else "nothing else changed",
                )
            )
        lines += shown

    found = detect(
        Context(scenario, tuple(policies), _reference(exercise), diffs, exercise.constraints)
    )
    passed = all(c.passed for c in checks)
    if not passed:
        hinted: set[str] = set()
        for m in found:
            lines.append(
                fb.misconception_line(m.id, m.detail, exercise.hints, with_hint=m.id not in hinted)
            )
            hinted.add(m.id)
    else:
        found = []
        lines.append("All requirements met: your policies have exactly the required effect.")
    return GradeResult.from_checks(exercise.id, checks, lines, found)


def _invalid(exercise: Exercise, messages: Iterable[str]) -> GradeResult:
    checks = [
        CheckResult(name, False, 0.0, pts, "invalid input") for name, pts in exercise.points.items()
    ]
    lines = [*messages, "Your answer could not be read, so it scores 0: fix the errors above."]
    return GradeResult.from_checks(exercise.id, checks, lines)


def _grade_policy_answer(exercise: Exercise, answers: Sequence[Answer]) -> GradeResult:
    policies: list[NetworkPolicy] = []
    errors: list[str] = []
    for filename, text in answers:
        try:
            policies.extend(parse_policies(text, filename))
        except NpcoreError as exc:
            errors.extend(str(exc).splitlines())
    if errors:
        return _invalid(exercise, errors)
    return grade_policies(exercise, policies)


# --- choice, pick, predict -----------------------------------------------------------------


def _read_answer(exercise: Exercise, answers: Sequence[Answer]) -> tuple[Any, str | None]:
    """The YAML value of the answer (``answer: X`` or bare ``X``), or an error message."""
    filename, text = answers[0] if answers else ("answer.yaml", "")
    if len(answers) > 1:
        return (
            None,
            f"{filename}: a {exercise.kind} exercise takes one answer file, got {len(answers)}",
        )
    if len(text) > MAX_ANSWER_CHARS:
        return None, f"{filename}: the answer is too long (over {MAX_ANSWER_CHARS} characters)"
    if _bracket_depth(text) > MAX_ANSWER_DEPTH:
        return None, f"{filename}: the answer is nested too deeply"
    try:
        if any(isinstance(t, yaml.AliasToken | yaml.AnchorToken) for t in yaml.scan(text)):
            return None, f"{filename}: anchors and aliases (&name, *name) are not accepted here"
        value = yaml.safe_load(text)
    except RecursionError:
        return None, f"{filename}: the answer is nested too deeply"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark is not None else filename
        problem = getattr(exc, "problem", None) or "not valid YAML"
        return None, f"{where}: {problem} (write your answer as YAML, e.g. 'answer: B')"
    if isinstance(value, dict) and set(value) == {"answer"}:
        value = value["answer"]
    if value is None:
        return None, f"{filename}: no answer found (write it as YAML, e.g. 'answer: B')"
    return value, None


def _norm(value: object) -> str:
    return str(value).strip().casefold()


def _grade_choice(exercise: Exercise, answers: Sequence[Answer]) -> GradeResult:
    value, error = _read_answer(exercise, answers)
    if error:
        return _invalid(exercise, [error])
    expected = exercise.answer
    pts = exercise.points["answer"]
    lines: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(value, dict):
            return _invalid(
                exercise,
                [f"expected a mapping (one 'item: label' line per item), got {value!r}"],
            )
        given = {_norm(k): v for k, v in value.items()}
        wrong = 0
        for key in sorted(expected, key=str):
            want = expected[key]
            got = given.get(_norm(key))
            if got is None:
                lines.append(f"{key}: no answer given")
                wrong += 1
            elif _norm(got) != _norm(want):
                why = exercise.explanations.get(str(key), "")
                lines.append(f"{key}: you said {got}; it is {want}. {why}".rstrip())
                wrong += 1
        known = {_norm(k) for k in expected}
        for key in sorted(k for k in value if _norm(k) not in known):
            lines.append(f"{key}: not one of the items to answer (check the spelling)")
        score = pts * (len(expected) - wrong) / len(expected)
        ok = wrong == 0
    elif isinstance(expected, list):
        given_list = value if isinstance(value, list) else [value]
        want_set = {_norm(x) for x in expected}
        got_set = {_norm(x) for x in given_list}
        for item in sorted(got_set - want_set):
            why = exercise.explanations.get(item.upper(), exercise.explanations.get(item, ""))
            lines.append(f"{item.upper()} should not be in your answer. {why}".rstrip())
        for item in sorted(want_set - got_set):
            lines.append(f"{item.upper()} is missing from your answer.")
        ok = not lines
        score = pts if ok else 0.0
    else:
        ok = _norm(value) == _norm(expected)
        score = pts if ok else 0.0
        if not ok:
            key = str(value).strip().upper()
            why = exercise.explanations.get(key, exercise.explanations.get(str(value).strip(), ""))
            lines.append(f"{value} is not the right answer. {why}".rstrip())
    if ok:
        lines = ["Correct."]
    check = CheckResult("answer", ok, round(score, 4), pts, "; ".join(lines))
    return GradeResult.from_checks(exercise.id, [check], lines)


def _grade_pick(exercise: Exercise, answers: Sequence[Answer]) -> GradeResult:
    value, error = _read_answer(exercise, answers)
    if error:
        return _invalid(exercise, [error])
    pts = exercise.points["answer"]
    choice = str(value).strip()
    match = [k for k in exercise.candidates if _norm(k) == _norm(choice)]
    if not match:
        return _invalid(
            exercise,
            [f"{choice!r} is not a candidate; answer one of {', '.join(exercise.candidates)}"],
        )
    picked = match[0]
    if picked == str(exercise.answer):
        lines = ["Correct: it is the least permissive candidate that does the job."]
        check = CheckResult("answer", True, pts, pts, lines[0])
        return GradeResult.from_checks(exercise.id, [check], lines)
    lines = [f"Candidate {picked} is not the right one."]
    lines += _candidate_differences(exercise, picked)
    why = exercise.explanations.get(picked)
    if why:
        lines.append(why)
    check = CheckResult("answer", False, 0.0, pts, lines[0])
    return GradeResult.from_checks(exercise.id, [check], lines)


def _candidate_differences(exercise: Exercise, key: str) -> list[str]:
    """How candidate ``key`` behaves differently from the correct candidate."""
    right = str(exercise.answer)
    args = (exercise.scenario, exercise.cni, exercise.externals)
    want = _map_with(*args, exercise.candidates[right], f"candidate {right}")
    got = _map_with(*args, exercise.candidates[key], f"candidate {key}")
    lines = []
    for d in connectivity_diff(got, want):
        if not d.extra.is_empty:
            lines.append(
                f"It also allows {d.src} -> {d.dst} {fb.describe_ports(d.extra)}, which the "
                "task does not need."
            )
        if not d.missing.is_empty:
            lines.append(
                f"It blocks {d.src} -> {d.dst} {fb.describe_ports(d.missing)}, which must work."
            )
    shown = lines[: fb.MAX_HIDDEN_LINES]
    if len(lines) > len(shown):
        shown.append(f"... and {len(lines) - len(shown)} more differences")
    return shown


_ALLOWED_WORDS = {"allowed": True, "allow": True, "denied": False, "deny": False, "blocked": False}


def _why(verdict: Verdict) -> str:
    """Which side decides a verdict, and by which policy rule (for a wrong named flow):
    the admitting rules of an allowed connection (or the sides no policy isolates), the
    isolating policies of a denied one."""
    if verdict.port is None:
        return "the destination does not define that named port"
    if not verdict.enforced:
        return f"the CNI ({verdict.cni}) does not enforce NetworkPolicy"
    admitting, open_sides, blocking = [], [], []
    for side in (verdict.egress, verdict.ingress):
        if side.pod is None:
            continue
        direction = "egress" if side.direction is PolicyType.EGRESS else "ingress"
        if not side.isolated:
            open_sides.append(f"{side.pod} for {direction}")
        elif side.admitted_by:
            match = side.admitted_by[0]
            field = "to" if direction == "egress" else "from"
            peer = "" if match.peer_index is None else f".{field}[{match.peer_index}]"
            admitting.append(f"{match.policy} {direction}[{match.rule_index}]{peer} admits it")
        else:
            blocking.append(
                f"{side.pod} is isolated for {direction} by {', '.join(side.selecting_policies)} "
                "and no rule admits it"
            )
    if not verdict.allowed:
        return " and ".join(blocking)
    if admitting:
        return " and ".join(admitting)
    return "no policy isolates " + " or ".join(open_sides)


def _explain(verdict: Verdict) -> str:
    """Why npcore decides as it does, in one clause."""
    if verdict.port is None:
        return "the destination does not define that named port, so nothing listens"
    if not verdict.enforced:
        return f"the CNI ({verdict.cni}) does not enforce NetworkPolicy, so nothing is blocked"
    if verdict.self_traffic:
        return "a pod can always reach itself"
    for side in (verdict.egress, verdict.ingress):
        if side.isolated and not side.allowed:
            where = "egress" if side.direction is PolicyType.EGRESS else "ingress"
            return (
                f"{side.pod} is isolated for {where} by {', '.join(side.selecting_policies)} "
                "and no rule admits this connection"
            )
    if not verdict.egress.isolated and not verdict.ingress.isolated:
        return "no policy isolates either side, so it is allowed by default"
    return "the isolating policies have a rule that admits it"


def _grade_predict(exercise: Exercise, answers: Sequence[Answer]) -> GradeResult:
    value, error = _read_answer(exercise, answers)
    if error:
        return _invalid(exercise, [error])
    if not isinstance(value, dict):
        return _invalid(
            exercise,
            ["write one line per flow: 'SRC -> DST PROTOCOL PORT: allowed' (or denied)"],
        )
    cluster = scenario_cluster(exercise)
    given: dict[Flow, bool] = {}
    problems: list[str] = []
    for key, word in value.items():
        try:
            flow = parse_flow(str(key))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if isinstance(word, bool):
            given[flow] = word
        elif _norm(word) in _ALLOWED_WORDS:
            given[flow] = _ALLOWED_WORDS[_norm(word)]
        else:
            problems.append(f"{flow}: answer allowed or denied, not {word!r}")
    if problems:
        return _invalid(exercise, sorted(problems))
    pts = exercise.points["answer"]
    lines: list[str] = []
    right = 0
    for flow in exercise.flows:
        verdict = _verdict(cluster, flow)
        truth = verdict.allowed
        state = "allowed" if truth else "denied"
        if flow not in given:
            lines.append(f"{flow}: no prediction given")
        elif given[flow] != truth:
            other = "denied" if truth else "allowed"
            lines.append(f"{flow}: you predicted {other}; it is {state}: {_explain(verdict)}")
        else:
            right += 1
    asked = set(exercise.flows)
    for flow in sorted((f for f in given if f not in asked), key=str):
        lines.append(f"{flow}: not one of the flows to predict (check the spelling)")
    ok = not lines
    if ok:
        lines = ["Correct: every prediction matches what the cluster does."]
    score = round(pts * right / len(exercise.flows), 4)
    check = CheckResult("answer", ok, pts if ok else min(score, pts), pts, "; ".join(lines))
    return GradeResult.from_checks(exercise.id, [check], lines)


# --- entry points ----------------------------------------------------------------------------


def grade_exercise(exercise: Exercise, answers: Sequence[Answer]) -> GradeResult:
    """Grade the answer files ``[(filename, text), ...]`` against ``exercise``."""
    if exercise.kind == "policy":
        return _grade_policy_answer(exercise, answers)
    if exercise.kind == "choice":
        return _grade_choice(exercise, answers)
    if exercise.kind == "pick":
        return _grade_pick(exercise, answers)
    if exercise.kind == "predict":
        return _grade_predict(exercise, answers)
    raise AssertionError(f"unknown exercise kind {exercise.kind!r}")  # pragma: no cover


def grade_files(exercise_id: str, answers: Sequence[Answer]) -> GradeResult:
    """Grade several answer files (a policy answer may be split across files)."""
    return grade_exercise(load_exercise(exercise_id), answers)


def grade(exercise_id: str, answer_text: str, *, filename: str = "answer.yaml") -> GradeResult:
    """Grade ``answer_text`` against exercise ``exercise_id``.

    Pure and deterministic; never raises on learner input (text npcore cannot load scores
    0 with npcore's messages).  Raises ``UnknownExerciseError`` / ``ExerciseError`` for an
    unknown id or a broken definition.
    """
    return grade_files(exercise_id, [(filename, answer_text)])


# --- definition checks ------------------------------------------------------------------------


def check_definition(exercise: Exercise) -> list[str]:
    """Problems with the Kubernetes side of a definition: scenario and reference load,
    every flow names peers of the scenario, candidates load.  Empty when all is well."""
    problems: list[str] = []
    if exercise.kind == "choice":
        return problems
    try:
        cluster = scenario_cluster(exercise)
    except ExerciseError as exc:
        return list(exc.problems)
    names = {p.key for p in cluster.peers()}
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
        if not missing and _flow_ports(cluster, flow).is_empty:
            problems.append(
                f"{where}: {flow}: {flow.dst} defines no {flow.protocol} port named {flow.port!r}"
            )
    if exercise.kind == "policy":
        try:
            reference = _reference(exercise)
        except ExerciseError as exc:
            problems.extend(exc.problems)
        else:
            if not problems:
                result = grade_policies(exercise, reference)
                if not result.passed:
                    problems.append(
                        "reference: the reference solution does not meet the requirements: "
                        + "; ".join(result.feedback)
                    )
    for key, text in exercise.candidates.items():
        try:
            _policies(text, f"candidate {key}")
        except NpcoreError as exc:
            problems.append(f"candidates.{key}: {exc}")
    return problems
