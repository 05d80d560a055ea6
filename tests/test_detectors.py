"""Each detector, as a table: it fires on the tell-tale shape with its consequence, and
stays silent on a correct answer written in the same shape or when the diff does not
show the consequence."""

from __future__ import annotations

import pytest

from autograder.catalog import load, load_exercise
from autograder.definition import MISCONCEPTION_IDS
from autograder.detectors import DETECTORS, Context, detect
from autograder.feedback import DEFAULT_HINTS, MISCONCEPTION_TITLES
from npcore.diff import diff_maps
from npcore.load import parse_policies


def policy(namespace: str, name: str, spec: str) -> str:
    body = "".join(f"  {line}\n" for line in spec.strip("\n").splitlines())
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}"
    )


def context(exercise_id: str, answer: str) -> Context:
    loaded = load(exercise_id)
    learner = parse_policies(answer, "answer.yaml")
    judging = loaded.judged_in(learner)
    diffs = tuple(diff_maps(judging.expected[0], judging.with_policies(learner)))
    return Context(loaded.scenario, learner, loaded.reference, diffs, loaded.definition.constraints)


LOCKDOWN_REFERENCE = load_exercise("three-tier-lockdown").reference
API_IP = str(load("three-tier-db").scenario.pod("shop/api").ip)


DB_OK = """
podSelector: {matchLabels: {role: db}}
ingress:
  - from: [{podSelector: {matchLabels: {name: api-pod}}}]
    ports: [{port: 3306}]
"""

CASES = [
    # or-instead-of-and
    pytest.param(
        "or-instead-of-and",
        "three-tier-db",
        policy(
            "shop",
            "db-policy",
            """
podSelector: {matchLabels: {role: db}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
      - podSelector: {matchLabels: {name: api-pod}}
    ports: [{port: 3306}]
""",
        ),
        [
            "shop/db-policy ingress[0].from lists namespaceSelector "
            "{kubernetes.io/metadata.name=shop} and podSelector {name=api-pod} as two "
            "entries, so either one admits"
        ],
        id="or-instead-of-and: fires",
    ),
    pytest.param(
        "or-instead-of-and",
        "cross-namespace",
        policy(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9100}]
""",
        ),
        [],
        id="or-instead-of-and: AND in one entry is silent",
    ),
    pytest.param(
        "or-instead-of-and",
        "three-tier-db",
        policy(
            "shop",
            "db-policy",
            """
podSelector: {matchLabels: {role: db}}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: nowhere}}
      - podSelector: {matchLabels: {name: api-pod}}
    ports: [{port: 3306}]
""",
        ),
        [],
        id="or-instead-of-and: two entries that allow nothing extra are silent",
    ),
    # empty-pod-selector
    pytest.param(
        "empty-pod-selector",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("{matchLabels: {role: db}}", "{}", 1)),
        ["shop/db-policy has podSelector: {}, so it also isolates shop/api, shop/debug, shop/web"],
        id="empty-pod-selector: fires",
    ),
    pytest.param(
        "empty-pod-selector",
        "default-deny",
        policy("prod", "default-deny", "podSelector: {}\npolicyTypes: [Ingress]"),
        [],
        id="empty-pod-selector: silent where the reference selects every pod too",
    ),
    # wrong-namespace
    pytest.param(
        "wrong-namespace",
        "three-tier-db",
        policy("default", "db-policy", DB_OK),
        ["policy db-policy is in namespace default; the pods it should select are in shop"],
        id="wrong-namespace: fires",
    ),
    pytest.param(
        "wrong-namespace",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK),
        [],
        id="wrong-namespace: silent",
    ),
    # service-port
    pytest.param(
        "service-port",
        "fix-broken-policy",
        policy(
            "shop",
            "api-policy",
            """
podSelector: {matchLabels: {name: api-pod}}
ingress:
  - from: [{podSelector: {matchLabels: {name: web-pod}}}]
    ports: [{port: 80}]
""",
        ),
        [
            "shop/api-policy ingress[0] uses port 80, the port of Service shop/api; its pods "
            "listen on 8080"
        ],
        id="service-port: fires",
    ),
    pytest.param(
        "service-port",
        "three-tier-lockdown",
        policy(
            "shop",
            "web",
            """
podSelector: {matchLabels: {name: web-pod}}
ingress: [{ports: [{port: 80}]}]
""",
        ),
        [],
        id="service-port: port 80 on web (which listens on 80) is silent",
    ),
    # dns-udp-and-tcp
    pytest.param(
        "dns-udp-and-tcp",
        "cka-default-deny-egress",
        policy(
            "prod",
            "default-deny-egress",
            """
podSelector: {}
policyTypes: [Egress]
egress:
  - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
    ports: [{protocol: UDP, port: 53}]
""",
        ),
        ["your egress rules allow port 53 on UDP only; DNS on TCP 53 is now blocked"],
        id="dns-udp-and-tcp: UDP only",
    ),
    pytest.param(
        "dns-udp-and-tcp",
        "cka-default-deny-egress",
        policy("prod", "default-deny-egress", "podSelector: {}\npolicyTypes: [Egress]"),
        ["egress is isolated and no rule allows DNS (port 53 on UDP and TCP)"],
        id="dns-udp-and-tcp: no DNS at all",
    ),
    pytest.param(
        "dns-udp-and-tcp",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK + "policyTypes: [Ingress, Egress]"),
        [],
        id="dns-udp-and-tcp: silent without a DNS server in the scenario",
    ),
    # policy-types-omitted
    pytest.param(
        "policy-types-omitted",
        "default-deny",
        policy("prod", "default-deny", "podSelector: {}"),
        [
            "prod/default-deny has no policyTypes and no egress rules, so it does not "
            "isolate egress of prod/backend, prod/frontend"
        ],
        id="policy-types-omitted: egress not isolated",
    ),
    pytest.param(
        "policy-types-omitted",
        "cka-block-metadata",
        policy(
            "apps",
            "block-metadata",
            """
podSelector: {}
egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]
""",
        ),
        [
            "apps/block-metadata has egress rules and no policyTypes, so it isolates Ingress "
            "too (every policy does unless policyTypes says otherwise) and blocks all incoming "
            "traffic of apps/web-0, apps/worker-0"
        ],
        id="policy-types-omitted: ingress isolated too",
    ),
    pytest.param(
        "policy-types-omitted",
        "ipblock-except",
        policy(
            "shop",
            "api-egress",
            """
podSelector: {matchLabels: {app: api}}
policyTypes: [Ingress]
egress: [{to: [{ipBlock: {cidr: 203.0.113.0/24}}]}]
""",
        ),
        [
            "shop/api-egress has egress rules but policyTypes ['Ingress'] leaves that "
            "direction out, so those rules are ignored"
        ],
        id="policy-types-omitted: rules of a direction left out",
    ),
    pytest.param(
        "policy-types-omitted",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK),
        [],
        id="policy-types-omitted: silent on a correct answer without policyTypes",
    ),
    # egress-isolated-no-rules
    pytest.param(
        "egress-isolated-no-rules",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK + "policyTypes: [Ingress, Egress]"),
        [
            "shop/db-policy lists Egress in policyTypes with no egress rules, so it blocks "
            "all outgoing traffic of shop/db"
        ],
        id="egress-isolated-no-rules: fires",
    ),
    pytest.param(
        "egress-isolated-no-rules",
        "default-deny",
        policy("prod", "default-deny", "podSelector: {}\npolicyTypes: [Ingress, Egress]"),
        [],
        id="egress-isolated-no-rules: silent when that is the task",
    ),
    # named-port-undefined
    pytest.param(
        "named-port-undefined",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("port: 3306", "port: mysq")),
        [
            "shop/db-policy ingress[0].ports[0] names port 'mysq' (TCP), which is not "
            "defined on shop/db; names defined there: mysql (3306/TCP)"
        ],
        id="named-port-undefined: fires",
    ),
    pytest.param(
        "named-port-undefined",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("port: 3306", "port: mysql")),
        [],
        id="named-port-undefined: defined name is silent",
    ),
    # pod-selector-namespace-scoped
    pytest.param(
        "pod-selector-namespace-scoped",
        "cross-namespace",
        policy(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from: [{podSelector: {matchLabels: {app: prometheus}}}]
    ports: [{port: 9100}]
""",
        ),
        [
            "apps/allow-prometheus ingress[0] selects pods {app=prometheus} in namespace "
            "apps only, not monitoring/prometheus"
        ],
        id="pod-selector-namespace-scoped: fires",
    ),
    pytest.param(
        "pod-selector-namespace-scoped",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("{matchLabels: {role: db}}", "{}", 1)),
        [],
        id="pod-selector-namespace-scoped: silent where the reference leaves the pod alone",
    ),
    # peers-and-ports-merged
    pytest.param(
        "peers-and-ports-merged",
        "cka-planner-egress",
        policy(
            "harbor",
            "planner-out",
            """
podSelector: {matchLabels: {component: planner}}
policyTypes: [Egress]
egress:
  - to:
      - podSelector: {matchLabels: {component: ledger}}
      - podSelector: {matchLabels: {component: cache}}
    ports: [{port: 5432}, {port: 6379}]
""",
        ),
        [
            "harbor/planner-out egress[0] lists 2 peers and 2 ports in one rule, so "
            "every peer is allowed on every port"
        ],
        id="peers-and-ports-merged: fires",
    ),
    pytest.param(
        "peers-and-ports-merged",
        "three-tier-db",
        policy(
            "shop",
            "db-policy",
            """
podSelector: {matchLabels: {role: db}}
ingress:
  - from:
      - podSelector: {matchLabels: {name: api-pod}}
      - podSelector: {matchLabels: {tier: backend}}
    ports: [{port: 3306}, {port: mysql}]
""",
        ),
        [],
        id="peers-and-ports-merged: silent when every pair is wanted",
    ),
    # selector-matches-nothing
    pytest.param(
        "selector-matches-nothing",
        "cross-namespace",
        policy(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {name: monitoring}}
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9100}]
""",
        ),
        [
            "apps/allow-prometheus ingress[0].from[0] namespaceSelector {name=monitoring} "
            "matches no namespace"
        ],
        id="selector-matches-nothing: a namespace label that does not exist",
    ),
    pytest.param(
        "selector-matches-nothing",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("{role: db}", "{app: db}", 1)),
        [
            "shop/db-policy spec.podSelector {app=db} matches no pod in namespace shop, so "
            "the policy does nothing"
        ],
        id="selector-matches-nothing: app: db where the pod has role: db",
    ),
    pytest.param(
        "selector-matches-nothing",
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("{name: api-pod}", "{name: api}", 1)),
        ["shop/db-policy ingress[0].from[0] podSelector {name=api} matches no pod in shop"],
        id="selector-matches-nothing: a peer podSelector",
    ),
    pytest.param(
        "selector-matches-nothing",
        "cross-namespace",
        policy(
            "apps",
            "allow-prometheus",
            """
podSelector: {}
ingress:
  - from:
      - namespaceSelector: {matchLabels: {team: ops}}
        podSelector: {matchLabels: {app: prometheus}}
    ports: [{port: 9100}]
""",
        ),
        [],
        id="selector-matches-nothing: a custom label that exists is silent",
    ),
    # pod-ip-in-ipblock
    pytest.param(
        "pod-ip-in-ipblock",
        "three-tier-db",
        policy(
            "shop",
            "db-policy",
            DB_OK.replace(
                "[{podSelector: {matchLabels: {name: api-pod}}}]",
                "[{ipBlock: {cidr: API_IP/32}}]",
            ),
        ),
        [
            "shop/db-policy ingress[0] ipBlock API_IP/32 holds the IP of shop/api; that "
            "address changes when the pod is recreated"
        ],
        id="pod-ip-in-ipblock: fires",
    ),
    pytest.param(
        "pod-ip-in-ipblock",
        "ipblock-except",
        policy(
            "shop",
            "api-egress",
            """
podSelector: {matchLabels: {app: api}}
policyTypes: [Egress]
egress:
  - to: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.13/32]}}]
    ports: [{protocol: TCP, port: 443}]
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{protocol: TCP, port: 5432}]
""",
        ),
        [],
        id="pod-ip-in-ipblock: an ipBlock outside the cluster is silent",
    ),
]


@pytest.mark.parametrize(("detector", "exercise", "answer", "details"), CASES)
def test_detector(detector: str, exercise: str, answer: str, details: list[str]) -> None:
    found = DETECTORS[detector](context(exercise, answer.replace("API_IP", API_IP)))
    assert sorted(m.detail for m in found) == [d.replace("API_IP", API_IP) for d in details]
    assert all(m.id == detector for m in found)


def test_every_detector_has_a_firing_and_a_silent_case() -> None:
    firing = {p.values[0] for p in CASES if p.values[3]}
    silent = {p.values[0] for p in CASES if not p.values[3]}
    assert firing == silent == set(DETECTORS)


def test_every_detector_has_a_title_and_a_hint() -> None:
    assert set(DETECTORS) == set(DEFAULT_HINTS) == set(MISCONCEPTION_TITLES)
    assert set(DETECTORS) == set(MISCONCEPTION_IDS)


def test_detect_is_sorted_and_silent_without_a_diff() -> None:
    ctx = context("three-tier-db", policy("shop", "db-policy", DB_OK))
    assert ctx.diffs == ()
    assert detect(ctx) == []
    noisy = context(
        "three-tier-db",
        policy("shop", "db-policy", DB_OK.replace("{matchLabels: {role: db}}", "{}", 1)),
    )
    found = detect(noisy)
    assert found == sorted(found, key=lambda m: (m.id, m.detail))
    assert [m.id for m in found] == ["empty-pod-selector"]


# --- silent next to the mistake: a correct policy of the detector's shape, a mistake elsewhere

NO_TCP_53 = LOCKDOWN_REFERENCE.replace("        - {protocol: TCP, port: 53}\n", "", 1)
IPBLOCK_REFERENCE = load_exercise("ipblock-except").reference
NO_DB_RULE = IPBLOCK_REFERENCE.replace(
    "    - to: [{podSelector: {matchLabels: {app: db}}}]\n"
    "      ports: [{protocol: TCP, port: 5432}]\n",
    "",
)
MERGED_DNS = NO_TCP_53.replace(
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n",
    "          podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
    "        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
    "          podSelector:\n"
    "            matchExpressions: [{key: k8s-app, operator: In, values: [kube-dns]}]\n",
)
NAMED_PORT = NO_TCP_53.replace("      ports: [{port: 8080}]\n", "      ports: [{port: http}]\n", 1)
NO_POLICY_TYPES = NO_TCP_53.replace(
    "  podSelector: {matchLabels: {role: db}}\n  policyTypes: [Ingress]\n",
    "  podSelector: {matchLabels: {role: db}}\n",
)

ALONGSIDE = [
    pytest.param(
        "three-tier-lockdown", NO_TCP_53, detector, id=f"{detector}: lockdown without TCP 53"
    )
    for detector in sorted(set(DETECTORS) - {"dns-udp-and-tcp"})
] + [
    pytest.param("three-tier-lockdown", MERGED_DNS, "peers-and-ports-merged", id="two DNS peers"),
    pytest.param("three-tier-lockdown", NAMED_PORT, "named-port-undefined", id="port by name"),
    pytest.param("three-tier-lockdown", NO_POLICY_TYPES, "policy-types-omitted", id="no types"),
    pytest.param("ipblock-except", NO_DB_RULE, "pod-ip-in-ipblock", id="ipBlock, db rule lost"),
    pytest.param("ipblock-except", NO_DB_RULE, "peers-and-ports-merged", id="DNS, db rule lost"),
]


@pytest.mark.parametrize(("exercise", "answer", "detector"), ALONGSIDE)
def test_a_correct_policy_next_to_the_mistake_is_not_blamed(
    exercise: str, answer: str, detector: str
) -> None:
    ctx = context(exercise, answer)
    assert ctx.diffs, "the mistake must change something"
    assert DETECTORS[detector](ctx) == []


def test_the_mistake_itself_is_still_named() -> None:
    assert [m.id for m in detect(context("three-tier-lockdown", NO_TCP_53))] == ["dns-udp-and-tcp"]


def test_the_variants_above_differ_from_what_they_start_from() -> None:
    assert NO_TCP_53 != LOCKDOWN_REFERENCE
    assert NO_DB_RULE != IPBLOCK_REFERENCE
    assert len({NO_TCP_53, MERGED_DNS, NAMED_PORT, NO_POLICY_TYPES}) == 4
