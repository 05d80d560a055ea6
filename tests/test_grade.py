"""Grading by behaviour: the pinned ``three-tier-db`` exercise, written every way.

Any policy with the required effect passes, however written (issue #4: matchLabels or
matchExpressions, policyTypes given or omitted, port by number, by name or as a one-port
range, protocol given or defaulted, YAML or JSON); anything else fails with the sentence
that names the wrong flow and, where recognised, the misconception.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.catalog import load, load_exercise
from autograder.checks import check
from autograder.definition import UnknownExerciseError
from autograder.grade import grade, grade_exercise, grade_policies
from npcore.diff import diff_maps
from npcore.model import (
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from npcore.reachability import connectivity_map

HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: shop
spec:
"""


def policy(spec: str, head: str = HEAD) -> str:
    return head + "".join(f"  {line}\n" for line in spec.strip("\n").splitlines())


RULE = """
podSelector:
  matchLabels: {role: db}
ingress:
  - from:
      - podSelector:
          matchLabels: {name: api-pod}
    ports:
      - port: 3306
"""

PASSING = {
    "matchLabels, protocol defaulted, policyTypes omitted": policy(RULE),
    "matchExpressions": policy(
        """
podSelector:
  matchExpressions: [{key: role, operator: In, values: [db]}]
ingress:
  - from:
      - podSelector:
          matchExpressions: [{key: name, operator: In, values: [api-pod]}]
    ports: [{port: 3306, protocol: TCP}]
"""
    ),
    "policyTypes given": policy(RULE + "policyTypes: [Ingress]\n"),
    "named port mysql": policy(RULE.replace("port: 3306", "port: mysql")),
    "one-port range": policy(RULE.replace("port: 3306", "port: 3306\n        endPort: 3306")),
    "selecting by tier and other label": policy(
        RULE.replace("{role: db}", "{tier: database}").replace(
            "{name: api-pod}", "{name: api-pod, tier: backend}"
        )
    ),
    "namespaceSelector AND podSelector in one entry": policy(
        RULE.replace(
            "      - podSelector:\n",
            "      - namespaceSelector:\n"
            "          matchLabels: {kubernetes.io/metadata.name: shop}\n"
            "        podSelector:\n",
        )
    ),
    "kind: List, after a leading ---": "---\napiVersion: v1\nkind: List\nitems:\n"
    + "".join(f"  {line}\n" for line in ("- " + policy(RULE).replace("\n", "\n  ")).splitlines()),
    "JSON": json.dumps(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "db-policy", "namespace": "shop"},
            "spec": {
                "podSelector": {"matchLabels": {"role": "db"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"name": "api-pod"}}}],
                        "ports": [{"protocol": "TCP", "port": 3306}],
                    }
                ],
            },
        }
    ),
}


@pytest.mark.parametrize("answer", PASSING.values(), ids=PASSING.keys())
def test_any_policy_with_the_required_effect_passes(answer: str) -> None:
    result = grade("three-tier-db", answer)
    assert result.passed, result.text()
    assert result.score == result.max_score == 6
    assert result.misconceptions == []


OR_MISTAKE = policy(
    RULE.replace(
        "      - podSelector:\n",
        "      - namespaceSelector:\n"
        "          matchLabels: {kubernetes.io/metadata.name: shop}\n"
        "      - podSelector:\n",
    )
)

FAILING = [
    pytest.param(
        OR_MISTAKE,
        3,
        [
            "shop/web -> shop/db TCP 3306: your policies allow it; the task requires it denied "
            "(shop/db-policy ingress[0].from[0] admits it)"
        ],
        ["or-instead-of-and"],
        id="namespaceSelector OR podSelector",
    ),
    pytest.param(
        policy(
            RULE.replace(
                "      - podSelector:\n",
                "      - namespaceSelector: {}\n        podSelector:\n",
            )
        ),
        3,
        ["staging/api -> shop/db TCP 3306: your policies allow it; the task requires it denied"],
        [],
        id="from allows staging/api",
    ),
    pytest.param(
        policy(RULE.replace("port: 3306", "port: 8080")),
        2,
        [
            "shop/api -> shop/db TCP 3306: your policies deny it; the task requires it allowed "
            "(shop/db is isolated for ingress by shop/db-policy and no rule admits it)",
            "shop/api -> shop/db TCP 8080: your policies allow it; the task requires it denied "
            "(shop/db-policy ingress[0].from[0] admits it)",
        ],
        [],
        id="port 8080",
    ),
    pytest.param(
        policy(RULE + "policyTypes: [Ingress, Egress]\n"),
        5,
        [
            "shop/db -> shop/web TCP 80 (and every other port): your policies deny it; "
            "the task requires it allowed"
        ],
        ["egress-isolated-no-rules"],
        id="Egress without egress rules breaks db egress",
    ),
    pytest.param(
        policy(RULE, HEAD.replace("  namespace: shop\n", "")),
        2,
        [
            "policy db-policy is in namespace default; the task asks for namespace shop "
            "(a manifest without metadata.namespace lands in default)"
        ],
        ["wrong-namespace"],
        id="no namespace: lands in default",
    ),
    pytest.param(
        policy(RULE, HEAD.replace("db-policy", "database-policy")),
        5,
        ["the task asks for a NetworkPolicy named db-policy; yours: database-policy"],
        [],
        id="wrong name",
    ),
    pytest.param(
        policy(RULE.replace("{role: db}", "{}")),
        5,
        [
            "internet -> shop/api TCP 8080 (and every other port): your policies deny it; "
            "the task requires it allowed"
        ],
        ["empty-pod-selector"],
        id="podSelector {} isolates the whole namespace",
    ),
    pytest.param(
        policy(RULE.replace("port: 3306", "port: mysq")),
        2,  # by its effect a deny-all for db: capped at a third
        ["shop/api -> shop/db TCP 3306: your policies deny it; the task requires it allowed"],
        ["named-port-undefined"],
        id="misspelt named port",
    ),
    pytest.param(
        policy(RULE) + "---\n" + policy(RULE, HEAD.replace("db-policy", "extra")),
        5,
        ["the task asks for 1 NetworkPolicy; your answer has 2"],
        [],
        id="two policies",
    ),
]


@pytest.mark.parametrize(("answer", "score", "sentences", "misconceptions"), FAILING)
def test_wrong_answers_fail_with_the_sentence(
    answer: str, score: float, sentences: list[str], misconceptions: list[str]
) -> None:
    result = grade("three-tier-db", answer)
    assert not result.passed
    assert result.score == score, result.text()
    for sentence in sentences:
        assert any(
            line == sentence or line.startswith(f"{sentence} (") for line in result.feedback
        ), result.text()
    assert [m.id for m in result.misconceptions] == misconceptions, result.text()
    causes = [line for line in result.feedback if line.startswith("Likely cause (")]
    assert len(causes) == len(misconceptions), result.text()


INVALID = [
    pytest.param(
        policy(RULE.replace("port: 3306", "port: 3306\n        protocol: tcp")),
        'answer.yaml:15:21: spec.ingress[0].ports[0].protocol: Unsupported value: "tcp"',
        id="lower-case protocol",
    ),
    pytest.param("kind: [unclosed", "answer.yaml:2:1: YAML syntax error", id="YAML syntax"),
    pytest.param("", "answer.yaml:1:1: no objects found", id="empty answer"),
    pytest.param(
        policy(RULE.replace("ingress:", "ingres:")),
        'unknown field "ingres"',
        id="unknown field",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
        "expected only NetworkPolicy objects here",
        id="not a NetworkPolicy",
    ),
]


@pytest.mark.parametrize(("answer", "message"), INVALID)
def test_invalid_input_scores_zero_with_npcores_message(answer: str, message: str) -> None:
    result = grade("three-tier-db", answer)
    assert (result.passed, result.score) == (False, 0)
    assert any(message in line for line in result.feedback), result.text()
    assert result.feedback[-1].startswith("Your answer could not be read")


def test_grading_is_deterministic() -> None:
    first = grade("three-tier-db", OR_MISTAKE).to_dict()
    second = grade("three-tier-db", OR_MISTAKE).to_dict()
    assert first == second
    assert json.loads(json.dumps(first)) == first


def test_to_dict_has_the_contract_keys() -> None:
    data = grade("three-tier-db", PASSING["JSON"]).to_dict()
    assert {"exercise", "passed", "score", "max_score", "feedback"} <= set(data)
    assert data["exercise"] == "three-tier-db"


def test_hidden_changes_are_capped() -> None:
    deny_everything = HEAD + "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
    result = grade("three-tier-db", deny_everything)
    assert not result.passed
    assert any(line.startswith("... and ") for line in result.feedback)


def test_unknown_exercise_raises() -> None:
    with pytest.raises(UnknownExerciseError, match="unknown exercise 'nope'"):
        grade("nope", "")


def test_grade_policies_on_values() -> None:
    exercise = load_exercise("three-tier-db")
    value = NetworkPolicy(
        "db-policy",
        "shop",
        pod_selector=LabelSelector.of({"role": "db"}),
        ingress=(
            NetworkPolicyIngressRule(
                ports=(NetworkPolicyPort(port=3306),),
                from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"name": "api-pod"})),),
            ),
        ),
    )
    loaded = load(exercise.id)
    assert grade_policies(loaded, [value]).passed
    assert not grade_policies(loaded, []).passed


def test_connectivity_diff_lists_exactly_the_changed_pairs() -> None:
    scenario = load("three-tier-db").scenario
    before = connectivity_map(scenario)
    deny_db = NetworkPolicy("deny", "shop", pod_selector=LabelSelector.of({"role": "db"}))
    after = connectivity_map(scenario.with_policies([deny_db]))
    diffs = diff_maps(before, after)
    assert sorted((d.src, d.dst) for d in diffs) == [
        ("internet", "shop/db"),
        ("shop/api", "shop/db"),
        ("shop/debug", "shop/db"),
        ("shop/web", "shop/db"),
        ("staging/api", "shop/db"),
    ]
    assert all(d.gained.is_empty and d.lost.describe() == ["all"] for d in diffs)


# --- checks.check: the notebook one-liner ------------------------------------------------


def test_check_returns_the_result_when_passed() -> None:
    result = check("three-tier-db", PASSING["policyTypes given"])
    assert result.passed
    assert "6/6 points" in result._repr_html_()


def test_check_returns_the_feedback_without_raising() -> None:
    result = check("three-tier-db", OR_MISTAKE)
    text = result.text()
    assert not result.passed
    assert text.startswith("three-tier-db: not passed, 3/6 points\n")
    assert "shop/web -&gt; shop/db TCP 3306" in result._repr_html_()
    assert "- shop/web -> shop/db TCP 3306: your policies allow it" in text
    assert "Likely cause (selectors OR'ed instead of AND'ed)" in text


def test_feedback_never_prints_the_reference_solution() -> None:
    exercise = load_exercise("three-tier-lockdown")
    reference_lines = {
        line.strip() for line in exercise.reference.splitlines() if len(line.strip()) > 12
    }
    for example in exercise.examples:
        for line in grade("three-tier-lockdown", example.answer).feedback:
            assert not any(ref in line for ref in reference_lines), line


def test_hidden_flows_are_named_relative_to_the_task() -> None:
    result = grade("three-tier-db", policy(RULE + "policyTypes: [Ingress, Egress]\n"))
    hidden = [line for line in result.feedback if line.startswith("shop/db -> ")]
    assert hidden == sorted(hidden, key=lambda line: ("(new" in line, line))  # today's first
    assert (
        "shop/db -> staging/api TCP 8080 (and every other port): your policies deny it; "
        "the task requires it allowed"
    ) in hidden
    assert not any("did not mention" in line for line in result.feedback)


# --- properties ----------------------------------------------------------------------------

LOCKDOWN = load_exercise("three-tier-lockdown")
LOCKDOWN_DOCS = [d for d in LOCKDOWN.reference.split("---\n") if d.strip()]


@settings(max_examples=15, deadline=None)
@given(order=st.permutations(range(len(LOCKDOWN_DOCS))), files=st.integers(1, 3))
def test_order_and_file_split_do_not_matter(order: list[int], files: int) -> None:
    docs = [LOCKDOWN_DOCS[i] for i in order]
    answers = [
        (f"part{k}.yaml", "---\n".join(docs[k::files])) for k in range(files) if docs[k::files]
    ]
    result = grade_exercise(load(LOCKDOWN.id), answers)
    assert result.passed, result.text()


@settings(max_examples=15, deadline=None)
@given(missing=st.sets(st.integers(0, len(LOCKDOWN_DOCS) - 1), min_size=1))
def test_leaving_out_any_reference_policy_fails(missing: set[int]) -> None:
    kept = [d for i, d in enumerate(LOCKDOWN_DOCS) if i not in missing]
    result = grade_exercise(load(LOCKDOWN.id), [("answer.yaml", "---\n".join(kept) or "{}")])
    assert not result.passed
    assert result.score < result.max_score


HOSTILE = [
    pytest.param(
        "a: &a [x, x]\nb: &b [*a, *a]\nanswer: [*b, *b]",
        "alias",
        id="aliases",
    ),
    pytest.param("[" * 5000 + "]" * 5000, "nesting depth", id="deep nesting"),
    pytest.param("answer: " + "A" * 100_001, "the answer is too long", id="too long"),
    pytest.param("answer: [unclosed", "answer.yaml:2:1: YAML syntax error", id="syntax"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE)
def test_hostile_choice_answers_score_zero(text: str, message: str) -> None:
    result = grade("three-tier-rules", text)
    assert (result.passed, result.score) == (False, 0)
    assert message in result.feedback[0]


def test_a_reference_that_misses_its_requirements_is_refused() -> None:
    import yaml as pyyaml

    from autograder.catalog import EXERCISES_DIR, check_definition
    from autograder.definition import parse_exercise

    data = pyyaml.safe_load((EXERCISES_DIR / "three-tier-db.yaml").read_text())
    data["requirements"]["denied"].append("shop/api -> shop/db TCP 3306")
    problems = check_definition(parse_exercise(data, "autograder/exercises/three-tier-db.yaml"))
    assert len(problems) == 1
    assert problems[0].startswith(
        "reference: this solution does not meet the requirements: "
        "shop/api -> shop/db TCP 3306: your policies allow it; the task requires it denied"
    )


@pytest.mark.parametrize(
    "module",
    ["autograder.feedback", "autograder.definition", "autograder.drill", "autograder.checks"],
)
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0
    assert failures == 0


YAMLISH = st.text(alphabet=st.sampled_from(list("abn:-[]{}&*!|>'\" \n\t0123456789#%@`,?")))


@settings(max_examples=40, deadline=None)
@given(
    exercise_id=st.sampled_from(
        ["three-tier-db", "three-tier-rules", "predict-flannel", "least-permissive"]
    ),
    text=st.one_of(st.text(max_size=200), YAMLISH),
)
def test_any_text_is_graded_without_raising(exercise_id: str, text: str) -> None:
    result = grade(exercise_id, text)
    assert 0 <= result.score <= result.max_score
    assert result.feedback
    json.dumps(result.to_dict())
