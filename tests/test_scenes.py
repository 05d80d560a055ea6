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
