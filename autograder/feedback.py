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

import re
from collections.abc import Iterable, Mapping

from npcore.engine import Verdict
from npcore.model import PolicyType
from npcore.ports import ALL_PORTS, PortSet

__all__ = [
    "BLIND_CAP",
    "DEFAULT_HINTS",
    "MAX_HIDDEN_LINES",
    "MISCONCEPTION_TITLES",
    "describe_ports",
    "explicit_flow_line",
    "hidden_flow_line",
    "misconception_line",
    "printable",
]

# How many "traffic the task did not mention" lines to print before "... and N more".
MAX_HIDDEN_LINES = 8
# How many lines about peers that may appear later to show, even when today's fill the cap.
MIN_NEW_LINES = 2
MAX_NEW_LINES = 4

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
    "selector-matches-nothing": "a selector that matches nothing",
    "pod-ip-in-ipblock": "a pod named by its IP address",
    "peers-and-ports-merged": "peers and ports merged into one rule",
}

DEFAULT_HINTS: Mapping[str, str] = {
    "or-instead-of-and": (
        "Two entries under from/to (each starting with '-') are alternatives: either one "
        "admits. To require both a namespace and a pod label, put namespaceSelector and "
        "podSelector in ONE entry (no '-' before podSelector)."
    ),
    "empty-pod-selector": (
        "podSelector: {} selects every pod: in spec.podSelector it isolates every pod of the "
        "namespace, and next to a namespaceSelector it admits every pod of those namespaces. "
        "Select only the pods the task is about with matchLabels."
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
    "selector-matches-nothing": (
        "A selector matches objects by the labels they HAVE: compare it with kubectl get "
        "pods --show-labels (or kubectl get ns --show-labels). Every namespace has the label "
        "kubernetes.io/metadata.name=<name>; other labels must exist on the object."
    ),
    "pod-ip-in-ipblock": (
        "A pod's IP changes every time the pod is recreated, and a new pod may get the old "
        "address. Select pods by their labels (podSelector, namespaceSelector); keep ipBlock "
        "for addresses outside the cluster."
    ),
    "peers-and-ports-merged": (
        "A rule allows every peer it lists on every port it lists. To allow peer A on one "
        "port and peer B on another, write two rules, each with its own to/from and ports."
    ),
}


# What each detector found, with the places filled in (``detail(key, **places)``).
DETAILS: Mapping[str, str] = {
    "or-instead-of-and": (
        "{where} lists namespaceSelector {ns} and podSelector {pod} as two entries, so either "
        "one admits"
    ),
    "empty-pod-selector": "{policy} has podSelector: {{}}, so it also isolates {pods}",
    "empty-peer-pod-selector": (
        "{where} has podSelector: {{}} next to its namespaceSelector, so it admits every pod "
        "of those namespaces, {pods} included"
    ),
    "wrong-namespace": (
        "policy {name} is in namespace {namespace}; the pods it should select are in {wanted}"
    ),
    "service-port": (
        "{where} uses port {port}, the port of Service {service}; its pods listen on {targets}"
    ),
    "dns-one-protocol": (
        "your egress rules allow port 53 on {have} only; DNS on {lacking} 53 is now blocked"
    ),
    "dns-none": "egress is isolated and no rule allows DNS (port 53 on UDP and TCP)",
    "policy-types-ignored": (
        "{policy} has {directions} rules but policyTypes {types} leaves that direction out, "
        "so those rules are ignored"
    ),
    "policy-types-ingress-too": (
        "{policy} has egress rules and no policyTypes, so it isolates Ingress too (every "
        "policy does unless policyTypes says otherwise) and blocks all incoming traffic of "
        "{pods}"
    ),
    "policy-types-no-egress": (
        "{policy} has no policyTypes and no egress rules, so it does not isolate egress of {pods}"
    ),
    "egress-isolated-no-rules": (
        "{policy} lists Egress in policyTypes with no egress rules, so it blocks all outgoing "
        "traffic of {pods}"
    ),
    "named-port-undefined": (
        "{where} names port {port} ({protocol}), which is not defined {on}{known}"
    ),
    "pod-selector-namespace-scoped": (
        "{where} selects pods {selector} in namespace {namespace} only, not {others}"
    ),
    "peers-and-ports-merged": (
        "{where} lists {peers} peers and {ports} ports in one rule, so every peer is allowed "
        "on every port"
    ),
    "no-namespace": "namespaceSelector {selector} matches no namespace",
    "no-pod": "podSelector {selector} matches no pod in {where}",
    "selects-nothing": (
        "{policy} spec.podSelector {selector} matches no pod in namespace {namespace}, so the "
        "policy does nothing"
    ),
    "pod-ip-in-ipblock": (
        "{where} ipBlock {cidr} holds the IP of {pods}; that address changes when the pod is "
        "recreated"
    ),
}


def on_pods(pods: list[str]) -> str:
    """``on shop/web, shop/api``, or ``on any pod`` when none are named."""
    return f"on {', '.join(pods)}" if pods else "on any pod"


def names_defined(names: list[str]) -> str:
    """``; names defined there: http (80/TCP)``, or nothing."""
    return f"; names defined there: {', '.join(names)}" if names else ""


def detail(key: str, **places: object) -> str:
    """The finding ``key`` of :data:`DETAILS` with its places filled in.

    >>> detail("no-namespace", selector="{team=ops}")
    'namespaceSelector {team=ops} matches no namespace'
    """
    return DETAILS[key].format(**places)


def describe_ports(ports: PortSet) -> str:
    """``TCP 3306``, ``TCP 1-79, UDP all`` (``all`` ports of a protocol), ``all ports``, or
    ``all ports except TCP 3306`` when that is shorter.

    >>> from npcore.model import Protocol
    >>> describe_ports(PortSet.of(Protocol.TCP, 3306))
    'TCP 3306'
    >>> describe_ports(ALL_PORTS.difference(PortSet.of(Protocol.TCP, 3306)))
    'all ports except TCP 3306'
    """
    parts = ports.describe()
    if parts == ["all"]:
        return "all ports"
    rest = ALL_PORTS.difference(ports).describe()
    if len(rest) < len(parts):
        return "all ports except " + ", ".join(rest)
    return ", ".join(parts)


def _state(allows: bool) -> str:
    return "allow" if allows else "deny"


def _verb(allows: bool, untouched: bool) -> str:
    if untouched:
        return "leave it allowed" if allows else "leave it denied"
    return f"{_state(allows)} it"


def explicit_flow_line(
    flow: str, learner_allows: bool, why: str = "", *, untouched: bool = False
) -> str:
    """A flow the task names, graded wrong; ``why`` (which policy rule decides) follows in
    brackets.  ``untouched``: the answer did not change this flow ("leave it").

    >>> explicit_flow_line("a -> b TCP 80", True, "x/p ingress[0] admits it")
    'a -> b TCP 80: your policies allow it; the task requires it denied (x/p ingress[0] admits it)'
    """
    wanted = "denied" if learner_allows else "allowed"
    line = (
        f"{flow}: your policies {_verb(learner_allows, untouched)}; the task requires it {wanted}"
    )
    return f"{line} ({why})" if why else line


def ports_in_focus(ports: PortSet, listening: PortSet | None) -> str:
    """``ports`` with the destination's listening ports named first, never contradicting
    itself.

    >>> from npcore.model import Protocol
    >>> tcp = Protocol.TCP
    >>> some = ALL_PORTS.difference(PortSet.of(tcp, 3306))
    >>> ports_in_focus(some, PortSet.of(tcp, 80).union(PortSet.of(tcp, 3306)))
    'TCP 80 (and every other port except TCP 3306)'
    >>> ports_in_focus(ALL_PORTS, PortSet.of(tcp, 8080))
    'TCP 8080 (and every other port)'
    """
    served = ports.intersection(listening) if listening is not None else PortSet()
    if served.is_empty or served == ports or listening is None or listening.is_all:
        return describe_ports(ports)
    outside = ALL_PORTS.difference(ports)
    if outside.is_empty:
        return f"{describe_ports(served)} (and every other port)"
    rest = ports.difference(served)
    if len(outside.describe()) < len(rest.describe()):
        return f"{describe_ports(served)} (and every other port except {describe_ports(outside)})"
    return f"{describe_ports(served)} (and {describe_ports(rest)})"


def hidden_flow_line(
    src: str,
    dst: str,
    ports: PortSet,
    learner_allows: bool,
    listening: PortSet | None = None,
    *,
    untouched: bool = False,
) -> str:
    """A connection the task covers without naming it (its isolation, or "nothing else
    changes"), where the answer differs from what the task requires.  ``untouched``: the
    answer leaves it as it was before any policy of the answer, so the line says "leave".

    >>> from npcore.model import Protocol
    >>> hidden_flow_line("x/a", "x/b", PortSet.of(Protocol.TCP, 80), True, untouched=True)
    'x/a -> x/b TCP 80: your policies leave it allowed; the task requires it denied'
    """
    verb = _verb(learner_allows, untouched)
    wanted = "denied" if learner_allows else "allowed"
    return (
        f"{src} -> {dst} {ports_in_focus(ports, listening)}: your policies {verb}; "
        f"the task requires it {wanted}"
    )


def more_lines(count: int) -> str:
    """The line that stands for lines left out."""
    return f"... and {count} more connections where your policies differ from the task"


NEW_PEERS_LINE = (
    "Names in brackets, like (new pod without labels) or addresses 0.0.0.0/0, stand for pods, "
    "namespaces and addresses that may appear later: a policy must get them right too."
)
POD_IP_LINE = (
    "Your policies name a pod by its IP address; pod IPs change when pods are recreated, so "
    "this is not equivalent to selecting the pod by its labels."
)
BLIND_CAP = "Your policies {what}, so the answer earns at most a third of the points: {detail}."
ALL_MET = "All requirements met: your policies have exactly the required effect."
ALSO_ACCEPTED = "All requirements met (your answer matches another accepted form of the solution)."
UNREADABLE = "Your answer could not be read, so it scores 0: fix the errors above."
CORRECT = "Correct."
PICK_CORRECT = "Correct: it is the least permissive candidate that does the job."
PREDICT_CORRECT = "Correct: every prediction matches what the cluster does."


def constraint_count(wanted: int, got: int) -> str:
    """The answer has the wrong number of policies."""
    what = "NetworkPolicy" if wanted == 1 else "NetworkPolicies"
    return f"the task asks for {wanted} {what}; your answer has {got}"


MAX_NAMES = 8


def name_list(names: Iterable[str], limit: int = MAX_NAMES) -> str:
    """``a, b, c`` for at most ``limit`` names, then ``... and N more`` (a long list of
    names never becomes a line of kilobytes)."""
    items = list(names)
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f", ... and {len(items) - limit} more"
    return shown


def constraint_name(wanted: str, names: str) -> str:
    """No policy has the asked name."""
    return f"the task asks for a NetworkPolicy named {wanted}; yours: {names}"


def constraint_namespace(name: str, namespace: str, wanted: str) -> str:
    """A policy outside the asked namespace."""
    return (
        f"policy {name} is in namespace {namespace}; the task asks for namespace {wanted} "
        "(a manifest without metadata.namespace lands in default)"
    )


def more_outside(count: int, wanted: str) -> str:
    """The line that stands for more policies outside the asked namespace."""
    return f"... and {count} more policies outside namespace {wanted}"


def blind_line(does_nothing: bool) -> str:
    """Why a do-nothing or deny-everything answer is capped."""
    if does_nothing:
        return BLIND_CAP.format(
            what="change nothing the task is about",
            detail="the cluster behaves as it did before your answer",
        )
    return BLIND_CAP.format(
        what="deny every flow the task requires allowed",
        detail="none of the connections the task asks for works",
    )


def why(verdict: Verdict) -> str:
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


def explain(verdict: Verdict) -> str:
    """Why npcore decides as it does, in one clause (shown only on an explicit reveal)."""
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


def group_ok(group: str) -> str:
    """The message of a passed ``allowed`` or ``denied`` group."""
    return f"every {group} flow the task names is {group}"


CONSTRAINTS_OK = "name, namespace and count as asked"
UNCHANGED_OK = "nothing else changed"
INVALID_CHECK = "invalid input"


def unchanged_wrong(count: int) -> str:
    """The message of a failed ``unchanged`` group."""
    return f"{count} other connections differ from the task"


def leaks(count: int) -> str:
    """The message of a ``denied`` group lost to connections the task requires denied."""
    return (
        f"{count} other connections are allowed that the task requires denied "
        "(a leak costs the denied group)"
    )


def too_long(name: str, limit: int) -> str:
    """An answer over the size bound."""
    return f"{name}: the answer is too long (over {limit} characters)"


def too_many_peers(limit: int) -> str:
    """An answer whose selectors name so many label values that it cannot be judged."""
    return (
        "your policies name so many different label values that the pods and namespaces "
        f"they could select would exceed {limit} to check; a solution needs a few selectors: "
        "write the rules the task asks for"
    )


# --- choice, pick and predict -------------------------------------------------------------

YAML_EXAMPLE = "write your answer as YAML, e.g. 'answer: B'"


def one_file_only(name: str, kind: str, count: int) -> str:
    """Several files for an exercise that takes one."""
    return f"{name}: a {kind} exercise takes one answer file, got {count}"


def unreadable_answer(message: str) -> str:
    """npcore's reader refused the answer."""
    return f"{message} ({YAML_EXAMPLE})"


def unreadable_value(name: str) -> str:
    """A value the reader cannot turn into data."""
    return f"{name}: a value in the answer cannot be read ({YAML_EXAMPLE})"


def no_answer(name: str) -> str:
    """Nothing in the answer."""
    return f"{name}: no answer found ({YAML_EXAMPLE})"


NEEDS_MAPPING = "expected a mapping (one 'item: label' line per item)"
NEEDS_PREDICTIONS = "write one line per flow: 'SRC -> DST PROTOCOL PORT: allowed' (or denied)"


def not_a_candidate(choice: str, keys: str) -> str:
    """A pick that names no candidate."""
    return f"{echo(choice)!r} is not a candidate; answer one of {keys}"


def not_a_verdict(flow: str, word: object) -> str:
    """A prediction that is neither allowed nor denied."""
    return f"{flow}: answer allowed or denied, not {echo(word)!r}"


REVEAL_NOTE = (
    "Want the right values? Call check(..., reveal=True) when you study on your own "
    "(graded releases never reveal them)."
)


def item_missing(item: object) -> str:
    """An item of a mapping answer left out."""
    return f"{item}: no answer given"


def item_wrong(item: object, right: object | None = None, why_text: str = "") -> str:
    """An item answered wrongly; ``right`` only on an explicit reveal."""
    if right is None:
        return f"{echo(item)}: not right"
    return f"{item}: it is {right}. {why_text}".rstrip()


def item_unknown(item: object) -> str:
    """A key that is not one of the items."""
    return f"{echo(item)}: not one of the items to answer (check the spelling)"


def option_extra(item: str, why_text: str = "") -> str:
    """A chosen option that should not be chosen."""
    return f"{echo(item)} should not be in your answer. {why_text}".rstrip()


def option_missing_count(count: int) -> str:
    """Right options left out, counted, never named."""
    noun = "option" if count == 1 else "options"
    return f"{count} right {noun} missing from your answer"


def option_missing(item: str) -> str:
    """A right option left out (reveal only)."""
    return f"{item} is missing from your answer."


def not_the_answer(value: object, why_text: str = "") -> str:
    """A single-choice answer that is wrong."""
    return f"{echo(value)} is not the right answer. {why_text}".rstrip()


def not_the_candidate(key: str) -> str:
    """A pick answer that is wrong."""
    return f"Candidate {key} is not the right one."


def candidate_extra(src: str, dst: str, ports: PortSet) -> str:
    """A wrong candidate allows more than needed."""
    return f"It also allows {src} -> {dst} {describe_ports(ports)}, which the task does not need."


def candidate_missing(src: str, dst: str, ports: PortSet) -> str:
    """A wrong candidate blocks something needed."""
    return f"It blocks {src} -> {dst} {describe_ports(ports)}, which must work."


def prediction_missing(flow: str) -> str:
    """A flow without a prediction."""
    return f"{flow}: no prediction given"


def prediction_wrong(flow: str, truth: bool | None = None, why_text: str = "") -> str:
    """A wrong prediction; the verdict and its reason only on an explicit reveal."""
    if truth is None:
        return f"{flow}: your prediction is wrong"
    state = "allowed" if truth else "denied"
    return f"{flow}: it is {state}: {why_text}"


def prediction_unknown(flow: str) -> str:
    """A predicted flow that is not asked."""
    return f"{flow}: not one of the flows to predict (check the spelling)"


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


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\n]")


def printable(text: str) -> str:
    """``text`` with control characters (newlines included) escaped, so echoed learner
    text stays on its line and cannot forge a verdict.

    >>> printable("a\\nthree-tier-db: passed")
    'a\\\\nthree-tier-db: passed'
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


ECHO_LIMIT = 80


def echo(value: object) -> str:
    """A learner's value as feedback repeats it: at most :data:`ECHO_LIMIT` characters
    (then ``...``), a huge number by its size, control characters escaped.

    >>> echo(10**5000)
    'a number of about 5001 digits'
    >>> echo("x" * 100)[-6:]
    'xxx...'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = int(abs(value).bit_length() * 0.30103) + 1  # log10(2): no str() of it
        return f"a number of about {digits} digits"
    text = printable(str(value))
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "..."
