"""The wording of feedback: one place for every sentence the grader says.

Rules of this file:

* Sentences are addressed to the learner, name the flow or the policy concerned, and
  say what to do.  They never quote a reference solution.
* A flow is printed ``SRC -> DST PROTOCOL PORT`` (``shop/web -> shop/db TCP 3306``);
  a set of ports as ``TCP 3306``, ``TCP 1-79, TCP 81-65535`` or ``all ports``.
* :data:`DEFAULT_HINTS` holds one hint per misconception id; a definition may replace
  the hint of an id with its own text (``hints:``).
"""

from __future__ import annotations

from collections.abc import Mapping

from npcore.diff import port_difference
from npcore.ports import ALL_PORTS, PortSet

__all__ = [
    "DEFAULT_HINTS",
    "MAX_HIDDEN_LINES",
    "MISCONCEPTION_TITLES",
    "describe_ports",
    "explicit_flow_line",
    "hidden_flow_line",
    "misconception_line",
    "ports_minus",
]

# How many "traffic the task did not mention" lines to print before "... and N more".
MAX_HIDDEN_LINES = 8

MISCONCEPTION_TITLES: Mapping[str, str] = {
    "or-instead-of-and": "selectors OR'ed instead of AND'ed",
    "empty-pod-selector": "podSelector: {} selects the whole namespace",
    "wrong-namespace": "policy in the wrong namespace",
    "service-port": "Service port instead of container port",
    "dns-udp-and-tcp": "DNS not allowed on both UDP and TCP 53",
    "policy-types-omitted": "policyTypes left out",
    "egress-isolated-no-rules": "Egress in policyTypes without egress rules",
    "named-port-undefined": "named port the destination does not define",
    "pod-selector-namespace-scoped": "podSelector alone stays in the policy's namespace",
    "namespace-label-missing": "namespaceSelector matches no namespace",
    "peers-and-ports-merged": "peers and ports merged into one rule",
}

DEFAULT_HINTS: Mapping[str, str] = {
    "or-instead-of-and": (
        "Two entries under from/to (each starting with '-') are alternatives: either one "
        "admits. To require both a namespace and a pod label, put namespaceSelector and "
        "podSelector in ONE entry (no '-' before podSelector)."
    ),
    "empty-pod-selector": (
        "spec.podSelector: {} selects every pod of the namespace, so every pod becomes "
        "isolated. Select only the pods the task is about with matchLabels."
    ),
    "wrong-namespace": (
        "A policy acts only on pods of its own namespace, and a manifest without "
        "metadata.namespace lands in default. Set metadata.namespace to the pods' namespace."
    ),
    "service-port": (
        "Policies see traffic after the Service has forwarded it: use the pod's container "
        "port (the Service's targetPort), not the Service port."
    ),
    "dns-udp-and-tcp": (
        "When egress is isolated, name lookups need an egress rule to kube-dns "
        "(namespace kube-system, k8s-app: kube-dns) on port 53 for BOTH UDP and TCP."
    ),
    "policy-types-omitted": (
        "Without policyTypes a policy isolates Ingress always and Egress only if it has "
        "egress rules, and rules of a direction missing from policyTypes are ignored. "
        "List every direction you mean in policyTypes."
    ),
    "egress-isolated-no-rules": (
        "Listing Egress in policyTypes with no egress rules blocks ALL outgoing traffic of "
        "the selected pods. Leave Egress out, or add the egress rules they need."
    ),
    "named-port-undefined": (
        "A named port is looked up in the destination pod's containerPorts; a name the pod "
        "does not define matches nothing. Check the spelling with kubectl get pod -o yaml."
    ),
    "pod-selector-namespace-scoped": (
        "A podSelector alone in from/to matches pods of the policy's own namespace only. "
        "Add a namespaceSelector to the same entry to reach pods of another namespace."
    ),
    "namespace-label-missing": (
        "A namespaceSelector matches namespaces by their labels. Every namespace has the "
        "label kubernetes.io/metadata.name=<name>; other labels must exist on the Namespace."
    ),
    "peers-and-ports-merged": (
        "A rule allows every peer it lists on every port it lists. To allow peer A on one "
        "port and peer B on another, write two rules, each with its own to/from and ports."
    ),
}


def ports_minus(a: PortSet, b: PortSet) -> PortSet:
    """The ports in ``a`` and not in ``b`` (:func:`npcore.diff.port_difference`).

    >>> from npcore.model import Protocol
    >>> ports_minus(PortSet.of(Protocol.TCP), PortSet.of(Protocol.TCP, 80)).describe()
    ['TCP 1-79', 'TCP 81-65535']
    """
    return port_difference(a, b)


def describe_ports(ports: PortSet) -> str:
    """``TCP 3306``, ``TCP 1-79, UDP all`` (``all`` ports of a protocol), ``all ports``, or
    ``all ports except TCP 3306`` when that is shorter.

    >>> from npcore.model import Protocol
    >>> describe_ports(PortSet.of(Protocol.TCP, 3306))
    'TCP 3306'
    >>> describe_ports(ports_minus(ALL_PORTS, PortSet.of(Protocol.TCP, 3306)))
    'all ports except TCP 3306'
    """
    parts = ports.describe()
    if parts == ["all"]:
        return "all ports"
    rest = ports_minus(ALL_PORTS, ports).describe()
    if len(rest) < len(parts):
        return "all ports except " + ", ".join(rest)
    return ", ".join(parts)


def explicit_flow_line(flow: str, learner_allows: bool, why: str = "") -> str:
    """A flow the task names, graded wrong; ``why`` (which policy rule decides) follows in
    brackets.

    >>> explicit_flow_line("a -> b TCP 80", True, "x/p ingress[0] admits it")
    'a -> b TCP 80: your policies allow it; the task requires it denied (x/p ingress[0] admits it)'
    """
    if learner_allows:
        line = f"{flow}: your policies allow it; the task requires it denied"
    else:
        line = f"{flow}: your policies deny it; the task requires it allowed"
    return f"{line} ({why})" if why else line


def hidden_flow_line(
    src: str, dst: str, ports: PortSet, now_allowed: bool, listening: PortSet | None = None
) -> str:
    """Traffic the task does not name that the answer changes.

    ``listening``: the destination's container ports.  Those among the changed ports are
    named first (they are what a learner can test with curl or nc), then the rest.

    >>> from npcore.model import Protocol
    >>> from npcore.ports import ALL_PORTS
    >>> line = hidden_flow_line("x/a", "x/b", ALL_PORTS, False, PortSet.of(Protocol.TCP, 8080))
    >>> line.split(": ", 1)[1]
    'x/a -> x/b TCP 8080 is now denied, as are all other ports'
    """
    state = "allowed" if now_allowed else "denied"
    head = "your policies also change traffic the task did not mention: "
    served = ports.intersection(listening) if listening is not None else PortSet()
    if served.is_empty or served == ports:
        return f"{head}{src} -> {dst} {describe_ports(ports)} is now {state}"
    rest = "all other ports" if ports.is_all else describe_ports(ports_minus(ports, served))
    return f"{head}{src} -> {dst} {describe_ports(served)} is now {state}, as are {rest}"


def misconception_line(
    misconception_id: str, detail: str, hints: Mapping[str, str], *, with_hint: bool = True
) -> str:
    """``Likely cause (selectors OR'ed instead of AND'ed): DETAIL. HINT`` (the hint of a
    definition's ``hints`` replaces the default one; ``with_hint=False`` leaves it out)."""
    title = MISCONCEPTION_TITLES.get(misconception_id, misconception_id)
    hint = hints.get(misconception_id) or DEFAULT_HINTS.get(misconception_id, "")
    if not with_hint:
        hint = ""
    detail = detail.rstrip(".")
    return f"Likely cause ({title}): {detail}. {hint}".rstrip()
