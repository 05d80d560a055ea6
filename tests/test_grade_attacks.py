"""Answers that must not get full marks, and feedback that must not mislead (issue #8).

Tables of attacks keyed to the rules of autograder/judge.py, autograder/universe.py,
autograder/detectors.py and autograder/selfcheck.py: wrong policies that hold only for
today's pods or for the addresses the scenario names, blind guesses, misleading
feedback, hostile answer text.  Each case states the wrong answer as a learner (or an
attacker) would write it.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.catalog import list_exercises, load
from autograder.checks import check
from autograder.cli import main
from autograder.feedback import ports_in_focus
from autograder.grade import grade, grade_files
from autograder.judge import grade_policies
from autograder.universe import universe
from npcore.cluster import NAMESPACE_NAME_LABEL
from npcore.load import parse_policies
from npcore.model import (
    IPBlock,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    PolicyType,
    Protocol,
)
from npcore.ports import ALL_PORTS, PortSet

POLICY_IDS = [e.id for e in list_exercises() if e.kind == "policy"]


def manifest(namespace: str, name: str, spec: str) -> str:
    body = "".join(f"  {line}\n" for line in spec.strip("\n").splitlines())
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}"
    )


def _open_up(policy: NetworkPolicy, block: IPBlock) -> NetworkPolicy:
    """``policy`` with one more rule per direction it isolates, admitting ``block``."""
    peer = (NetworkPolicyPeer(ip_block=block),)
    types = policy.effective_policy_types()
    ingress, egress = policy.ingress, policy.egress
    if PolicyType.INGRESS in types:
        ingress = (*(ingress or ()), NetworkPolicyIngressRule(from_=peer))
    if PolicyType.EGRESS in types:
        egress = (*(egress or ()), NetworkPolicyEgressRule(to=peer))
    return replace(policy, ingress=ingress, egress=egress, policy_types=policy.policy_types)


def _probes(exercise_id: str) -> tuple[str, ...]:
    loaded = load(exercise_id)
    addresses = [e.ip for e in loaded.scenario.externals] + [
        p.ip for p in loaded.scenario.pods if p.ip
    ]
    return tuple(f"{ip}/32" for ip in addresses if ":" not in ip)


# --- 1. the whole address space --------------------------------------------------------


@pytest.mark.parametrize("exercise_id", POLICY_IDS)
@pytest.mark.parametrize("what", ["0.0.0.0/0 except every probe", "::/0"])
def test_reference_plus_an_open_ipblock_is_not_full_marks(exercise_id: str, what: str) -> None:
    if exercise_id == "cka-block-metadata" and what != "::/0":
        # Its reference already allows 0.0.0.0/0 except the metadata address, which is one
        # of the probes: the union is the reference itself, so full marks are right.
        return
    loaded = load(exercise_id)
    block = IPBlock("::/0") if what == "::/0" else IPBlock("0.0.0.0/0", _probes(exercise_id))
    opened = [_open_up(p, block) for p in loaded.reference]
    result = grade_policies(loaded, opened)
    assert not result.passed, result.text()
    assert result.score < result.max_score


PARTNER = """
podSelector: {matchLabels: {app: api}}
policyTypes: [Egress]
egress:
  - to: [{ipBlock: BLOCK}]
    ports: [{protocol: TCP, port: 443}]
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{protocol: TCP, port: 5432}]
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""

IPBLOCK_ATTACKS = [
    pytest.param("{cidr: 203.0.113.10/32}", id="the one partner host the grader names"),
    pytest.param("{cidr: 203.0.113.0/8, except: [203.0.113.13/32]}", id="a /8 for a /24"),
    pytest.param("{cidr: 203.0.0.0/16, except: [203.0.113.13/32]}", id="a /16 for a /24"),
    pytest.param("{cidr: 203.0.113.0/25, except: [203.0.113.13/32]}", id="half the /24"),
    pytest.param("{cidr: 203.0.113.0/24, except: [203.0.113.12/31]}", id="except too wide"),
    pytest.param(
        "{cidr: 0.0.0.0/0, except: [203.0.113.13/32, 198.51.100.10/32]}",
        id="everything except the probes",
    ),
]


@pytest.mark.parametrize("block", IPBLOCK_ATTACKS)
def test_ipblock_must_match_over_every_address(block: str) -> None:
    result = grade(
        "ipblock-except", manifest("shop", "api-egress", PARTNER.replace("BLOCK", block))
    )
    assert not result.passed, result.text()


def test_the_right_ipblock_written_another_way_passes() -> None:
    split = "{cidr: 203.0.113.0/25, except: [203.0.113.13/32]}}, {ipBlock: {cidr: 203.0.113.128/25}"
    answer = manifest("shop", "api-egress", PARTNER.replace("BLOCK", split))
    assert grade("ipblock-except", answer).passed


def test_a_region_is_named_in_the_feedback() -> None:
    answer = manifest(
        "shop",
        "api-egress",
        PARTNER.replace("BLOCK", "{cidr: 203.0.113.0/16, except: [203.0.113.13/32]}"),
    )
    text = grade("ipblock-except", answer).text()
    assert re.search(r"shop/api -> addresses 203\.0\.\S+ .*TCP 443: your policies allow it", text)


# --- 2. pods and namespaces that do not exist yet ----------------------------------------

TODAY_ONLY = [
    pytest.param(
        "default-deny",
        manifest(
            "prod",
            "default-deny",
            """
podSelector: {matchExpressions: [{key: app, operator: In, values: [frontend, backend]}]}
policyTypes: [Ingress, Egress]
""",
        ),
        "prod/(new pod without labels)",
        id="default deny listing today's apps",
    ),
    pytest.param(
        "three-tier-db",
        manifest(
            "shop",
            "db-policy",
            """
podSelector: {matchLabels: {role: db}}
ingress:
  - from:
      - podSelector:
          matchExpressions: [{key: name, operator: NotIn, values: [web-pod, debug-pod]}]
    ports: [{port: 3306}]
""",
        ),
        "shop/(new pod without labels) -> shop/db TCP 3306",
        id="NotIn the pods that must not connect",
    ),
    pytest.param(
        "three-tier-db",
        manifest(
            "shop",
            "db-policy",
            """
podSelector: {matchLabels: {role: db}}
ingress:
  - from: [{podSelector: {matchExpressions: [{key: name, operator: Exists}]}}]
    ports: [{port: 3306}]
""",
        ),
        "shop/web -> shop/db TCP 3306",
        id="Exists on a key every pod has",
    ),
    pytest.param(
        "cross-namespace",
        manifest(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from:
      - namespaceSelector:
          matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [dev]}]
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9100}]
""",
        ),
        "(new pod like prometheus) -> apps/api TCP 9100: your policies allow it",
        id="every namespace except dev",
    ),
    pytest.param(
        "cross-namespace",
        manifest(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from:
      - namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [dev]}]}
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9100}]
""",
        ),
        "TCP 9100: your policies allow it",
        id="a custom label NotIn",
    ),
]


@pytest.mark.parametrize(("exercise_id", "answer", "sentence"), TODAY_ONLY)
def test_answers_right_only_for_todays_pods_fail(
    exercise_id: str, answer: str, sentence: str
) -> None:
    result = grade(exercise_id, answer)
    assert not result.passed, result.text()
    assert any(sentence in line for line in result.feedback), result.text()


def test_a_pod_named_by_its_ip_is_not_equivalent() -> None:
    ip = load("three-tier-db").scenario.pod("shop/api").ip
    answer = manifest(
        "shop",
        "db-policy",
        f"""
podSelector: {{matchLabels: {{role: db}}}}
ingress:
  - from: [{{ipBlock: {{cidr: {ip}/32}}}}]
    ports: [{{port: 3306}}]
""",
    )
    result = grade("three-tier-db", answer)
    assert not result.passed
    assert [m.id for m in result.misconceptions] == ["pod-ip-in-ipblock"]
    assert any("pod IPs change" in line for line in result.feedback), result.text()


# --- 3. blind guesses --------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id", POLICY_IDS)
@pytest.mark.parametrize("guess", ["selects no pod", "deny everything"])
def test_blind_guesses_earn_at_most_a_third(exercise_id: str, guess: str) -> None:
    exercise = load(exercise_id).definition
    # The same guess in every namespace the task's policies go to (a task may span two).
    reference = load(exercise_id).reference
    namespaces = (exercise.constraints.namespace,) if exercise.constraints.namespace else None
    namespaces = namespaces or tuple(dict.fromkeys(p.namespace for p in reference))
    name = exercise.constraints.name or "guess"
    spec = (
        "podSelector: {matchLabels: {nothing: here}}"
        if guess == "selects no pod"
        else "podSelector: {}\npolicyTypes: [Ingress, Egress]"
    )
    result = grade(exercise_id, "---\n".join(manifest(ns, name, spec) for ns in namespaces))
    if result.passed:  # a task whose answer is a deny-all
        assert guess == "deny everything"
        assert all(not p.ingress and not p.egress for p in load(exercise_id).reference)
        return
    assert result.score <= result.max_score / 3 + 1e-9, result.text()
    assert any("at most a third of the points" in line for line in result.feedback)


def test_a_partial_answer_is_not_capped() -> None:
    # Right policy, wrong port: not blind, keeps the points of the groups it passes.
    answer = manifest(
        "shop",
        "db-policy",
        """
podSelector: {matchLabels: {role: db}}
ingress:
  - from: [{podSelector: {matchLabels: {name: api-pod}}}]
    ports: [{port: 3306}, {port: 8080}]
""",
    )
    result = grade("three-tier-db", answer)
    assert result.score > result.max_score / 3
    assert not any("at most a third" in line for line in result.feedback)


# --- 4. feedback that must not mislead --------------------------------------------------


def test_a_selector_that_matches_nothing_is_named_and_not_called_a_change() -> None:
    answer = manifest(
        "shop",
        "db-policy",
        """
podSelector: {matchLabels: {app: db}}
ingress:
  - from: [{podSelector: {matchLabels: {name: api-pod}}}]
    ports: [{port: 3306}]
""",
    )
    result = grade("three-tier-db", answer)
    ids = [m.id for m in result.misconceptions]
    assert "selector-matches-nothing" in ids
    assert result.to_dict()["misconceptions"][ids.index("selector-matches-nothing")]["id"] == (
        "selector-matches-nothing"
    )
    flows = [line for line in result.feedback if "-> shop/db" in line]
    assert flows and all("your policies leave it allowed" in line for line in flows), result.text()


def test_dropping_tcp_53_from_a_lockdown_does_not_blame_the_default_deny() -> None:
    reference = load("three-tier-lockdown").definition.reference
    answer = reference.replace("        - {protocol: TCP, port: 53}\n", "", 1)
    assert answer != reference
    result = grade("three-tier-lockdown", answer)
    assert not result.passed
    ids = [m.id for m in result.misconceptions]
    assert "egress-isolated-no-rules" not in ids, result.text()
    assert "dns-udp-and-tcp" in ids


@pytest.mark.parametrize("exercise_id", ["three-tier-lockdown", "cross-namespace", "default-deny"])
def test_every_wrong_flow_is_named_relative_to_the_task(exercise_id: str) -> None:
    for example in load(exercise_id).definition.examples:
        for line in grade(exercise_id, example.answer).feedback:
            assert "did not mention" not in line
            if "->" in line and "your policies" in line:
                assert "the task requires it" in line, line


@settings(max_examples=60, deadline=None)
@given(
    ports=st.lists(st.tuples(st.integers(1, 65535), st.integers(0, 30)), max_size=4),
    listening=st.lists(st.integers(1, 65535), min_size=1, max_size=3),
    everything=st.booleans(),
)
def test_port_sentences_never_contradict_themselves(
    ports: list[tuple[int, int]], listening: list[int], everything: bool
) -> None:
    tcp = Protocol.TCP
    changed = PortSet.from_ranges({tcp: [(a, min(a + n, 65535)) for a, n in ports]})
    if everything:
        changed = ALL_PORTS.difference(changed)
    if changed.is_empty:
        return
    served = PortSet.union_all(PortSet.of(tcp, p) for p in listening)
    text = ports_in_focus(changed, served)
    if " (and every other port except " in text:
        named, excluded = text.split(" (", 1)[0], text.split(" except ", 1)[1].rstrip(")")
        for part in named.split(", "):
            assert part not in excluded.split(", "), text


def test_the_contradiction_from_the_issue_reads_correctly() -> None:
    tcp = Protocol.TCP
    changed = ALL_PORTS.difference(PortSet.of(tcp, 3306))
    text = ports_in_focus(changed, PortSet.of(tcp, 80).union(PortSet.of(tcp, 3306)))
    assert text == "TCP 80 (and every other port except TCP 3306)"


def test_pod_selector_empty_inside_a_namespace_peer_is_a_misconception() -> None:
    answer = manifest(
        "apps",
        "allow-prometheus",
        """
podSelector: {}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
        podSelector: {}
    ports: [{port: 9100}]
""",
    )
    result = grade("cross-namespace", answer)
    assert [m.id for m in result.misconceptions] == ["empty-pod-selector"]
    assert "monitoring/grafana included" in result.misconceptions[0].detail


# --- 5. several correct forms ----------------------------------------------------------

UNRESTRICTED_DNS = "    - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n"


def test_dns_without_the_kube_dns_restriction_passes_where_the_task_allows_it() -> None:
    answer = manifest(
        "shop",
        "api-egress",
        PARTNER.replace("BLOCK", "{cidr: 203.0.113.0/24, except: [203.0.113.13/32]}").split(
            "  - to:\n      - namespaceSelector"
        )[0]
        + "  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]\n",
    )
    result = grade("ipblock-except", answer)
    assert result.passed, result.text()


def test_the_namespace_egress_drill_grades_the_one_dns_form_its_task_names() -> None:
    # cka-namespace-egress (the course's rewrite of the copied cka-space1-egress) asks for
    # DNS to the kube-dns pods only, and says so: that form passes, DNS anywhere fails.
    assert "one form of DNS rule" in load("cka-namespace-egress").definition.task
    beacon = "  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: beacon}}}]\n"
    restricted = """
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
"""
    head = "podSelector: {}\npolicyTypes: [Egress]\negress:\n" + beacon
    assert grade("cka-namespace-egress", manifest("atlas", "atlas-out", head + restricted)).passed
    anywhere = manifest("atlas", "atlas-out", head + UNRESTRICTED_DNS.replace("    -", "  -"))
    assert not grade("cka-namespace-egress", anywhere).passed


def test_a_task_that_wants_one_form_says_so_and_grades_it() -> None:
    exercise = load("cka-default-deny-egress").definition
    assert "one form of DNS rule" in exercise.task
    answer = manifest(
        "prod",
        "default-deny-egress",
        "podSelector: {}\npolicyTypes: [Egress]\negress:\n"
        + UNRESTRICTED_DNS.replace("    -", "  -"),
    )
    assert not grade("cka-default-deny-egress", answer).passed


@pytest.mark.parametrize("exercise_id", [i for i in POLICY_IDS if i != "three-tier-db"])
def test_every_task_says_where_the_grader_is_stricter(exercise_id: str) -> None:
    assert "Stricter than a CKA checker" in load(exercise_id).definition.task


# --- 6. self-checks --------------------------------------------------------------------


def test_choice_feedback_names_wrong_items_not_the_right_values() -> None:
    exercise = load("classify-direction").definition
    wrong = {key: "sideways" for key in exercise.answer}
    answer = "answer:\n" + "".join(f"  {key}: sideways\n" for key in wrong)
    result = grade("classify-direction", answer)
    text = result.text()
    assert not result.passed
    for value in {str(v) for v in exercise.answer.values()}:
        assert f": {value}" not in text and f"it is {value}" not in text, text
    revealed = grade("classify-direction", answer, reveal=True).text()
    assert any(f"it is {v}" in revealed for v in exercise.answer.values())


def test_predict_feedback_does_not_reveal_the_verdict() -> None:
    exercise = load("predict-flannel").definition
    answer = "".join(f"{flow}: denied\n" for flow in exercise.flows)
    text = grade("predict-flannel", answer).text()
    assert "your prediction is wrong" in text
    assert "it is allowed" not in text and "does not enforce" not in text


def test_a_list_choice_counts_missing_options_without_naming_them() -> None:
    text = grade("three-tier-rules", "answer: [A]").text()
    assert "missing from your answer" in text
    assert not re.search(r"\b[B-F] is missing", text)


def test_check_renders_and_never_raises() -> None:
    result = check("three-tier-db", "kind: [broken")
    assert not result.passed
    assert "not passed" in result._repr_html_()


# --- 7. robustness ---------------------------------------------------------------------

DB = manifest(
    "shop",
    "db-policy",
    """
podSelector: {matchLabels: {role: db}}
ingress:
  - from: [{podSelector: {matchLabels: {name: api-pod}}}]
    ports: [{port: 3306}]
""",
)
DB_WRONG = DB.replace("port: 3306", "port: 3307")


@pytest.mark.parametrize("order", [(DB_WRONG, DB), (DB, DB_WRONG)])
def test_files_combine_as_kubectl_apply(order: tuple[str, str]) -> None:
    two_files = grade_files("three-tier-db", [("a.yaml", order[0]), ("b.yaml", order[1])])
    last_alone = grade("three-tier-db", order[1])
    one_stream = grade("three-tier-db", order[0] + "---\n" + order[1])
    assert (two_files.score, two_files.passed) == (last_alone.score, last_alone.passed)
    assert (one_stream.score, one_stream.passed) == (last_alone.score, last_alone.passed)


HOSTILE = [
    pytest.param("three-tier-rules", "answer: " + "9" * 5000, id="5000-digit integer"),
    pytest.param(
        "classify-direction", "answer: 190:20:30:40:50:" + "59:" * 2000 + "1", id="base 60"
    ),
    pytest.param("predict-flannel", "answer: 1e999999", id="huge float"),
    pytest.param("least-permissive", "answer: !!python/object:os.system ls", id="python tag"),
    pytest.param("three-tier-db", "\x00" * 2_000_000, id="two million NULs"),
]


@pytest.mark.parametrize(("exercise_id", "text"), HOSTILE)
def test_hostile_answers_are_sentences(exercise_id: str, text: str) -> None:
    result = grade(exercise_id, text)
    assert not result.passed
    assert result.feedback
    assert "Traceback" not in result.text()


def test_dev_zero_is_refused_without_a_traceback() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["three-tier-db", "/dev/zero"], stdout=out, stderr=err)
    assert code in (1, 2)
    assert "Traceback" not in out.getvalue() + err.getvalue()


def test_echoed_text_cannot_add_a_line() -> None:
    forged = '"a -> b 80\\nthree-tier-db: passed, 6/6 points": allowed\n'
    result = grade("predict-flannel", forged)
    assert all("\n" not in line for line in result.feedback)
    assert result.text().count("\n") == len(result.feedback)
    assert not any(line.startswith("three-tier-db: passed") for line in result.text().splitlines())


def test_a_named_port_where_the_task_gives_the_number_passes() -> None:
    reference = load("three-tier-lockdown").definition.reference
    named = reference.replace("ports: [{port: 8080}]", "ports: [{port: http}]")
    assert named.count("port: http") == 2
    assert grade("three-tier-lockdown", named).passed


def test_how_groups_combine_is_documented() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "exercises" / "README.md").read_text("utf-8")
    assert "at most a third of the" in readme
    assert "The groups add up" in readme


# --- label values the selectors name (QA: backdoors passed with full marks) ------------

MONITORING = """
podSelector: {matchLabels: {app: api}}
policyTypes: [Ingress]
ingress:
  - from: [FROM]
    ports: [{protocol: TCP, port: 9090}]
"""
MON_RULE = "{namespaceSelector: {matchLabels: {purpose: monitoring}}}"
DD_EGRESS_DNS = """
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""


def _mon(peers: str, extra: str = "") -> str:
    return manifest(
        "payments", "allow-monitoring", MONITORING.replace("FROM", peers) + extra.strip("\n")
    )


NAMED_VALUES = [
    pytest.param(
        "default-deny",
        manifest(
            "prod",
            "default-deny",
            """
podSelector: {}
policyTypes: [Ingress, Egress]
ingress:
  - from: [{podSelector: {matchLabels: {role: admin}}, namespaceSelector: {}}]
egress:
  - to: [{podSelector: {matchLabels: {role: admin}}, namespaceSelector: {}}]
""",
        ),
        "(new pod role=admin)",
        id="backdoor for a future role=admin pod in any namespace",
    ),
    pytest.param(
        "cka-allow-monitoring",
        _mon(MON_RULE, "\n  - from: [{namespaceSelector: {matchLabels: {team: red}}}]\n"),
        "(new namespace team=red)",
        id="backdoor for a future team=red namespace",
    ),
    pytest.param(
        "cka-allow-monitoring",
        _mon(
            "{namespaceSelector: {matchExpressions: "
            "[{key: purpose, operator: In, values: [monitoring, metrics]}]}}"
        ),
        "(new namespace purpose=metrics)",
        id="namespace In with an extra value",
    ),
    pytest.param(
        "cka-allow-monitoring",
        manifest(
            "payments",
            "allow-monitoring",
            MONITORING.replace("FROM", MON_RULE).replace(
                "{matchLabels: {app: api}}",
                "{matchExpressions: [{key: app, operator: In, values: [api, billing]}]}",
            ),
        ),
        "(new pod app=billing)",
        id="pod In with an extra value",
    ),
    pytest.param(
        "cka-allow-monitoring",
        _mon(
            "{namespaceSelector: {matchLabels: {purpose: monitoring}}}, "
            "{namespaceSelector: {matchLabels: {purpose: monitoring, tier: ops}}, "
            "podSelector: {matchLabels: {role: scraper, shard: b}}}",
            "\n  - from: [{namespaceSelector: {matchLabels: {tier: ops}}, "
            "podSelector: {matchLabels: {role: scraper, shard: b}}}]\n",
        ),
        "(new pod role=scraper,shard=b)",
        id="backdoor needing a pod with two named labels in a namespace with another",
    ),
    pytest.param(
        "cka-default-deny-egress",
        manifest(
            "prod",
            "default-deny-egress",
            "podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [batch]}]}\n"
            "policyTypes: [Egress]\negress:" + DD_EGRESS_DNS,
        ),
        "(new pod app=batch)",
        id="every pod written as NotIn [batch]",
    ),
    pytest.param(
        "default-deny",
        manifest(
            "prod",
            "default-deny",
            "podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [zzz]}]}\n"
            "policyTypes: [Ingress, Egress]\n",
        ),
        "(new pod app=zzz)",
        id="every pod written as NotIn [zzz]",
    ),
    pytest.param(
        "default-deny",
        manifest(
            "prod",
            "default-deny",
            "podSelector: {matchExpressions: [{key: debug, operator: DoesNotExist}]}\n"
            "policyTypes: [Ingress, Egress]\n",
        ),
        "(new pod debug=unseen-value)",
        id="every pod written as a DoesNotExist key",
    ),
]


@pytest.mark.parametrize(("exercise_id", "answer", "peer"), NAMED_VALUES)
def test_label_values_a_selector_names_are_in_the_universe(
    exercise_id: str, answer: str, peer: str
) -> None:
    result = grade(exercise_id, answer)
    assert not result.passed, result.text()
    assert any(peer in line for line in result.feedback), result.text()


def test_a_namespace_name_that_does_not_exist_yet_is_a_new_namespace() -> None:
    loaded = load("cka-allow-monitoring")
    answer = parse_policies(
        _mon(
            "{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, "
            "operator: In, values: [monitoring, staging]}]}}"
        ),
        "answer.yaml",
    )
    grown = universe(loaded.scenario, [*loaded.solutions, answer])
    names = {ns.name: ns.labels for ns in grown.namespaces}
    staging = names["(new namespace kubernetes.io/metadata.name=staging)"]
    assert staging[NAMESPACE_NAME_LABEL] == "staging"
    # an existing namespace's name is never given to a namespace that may come later
    assert all(
        labels.get(NAMESPACE_NAME_LABEL) not in {ns.name for ns in loaded.scenario.namespaces}
        for name, labels in names.items()
        if name.startswith("(new")
    )


def test_a_value_todays_pods_carry_is_not_a_new_kind() -> None:
    # Selecting today's db pod by its other label stays equivalent: the universe adds
    # label sets no existing pod carries, not partial copies of today's pods.
    result = grade(
        "cka-allow-monitoring",
        _mon("{namespaceSelector: {matchLabels: {purpose: monitoring}}}"),
    )
    assert result.passed, result.text()


def test_an_answer_naming_thousands_of_label_values_is_refused_as_a_sentence() -> None:
    rules = "".join(
        f"  - from: [{{podSelector: {{matchLabels: {{app: a{i}}}}}, "
        f"namespaceSelector: {{matchLabels: {{team: t{i}}}}}}}]\n"
        for i in range(800)
    )
    answer = manifest(
        "prod", "default-deny", "podSelector: {}\npolicyTypes: [Ingress]\ningress:\n" + rules
    )
    result = grade("default-deny", answer)
    assert result.score == 0 and not result.passed
    assert any("so many different label values" in line for line in result.feedback)


# --- leaks cost the denied group -------------------------------------------------------


@pytest.mark.parametrize("exercise_id", POLICY_IDS)
@pytest.mark.parametrize("block", ["::/0", "::ffff:0:0/96"])
def test_a_leak_costs_the_denied_group(exercise_id: str, block: str) -> None:
    loaded = load(exercise_id)
    if "denied" not in loaded.definition.points:
        return
    opened = [_open_up(p, IPBlock(block)) for p in loaded.reference]
    result = grade_policies(loaded, opened)
    denied = next(c for c in result.checks if c.name == "denied")
    assert not denied.passed and denied.points == 0, result.text()
    assert "leak" in denied.message


def test_the_qa_leaks_keep_at_most_half() -> None:
    v6 = manifest(
        "prod",
        "default-deny-egress",
        "podSelector: {}\npolicyTypes: [Egress]\negress:\n"
        '  - to: [{ipBlock: {cidr: "::/0"}}]' + DD_EGRESS_DNS,
    )
    assert grade("cka-default-deny-egress", v6).score <= 3
    mapped = _mon(
        MON_RULE,
        '\n  - from: [{ipBlock: {cidr: "::ffff:0.0.0.0/96", except: ["::ffff:10.0.0.0/104"]}}, '
        '{ipBlock: {cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "0.0.0.0/1"]}}]\n'
        "    ports: [{protocol: TCP, port: 9090}]\n",
    )
    assert grade("cka-allow-monitoring", mapped).score <= 3


# --- bounded feedback ------------------------------------------------------------------


def _many(count: int, namespace: str = "payments") -> str:
    spec = MONITORING.replace("FROM", MON_RULE)
    return "---\n".join(manifest(namespace, f"pol-{i}", spec) for i in range(count))


@pytest.mark.parametrize("namespace", ["payments", "default"])
def test_name_lists_are_capped_like_flow_lines(namespace: str) -> None:
    result = grade("cka-allow-monitoring", _many(300, namespace))
    assert not result.passed
    assert max(len(line) for line in result.feedback) < 2000, result.text()
    assert len(result.feedback) < 40
    assert any("... and 292 more" in line for line in result.feedback), result.text()


def test_a_named_port_with_several_numbers_today_is_not_a_list_of_numbers() -> None:
    """cka-named-port-scrape: "including Pods added later with another metrics number".
    A pod like today's with another metrics number is in the universe, so listing
    today's numbers instead of the name is not equivalent."""
    loaded = load("cka-named-port-scrape")
    assert loaded.shared is not None
    renumbered = [p for p in loaded.shared.cluster.pods if "metrics on " in p.name]
    assert renumbered, [p.name for p in loaded.shared.cluster.pods]
    numbers = sorted(
        {p.port for pod in loaded.scenario.pods for p in pod.ports if p.name == "metrics"}
    )
    ports = ", ".join(f"{{protocol: TCP, port: {n}}}" for n in numbers)
    answer = manifest(
        "payments",
        "scrape-metrics",
        f"""
podSelector: {{}}
policyTypes: [Ingress]
ingress:
  - from:
      - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: monitoring}}}}
        podSelector: {{matchLabels: {{app.kubernetes.io/name: prometheus}}}}
    ports: [{ports}]
""",
    )
    result = grade_policies(loaded, parse_policies(answer, "answer.yaml"))
    assert not result.passed
    judged = loaded.judged_in(parse_policies(answer, "answer.yaml"))
    got = judged.with_policies(parse_policies(answer, "answer.yaml"))
    index = {name: i for i, name in enumerate(got.peers)}
    pod = renumbered[0]
    number = next(p.port for p in pod.ports if p.name == "metrics")
    prometheus = index["monitoring/prometheus"]
    assert got.ports_at(prometheus, index[pod.key]).contains(Protocol.TCP, number) is False
    assert judged.expected[0].ports_at(prometheus, index[pod.key]).contains(Protocol.TCP, number)


def test_a_named_port_with_one_number_today_may_be_written_as_the_number() -> None:
    grown = load("three-tier-db").shared
    assert grown is not None
    assert not [p for p in grown.cluster.pods if " on " in p.name]


def test_a_mistyped_dns_selector_is_not_called_a_missing_protocol() -> None:
    """Port 53 written for UDP and TCP but to a selector that matches no DNS pod: the
    cause is the peer, so no "allow DNS on both UDP and TCP" hint contradicts the answer."""
    reference = load("three-tier-lockdown").definition.reference
    typo = reference.replace("k8s-app: kube-dns", "k8s-app: kubedns")
    assert typo != reference
    result = grade("three-tier-lockdown", typo)
    assert not result.passed
    assert "dns-udp-and-tcp" not in {m.id for m in result.misconceptions}, result.text()
    assert not any("DNS" in line and "both UDP and TCP" in line for line in result.feedback)


def test_the_deny_everything_cap_does_not_claim_everything_is_blocked() -> None:
    from autograder.feedback import blind_line

    assert "blocking everything" not in blind_line(False)


@pytest.mark.parametrize(
    ("exercise_id", "answer"),
    [
        pytest.param("least-permissive", "answer: " + "9" * 5000, id="pick, 5000 digits"),
        pytest.param("classify-direction", "answer:\n  " + "k" * 500 + ": ingress\n", id="key"),
    ],
)
def test_echoed_values_are_short(exercise_id: str, answer: str) -> None:
    result = grade(exercise_id, answer)
    assert not result.passed
    assert max(len(line) for line in result.feedback) < 400, result.text()
