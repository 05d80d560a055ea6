"""Label selectors match exactly as apimachinery's ``labels.Requirement.Matches``.

Source: kubernetes/apimachinery ``pkg/labels/selector.go``, ``func (r *Requirement)
Matches(ls Labels) bool``, whose switch has one case per operator:

* ``In``/``Equals``: "if !ls.Has(r.key) { return false }; return r.hasValue(ls.Get(r.key))"
* ``NotIn``/``NotEquals``: "if !ls.Has(r.key) { return true }; return !r.hasValue(...)"
* ``Exists``: "return ls.Has(r.key)"
* ``DoesNotExist``: "return !ls.Has(r.key)"
* (``Gt``/``Lt`` are rejected in a ``metav1.LabelSelector`` and are not modelled.)

``metav1.LabelSelectorAsSelector`` turns every ``matchLabels`` entry into an ``Equals``
requirement and ANDs all requirements; an empty selector is ``labels.Everything()``
("An empty label selector matches all objects", types.go).
"""

from __future__ import annotations

import pytest

from npcore.model import LabelSelector, LabelSelectorRequirement, Operator
from npcore.selectors import requirement_matches, selector_matches

R = LabelSelectorRequirement

# (case_id, requirement, labels, expected)
REQUIREMENT_CASES = [
    # case In: the key must exist and its value be listed
    ("in-value-listed", R("env", Operator.IN, ("prod", "qa")), {"env": "qa"}, True),
    ("in-value-not-listed", R("env", Operator.IN, ("prod",)), {"env": "dev"}, False),
    ("in-key-missing", R("env", Operator.IN, ("prod",)), {"app": "web"}, False),
    ("in-empty-labels", R("env", Operator.IN, ("prod",)), {}, False),
    ("in-empty-string-value", R("env", Operator.IN, ("",)), {"env": ""}, True),
    # case NotIn: a missing key matches (cyclonus says no; apimachinery says yes)
    ("notin-key-missing-matches", R("env", Operator.NOT_IN, ("prod",)), {"app": "web"}, True),
    ("notin-empty-labels-matches", R("env", Operator.NOT_IN, ("prod",)), {}, True),
    ("notin-value-listed", R("env", Operator.NOT_IN, ("prod", "qa")), {"env": "qa"}, False),
    ("notin-value-not-listed", R("env", Operator.NOT_IN, ("prod",)), {"env": "dev"}, True),
    # case Exists: the key must exist, whatever its value
    ("exists-key-present", R("env", Operator.EXISTS), {"env": "x"}, True),
    ("exists-key-present-empty-value", R("env", Operator.EXISTS), {"env": ""}, True),
    ("exists-key-missing", R("env", Operator.EXISTS), {"app": "web"}, False),
    # case DoesNotExist: the key must be absent
    ("doesnotexist-key-missing", R("env", Operator.DOES_NOT_EXIST), {"app": "web"}, True),
    ("doesnotexist-key-present", R("env", Operator.DOES_NOT_EXIST), {"env": "x"}, False),
    ("doesnotexist-empty-labels", R("env", Operator.DOES_NOT_EXIST), {}, True),
    # keys are case-sensitive and compared exactly
    ("in-key-case-sensitive", R("Env", Operator.IN, ("prod",)), {"env": "prod"}, False),
    ("in-value-case-sensitive", R("env", Operator.IN, ("Prod",)), {"env": "prod"}, False),
]


@pytest.mark.parametrize(
    ("requirement", "labels", "expected"),
    [case[1:] for case in REQUIREMENT_CASES],
    ids=[case[0] for case in REQUIREMENT_CASES],
)
def test_requirement_matches(
    requirement: LabelSelectorRequirement, labels: dict[str, str], expected: bool
) -> None:
    assert requirement_matches(requirement, labels) is expected
    # A selector holding only this requirement agrees with the requirement.
    assert selector_matches(LabelSelector.of(match_expressions=[requirement]), labels) is expected


# (case_id, selector, labels, expected)
SELECTOR_CASES = [
    # "An empty label selector matches all objects" (types.go, LabelSelector)
    ("empty-matches-empty-labels", LabelSelector(), {}, True),
    ("empty-matches-any-labels", LabelSelector(), {"app": "web", "env": "prod"}, True),
    # matchLabels entries are Equals requirements, AND-ed
    ("matchlabels-equal", LabelSelector.of({"app": "web"}), {"app": "web", "x": "y"}, True),
    ("matchlabels-other-value", LabelSelector.of({"app": "web"}), {"app": "db"}, False),
    ("matchlabels-key-missing", LabelSelector.of({"app": "web"}), {}, False),
    (
        "matchlabels-all-must-match",
        LabelSelector.of({"app": "web", "env": "prod"}),
        {"app": "web", "env": "dev"},
        False,
    ),
    (
        "matchlabels-all-match",
        LabelSelector.of({"app": "web", "env": "prod"}),
        {"app": "web", "env": "prod"},
        True,
    ),
    # matchLabels AND matchExpressions
    (
        "and-both-match",
        LabelSelector.of({"app": "web"}, [R("env", Operator.NOT_IN, ("prod",))]),
        {"app": "web"},
        True,
    ),
    (
        "and-labels-fail",
        LabelSelector.of({"app": "web"}, [R("env", Operator.EXISTS)]),
        {"app": "db", "env": "x"},
        False,
    ),
    (
        "and-expression-fails",
        LabelSelector.of({"app": "web"}, [R("env", Operator.EXISTS)]),
        {"app": "web"},
        False,
    ),
    (
        "expressions-anded",
        LabelSelector.of(
            None, [R("env", Operator.IN, ("a", "b")), R("tier", Operator.DOES_NOT_EXIST)]
        ),
        {"env": "b", "tier": "x"},
        False,
    ),
    (
        "expressions-all-hold",
        LabelSelector.of(
            None, [R("env", Operator.IN, ("a", "b")), R("tier", Operator.DOES_NOT_EXIST)]
        ),
        {"env": "b"},
        True,
    ),
]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [case[1:] for case in SELECTOR_CASES],
    ids=[case[0] for case in SELECTOR_CASES],
)
def test_selector_matches(selector: LabelSelector, labels: dict[str, str], expected: bool) -> None:
    assert selector_matches(selector, labels) is expected


def test_empty_selector_is_empty_and_nonempty_is_not() -> None:
    assert LabelSelector().is_empty
    assert LabelSelector.of({}).is_empty
    assert not LabelSelector.of({"a": "b"}).is_empty
    assert not LabelSelector.of(None, [R("a", Operator.EXISTS)]).is_empty


def test_of_sorts_match_labels_so_equal_selectors_compare_equal() -> None:
    assert LabelSelector.of({"b": "2", "a": "1"}) == LabelSelector.of({"a": "1", "b": "2"})
    assert hash(LabelSelector.of({"b": "2", "a": "1"})) == hash(
        LabelSelector.of({"a": "1", "b": "2"})
    )
