"""The worlds the lessons talk about, built as npcore values.

Rules of this file:

* Every scene is a function returning a fresh :class:`npcore.Cluster`; nothing here draws.
* The running story is the three-tier shop of the course (``web`` -> ``api`` -> ``db``,
  plus a ``user`` outside the cluster); the other scenes serve single lessons.
* Policies are shown to learners as YAML (the ``*_YAML`` constants) and used by the
  scenes as npcore values (:func:`db_policy`, :func:`lockdown_policies`); a test checks
  that npcore's loader decodes each YAML constant to exactly those values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from lessonkit.policy_yaml import (
    API_INGRESS_YAML,
    DB_FROM_MONITORING_YAML,
    DB_NOT_DEV_YAML,
    DB_POLICY_AND_YAML,
    DB_POLICY_OR_BUG_YAML,
    DB_POLICY_YAML,
    DEFAULT_DENY_YAML,
    ENDPORT_NAMED_BUG_YAML,
    EXTRA_DB_ACCESS_YAML,
    IPBLOCK_EGRESS_YAML,
    LOCKDOWN_YAML,
    MERGED_RULE_YAML,
    METADATA_BLOCK_YAML,
    NAMED_PORT_YAML,
    NAMESPACE_LABEL_BUG_YAML,
    NO_NAMESPACE_YAML,
    PROMETHEUS_FIXED_YAML,
    PROMETHEUS_SCOPE_BUG_YAML,
    SERVICE_PORT_BUG_YAML,
    SPLIT_RULES_YAML,
)
from npcore import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    External,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Pod,
    PolicyType,
    Protocol,
    Service,
    ServicePort,
)

if TYPE_CHECKING:
    from lessonkit.diagrams import Flow

__all__ = [
    "API_INGRESS_YAML",
    "DB_FROM_MONITORING_YAML",
    "DB_NOT_DEV_YAML",
    "DB_POLICY_AND_YAML",
    "DB_POLICY_OR_BUG_YAML",
    "DB_POLICY_YAML",
    "DEFAULT_DENY_YAML",
    "ENDPORT_NAMED_BUG_YAML",
    "EXTRA_DB_ACCESS_YAML",
    "IPBLOCK_EGRESS_YAML",
    "LOCKDOWN_RULES",
    "LOCKDOWN_YAML",
    "MERGED_RULE_YAML",
    "METADATA_BLOCK_YAML",
    "NAMED_PORT_YAML",
    "NAMESPACE_LABEL_BUG_YAML",
    "NO_NAMESPACE_YAML",
    "PROMETHEUS_FIXED_YAML",
    "PROMETHEUS_SCOPE_BUG_YAML",
    "SERVICE_PORT_BUG_YAML",
    "SPLIT_RULES_YAML",
    "USER_IP",
    "db_policy",
    "lockdown_policies",
    "metadata_flows",
    "multi_namespace",
    "pod_table",
    "policies_from_yaml",
    "relabel",
    "service_table",
    "three_tier",
    "three_tier_flows",
    "with_yaml",
    "x_y_z",
    "yaml_by_policy",
]

USER_IP = "203.0.113.10"


def policies_from_yaml(text: str, filename: str = "<lesson>") -> tuple[NetworkPolicy, ...]:
    """The NetworkPolicies in ``text`` (one or more YAML documents), decoded by npcore."""
    from npcore.load import parse_policies

    return parse_policies(text, filename)


def _pods(labels: dict[str, str]) -> NetworkPolicyPeer:
    return NetworkPolicyPeer(pod_selector=LabelSelector.of(labels))


def _tcp(port: int) -> NetworkPolicyPort:
    return NetworkPolicyPort(Protocol.TCP, port)


_R = TypeVar("_R", NetworkPolicyIngressRule, NetworkPolicyEgressRule)
_INGRESS = (PolicyType.INGRESS,)
_BOTH = (PolicyType.INGRESS, PolicyType.EGRESS)


def db_policy(namespace: str = "shop") -> NetworkPolicy:
    """``db-policy`` (:data:`DB_POLICY_YAML`): the db accepts only the api pod, on TCP 3306."""
    return NetworkPolicy(
        "db-policy",
        namespace,
        LabelSelector.of({"role": "db"}),
        ingress=(NetworkPolicyIngressRule((_tcp(3306),), (_pods({"name": "api-pod"}),)),),
        policy_types=_INGRESS,
    )


LOCKDOWN_RULES: dict[str, str] = {
    "web-ingress": "rule 1: ingress to web on TCP 80 (from anyone, the users)",
    "web-egress": "rule 2: egress from web to api on TCP 8080",
    "api-ingress": "rule 3: ingress to api from web on TCP 8080",
    "api-egress": "rule 4: egress from api to db on TCP 3306",
    "db-ingress": "rule 5: ingress to db from api on TCP 3306",
    "dns": "egress from every shop pod to kube-dns on UDP and TCP 53",
}


def lockdown_policies(
    namespace: str = "shop", *, without: str | None = None
) -> tuple[NetworkPolicy, ...]:
    """:data:`LOCKDOWN_YAML`: default deny both ways, DNS to kube-dns, and the five rules.

    ``without`` names one rule of :data:`LOCKDOWN_RULES` to leave out (its pod stays
    isolated, so the traffic that rule allowed is now blocked).
    """
    if without is not None and without not in LOCKDOWN_RULES:
        raise ValueError(f"unknown rule {without!r}; choose one of {', '.join(LOCKDOWN_RULES)}")

    def keep(name: str, rule: _R) -> tuple[_R, ...]:
        return () if without == name else (rule,)

    dns = NetworkPolicyPeer(
        pod_selector=LabelSelector.of({"k8s-app": "kube-dns"}),
        namespace_selector=LabelSelector.of({NAMESPACE_NAME_LABEL: "kube-system"}),
    )
    db = db_policy(namespace)
    if without == "db-ingress":
        db = replace(db, ingress=())
    return (
        NetworkPolicy("default-deny", namespace, LabelSelector(), policy_types=_BOTH),
        NetworkPolicy(
            "allow-dns",
            namespace,
            LabelSelector(),
            egress=keep(
                "dns",
                NetworkPolicyEgressRule((NetworkPolicyPort(Protocol.UDP, 53), _tcp(53)), (dns,)),
            ),
            policy_types=(PolicyType.EGRESS,),
        ),
        NetworkPolicy(
            "web",
            namespace,
            LabelSelector.of({"name": "web-pod"}),
            ingress=keep("web-ingress", NetworkPolicyIngressRule((_tcp(80),))),
            egress=keep(
                "web-egress",
                NetworkPolicyEgressRule((_tcp(8080),), (_pods({"name": "api-pod"}),)),
            ),
            policy_types=_BOTH,
        ),
        NetworkPolicy(
            "api",
            namespace,
            LabelSelector.of({"name": "api-pod"}),
            ingress=keep(
                "api-ingress",
                NetworkPolicyIngressRule((_tcp(8080),), (_pods({"name": "web-pod"}),)),
            ),
            egress=keep(
                "api-egress", NetworkPolicyEgressRule((_tcp(3306),), (_pods({"role": "db"}),))
            ),
            policy_types=_BOTH,
        ),
        db,
    )


def with_yaml(cluster: Cluster, text: str, filename: str = "<lesson>") -> Cluster:
    """``cluster`` plus the NetworkPolicies written in ``text`` (like ``kubectl apply -f``)."""
    return cluster.with_policies((*cluster.policies, *policies_from_yaml(text, filename)))


def yaml_by_policy(text: str) -> dict[str, str]:
    """Each policy's own YAML document in ``text``, by policy name (for explorers)."""
    docs = [d for d in text.split("\n---\n") if d.strip()]
    return {
        policy.name: doc if doc.endswith("\n") else doc + "\n"
        for doc in docs
        for policy in policies_from_yaml(doc)
    }


def relabel(cluster: Cluster, pod: str, labels: Mapping[str, str]) -> Cluster:
    """``cluster`` with the pod ``ns/name`` carrying ``labels`` instead of its own
    (like ``kubectl label --overwrite``, removing the old labels)."""
    cluster.pod(pod)  # KeyError for an unknown pod
    pods = tuple(replace(p, labels=dict(labels)) if p.key == pod else p for p in cluster.pods)
    return replace(cluster, pods=pods)


def pod_table(cluster: Cluster) -> str:
    """The pods as ``kubectl get pods -A -o wide --show-labels`` would list them (roughly)."""
    rows = [("NAMESPACE", "NAME", "IP", "PORTS", "LABELS")]
    for p in cluster.pods:
        ports = ",".join(f"{c.port}/{c.protocol.value}" for c in p.ports) or "-"
        labels = ",".join(f"{k}={v}" for k, v in sorted(p.labels.items())) or "<none>"
        rows.append((p.namespace, p.name, p.ip or "", ports, labels))
    rows += [("(outside)", e.name, e.ip, "-", "-") for e in cluster.externals]
    return _table(rows)


def service_table(cluster: Cluster) -> str:
    """The Services: their port, the pod port it forwards to (targetPort), the pods picked."""
    rows = [("NAMESPACE", "SERVICE", "PORT", "TARGET PORT", "PODS")]
    for svc in cluster.services:
        pods = ",".join(p.name for p in cluster.endpoints(svc)) or "<none>"
        for sp in svc.ports:
            rows.append(
                (
                    svc.namespace,
                    svc.name,
                    f"{sp.port}/{sp.protocol.value}",
                    str(sp.target_port),
                    pods,
                )
            )
    return _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


# --- scenes -------------------------------------------------------------------------------


def _kube_dns() -> Pod:
    return Pod(
        "kube-system",
        "coredns",
        {"k8s-app": "kube-dns"},
        ip="10.244.0.5",
        ports=(
            ContainerPort(53, Protocol.UDP, "dns"),
            ContainerPort(53, Protocol.TCP, "dns-tcp"),
        ),
    )


def three_tier(
    *,
    namespace: str = "shop",
    with_db_policy: bool = False,
    with_dns: bool = False,
    lockdown: bool = False,
    without: str | None = None,
    cni: str = "calico",
) -> Cluster:
    """The shop: pods ``web``, ``api`` and ``db``, their Services, and a ``user`` outside.

    ``with_db_policy`` adds ``db-policy`` (:data:`DB_POLICY_YAML`); ``lockdown`` adds every
    policy of :data:`LOCKDOWN_YAML` (and implies ``with_dns``, the kube-dns pod in
    ``kube-system``); ``without`` leaves one rule of the lockdown out (see
    :data:`LOCKDOWN_RULES`).

    >>> shop = three_tier()
    >>> [p.key for p in shop.pods]
    ['shop/web', 'shop/api', 'shop/db']
    """
    pods = [
        Pod(
            namespace,
            "web",
            {"name": "web-pod", "tier": "frontend"},
            ip="10.244.1.10",
            ports=(ContainerPort(80, Protocol.TCP, "http"),),
        ),
        Pod(
            namespace,
            "api",
            {"name": "api-pod", "tier": "backend"},
            ip="10.244.2.20",
            ports=(ContainerPort(8080, Protocol.TCP, "http"),),
        ),
        Pod(
            namespace,
            "db",
            {"role": "db", "tier": "database"},
            ip="10.244.3.30",
            ports=(ContainerPort(3306, Protocol.TCP, "mysql"),),
        ),
    ]
    if with_dns or lockdown:
        pods.append(_kube_dns())
    services = [
        Service(namespace, "web", {"name": "web-pod"}, (ServicePort(80, "http"),)),
        Service(namespace, "api", {"name": "api-pod"}, (ServicePort(80, 8080),)),
        Service(namespace, "db", {"role": "db"}, (ServicePort(3306, "mysql"),)),
    ]
    policies: list[NetworkPolicy] = []
    if lockdown:
        policies.extend(lockdown_policies(namespace, without=without))
    elif with_db_policy:
        policies.append(db_policy(namespace))
    return Cluster.build(
        namespaces=[Namespace.named(namespace)],
        pods=pods,
        services=services,
        policies=policies,
        externals=[External("user", USER_IP)],
        cni=cni,
    )


def three_tier_flows(namespace: str = "shop", *, with_dns: bool = False) -> list[Flow]:
    """The shop's flows: user->web:80, web->api:8080, api->db:3306 and the unwanted
    web->db:3306 (plus web's DNS lookup with ``with_dns``)."""
    from lessonkit.diagrams import Flow

    ns = namespace
    flows = [
        Flow("user", f"{ns}/web", 80, label="user -> web"),
        Flow(f"{ns}/web", f"{ns}/api", 8080, label="web -> api"),
        Flow(f"{ns}/api", f"{ns}/db", 3306, label="api -> db"),
        Flow(f"{ns}/web", f"{ns}/db", 3306, label="web -> db (unwanted)"),
    ]
    if with_dns:
        flows.append(
            Flow(f"{ns}/web", "kube-system/coredns", 53, Protocol.UDP, label="web DNS lookup")
        )
    return flows


def multi_namespace(*, cni: str = "calico", with_dns: bool = False) -> Cluster:
    """Three namespaces for the namespace lessons.

    ``prod`` (labelled ``env=prod``) holds ``web`` and ``db`` (Postgres on 5432, its
    metrics exporter on 9187); ``dev`` (``env=dev``) holds
    a ``web`` with the same labels; ``monitoring`` has no custom label and holds
    ``prometheus``.  Only ``kubernetes.io/metadata.name`` tells every namespace apart.
    ``with_dns`` adds the kube-dns pod in ``kube-system``.
    """
    pods = [
        Pod("prod", "web", {"app": "web"}, ports=(ContainerPort(80, Protocol.TCP, "http"),)),
        Pod(
            "prod",
            "db",
            {"app": "db"},
            ports=(
                ContainerPort(5432, Protocol.TCP, "postgres"),
                ContainerPort(9187, Protocol.TCP, "metrics"),
            ),
        ),
        Pod("dev", "web", {"app": "web"}, ports=(ContainerPort(80, Protocol.TCP, "http"),)),
        Pod(
            "monitoring",
            "prometheus",
            {"app": "prometheus"},
            ports=(ContainerPort(9090, Protocol.TCP, "web"),),
        ),
    ]
    if with_dns:
        pods.append(_kube_dns())
    return Cluster.build(
        namespaces=[
            Namespace.named("prod", {"env": "prod"}),
            Namespace.named("dev", {"env": "dev"}),
            Namespace.named("monitoring"),
        ],
        pods=pods,
        externals=[External("partner", "198.51.100.7"), External("metadata", "169.254.169.254")],
        cni=cni,
    )


def metadata_flows() -> list[Flow]:
    """What ``prod/web`` opens in :func:`multi_namespace` (``with_dns``): a pod of its own
    namespace, a pod of another, a DNS lookup, the partner outside and the metadata
    service (lesson 06: :data:`METADATA_BLOCK_YAML` on Calico and on Cilium)."""
    from lessonkit.diagrams import Flow

    return [
        Flow("prod/web", "prod/db", 5432, label="web -> db (same namespace)"),
        Flow("prod/web", "dev/web", 80, label="web -> dev/web (another namespace)"),
        Flow("prod/web", "kube-system/coredns", 53, Protocol.UDP, label="web DNS lookup"),
        Flow("prod/web", "partner", 443, label="web -> partner (outside)"),
        Flow("prod/web", "metadata", 80, label="web -> metadata service"),
    ]


def x_y_z(*, cni: str = "calico") -> Cluster:
    """The upstream e2e model: namespaces ``x``, ``y``, ``z``; pods ``a``, ``b``, ``c`` in
    each, labelled ``pod=<name>``, serving TCP 80 (``serve-80-tcp``) and 81."""
    pods = [
        Pod(
            ns,
            name,
            {"pod": name},
            ports=(
                ContainerPort(80, Protocol.TCP, "serve-80-tcp"),
                ContainerPort(81, Protocol.TCP, "serve-81-tcp"),
            ),
        )
        for ns in ("x", "y", "z")
        for name in ("a", "b", "c")
    ]
    return Cluster.build(
        namespaces=[Namespace.named(ns, {"ns": ns}) for ns in ("x", "y", "z")],
        pods=pods,
        cni=cni,
    )
