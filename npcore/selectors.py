"""Label selector matching, exactly as apimachinery's ``labels.Requirement.Matches``.

The five cases of ``Requirement.Matches`` (pkg/labels/selector.go):

1. ``In``: the key must exist and its value be one of ``values``.
2. ``NotIn``: a missing key matches; otherwise the value must be none of ``values``.
3. ``Exists``: the key must exist.
4. ``DoesNotExist``: the key must not exist.
5. (``Gt``/``Lt`` are not valid in a ``metav1.LabelSelector`` and never reach here.)

``matchLabels`` entries are ``In`` requirements with one value, and every requirement of
a selector must match (AND).  An empty selector matches everything.

Note: cyclonus (the predecessor of policy-assistant) treats ``NotIn`` with a missing key
as no match; apimachinery, and therefore Kubernetes, treats it as a match.
"""

from __future__ import annotations

from collections.abc import Mapping

from npcore.model import LabelSelector, LabelSelectorRequirement, Operator

__all__ = ["requirement_matches", "selector_matches"]


def requirement_matches(requirement: LabelSelectorRequirement, labels: Mapping[str, str]) -> bool:
    """Whether one ``matchExpressions`` requirement matches an object's ``labels``.

    >>> r = LabelSelectorRequirement("env", Operator.NOT_IN, ("prod",))
    >>> requirement_matches(r, {})  # case 2: a missing key matches NotIn
    True
    """
    has_key = requirement.key in labels
    match requirement.operator:
        case Operator.IN:
            return has_key and labels[requirement.key] in requirement.values
        case Operator.NOT_IN:
            return not has_key or labels[requirement.key] not in requirement.values
        case Operator.EXISTS:
            return has_key
        case Operator.DOES_NOT_EXIST:
            return not has_key
        case _:  # pragma: no cover - the enum is closed
            raise AssertionError(f"unknown operator {requirement.operator!r}")


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether ``selector`` selects an object with ``labels`` (all requirements AND'ed)."""
    for key, value in selector.match_labels:
        if labels.get(key) != value:
            return False
    return all(requirement_matches(r, labels) for r in selector.match_expressions)
