"""``kubectl describe networkpolicy`` text, rendered from a model value.

This follows kubectl's ``pkg/describe/describe.go`` (``describeNetworkPolicy``,
``describeNetworkPolicySpec``, ``printNetworkPolicySpecIngressFrom``,
``printNetworkPolicySpecEgressTo``, ``printLabelsMultiline``,
``printAnnotationsMultiline``) and apimachinery's ``metav1.FormatLabelSelector``, line for
line.

Rules of this file:

* The policy is shown as the API server stores it: ``policyTypes`` omitted (or empty) is
  defaulted as ``SetDefaults_NetworkPolicy`` does (Ingress, plus Egress when there are
  egress rules), and "Allowing ingress/egress traffic" follows that list.
* ``Created on:`` is left out: a manifest has no creation time.
* The header (``Name:``, ``Namespace:``, ``Labels:``, ``Annotations:``) is aligned as Go's
  ``tabwriter`` (minwidth 0, padding 2) aligns kubectl's tab-separated cells.
* Selectors print as ``metav1.FormatLabelSelector``: requirements sorted by key, joined
  by ``,``; ``key=value``, ``key in (a,b)``, ``key notin (a,b)``, ``key``, ``!key``;
  values sorted; ``<none>`` for an empty selector, ``<error>`` for an invalid one.
* Ports: ``To Port: 80/TCP``, ``To Port: http/TCP``, ``To Port: <nil>/UDP`` (no port),
  ``To Port Range: 32000-32768/TCP`` (with endPort).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from npcore.model import (
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Operator,
    PolicyType,
)

__all__ = ["describe_policies", "describe_policy", "format_label_selector"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION_LEN = 140


def _requirement(req: LabelSelectorRequirement) -> str | None:
    """``Requirement.String()``; ``None`` when ``NewRequirement`` would refuse it."""
    values = sorted(req.values)
    match req.operator:
        case Operator.IN | Operator.NOT_IN:
            if not values:
                return None
            word = "in" if req.operator is Operator.IN else "notin"
            return f"{req.key} {word} ({','.join(values)})"
        case Operator.EXISTS:
            return None if values else req.key
        case Operator.DOES_NOT_EXIST:
            return None if values else f"!{req.key}"
        case _:  # pragma: no cover - Operator is a closed set
            raise AssertionError(req.operator)


def format_label_selector(selector: LabelSelector) -> str:
    """``metav1.FormatLabelSelector``.

    >>> from npcore.model import LabelSelectorRequirement as R
    >>> format_label_selector(LabelSelector.of({"role": "db"}, [R("env", Operator.IN, ("b", "a"))]))
    'env in (a,b),role=db'
    >>> format_label_selector(LabelSelector())
    '<none>'
    """
    parts: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in selector.match_labels]
    for req in selector.match_expressions:
        text = _requirement(req)
        if text is None:
            return "<error>"
        parts.append((req.key, text))
    parts.sort(key=lambda kv: kv[0])  # stable, as Go's insertion sort on small selectors
    return ",".join(text for _, text in parts) or "<none>"


def _tabbed(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Two tab-separated cells per line, aligned as ``tabwriter.NewWriter(0, 8, 2, ' ', 0)``."""
    width = max(len(first) for first, _ in rows) + 2
    return [first.ljust(width) + rest for first, rest in rows]


def _labels_rows(title: str, labels: Mapping[str, str]) -> list[tuple[str, str]]:
    if not labels:
        return [(f"{title}:", "<none>")]
    keys = sorted(labels)
    return [(f"{title}:" if i == 0 else "", f"{k}={labels[k]}") for i, k in enumerate(keys)]


def _annotations_rows(annotations: Mapping[str, str]) -> list[tuple[str, str]]:
    keys = sorted(k for k in annotations if k != LAST_APPLIED)
    if not keys:
        return [("Annotations:", "<none>")]
    rows: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        first = "Annotations:" if i == 0 else ""
        value = annotations[key].removesuffix("\n")
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            rows.append((first, f"{key}:"))
            limit = MAX_ANNOTATION_LEN - 2
            for line in value.split("\n"):
                shown = line[:limit] + "..." if len(line) > limit else line
                rows.append(("", f"  {shown}"))
        else:
            rows.append((first, f"{key}: {value}"))
    return rows


def _port_lines(ports: tuple[NetworkPolicyPort, ...] | None, indent: str) -> list[str]:
    if not ports:
        return [f"{indent}To Port: <any> (traffic allowed to all ports)"]
    lines = []
    for port in ports:
        proto = port.effective_protocol
        number = "<nil>" if port.port is None else str(port.port)
        if port.end_port is None:
            lines.append(f"{indent}To Port: {number}/{proto}")
        else:
            lines.append(f"{indent}To Port Range: {number}-{port.end_port}/{proto}")
    return lines


def _peer_lines(peer: NetworkPolicyPeer, title: str, indent: str) -> list[str]:
    lines = [f"{indent}{title}:"]
    inner = "  " + indent
    if peer.pod_selector is not None and peer.namespace_selector is not None:
        lines.append(f"{inner}NamespaceSelector: {format_label_selector(peer.namespace_selector)}")
        lines.append(f"{inner}PodSelector: {format_label_selector(peer.pod_selector)}")
    elif peer.pod_selector is not None:
        lines.append(f"{inner}PodSelector: {format_label_selector(peer.pod_selector)}")
    elif peer.namespace_selector is not None:
        lines.append(f"{inner}NamespaceSelector: {format_label_selector(peer.namespace_selector)}")
    elif peer.ip_block is not None:
        lines.append(f"{inner}IPBlock:")
        lines.append(f"    {indent}CIDR: {peer.ip_block.cidr}")
        lines.append(f"    {indent}Except: {', '.join(peer.ip_block.except_)}")
    return lines


def _rules_lines(policy: NetworkPolicy, direction: PolicyType) -> list[str]:
    indent = "    "
    ingress = direction is PolicyType.INGRESS
    rules: tuple[NetworkPolicyIngressRule | NetworkPolicyEgressRule, ...] | None = (
        policy.ingress if ingress else policy.egress
    )
    word = "ingress" if ingress else "egress"
    if not rules:
        return [f"{indent}<none> (Selected pods are isolated for {word} connectivity)"]
    title = "From" if ingress else "To"
    noun = "source" if ingress else "destination"
    lines: list[str] = []
    for i, rule in enumerate(rules):
        lines += _port_lines(rule.ports, indent)
        peers = rule.peers
        if not peers:
            lines.append(f"{indent}{title}: <any> (traffic not restricted by {noun})")
        else:
            for peer in peers:
                lines += _peer_lines(peer, title, indent)
        if i != len(rules) - 1:
            lines.append(f"{indent}----------")
    return lines


def describe_policy(policy: NetworkPolicy, *, annotations: Mapping[str, str] | None = None) -> str:
    """The text ``kubectl describe networkpolicy`` prints for ``policy`` (without
    ``Created on``), ending with a newline.  The annotations shown are the policy's own
    (``metadata.annotations``) unless ``annotations`` is given.

    >>> print(describe_policy(NetworkPolicy("deny-all", "x")), end="")
    Name:         deny-all
    Namespace:    x
    Labels:       <none>
    Annotations:  <none>
    Spec:
      PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)
      Allowing ingress traffic:
        <none> (Selected pods are isolated for ingress connectivity)
      Not affecting egress traffic
      Policy Types: Ingress
    """
    header = [("Name:", policy.name), ("Namespace:", policy.namespace)]
    header += _labels_rows("Labels", dict(policy.labels))
    shown = dict(policy.annotations) if annotations is None else annotations
    header += _annotations_rows(shown)
    lines = _tabbed(header)
    lines.append("Spec:")
    if policy.pod_selector.is_empty:
        selector = "<none> (Allowing the specific traffic to all pods in this namespace)"
    else:
        selector = format_label_selector(policy.pod_selector)
    lines.append(f"  PodSelector:     {selector}")
    types = policy.policy_types_in_effect()
    for direction in (PolicyType.INGRESS, PolicyType.EGRESS):
        word = "ingress" if direction is PolicyType.INGRESS else "egress"
        if direction in types:
            lines.append(f"  Allowing {word} traffic:")
            lines += _rules_lines(policy, direction)
        else:
            lines.append(f"  Not affecting {word} traffic")
    lines.append(f"  Policy Types: {', '.join(str(t) for t in types)}")
    return "\n".join(lines) + "\n"


def describe_policies(policies: Sequence[NetworkPolicy]) -> str:
    """Every policy's description, separated by blank lines (``npcore describe``)."""
    return "\n".join(describe_policy(p) for p in policies)
