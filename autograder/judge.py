"""Grade policy answers by their behaviour in the whole universe of peers.

Rules of this file:

* The learner's policies are added to the scenario, and so is each correct solution
  (the reference and the definition's ``alternatives``), in the universe of
  :mod:`autograder.universe`: today's pods, pods and namespaces that may come later, and
  one address of every region of IPv4 and IPv6 the ipBlocks tell apart.
  :func:`npcore.reachability.connectivity_map` gives the allowed ports of every ordered pair
  in each; :func:`npcore.diff.diff_maps` gives the pairs that differ.  Equivalence is exact:
  an over-broad answer, one that holds only for today's pods, or one that names a pod by
  its IP, loses points.
* Requirement groups, each all-or-nothing: ``allowed`` (the flows the task names as
  allowed are allowed), ``denied`` (the named denied flows are denied), ``unchanged``
  (every other connection in the universe, on every port and protocol, behaves as under a
  correct solution) and ``constraints`` (object count, name, namespace).  The answer is
  graded against each correct solution and keeps its best grade.
* Blind answers: an answer that changes nothing the task is about (it behaves as the
  scenario alone while the solutions do not), or that denies every flow the task names as
  allowed, scores at most a third of the points.
* Feedback, in a fixed order: constraints, named flows, other connections (relative to
  the task: "the task requires it denied"), the blind-answer cap, likely causes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from autograder import feedback as fb
from autograder.definition import Exercise, Flow
from autograder.detectors import Context, detect
from autograder.loaded import Judging, LoadedExercise
from autograder.results import CheckResult, GradeResult
from autograder.universe import is_new
from npcore.cluster import Cluster
from npcore.diff import Change, diff_maps
from npcore.engine import Verdict, is_allowed, resolve_port
from npcore.model import NetworkPolicy
from npcore.ports import PortSet
from npcore.reachability import ConnectivityMap

__all__ = ["grade_policies", "verdict"]


def verdict(cluster: Cluster, flow: Flow) -> Verdict:
    """npcore's verdict on a named flow."""
    return is_allowed(cluster, flow.connection(cluster))


def flow_ports(cluster: Cluster, flow: Flow) -> PortSet:
    """The ports a named flow stands for at its destination (none for an undefined name)."""
    number = resolve_port(cluster.peer(flow.dst), flow.port, flow.protocol)
    return PortSet() if number is None else PortSet.of(flow.protocol, number)


def _constraints(exercise: Exercise, policies: Sequence[NetworkPolicy]) -> list[str]:
    con = exercise.constraints
    problems = []
    if con.count is not None and len(policies) != con.count:
        problems.append(fb.constraint_count(con.count, len(policies)))
    if con.name is not None and policies and not any(p.name == con.name for p in policies):
        problems.append(fb.constraint_name(con.name, ", ".join(sorted(p.name for p in policies))))
    if con.namespace is not None:
        for policy in sorted(policies, key=lambda p: p.key):
            if policy.namespace != con.namespace:
                problems.append(
                    fb.constraint_namespace(policy.name, policy.namespace, con.namespace)
                )
    return problems


def _check(name: str, wrong: Sequence[str], points: float, ok: str) -> CheckResult:
    return CheckResult(name, not wrong, 0.0 if wrong else points, points, "; ".join(wrong) or ok)


@dataclass(frozen=True)
class _Attempt:
    """One answer against one correct solution."""

    checks: list[CheckResult]
    lines: list[str]
    diffs: tuple[Change, ...]

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)


def _named_flows(
    exercise: Exercise, learner: Cluster, before: Cluster
) -> tuple[list[CheckResult], list[str], dict[tuple[str, str], PortSet], bool]:
    """The ``allowed`` and ``denied`` groups; the ports each named pair stands for; whether
    every flow the task names as allowed is denied."""
    points = exercise.points
    checks: list[CheckResult] = []
    lines: list[str] = []
    mentioned: dict[tuple[str, str], PortSet] = {}
    allowed_denied = 0
    for group, flows, want in (
        ("allowed", exercise.requirements.allowed, True),
        ("denied", exercise.requirements.denied, False),
    ):
        wrong = []
        for flow in flows:
            key = (flow.src, flow.dst)
            mentioned[key] = mentioned.get(key, PortSet()).union(flow_ports(learner, flow))
            result = verdict(learner, flow)
            if result.allowed != want:
                if result.allowed:  # no policy isolates either side: the answer left it
                    untouched = not (result.egress.isolated or result.ingress.isolated)
                else:
                    untouched = not verdict(before, flow).allowed
                line = fb.explicit_flow_line(
                    str(flow), result.allowed, fb.why(result), untouched=untouched
                )
                wrong.append(line)
                allowed_denied += want
        wrong.sort()
        if group in points:
            checks.append(_check(group, wrong, points[group], fb.group_ok(group)))
        lines += wrong
    all_denied = bool(exercise.requirements.allowed) and allowed_denied == len(
        exercise.requirements.allowed
    )
    return checks, lines, mentioned, all_denied


def _hidden(
    diffs: Sequence[Change],
    mentioned: dict[tuple[str, str], PortSet],
    judging: Judging,
    got: ConnectivityMap,
) -> list[str]:
    """Lines for the connections the task covers without naming them."""
    cluster = judging.cluster
    peers = {peer.key: peer for peer in cluster.peers()}
    index = {name: i for i, name in enumerate(got.peers)}
    lines: list[str] = []
    for d in sorted(diffs, key=lambda d: (is_new(d.src) + is_new(d.dst), d.src, d.dst)):
        skip = mentioned.get((d.src, d.dst), PortSet())
        before = judging.before.ports_at(index[d.src], index[d.dst])
        untouched = before == d.after
        listening = cluster.listening(peers[d.dst])
        for ports, allows in ((d.gained.difference(skip), True), (d.lost.difference(skip), False)):
            if not ports.is_empty:
                lines.append(
                    fb.hidden_flow_line(d.src, d.dst, ports, allows, listening, untouched=untouched)
                )
    return lines


def _shown(hidden: list[str]) -> list[str]:
    """Today's peers first (up to the cap), then a few lines about peers that may come
    later, then how many were left out."""
    today = [line for line in hidden if not _about_new(line)]
    later = [line for line in hidden if _about_new(line)]
    shown = today[: fb.MAX_HIDDEN_LINES]
    room = min(fb.MAX_NEW_LINES, fb.MAX_HIDDEN_LINES - len(shown))
    shown += later[: max(fb.MIN_NEW_LINES, room)]
    if len(hidden) > len(shown):
        shown.append(fb.more_lines(len(hidden) - len(shown)))
    if any(_about_new(line) for line in shown):
        shown.append(fb.NEW_PEERS_LINE)
    return shown


def _about_new(line: str) -> bool:
    flow = line.split(": ", 1)[0]
    return any(is_new(peer) for peer in flow.split(" -> "))


def _attempt(
    exercise: Exercise,
    judging: Judging,
    expected: ConnectivityMap,
    got: ConnectivityMap,
    named: tuple[list[CheckResult], list[str], dict[tuple[str, str], PortSet], bool],
) -> _Attempt:
    checks, lines, mentioned, _ = named
    checks, lines = list(checks), list(lines)
    diffs = tuple(diff_maps(expected, got))
    if exercise.requirements.unchanged:
        hidden = _hidden(diffs, mentioned, judging, got)
        shown = _shown(hidden)
        if "unchanged" in exercise.points:
            ok = fb.UNCHANGED_OK
            checks.append(
                CheckResult(
                    "unchanged",
                    not hidden,
                    0.0 if hidden else exercise.points["unchanged"],
                    exercise.points["unchanged"],
                    fb.unchanged_wrong(len(hidden)) if hidden else ok,
                )
            )
        lines += shown
    return _Attempt(checks, lines, diffs)


def _blind(judging: Judging, got: ConnectivityMap, all_denied: bool) -> str | None:
    """The cap line for a do-nothing or deny-everything answer, if this is one."""
    changes_nothing = not diff_maps(judging.before, got) and any(
        diff_maps(judging.before, e) for e in judging.expected
    )
    if changes_nothing:
        return fb.blind_line(True)
    if all_denied:
        return fb.blind_line(False)
    return None


def grade_policies(
    loaded: LoadedExercise,
    policies: Sequence[NetworkPolicy],
    *,
    scenario_policies: Sequence[NetworkPolicy] | None = None,
) -> GradeResult:
    """Grade already-loaded learner policies against a policy exercise.

    ``scenario_policies``: the scenario's own policies as they are now on a cluster the
    learner changed (:mod:`autograder.fromcluster`); ``None``: as the scenario has them.
    """
    exercise = loaded.definition
    judging = loaded.judged_in([*policies, *(scenario_policies or ())])
    learner = judging
    if scenario_policies is not None:  # the learner's side starts from the cluster's copies
        learner = replace(judging, cluster=judging.cluster.with_policies(tuple(scenario_policies)))
    learner_cluster = learner.cluster.with_policies((*learner.cluster.policies, *policies))
    got = learner.with_policies(policies)
    constraint_problems = _constraints(exercise, policies)
    base_checks: list[CheckResult] = []
    if "constraints" in exercise.points:
        base_checks.append(
            _check(
                "constraints",
                constraint_problems,
                exercise.points["constraints"],
                fb.CONSTRAINTS_OK,
            )
        )
    named = _named_flows(exercise, learner_cluster, judging.cluster)
    named = ([*base_checks, *named[0]], [*constraint_problems, *named[1]], named[2], named[3])
    attempts = [_attempt(exercise, judging, expected, got, named) for expected in judging.expected]
    best_index = max(range(len(attempts)), key=lambda i: (attempts[i].score, -i))
    best = attempts[best_index]
    checks, lines = best.checks, best.lines
    passed = all(c.passed for c in checks)
    if passed:
        lines.append(fb.ALL_MET if best_index == 0 else fb.ALSO_ACCEPTED)
        return GradeResult.from_checks(exercise.id, checks, lines, [])
    cap = _blind(judging, got, named[3])
    total = sum(c.max_points for c in checks)
    if cap is not None:
        lines.append(cap)
    found = detect(
        Context(
            loaded.scenario, tuple(policies), loaded.reference, best.diffs, exercise.constraints
        )
    )
    hinted: set[str] = set()
    for m in found:
        lines.append(
            fb.misconception_line(m.id, m.detail, exercise.hints, with_hint=m.id not in hinted)
        )
        hinted.add(m.id)
    if any(m.id == "pod-ip-in-ipblock" for m in found):
        lines.insert(len(lines) - len(found), fb.POD_IP_LINE)
    result = GradeResult.from_checks(exercise.id, checks, lines, found)
    if cap is not None and result.score > total / 3:
        return result.capped(round(total / 3, 4))
    return result
