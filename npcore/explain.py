"""Plain-words explanations of a :class:`~npcore.engine.Verdict` (and of a Service probe).

Rules of this file:

* Pure formatting: every fact comes from the verdict that :func:`npcore.engine.is_allowed`
  returned; nothing is decided here, nothing is read or printed.
* The wording is fixed and golden-tested (tests/test_explain.py): change a sentence here
  and the golden strings there in the same commit.
* Rules are named by their field paths, as a learner sees them in YAML:
  ``spec.ingress[0]``, peer ``from[1]`` (``to[1]`` for egress), port ``ports[0]``; a rule
  with no peers matches "all peers", one with no ports "all ports".
* ``explain_dict`` carries the same facts as ``explain_text``, JSON-able (``npcore
  explain --format json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npcore.cni import cni_info
from npcore.engine import DirectionVerdict, RuleMatch, RuleMiss, Verdict
from npcore.model import PolicyType

if TYPE_CHECKING:
    from npcore.services import ServiceVerdict

__all__ = [
    "explain_dict",
    "explain_service_dict",
    "explain_service_text",
    "explain_text",
]


def _rule_path(direction: PolicyType, rule_index: int) -> str:
    field = "ingress" if direction is PolicyType.INGRESS else "egress"
    return f"spec.{field}[{rule_index}]"


def _peer_path(direction: PolicyType, peer_index: int | None) -> str | None:
    if peer_index is None:
        return None
    field = "from" if direction is PolicyType.INGRESS else "to"
    return f"{field}[{peer_index}]"


def _port_path(port_index: int | None) -> str | None:
    return None if port_index is None else f"ports[{port_index}]"


def _side_name(side: DirectionVerdict, verdict: Verdict) -> str:
    """``egress from x/a`` / ``ingress to x/b``."""
    if side.direction is PolicyType.EGRESS:
        return f"egress from {verdict.connection.src.key}"
    return f"ingress to {verdict.connection.dst.key}"


def _port_phrase(verdict: Verdict) -> str:
    conn = verdict.connection
    text = f"{conn.protocol} port {conn.port}"
    if isinstance(conn.port, str):
        if verdict.port is None:
            text += f" (a named port, not defined on {conn.dst.key})"
        else:
            text += f" (a named port: {verdict.port} on {conn.dst.key})"
    return text


def _cni_line(verdict: Verdict) -> str:
    if verdict.enforced:
        return f"CNI: {verdict.cni} ({cni_info(verdict.cni).summary})."
    display = verdict.cni.capitalize()
    text = (
        f"CNI: {verdict.cni}. {display} does not enforce NetworkPolicy: the policies below "
        "exist but have no effect"
    )
    return text + ("; the connection is allowed." if verdict.port is not None else ".")


def _match_line(side: DirectionVerdict, match: RuleMatch) -> str:
    peer = _peer_path(side.direction, match.peer_index) or "all peers"
    port = _port_path(match.port_index) or "all ports"
    rule = _rule_path(side.direction, match.rule_index)
    return f"  - {match.policy} {rule} admits it (peer {peer}, port {port})."


def _miss_line(side: DirectionVerdict, miss: RuleMiss, verdict: Verdict) -> str:
    reasons = []
    if miss.ipblock_ignored is not None:
        peer = _peer_path(side.direction, miss.ipblock_ignored)
        conn = verdict.connection
        other = (conn.dst if side.direction is PolicyType.EGRESS else conn.src).key
        reasons.append(
            f"peer does not match ({peer} is an ipBlock that contains {other}'s IP, but on "
            f"{verdict.cni} an ipBlock never matches a pod, only addresses outside the "
            "cluster)"
        )
    elif not miss.peer_ok:
        reasons.append("peer does not match")
    if not miss.port_ok:
        reasons.append("port does not match")
    rule = _rule_path(side.direction, miss.rule_index)
    return f"  - {miss.policy} {rule} does not admit it: {', '.join(reasons)}."


def _side_lines(side: DirectionVerdict, verdict: Verdict) -> list[str]:
    direction = "Egress" if side.direction is PolicyType.EGRESS else "Ingress"
    word = direction.lower()
    endpoint = (
        verdict.connection.src if side.direction is PolicyType.EGRESS else verdict.connection.dst
    )
    head = f"{direction} {'from' if word == 'egress' else 'to'} {endpoint.key}"
    if side.pod is None:
        return [
            f"{head}: {endpoint.key} is outside the cluster; no policy applies to it, "
            f"so its {word} side allows the connection."
        ]
    if not side.isolated:
        return [
            f"{head}: not isolated (no policy selects {side.pod} for {word}), "
            f"so all {word} is allowed."
        ]
    lines = [f"{head}: isolated for {word} by {', '.join(side.selecting_policies)}."]
    lines += [_match_line(side, m) for m in side.admitted_by]
    lines += [_miss_line(side, m, verdict) for m in side.misses]
    with_rules = {m.policy for m in side.admitted_by} | {m.policy for m in side.misses}
    for policy in side.selecting_policies:
        if policy not in with_rules:
            lines.append(f"  - {policy} has no {word} rules: it admits nothing.")
    if side.allowed:
        lines.append(f"  {direction} is allowed.")
    else:
        lines.append(f"  {direction} is denied: no rule of a selecting policy admits it.")
    return lines


def _blocking_sides(verdict: Verdict) -> list[str]:
    return [
        _side_name(side, verdict) for side in (verdict.egress, verdict.ingress) if not side.allowed
    ]


def _final_line(verdict: Verdict) -> str:
    conn = verdict.connection
    if verdict.port is None:
        return f"DENIED: named port {conn.port} is not defined on {conn.dst.key}."
    if verdict.self_traffic:
        return "ALLOWED: a pod can always reach itself."
    blocking = " and ".join(_blocking_sides(verdict))
    if verdict.policy_allows:
        return (
            f"ALLOWED: {_side_name(verdict.egress, verdict)} and "
            f"{_side_name(verdict.ingress, verdict)} both allow it."
        )
    if not verdict.enforced:
        display = verdict.cni.capitalize()
        return (
            f"ALLOWED: {display} does not enforce NetworkPolicy "
            f"(on a CNI that does, it would be blocked by {blocking})."
        )
    return f"DENIED: blocked by {blocking}."


def explain_text(verdict: Verdict) -> str:
    """The verdict in plain words, for a learner; the last line is ALLOWED or DENIED.

    >>> from npcore.cluster import Cluster, Pod
    >>> from npcore.engine import Connection, is_allowed
    >>> from npcore.model import NetworkPolicy
    >>> deny = NetworkPolicy("deny", "x")
    >>> c = Cluster.build(pods=[Pod("x", "a"), Pod("x", "b")], policies=[deny])
    >>> print(explain_text(is_allowed(c, Connection(c.pod("x/a"), c.pod("x/b"), 80))))
    Connection: x/a -> x/b on TCP port 80
    CNI: calico (enforces NetworkPolicy).
    Egress from x/a: not isolated (no policy selects x/a for egress), so all egress is allowed.
    Ingress to x/b: isolated for ingress by x/deny.
      - x/deny has no ingress rules: it admits nothing.
      Ingress is denied: no rule of a selecting policy admits it.
    DENIED: blocked by ingress to x/b.
    """
    conn = verdict.connection
    lines = [f"Connection: {conn.src.key} -> {conn.dst.key} on {_port_phrase(verdict)}"]
    lines.append(_cni_line(verdict))
    if verdict.port is None:
        lines.append(
            f"Named port {conn.port} is not defined on {conn.dst.key} for {conn.protocol}: "
            "nothing listens there, so the connection fails whatever the policies say."
        )
    if verdict.self_traffic:
        lines.append("Self traffic: a pod can always reach itself; policies cannot block it.")
    lines += _side_lines(verdict.egress, verdict)
    lines += _side_lines(verdict.ingress, verdict)
    lines.append(_final_line(verdict))
    return "\n".join(lines)


def _side_dict(side: DirectionVerdict) -> dict[str, object]:
    return {
        "pod": side.pod,
        "isolated": side.isolated,
        "policies": list(side.selecting_policies),
        "allowed": side.allowed,
        "admitted_by": [
            {
                "policy": m.policy,
                "rule": _rule_path(side.direction, m.rule_index),
                "peer": _peer_path(side.direction, m.peer_index),
                "port": _port_path(m.port_index),
            }
            for m in side.admitted_by
        ],
        "not_admitted_by": [
            {
                "policy": m.policy,
                "rule": _rule_path(side.direction, m.rule_index),
                "peer_matches": m.peer_ok,
                "port_matches": m.port_ok,
                "ipblock_ignores_pod": _peer_path(side.direction, m.ipblock_ignored),
            }
            for m in side.misses
        ],
    }


def explain_dict(verdict: Verdict) -> dict[str, object]:
    """The facts of :func:`explain_text` as JSON-able data.

    ``peer``/``port`` of an ``admitted_by`` entry are ``null`` when the rule has no peers
    (all peers) or no ports (all ports).  ``pod`` is ``null`` for an endpoint outside the
    cluster.  ``blocked_by`` lists the sides that deny the connection.
    """
    conn = verdict.connection
    return {
        "from": conn.src.key,
        "to": conn.dst.key,
        "protocol": str(conn.protocol),
        "port": conn.port,
        "resolved_port": verdict.port,
        "cni": verdict.cni,
        "enforced": verdict.enforced,
        "allowed": verdict.allowed,
        "policy_allows": verdict.policy_allows,
        "self_traffic": verdict.self_traffic,
        "blocked_by": [] if verdict.policy_allows else _blocking_sides(verdict),
        "egress": _side_dict(verdict.egress),
        "ingress": _side_dict(verdict.ingress),
    }


def _target_phrase(sv: ServiceVerdict) -> str:
    target = sv.target.service_port.target_port
    if isinstance(target, int):
        return f"targetPort {target}"
    return f"targetPort {target} (a container port name, resolved on each endpoint pod)"


def explain_service_text(sv: ServiceVerdict) -> str:
    """A connection to a Service: the DNAT to each endpoint pod, then each endpoint's verdict."""
    target = sv.target
    svc = target.service
    sp = target.service_port
    lines = [
        f"Connection: {sv.src.key} -> Service {svc.key} on {sp.protocol} port {sp.port}",
        f"The Service sends it to {_target_phrase(sv)} on "
        + (
            f"{len(target.endpoints)} endpoint pod(s): "
            + ", ".join(p.key for p in target.endpoints)
            + "."
            if target.endpoints
            else "its endpoint pods, and it has none."
        ),
        "NetworkPolicy sees the pod port after DNAT, not the Service port: "
        f"policies must allow the targetPort, not {sp.port}.",
    ]
    if not target.endpoints:
        selector = ", ".join(f"{k}={v}" for k, v in sorted((svc.selector or {}).items()))
        lines.append(
            f"No pod in namespace {svc.namespace} matches the Service's selector"
            + (f" ({selector})" if selector else " (it has none)")
            + ": there is nothing to connect to."
        )
        lines.append(f"DENIED: Service {svc.key} has no endpoints.")
        return "\n".join(lines)
    for verdict in sv.verdicts:
        lines.append("")
        lines.append(f"[endpoint {verdict.connection.dst.key}]")
        lines.append(explain_text(verdict))
    allowed = sum(1 for v in sv.verdicts if v.allowed)
    total = len(sv.verdicts)
    lines.append("")
    if allowed == total:
        lines.append(f"ALLOWED to all {total} endpoint(s) of Service {svc.key}.")
    elif allowed == 0:
        lines.append(f"DENIED to all {total} endpoint(s) of Service {svc.key}.")
    else:
        lines.append(
            f"PARTLY ALLOWED: {allowed} of {total} endpoints of Service {svc.key} accept it; "
            "the Service load-balances, so some connections fail."
        )
    return "\n".join(lines)


def explain_service_dict(sv: ServiceVerdict) -> dict[str, object]:
    """The facts of :func:`explain_service_text` as JSON-able data."""
    target = sv.target
    sp = target.service_port
    return {
        "from": sv.src.key,
        "service": target.service.key,
        "protocol": str(sp.protocol),
        "service_port": sp.port,
        "target_port": sp.target_port,
        "endpoints": [p.key for p in target.endpoints],
        "allowed": bool(sv.verdicts) and all(v.allowed for v in sv.verdicts),
        "verdicts": [explain_dict(v) for v in sv.verdicts],
    }
