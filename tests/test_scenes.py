"""lessonkit.scenes: the worlds of the lessons behave as the lessons say they do."""

from __future__ import annotations

import pytest

from lessonkit import scenes
from npcore import NAMESPACE_NAME_LABEL, Protocol, matrix
from npcore.model import PolicyType

WANTED = [
    ("user", "shop/web", 80),
    ("shop/web", "shop/api", 8080),
    ("shop/api", "shop/db", 3306),
]
UNWANTED = ("shop/web", "shop/db", 3306)


def allowed(cluster, src: str, dst: str, port: int, protocol: Protocol = Protocol.TCP) -> bool:
    return matrix(cluster, port, protocol).allowed(src, dst)


def test_three_tier_pods_labels_and_ports() -> None:
    shop = scenes.three_tier()
    pods = {p.key: p for p in shop.pods}
    assert set(pods) == {"shop/web", "shop/api", "shop/db"}
    assert dict(pods["shop/web"].labels) == {"name": "web-pod", "tier": "frontend"}
    assert dict(pods["shop/api"].labels) == {"name": "api-pod", "tier": "backend"}
    assert dict(pods["shop/db"].labels) == {"role": "db", "tier": "database"}
    assert [(c.port, c.name) for c in pods["shop/web"].ports] == [(80, "http")]
    assert [(c.port, c.name) for c in pods["shop/api"].ports] == [(8080, "http")]
    assert [(c.port, c.name) for c in pods["shop/db"].ports] == [(3306, "mysql")]
    assert shop.external("user").ip == scenes.USER_IP
    assert len({p.ip for p in shop.pods}) == 3  # every pod has its own IP
    assert shop.policies == ()


def test_three_tier_services_pick_their_pods() -> None:
    shop = scenes.three_tier()
    for name in ("web", "api", "db"):
        assert [p.key for p in shop.endpoints(shop.service(f"shop/{name}"))] == [f"shop/{name}"]
    api = shop.service("shop/api").ports[0]
    assert (api.port, api.target_port) == (80, 8080)  # the Service port is not the pod port


@pytest.mark.parametrize("flow", [*WANTED, UNWANTED], ids=lambda f: f"{f[0]}->{f[1]}")
def test_default_is_all_allow(flow: tuple[str, str, int]) -> None:
    assert allowed(scenes.three_tier(), *flow)


@pytest.mark.parametrize(
    ("flow", "expected"),
    [(f, True) for f in WANTED] + [(UNWANTED, False), (("shop/db", "shop/web", 80), True)],
    ids=["user->web", "web->api", "api->db", "web->db-blocked", "db-egress-untouched"],
)
def test_db_policy_blocks_only_web_to_db(flow: tuple[str, str, int], expected: bool) -> None:
    assert allowed(scenes.three_tier(with_db_policy=True), *flow) is expected


@pytest.mark.parametrize(
    ("flow", "protocol", "expected"),
    [(f, Protocol.TCP, True) for f in WANTED]
    + [
        (UNWANTED, Protocol.TCP, False),
        (("shop/web", "kube-system/coredns", 53), Protocol.UDP, True),
        (("shop/db", "kube-system/coredns", 53), Protocol.TCP, True),
        (("shop/db", "shop/web", 80), Protocol.TCP, False),
        (("shop/api", "shop/web", 80), Protocol.TCP, False),
        (("shop/web", "user", 443), Protocol.TCP, False),
        (("shop/web", "shop/api", 80), Protocol.TCP, False),
    ],
    ids=[
        "user->web",
        "web->api",
        "api->db",
        "web->db-blocked",
        "dns-udp",
        "dns-tcp",
        "db-cannot-call-web",
        "api-cannot-call-web",
        "web-cannot-call-out",
        "service-port-80-is-not-api-pod-port",
    ],
)
def test_lockdown_allows_exactly_the_app(
    flow: tuple[str, str, int], protocol: Protocol, expected: bool
) -> None:
    assert allowed(scenes.three_tier(lockdown=True), *flow, protocol) is expected


def test_lockdown_isolates_every_shop_pod_both_ways() -> None:
    policies = scenes.lockdown_policies()
    deny = policies[0]
    assert deny.pod_selector.is_empty
    assert deny.effective_policy_types() == {PolicyType.INGRESS, PolicyType.EGRESS}
    assert [p.name for p in policies] == ["default-deny", "allow-dns", "web", "api", "db-policy"]


def test_flannel_ignores_every_policy() -> None:
    shop = scenes.three_tier(lockdown=True, cni="flannel")
    assert not shop.enforced
    assert len(shop.policies) == 5  # created, stored...
    assert allowed(shop, *UNWANTED)  # ...and without effect
    assert allowed(shop, "shop/db", "shop/web", 80)


def test_multi_namespace_labels() -> None:
    world = scenes.multi_namespace()
    labels = world.namespace_labels()
    assert dict(labels["prod"]) == {"env": "prod", NAMESPACE_NAME_LABEL: "prod"}
    assert dict(labels["monitoring"]) == {NAMESPACE_NAME_LABEL: "monitoring"}
    assert {p.key for p in world.pods} == {
        "prod/web",
        "prod/db",
        "dev/web",
        "monitoring/prometheus",
    }


def test_x_y_z_is_the_upstream_model() -> None:
    world = scenes.x_y_z()
    assert sorted(p.key for p in world.pods) == [f"{n}/{p}" for n in "xyz" for p in "abc"]
    assert all(dict(p.labels) == {"pod": p.name} for p in world.pods)
    assert all([c.port for c in p.ports] == [80, 81] for p in world.pods)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (scenes.DB_POLICY_YAML, lambda: (scenes.db_policy(),)),
        (scenes.LOCKDOWN_YAML, scenes.lockdown_policies),
    ],
    ids=["db-policy", "lockdown"],
)
def test_yaml_shown_to_learners_is_the_policy_used(text: str, expected) -> None:
    assert scenes.policies_from_yaml(text) == expected()


YAML_CONSTANTS = sorted(n for n in scenes.__all__ if n.endswith("_YAML"))


@pytest.mark.parametrize("name", YAML_CONSTANTS)
def test_every_yaml_constant_loads_or_fails_on_purpose(name: str) -> None:
    from npcore.errors import ValidationError

    text = getattr(scenes, name)
    if name.startswith("ENDPORT_NAMED_BUG"):
        with pytest.raises(ValidationError) as info:
            scenes.policies_from_yaml(text, "bug.yaml")
        assert "spec.ingress[0].ports[0].endPort" in str(info.value)
    else:
        assert scenes.policies_from_yaml(text)


@pytest.mark.parametrize(
    ("without", "broken"),
    [
        ("web-ingress", ("user", "shop/web", 80)),
        ("web-egress", ("shop/web", "shop/api", 8080)),
        ("api-ingress", ("shop/web", "shop/api", 8080)),
        ("api-egress", ("shop/api", "shop/db", 3306)),
        ("db-ingress", ("shop/api", "shop/db", 3306)),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_missing_rule_breaks_exactly_its_step(
    without: str, broken: tuple[str, str, int]
) -> None:
    shop = scenes.three_tier(lockdown=True, without=without)
    assert [f for f in WANTED if not allowed(shop, *f)] == [broken]


def test_missing_dns_blocks_lookups_only() -> None:
    shop = scenes.three_tier(lockdown=True, without="dns")
    assert not allowed(shop, "shop/web", "kube-system/coredns", 53, Protocol.UDP)
    assert all(allowed(shop, *f) for f in WANTED)


def test_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown rule 'db-egress'; choose one of web-ingress"):
        scenes.lockdown_policies(without="db-egress")


def test_with_yaml_adds_policies_like_kubectl_apply() -> None:
    shop = scenes.with_yaml(scenes.three_tier(), scenes.DB_POLICY_YAML)
    assert [p.key for p in shop.policies] == ["shop/db-policy"]
    assert not allowed(shop, *UNWANTED)


@pytest.mark.parametrize(
    ("text", "src", "dst", "port", "expected"),
    [
        (scenes.DB_POLICY_OR_BUG_YAML, "shop/web", "shop/db", 3306, True),
        (scenes.DB_POLICY_AND_YAML, "shop/web", "shop/db", 3306, False),
        (scenes.DB_POLICY_AND_YAML, "shop/api", "shop/db", 3306, True),
        (scenes.SERVICE_PORT_BUG_YAML, "shop/web", "shop/api", 8080, False),
        (scenes.NAMED_PORT_YAML, "shop/api", "shop/db", 3306, True),
        (scenes.API_INGRESS_YAML, "shop/web", "shop/api", 8080, True),
        (scenes.API_INGRESS_YAML, "shop/db", "shop/api", 8080, False),
    ],
    ids=[
        "or-lets-web-in",
        "and-keeps-web-out",
        "and-lets-api-in",
        "service-port-blocks",
        "named-port",
        "api-ingress-web",
        "api-ingress-db",
    ],
)
def test_lesson_05_and_07_variants_on_the_shop(
    text: str, src: str, dst: str, port: int, expected: bool
) -> None:
    assert allowed(scenes.with_yaml(scenes.three_tier(), text), src, dst, port) is expected


@pytest.mark.parametrize(
    ("text", "src", "dst", "port", "expected"),
    [
        (scenes.PROMETHEUS_SCOPE_BUG_YAML, "monitoring/prometheus", "prod/db", 5432, False),
        (scenes.PROMETHEUS_FIXED_YAML, "monitoring/prometheus", "prod/db", 5432, True),
        (scenes.PROMETHEUS_FIXED_YAML, "prod/web", "prod/db", 5432, False),
        (scenes.NAMESPACE_LABEL_BUG_YAML, "monitoring/prometheus", "prod/db", 5432, False),
        (scenes.IPBLOCK_EGRESS_YAML, "prod/web", "partner", 443, True),
        (scenes.IPBLOCK_EGRESS_YAML, "prod/web", "metadata", 443, False),
        (scenes.IPBLOCK_EGRESS_YAML, "dev/web", "metadata", 443, True),
        (scenes.NO_NAMESPACE_YAML, "dev/web", "prod/db", 5432, True),
        (scenes.MERGED_RULE_YAML, "monitoring/prometheus", "prod/db", 5432, True),
        (scenes.MERGED_RULE_YAML, "prod/web", "prod/db", 9187, True),
        (scenes.SPLIT_RULES_YAML, "monitoring/prometheus", "prod/db", 5432, False),
        (scenes.SPLIT_RULES_YAML, "monitoring/prometheus", "prod/db", 9187, True),
        (scenes.SPLIT_RULES_YAML, "prod/web", "prod/db", 9187, False),
        (scenes.SPLIT_RULES_YAML, "prod/web", "prod/db", 5432, True),
    ],
    ids=[
        "scope-bug",
        "scope-fixed",
        "scope-fixed-not-web",
        "missing-ns-label",
        "ipblock-partner",
        "ipblock-except",
        "ipblock-other-namespace",
        "no-namespace-lands-in-default",
        "merged-prometheus-postgres",
        "merged-web-metrics",
        "split-prometheus-postgres",
        "split-prometheus-metrics",
        "split-web-metrics",
        "split-web-postgres",
    ],
)
def test_multi_namespace_variants(text: str, src: str, dst: str, port: int, expected: bool) -> None:
    assert allowed(scenes.with_yaml(scenes.multi_namespace(), text), src, dst, port) is expected


def test_relabel_replaces_the_labels() -> None:
    shop = scenes.relabel(scenes.three_tier(with_db_policy=True), "shop/db", {"role": "database"})
    assert dict(shop.pod("shop/db").labels) == {"role": "database"}
    assert allowed(shop, *UNWANTED)  # db-policy no longer selects the pod
    with pytest.raises(KeyError):
        scenes.relabel(shop, "shop/nope", {})


def test_tables() -> None:
    shop = scenes.three_tier()
    assert scenes.pod_table(shop).splitlines() == [
        "NAMESPACE   NAME   IP             PORTS      LABELS",
        "shop        web    10.244.1.10    80/TCP     name=web-pod,tier=frontend",
        "shop        api    10.244.2.20    8080/TCP   name=api-pod,tier=backend",
        "shop        db     10.244.3.30    3306/TCP   role=db,tier=database",
        "(outside)   user   203.0.113.10   -          -",
    ]
    assert scenes.service_table(shop).splitlines() == [
        "NAMESPACE   SERVICE   PORT       TARGET PORT   PODS",
        "shop        web       80/TCP     http          web",
        "shop        api       80/TCP     8080          api",
        "shop        db        3306/TCP   mysql         db",
    ]


def test_three_tier_flows() -> None:
    flows = scenes.three_tier_flows()
    assert [(f.src, f.dst, f.port, f.protocol) for f in flows] == [
        ("user", "shop/web", 80, "TCP"),
        ("shop/web", "shop/api", 8080, "TCP"),
        ("shop/api", "shop/db", 3306, "TCP"),
        ("shop/web", "shop/db", 3306, "TCP"),
    ]
    dns = scenes.three_tier_flows(with_dns=True)[-1]
    assert (dns.dst, dns.port, dns.protocol) == ("kube-system/coredns", 53, "UDP")


def test_policies_add_up() -> None:
    shop = scenes.with_yaml(scenes.three_tier(with_db_policy=True), scenes.EXTRA_DB_ACCESS_YAML)
    assert allowed(shop, *UNWANTED)
    assert allowed(shop, "shop/api", "shop/db", 3306)
    assert not allowed(shop, "user", "shop/db", 3306)


def test_no_namespace_policy_lands_in_default() -> None:
    (policy,) = scenes.policies_from_yaml(scenes.NO_NAMESPACE_YAML)
    assert policy.key == "default/db-lockdown"


def test_yaml_by_policy_splits_the_lockdown() -> None:
    parts = scenes.yaml_by_policy(scenes.LOCKDOWN_YAML)
    assert list(parts) == ["default-deny", "allow-dns", "web", "api", "db-policy"]
    assert parts["db-policy"] == scenes.DB_POLICY_YAML
    assert parts["default-deny"] == scenes.DEFAULT_DENY_YAML
    assert "---" not in "".join(parts.values())


@pytest.mark.parametrize(
    ("cni", "expected"),
    [
        ("calico", [True, True, True, True, False]),  # ipBlock 0.0.0.0/0 matches pod IPs
        ("cilium", [False, False, False, True, False]),  # it never matches pods on Cilium
    ],
)
def test_lesson_06_metadata_block_cuts_pod_traffic_on_cilium_only(
    cni: str, expected: list[bool]
) -> None:
    world = scenes.with_yaml(
        scenes.multi_namespace(cni=cni, with_dns=True), scenes.METADATA_BLOCK_YAML
    )
    flows = scenes.metadata_flows()
    assert [allowed(world, f.src, f.dst, f.port, f.protocol) for f in flows] == expected
