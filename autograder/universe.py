"""The universe an answer is judged in: today's peers plus the peers that may come later.

Rules of this file:

* Two sets of policies are equivalent when they allow the same connections between every
  pair of peers that can ever exist, not only between today's pods.  :func:`universe` adds
  to a scenario one representative of every kind of peer a policy can tell apart:

  - **Addresses.**  The boundaries of every ``cidr`` and ``except`` of every policy given
    cut IPv4 and IPv6 into regions; inside one region every ipBlock either holds every
    address or none, so one address decides for the whole region.  Regions held by the
    same set of rules behave alike under every policy given, so one address stands for
    each such set (a sweep over the range ends finds them).  Each set without a named
    external endpoint gets one (named ``addresses CIDR``).  The whole of IPv6 is one
    region when no policy names an IPv6 block, so ``::/0`` is never forgotten.
  - **Pods created later.**  In every namespace: a pod with no labels; a pod with an
    unseen value for each label key a pod selector uses; a pod with each
    ``(key, value)`` a pod selector names (matchLabels, ``In`` and ``NotIn`` values);
    a pod that satisfies each pod selector exactly (its matchLabels, one ``In`` value at
    a time, an unseen value for ``Exists``); and a pod like each pod of the other
    namespaces (same labels and ports).  Label sets an existing pod already carries are
    left out (that pod and its copies stand for them), and so are label sets that the
    selectors looking at the namespace's pods cannot tell apart from one already added.
  - **Namespaces created later.**  A namespace with no labels, one with each existing
    namespace's labels except ``kubernetes.io/metadata.name``, and one for each
    ``(key, value)``, unseen value and exact witness of the namespace selectors, as for
    pods; a ``kubernetes.io/metadata.name`` value no namespace has yet stands for a
    namespace that may be created under that name.  Each holds the same kinds of pods
    (plus one like every existing pod); the new pods carrying a peer's pod-selector
    labels go where that peer's namespace selector looks.
  - **A bound.**  More than :data:`MAX_NEW_PODS` added pods raise
    :class:`TooManyPeersError` (the answer is refused with a sentence, not judged slowly).

  New pods declare the container ports their namespace's pods declare (first name wins),
  so a named port resolves for them as it does for today's pods.  Where an ingress rule
  names a port that has different numbers on the pods its policy selects today, each pod
  declaring it also gets a copy with yet another number (``(new pod like gateway,
  metrics on 20000)``): listing today's numbers is not the named port.
* Names of added peers start with ``(new`` and say what they stand for:
  ``shop/(new pod without labels)``, ``(new namespace)/(new pod like db)``,
  ``(new namespace team=red)/(new pod role=admin)``.
* Pure: values in, values out, deterministic order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from npcore.cluster import NAMESPACE_NAME_LABEL, Cluster, ContainerPort, External, Namespace, Pod
from npcore.ipblock import ipblock_networks
from npcore.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    Operator,
    PolicyType,
)
from npcore.selectors import selector_matches

__all__ = [
    "MAX_NEW_PODS",
    "NEW_PREFIX",
    "Boundaries",
    "TooManyPeersError",
    "boundaries",
    "is_new",
    "label_keys",
    "selectors",
    "universe",
]

NEW_PREFIX = "(new"
UNSEEN_VALUE = "unseen-value"
_SIZE = {4: 1 << 32, 6: 1 << 128}

# Peers that may come later are at most a few hundred for any real answer; an answer that
# names thousands of label values would make judging slow, and is refused instead.
MAX_NEW_PODS = 1500


class TooManyPeersError(ValueError):
    """The policies name so many label values that the universe would exceed
    :data:`MAX_NEW_PODS` pods that may come later."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


Boundaries = frozenset[tuple[int, int]]  # (IP version, first address of a region)


def is_new(name: str) -> bool:
    """Whether a peer name stands for a pod or address :func:`universe` added."""
    return NEW_PREFIX in name or name.startswith("addresses ")


def _selectors(policy: NetworkPolicy) -> Iterator[tuple[str, LabelSelector]]:
    """``("pod" | "namespace", selector)`` for every selector of ``policy``."""
    yield "pod", policy.pod_selector
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        for rule in policy.rules(direction):
            for peer in rule.peers or ():
                if peer.pod_selector is not None:
                    yield "pod", peer.pod_selector
                if peer.namespace_selector is not None:
                    yield "namespace", peer.namespace_selector


def label_keys(policies: Iterable[NetworkPolicy]) -> frozenset[str]:
    """The label keys the pod selectors of ``policies`` look at."""
    keys: set[str] = set()
    for policy in policies:
        for what, selector in _selectors(policy):
            if what == "pod":
                keys.update(k for k, _ in selector.match_labels)
                keys.update(r.key for r in selector.match_expressions)
    return frozenset(keys)


def _label_values(policies: Iterable[NetworkPolicy]) -> set[str]:
    values: set[str] = set()
    for policy in policies:
        for _, selector in _selectors(policy):
            values.update(v for _, v in selector.match_labels)
            for requirement in selector.match_expressions:
                values.update(requirement.values)
    return values


def boundaries(policies: Iterable[NetworkPolicy]) -> Boundaries:
    """Where the ipBlocks of ``policies`` start and stop holding addresses."""
    cuts: set[tuple[int, int]] = set()
    for policy in policies:
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            for rule in policy.rules(direction):
                for peer in rule.peers or ():
                    if peer.ip_block is None:
                        continue
                    cidr, excepts = ipblock_networks(peer.ip_block)
                    for network in (cidr, *excepts):
                        cuts.add((network.version, int(network.network_address)))
                        cuts.add((network.version, int(network.broadcast_address) + 1))
    return frozenset(cuts)


def _region_name(version: int, lo: int, hi: int) -> str:
    """``addresses 10.0.0.0/24`` (or a range when many CIDRs would be needed)."""
    if version == 4:
        networks: list[ipaddress.IPv4Network] | list[ipaddress.IPv6Network] = list(
            ipaddress.summarize_address_range(
                ipaddress.IPv4Address(lo), ipaddress.IPv4Address(hi - 1)
            )
        )
    else:
        networks = list(
            ipaddress.summarize_address_range(
                ipaddress.IPv6Address(lo), ipaddress.IPv6Address(hi - 1)
            )
        )
    if len(networks) <= 2:
        return "addresses " + " and ".join(str(n) for n in networks)
    return f"addresses {networks[0].network_address} to {networks[-1].broadcast_address}"


def _rule_intervals(
    policies: Sequence[NetworkPolicy],
) -> Iterator[tuple[tuple[int, str, int], int, int, int]]:
    """``(rule key, IP version, first, last + 1)`` for every address range an ipBlock peer
    of a rule holds (its cidr minus its excepts)."""
    for index, policy in enumerate(policies):
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            rules: tuple[NetworkPolicyIngressRule | NetworkPolicyEgressRule, ...] = policy.rules(
                direction
            )
            for rindex, rule in enumerate(rules):
                key = (index, str(direction), rindex)
                for peer in rule.peers or ():
                    if peer.ip_block is None:
                        continue
                    cidr, excepts = ipblock_networks(peer.ip_block)
                    start = int(cidr.network_address)
                    holes = sorted(
                        (int(e.network_address), int(e.broadcast_address) + 1)
                        for e in excepts
                        if e.version == cidr.version
                    )
                    for lo, hi in holes:
                        if lo > start:
                            yield key, cidr.version, start, lo
                        start = max(start, hi)
                    end = int(cidr.broadcast_address) + 1
                    if start < end:
                        yield key, cidr.version, start, end


def _signatures(
    policies: Sequence[NetworkPolicy], version: int
) -> list[tuple[int, int, frozenset[tuple[int, str, int]]]]:
    """The regions of one IP version, each with the set of rules whose ipBlocks hold it
    (a sweep over the range ends)."""
    events: dict[int, list[tuple[tuple[int, str, int], int]]] = {0: [], _SIZE[version]: []}
    for key, ver, lo, hi in _rule_intervals(policies):
        if ver == version:
            events.setdefault(lo, []).append((key, 1))
            events.setdefault(hi, []).append((key, -1))
    active: dict[tuple[int, str, int], int] = {}
    regions = []
    edges = sorted(events)
    for lo, hi in pairwise(edges):
        for key, step in events[lo]:
            active[key] = active.get(key, 0) + step
        regions.append((lo, hi, frozenset(k for k, n in active.items() if n > 0)))
    return regions


def _regions(
    policies: Sequence[NetworkPolicy], taken: Sequence[str], pod_ips: set[str]
) -> list[External]:
    """One external per kind of address no named external already stands for: regions
    held by the same rules behave alike under every policy given, so one stands for all."""
    named: list[tuple[int, int]] = []
    for ip in taken:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            continue
        named.append((address.version, int(address)))
    added: list[External] = []
    for version in (4, 6):
        groups: dict[frozenset[tuple[int, str, int]], list[tuple[int, int]]] = {}
        covered: set[frozenset[tuple[int, str, int]]] = set()
        for lo, hi, signature in _signatures(policies, version):
            groups.setdefault(signature, []).append((lo, hi))
            if any(ver == version and lo <= value < hi for ver, value in named):
                covered.add(signature)
        for signature, ranges in groups.items():
            if signature in covered:
                continue
            lo, hi = ranges[0]
            rep = lo
            while rep + 1 < hi and str(ipaddress.ip_address(rep)) in pod_ips:
                rep += 1
            address = ipaddress.IPv4Address(rep) if version == 4 else ipaddress.IPv6Address(rep)
            name = _region_name(version, lo, hi)
            if len(ranges) > 1:
                name += f" (and {len(ranges) - 1} more ranges treated alike)"
            added.append(External(name, str(address)))
    return added


@dataclass(frozen=True, slots=True)
class _Kind:
    """A kind of pod to add to each namespace."""

    name: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...] | None  # None: the namespace's ports


def _namespace_ports(pods: Iterable[Pod]) -> tuple[ContainerPort, ...]:
    seen: dict[tuple[object, ...], ContainerPort] = {}
    for pod in pods:
        for port in pod.ports:
            key = (port.name, port.protocol) if port.name else (port.port, port.protocol)
            seen.setdefault(key, port)
    return tuple(seen.values())


def _unseen(values: set[str]) -> str:
    value, n = UNSEEN_VALUE, 1
    while value in values:
        n += 1
        value = f"{UNSEEN_VALUE}-{n}"
    return value


def _witnesses(selector: LabelSelector, unseen: str) -> Iterator[dict[str, str]]:
    """Label sets that satisfy ``selector`` exactly: its matchLabels, the first value of
    each ``In`` (then each other value in turn) and an unseen value for each ``Exists``."""
    base = dict(selector.match_labels)
    choices: list[tuple[str, tuple[str, ...]]] = []
    for requirement in selector.match_expressions:
        if requirement.operator == Operator.IN and requirement.values:
            choices.append((requirement.key, requirement.values))
        elif requirement.operator == Operator.EXISTS:
            base.setdefault(requirement.key, unseen)
    first = dict(base)
    for key, values in choices:
        first.setdefault(key, values[0])
    candidates = [first]
    for key, values in choices:
        if key not in base:
            candidates += [{**first, key: value} for value in values[1:]]
    for labels in candidates:
        if selector_matches(selector, labels):
            yield labels


def _label_sets(selectors: Sequence[LabelSelector], unseen: str) -> Iterator[dict[str, str]]:
    """Candidate label sets of peers that may come later, in a fixed order: an unseen value
    for each key, each (key, value) any selector names alone, then each selector's
    witnesses (see :func:`_witnesses`)."""
    keys: list[str] = []
    pairs: list[tuple[str, str]] = []
    for selector in selectors:
        for key, value in selector.match_labels:
            keys.append(key)
            pairs.append((key, value))
        for requirement in selector.match_expressions:
            keys.append(requirement.key)
            pairs += [(requirement.key, value) for value in requirement.values]
    for key in dict.fromkeys(keys):
        yield {key: unseen}
    for key, value in dict.fromkeys(pairs):
        yield {key: value}
    for selector in selectors:
        yield from _witnesses(selector, unseen)


class _Signatures:
    """Which selectors a label set satisfies, relative to the empty label set: two label
    sets with the same signature are told apart by none of the selectors."""

    def __init__(self, selectors: Sequence[LabelSelector]) -> None:
        self.selectors = selectors
        self.empty = [selector_matches(s, {}) for s in selectors]
        self.by_key: dict[str, list[int]] = {}
        for i, selector in enumerate(selectors):
            keys = {k for k, _ in selector.match_labels}
            keys.update(r.key for r in selector.match_expressions)
            for key in keys:
                self.by_key.setdefault(key, []).append(i)

    def of(self, labels: Mapping[str, str]) -> frozenset[int]:
        relevant = {i for key in labels for i in self.by_key.get(key, ())}
        return frozenset(
            i for i in relevant if selector_matches(self.selectors[i], labels) != self.empty[i]
        )


def _distinct(
    label_sets: Iterable[dict[str, str]],
    selectors: Sequence[LabelSelector],
    seen: set[frozenset[int]],
) -> list[dict[str, str]]:
    """The label sets whose signature no earlier one (nor one in ``seen``) has."""
    signatures = _Signatures(selectors)
    out = []
    for labels in label_sets:
        signature = signatures.of(labels)
        if signature not in seen:
            seen.add(signature)
            out.append(labels)
    return out


def _carried(labels: Mapping[str, str], existing: Iterable[Mapping[str, str]]) -> bool:
    """Whether some existing object carries every label of ``labels``: such label sets are
    already represented by that object and its copies in other namespaces."""
    return any(all(have.get(k) == v for k, v in labels.items()) for have in existing)


def _labels_name(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def _selectors_by_kind(
    policies: Iterable[NetworkPolicy],
) -> tuple[list[LabelSelector], list[LabelSelector]]:
    """The distinct pod selectors and namespace selectors of ``policies``."""
    pods: dict[LabelSelector, None] = {}
    namespaces: dict[LabelSelector, None] = {}
    for policy in policies:
        for what, selector in _selectors(policy):
            (pods if what == "pod" else namespaces)[selector] = None
    return list(pods), list(namespaces)


def _new_namespaces(
    cluster: Cluster, selectors: Sequence[LabelSelector], unseen: str
) -> list[Namespace]:
    """A namespace with no labels, one like each existing namespace, and one for each
    label set of :func:`_label_sets` that the selectors tell apart from all of these.
    Every new namespace carries ``kubernetes.io/metadata.name`` (Kubernetes sets it to the
    namespace's name): its own name, or a value a selector names that no existing
    namespace has (a namespace that may be created later under that name)."""
    names = {ns.name for ns in cluster.namespaces}
    signatures = _Signatures(selectors)
    seen: set[frozenset[int]] = set()
    out: list[Namespace] = []

    def add(name: str, labels: Mapping[str, str]) -> None:
        labels = {**labels}
        signature = signatures.of({NAMESPACE_NAME_LABEL: unseen, **labels})
        if signature in seen:
            return
        seen.add(signature)
        labels.setdefault(NAMESPACE_NAME_LABEL, name)
        out.append(Namespace(name, labels))

    add("(new namespace)", {})
    for ns in cluster.namespaces:
        labels = {k: v for k, v in ns.labels.items() if k != NAMESPACE_NAME_LABEL}
        add(f"(new namespace like {ns.name})", labels)
    today = [ns.labels for ns in cluster.namespaces]
    for labels in _label_sets(selectors, unseen):
        if _carried(labels, today):
            continue
        named = labels.get(NAMESPACE_NAME_LABEL)
        if named is None or (named not in names and named != unseen):
            add(f"(new namespace {_labels_name(labels)})", labels)
    return out


def _pods_for(
    namespace: str, kinds: Sequence[_Kind], like: Sequence[Pod], cluster_pods: Sequence[Pod]
) -> list[Pod]:
    here = [p for p in cluster_pods if p.namespace == namespace]
    ports = _namespace_ports(here) or _namespace_ports(cluster_pods)
    present = {tuple(sorted(p.labels.items())) for p in here}
    pods = [
        Pod(
            namespace,
            kind.name,
            dict(kind.labels),
            None,
            ports if kind.ports is None else kind.ports,
        )
        for kind in kinds
    ]
    for pod in like:
        key = tuple(sorted(pod.labels.items()))
        if pod.namespace != namespace and key not in present:
            present.add(key)
            pods.append(
                Pod(namespace, f"(new pod like {pod.name})", dict(pod.labels), None, pod.ports)
            )
    return pods


def selectors(policies: Iterable[NetworkPolicy]) -> frozenset[tuple[str, LabelSelector]]:
    """Every ``("pod" | "namespace", selector)`` of ``policies``: the peers
    :func:`universe` adds depend on nothing else of them but their ipBlocks."""
    return frozenset(s for policy in policies for s in _selectors(policy))


Scopes = tuple[dict[str, dict[LabelSelector, None]], dict[LabelSelector, dict[LabelSelector, None]]]


def _pod_selector_scopes(policies: Iterable[NetworkPolicy]) -> Scopes:
    """The pod selectors that look at the pods of one namespace (a policy's own
    ``podSelector`` and its peers without a namespaceSelector), and, for the peers with a
    namespaceSelector, each pod selector with the namespace selectors it is paired with."""
    local: dict[str, dict[LabelSelector, None]] = {}
    anywhere: dict[LabelSelector, dict[LabelSelector, None]] = {}
    for policy in policies:
        here = local.setdefault(policy.namespace, {})
        here[policy.pod_selector] = None
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            for rule in policy.rules(direction):
                for peer in rule.peers or ():
                    if peer.pod_selector is None:
                        continue
                    if peer.namespace_selector is None:
                        here[peer.pod_selector] = None
                    else:
                        anywhere.setdefault(peer.pod_selector, {})[peer.namespace_selector] = None
    return local, anywhere


def _kinds(
    namespace: Namespace, candidates: Sequence[dict[str, str]], scopes: Scopes
) -> list[_Kind]:
    """The pod kinds to add to ``namespace``: one without labels, then each candidate
    label set that the selectors looking at this namespace's pods tell apart from the
    earlier ones."""
    local, anywhere = scopes
    relevant = list(local.get(namespace.name, {}))
    relevant += [
        pod
        for pod, namespaces in anywhere.items()
        if any(selector_matches(ns, namespace.labels) for ns in namespaces)
    ]
    kinds = [_Kind("(new pod without labels)", {}, None)]
    empty = _Signatures(relevant).of({})
    for labels in _distinct(candidates, relevant, {empty}):
        kinds.append(_Kind(f"(new pod {_labels_name(labels)})", labels, None))
    return kinds


def _policy_ports(policies: Iterable[NetworkPolicy]) -> tuple[set[str], set[int]]:
    """The port names the policies' ``ports`` entries use, and every number they cover."""
    names: set[str] = set()
    numbers: set[int] = set()
    for policy in policies:
        for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
            for rule in policy.rules(direction):
                for entry in rule.ports or ():
                    if isinstance(entry.port, str):
                        names.add(entry.port)
                    elif entry.port is not None:
                        last = entry.end_port or entry.port
                        if last - entry.port < 70000:
                            numbers.update(range(entry.port, last + 1))
    return names, numbers


def _renumbered(pods: Sequence[Pod], policies: Sequence[NetworkPolicy]) -> list[Pod]:
    """Where an ingress rule names a port that has different numbers on the pods its
    policy selects today: for each pod declaring it, a pod like it (same namespace and
    labels) whose named port has yet another number, as a pod added later may have.  (A
    name with one number on those pods keeps it: an answer may write the number.)"""
    _, numbers = _policy_ports(policies)
    names: set[str] = set()
    for policy in policies:
        used, _ = _policy_ports([replace(policy, egress=None, policy_types=(PolicyType.INGRESS,))])
        per_name: dict[str, set[int]] = {}
        for pod in pods:
            if pod.namespace == policy.namespace and selector_matches(
                policy.pod_selector, pod.labels
            ):
                for port in pod.ports:
                    if port.name in used:
                        per_name.setdefault(port.name, set()).add(port.port)
        names.update(name for name, values in per_name.items() if len(values) > 1)
    if not names:
        return []
    taken = numbers | {port.port for pod in pods for port in pod.ports}
    free = (n for n in range(20000, 65536) if n not in taken)
    added: list[Pod] = []
    seen: set[tuple[object, ...]] = set()
    for pod in pods:
        if not any(port.name in names for port in pod.ports):
            continue
        key = (pod.namespace, tuple(sorted(pod.labels.items())), pod.ports)
        if key in seen:
            continue
        seen.add(key)
        ports = tuple(
            replace(port, port=next(free)) if port.name in names else port for port in pod.ports
        )
        renamed = ", ".join(f"{p.name} on {p.port}" for p in ports if p.name in names)
        added.append(
            Pod(
                pod.namespace,
                f"(new pod like {pod.name}, {renamed})",
                dict(pod.labels),
                None,
                ports,
            )
        )
    return added


def universe(scenario: Cluster, policy_sets: Iterable[Sequence[NetworkPolicy]]) -> Cluster:
    """``scenario`` with the peers of the module docstring added (policies unchanged)."""
    policies = [p for group in policy_sets for p in group]
    everything = [*scenario.policies, *policies]
    unseen = _unseen(_label_values(everything))
    pod_selectors, namespace_selectors = _selectors_by_kind(everything)
    today = [p.labels for p in scenario.pods]
    candidates = [c for c in _label_sets(pod_selectors, unseen) if not _carried(c, today)]
    scopes = _pod_selector_scopes(everything)
    pods = list(scenario.pods)
    added: list[Pod] = []
    new_namespaces = _new_namespaces(scenario, namespace_selectors, unseen)
    for ns in [*scenario.namespaces, *new_namespaces]:
        added += _pods_for(ns.name, _kinds(ns, candidates, scopes), pods, pods)
        if len(added) > MAX_NEW_PODS:
            raise TooManyPeersError(MAX_NEW_PODS)
    added += _renumbered(pods, everything)
    taken = {p.ip for p in pods if p.ip}
    externals = _regions(everything, [e.ip for e in scenario.externals], taken)
    grown = Cluster.build(
        namespaces=[*scenario.namespaces, *new_namespaces],
        pods=[*pods, *added],
        services=scenario.services,
        policies=scenario.policies,
        externals=[*scenario.externals, *externals],
        cni=scenario.cni,
    )
    # Cluster.build sets kubernetes.io/metadata.name to the name; a new namespace keeps
    # the value it stands for (its own name, or a name no namespace has yet).
    labelled = {ns.name: ns for ns in new_namespaces}
    namespaces = tuple(labelled.get(ns.name, ns) for ns in grown.namespaces)
    return replace(grown, cni=scenario.cni, namespaces=namespaces)
