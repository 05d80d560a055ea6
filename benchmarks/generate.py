"""A seeded generator of realistic clusters, as npcore values AND Kubernetes YAML.

Rules of this file:

* ``generate(pods, policies, seed)`` is a pure function of its arguments: the same
  arguments give the same :class:`GeneratedCluster` (same ``Cluster``, same YAML text).
  Only ``random.Random(seed)`` draws; nothing iterates over an unordered container.
* The cluster looks like a real one: namespaces with ``team``/``env`` labels (plus the
  automatic ``kubernetes.io/metadata.name``), Deployment-like groups of 1-5 replicas
  that share ``app``/``tier``/``team`` labels, named container ports (the same name may
  mean different numbers in different workloads), optional Services, a ``kube-system``
  namespace with CoreDNS, and policies with every selector shape the API allows:
  ``matchLabels``, ``matchExpressions`` (``In``/``NotIn``/``Exists``/``DoesNotExist``),
  ``namespaceSelector``, AND-ed pod+namespace pairs, ``{}``, ``ipBlock`` with
  ``except``, named ports, ``endPort`` ranges, UDP/SCTP, ingress and egress,
  default-deny policies, with and without ``policyTypes``.
* The YAML is written from the npcore values by one serializer (:func:`policy_manifest`
  and friends), so both sides describe the same cluster.  Pods are written as ``kind:
  Pod`` with ``status.podIP`` so every tool (npcore.load, network-config-analyzer) sees
  the same pod names and addresses.
* ``ipblocks_cover_pods=False`` keeps every ipBlock away from the pod network
  (10.244.0.0/16), for comparisons with tools that match ipBlocks only against
  addresses outside the cluster.

Command line: ``python benchmarks/generate.py --pods 100 --policies 50 --seed 1 --out DIR``
writes ``DIR/namespaces.yaml``, ``pods.yaml``, ``services.yaml``, ``policies.yaml``.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from npcore import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    External,
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    Namespace,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Operator,
    Pod,
    PolicyType,
    Protocol,
    Service,
    ServicePort,
)

__all__ = [
    "SIZES",
    "GeneratedCluster",
    "cluster_documents",
    "generate",
    "main",
    "policy_manifest",
    "selector_manifest",
]

# The benchmark sizes of issue #2: (pods, policies).
SIZES: dict[str, tuple[int, int]] = {
    "100x50": (100, 50),
    "300x150": (300, 150),
    "1000x500": (1000, 500),
    "5000x2000": (5000, 2000),
}

POD_NETWORK = ipaddress.IPv4Network("10.244.0.0/16")

APPS = (
    "web", "api", "auth", "cart", "checkout", "catalog", "search", "payments", "orders",
    "users", "inventory", "shipping", "email", "notify", "ledger", "reports", "gateway",
    "cache", "db", "queue", "worker", "metrics", "frontend", "backend", "billing",
    "profile", "reco", "ads", "media", "session",
)  # fmt: skip
TIERS = ("frontend", "backend", "data", "cache", "ops")
TEAMS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
ENVS = ("prod", "staging", "dev")
NAMESPACE_BASES = (
    "shop", "payments", "identity", "search", "media", "analytics", "ops", "monitoring",
    "ingress", "data", "mobile", "partners", "support", "marketing", "platform",
)  # fmt: skip
# (number, name, protocol) a workload may listen on; names repeat with different numbers.
PORT_CATALOGUE: tuple[tuple[int, str, Protocol], ...] = (
    (80, "http", Protocol.TCP),
    (8080, "http", Protocol.TCP),
    (443, "https", Protocol.TCP),
    (8443, "https", Protocol.TCP),
    (5432, "postgres", Protocol.TCP),
    (3306, "mysql", Protocol.TCP),
    (6379, "redis", Protocol.TCP),
    (9090, "metrics", Protocol.TCP),
    (9100, "metrics", Protocol.TCP),
    (9000, "grpc", Protocol.TCP),
    (50051, "grpc", Protocol.TCP),
    (5000, "stream", Protocol.UDP),
    (4317, "otlp", Protocol.TCP),
    (7000, "gossip", Protocol.UDP),
    (3868, "diameter", Protocol.SCTP),
)
# ipBlocks outside the pod network: (cidr, excepts).
OUTSIDE_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("0.0.0.0/0", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    ("0.0.0.0/0", ("10.0.0.0/8",)),
    ("192.168.0.0/16", ("192.168.1.0/24",)),
    ("172.16.0.0/12", ()),
    ("203.0.113.0/24", ("203.0.113.128/25",)),
    ("198.51.100.0/24", ()),
    ("198.51.100.0/24", ("198.51.100.16/28", "198.51.100.64/26")),
    ("100.64.0.0/10", ()),
)
# ipBlocks that contain (some) pod addresses too.
POD_BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("10.0.0.0/8", ("10.96.0.0/12",)),
    ("10.244.0.0/16", ("10.244.128.0/17",)),
    ("10.244.0.0/17", ()),
    ("0.0.0.0/0", ("169.254.169.254/32",)),
)
# Addresses for externals: inside and outside the blocks and their excepts.
EXTERNAL_IPS = (
    "8.8.8.8", "1.1.1.1", "192.168.1.10", "192.168.7.20", "172.20.0.5", "203.0.113.10",
    "203.0.113.200", "198.51.100.20", "198.51.100.70", "198.51.100.5", "100.64.3.3",
    "169.254.169.254", "10.96.0.10", "52.94.0.1",
)  # fmt: skip


@dataclass(frozen=True)
class _Workload:
    namespace: str
    name: str
    labels: dict[str, str]
    ports: tuple[ContainerPort, ...]
    replicas: int


@dataclass(frozen=True)
class GeneratedCluster:
    """A generated cluster: the npcore value and the equivalent Kubernetes manifests."""

    cluster: Cluster
    documents: tuple[dict[str, Any], ...]
    pods: int
    policies: int
    seed: int

    def documents_of(self, kind: str) -> list[dict[str, Any]]:
        """The manifests of one ``kind`` (``Namespace``, ``Pod``, ``Service``, ...)."""
        return [d for d in self.documents if d["kind"] == kind]

    def to_yaml(self) -> str:
        """Every manifest as one multi-document YAML text."""
        return yaml.safe_dump_all(self.documents, sort_keys=False)

    def write(self, directory: Path) -> list[Path]:
        """Write ``namespaces.yaml``, ``pods.yaml``, ``services.yaml`` and
        ``policies.yaml`` into ``directory`` (created); return their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for kind, filename in (
            ("Namespace", "namespaces.yaml"),
            ("Pod", "pods.yaml"),
            ("Service", "services.yaml"),
            ("NetworkPolicy", "policies.yaml"),
        ):
            docs = self.documents_of(kind)
            if not docs:
                continue
            path = directory / filename
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
            written.append(path)
        return written


# --------------------------------------------------------------------------- manifests


def selector_manifest(selector: LabelSelector) -> dict[str, Any]:
    """``metav1.LabelSelector`` as a manifest dict (``{}`` for the empty selector)."""
    out: dict[str, Any] = {}
    if selector.match_labels:
        out["matchLabels"] = dict(selector.match_labels)
    if selector.match_expressions:
        exprs = []
        for req in selector.match_expressions:
            entry: dict[str, Any] = {"key": req.key, "operator": str(req.operator)}
            if req.values:
                entry["values"] = list(req.values)
            exprs.append(entry)
        out["matchExpressions"] = exprs
    return out


def _peer_manifest(peer: NetworkPolicyPeer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.pod_selector is not None:
        out["podSelector"] = selector_manifest(peer.pod_selector)
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = selector_manifest(peer.namespace_selector)
    if peer.ip_block is not None:
        block: dict[str, Any] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            block["except"] = list(peer.ip_block.except_)
        out["ipBlock"] = block
    return out


def _port_manifest(port: NetworkPolicyPort) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if port.protocol is not None:
        out["protocol"] = str(port.protocol)
    if port.port is not None:
        out["port"] = port.port
    if port.end_port is not None:
        out["endPort"] = port.end_port
    return out


def _rule_manifest(
    rule: NetworkPolicyIngressRule | NetworkPolicyEgressRule, peers_key: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rule.ports is not None:
        out["ports"] = [_port_manifest(p) for p in rule.ports]
    if rule.peers is not None:
        out[peers_key] = [_peer_manifest(p) for p in rule.peers]
    return out


def policy_manifest(policy: NetworkPolicy) -> dict[str, Any]:
    """A ``networking.k8s.io/v1`` NetworkPolicy manifest for ``policy`` (absent stays
    absent, empty lists stay empty)."""
    spec: dict[str, Any] = {"podSelector": selector_manifest(policy.pod_selector)}
    if policy.policy_types is not None:
        spec["policyTypes"] = [str(t) for t in policy.policy_types]
    if policy.ingress is not None:
        spec["ingress"] = [_rule_manifest(r, "from") for r in policy.ingress]
    if policy.egress is not None:
        spec["egress"] = [_rule_manifest(r, "to") for r in policy.egress]
    metadata: dict[str, Any] = {"name": policy.name, "namespace": policy.namespace}
    if policy.labels:
        metadata["labels"] = dict(policy.labels)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": spec,
    }


def _namespace_manifest(ns: Namespace) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns.name, "labels": dict(ns.labels)},
    }


def _pod_manifest(pod: Pod) -> dict[str, Any]:
    ports = []
    for p in pod.ports:
        entry: dict[str, Any] = {"containerPort": p.port, "protocol": str(p.protocol)}
        if p.name is not None:
            entry["name"] = p.name
        ports.append(entry)
    app = pod.labels.get("app", pod.name)
    container: dict[str, Any] = {"name": "main", "image": f"registry.example.com/{app}:1.0"}
    if ports:
        container["ports"] = ports
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": dict(pod.labels)},
        "spec": {"containers": [container]},
        "status": {"phase": "Running", "podIP": pod.ip, "podIPs": [{"ip": pod.ip}]},
    }


def _service_manifest(svc: Service) -> dict[str, Any]:
    ports = []
    for p in svc.ports:
        entry: dict[str, Any] = {
            "port": p.port,
            "targetPort": p.target_port,
            "protocol": str(p.protocol),
        }
        if p.name is not None:
            entry["name"] = p.name
        ports.append(entry)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": svc.name, "namespace": svc.namespace},
        "spec": {"selector": dict(svc.selector or {}), "ports": ports},
    }


def cluster_documents(cluster: Cluster) -> tuple[dict[str, Any], ...]:
    """Manifests for every namespace, pod, service and policy of ``cluster`` (externals
    have no manifest)."""
    return (
        *(_namespace_manifest(ns) for ns in cluster.namespaces),
        *(_pod_manifest(p) for p in cluster.pods),
        *(_service_manifest(s) for s in cluster.services),
        *(policy_manifest(p) for p in cluster.policies),
    )


# --------------------------------------------------------------------------- generation


class _Generator:
    def __init__(self, pods: int, policies: int, seed: int, cover_pods: bool, externals: int):
        self.rng = random.Random(seed)
        self.n_pods = pods
        self.n_policies = policies
        self.cover_pods = cover_pods
        self.n_externals = externals
        self.namespaces: list[Namespace] = []
        self.workloads: list[_Workload] = []
        self.by_ns: dict[str, list[_Workload]] = {}

    # ---- world

    def make_namespaces(self) -> None:
        rng = self.rng
        count = max(3, round((self.n_pods**0.5) / 2))
        names = ["kube-system"]
        k = 0
        while len(names) < count + 1:
            base = NAMESPACE_BASES[k % len(NAMESPACE_BASES)]
            rnd = k // len(NAMESPACE_BASES)
            names.append(base if rnd == 0 else f"{base}-{rnd + 1}")
            k += 1
        for name in names:
            labels: dict[str, str] = {}
            if name == "kube-system":
                labels["tier"] = "system"
            else:
                labels["team"] = rng.choice(TEAMS)
                labels["env"] = rng.choice(ENVS)
                if rng.random() < 0.3:
                    labels["istio-injection"] = "enabled"
                if rng.random() < 0.2:
                    labels["compliance"] = rng.choice(("pci", "hipaa"))
            self.namespaces.append(Namespace.named(name, labels))

    def make_workloads(self) -> None:
        rng = self.rng
        coredns = _Workload(
            "kube-system",
            "coredns",
            {"k8s-app": "kube-dns", "tier": "ops"},
            (
                ContainerPort(53, Protocol.UDP, "dns"),
                ContainerPort(53, Protocol.TCP, "dns-tcp"),
                ContainerPort(9153, Protocol.TCP, "metrics"),
            ),
            2,
        )
        self.workloads.append(coredns)
        remaining = self.n_pods - 2
        user_ns = [ns for ns in self.namespaces if ns.name != "kube-system"]
        used: dict[str, set[str]] = {ns.name: set() for ns in user_ns}
        while remaining > 0:
            ns = rng.choice(user_ns)
            app = rng.choice(APPS)
            name = app
            k = 2
            while name in used[ns.name]:
                name = f"{app}-{k}"
                k += 1
            used[ns.name].add(name)
            replicas = min(remaining, rng.choice((1, 1, 2, 2, 3, 3, 4, 5)))
            labels = {"app": name, "tier": rng.choice(TIERS), "team": ns.labels["team"]}
            if rng.random() < 0.3:
                labels["version"] = rng.choice(("v1", "v2"))
            if rng.random() < 0.15:
                labels["canary"] = "true"
            if rng.random() < 0.1:
                labels["team"] = rng.choice(TEAMS)  # a borrowed workload
            chosen = rng.sample(PORT_CATALOGUE, rng.choice((1, 1, 2, 2, 3)))
            ports: list[ContainerPort] = []
            for number, pname, proto in sorted(chosen, key=lambda c: (c[0], str(c[2]))):
                if any(p.name == pname and p.protocol is proto for p in ports):
                    pname = f"{pname}-{number}"  # names are unique within a pod
                ports.append(ContainerPort(number, proto, pname))
            self.workloads.append(_Workload(ns.name, name, labels, tuple(ports), replicas))
            remaining -= replicas
        for w in self.workloads:
            self.by_ns.setdefault(w.namespace, []).append(w)

    def pods(self) -> list[Pod]:
        return [
            Pod(w.namespace, f"{w.name}-{i}", dict(w.labels), None, w.ports)
            for w in self.workloads
            for i in range(w.replicas)
        ]

    def services(self) -> list[Service]:
        out = []
        for w in self.workloads:
            if w.name != "coredns" and self.rng.random() >= 0.6:
                continue
            ports = []
            for p in w.ports:
                target: int | str = p.name if p.name and self.rng.random() < 0.5 else p.port
                ports.append(ServicePort(p.port, target, p.protocol, p.name))
            key = "app" if "app" in w.labels else "k8s-app"
            out.append(Service(w.namespace, w.name, {key: w.labels[key]}, tuple(ports)))
        return out

    def externals(self) -> list[External]:
        chosen = self.rng.sample(EXTERNAL_IPS, min(self.n_externals, len(EXTERNAL_IPS)))
        return [External(f"ext-{i}", ip) for i, ip in enumerate(sorted(chosen))]

    # ---- selectors

    def pod_selector(self, ns: str) -> LabelSelector:
        """A selector over the pods of ``ns`` (usually matching some)."""
        rng = self.rng
        wl = self.by_ns.get(ns) or self.workloads
        w = rng.choice(wl)
        r = rng.random()
        if r < 0.45:
            return LabelSelector.of({"app": w.labels["app"]} if "app" in w.labels else {})
        if r < 0.6:
            return LabelSelector.of({"tier": w.labels["tier"]})
        if r < 0.7:
            return LabelSelector.of({"tier": w.labels["tier"], "team": w.labels.get("team", "x")})
        if r < 0.8:
            apps = sorted({x.labels.get("app", x.name) for x in rng.sample(wl, min(3, len(wl)))})
            return LabelSelector.of(
                None, [LabelSelectorRequirement("app", Operator.IN, tuple(apps))]
            )
        if r < 0.87:
            return LabelSelector.of(
                {"tier": w.labels["tier"]},
                [LabelSelectorRequirement("version", Operator.NOT_IN, ("v1",))],
            )
        if r < 0.93:
            return LabelSelector.of(None, [LabelSelectorRequirement("canary", Operator.EXISTS)])
        return LabelSelector.of(
            None,
            [
                LabelSelectorRequirement("canary", Operator.DOES_NOT_EXIST),
                LabelSelectorRequirement("tier", Operator.IN, (w.labels["tier"], "ops")),
            ],
        )

    def namespace_selector(self) -> LabelSelector:
        rng = self.rng
        ns = rng.choice(self.namespaces)
        r = rng.random()
        if r < 0.35:
            return LabelSelector.of({NAMESPACE_NAME_LABEL: ns.name})
        if r < 0.55:
            return LabelSelector.of({"team": rng.choice(TEAMS)})
        if r < 0.7:
            envs = tuple(sorted(rng.sample(ENVS, 2)))
            return LabelSelector.of(None, [LabelSelectorRequirement("env", Operator.IN, envs)])
        if r < 0.8:
            return LabelSelector.of(
                None, [LabelSelectorRequirement("env", Operator.NOT_IN, ("dev",))]
            )
        if r < 0.87:
            return LabelSelector.of(
                None, [LabelSelectorRequirement("istio-injection", Operator.EXISTS)]
            )
        if r < 0.93:
            return LabelSelector.of(
                {"env": "prod"}, [LabelSelectorRequirement("compliance", Operator.DOES_NOT_EXIST)]
            )
        return LabelSelector()

    def ip_block(self) -> IPBlock:
        pool = OUTSIDE_BLOCKS + (POD_BLOCKS if self.cover_pods else ())
        cidr, excepts = self.rng.choice(pool)
        return IPBlock(cidr, excepts)

    def peer(self, ns: str) -> NetworkPolicyPeer:
        rng = self.rng
        r = rng.random()
        if r < 0.4:
            return NetworkPolicyPeer(pod_selector=self.pod_selector(ns))
        if r < 0.6:
            return NetworkPolicyPeer(namespace_selector=self.namespace_selector())
        if r < 0.8:
            other = rng.choice(self.namespaces)
            return NetworkPolicyPeer(
                pod_selector=self.pod_selector(other.name),
                namespace_selector=self.namespace_selector()
                if rng.random() < 0.5
                else LabelSelector.of({NAMESPACE_NAME_LABEL: other.name}),
            )
        if r < 0.85:
            return NetworkPolicyPeer(pod_selector=LabelSelector())
        return NetworkPolicyPeer(ip_block=self.ip_block())

    # ---- ports

    def port_entry(self, ns: str) -> NetworkPolicyPort:
        rng = self.rng
        wl = self.by_ns.get(ns) or self.workloads
        cport = rng.choice(rng.choice(wl).ports)
        r = rng.random()
        explicit = rng.random() < 0.3
        if r < 0.45:
            proto = cport.protocol if (explicit or cport.protocol is not Protocol.TCP) else None
            return NetworkPolicyPort(proto, cport.port)
        if r < 0.7 and cport.name:
            proto = cport.protocol if (explicit or cport.protocol is not Protocol.TCP) else None
            return NetworkPolicyPort(proto, cport.name)
        if r < 0.82:
            lo = cport.port - rng.choice((0, 0, 10, 80))
            lo = max(1, lo)
            return NetworkPolicyPort(
                Protocol.TCP if explicit else None, lo, lo + rng.choice((1, 20, 100, 1000))
            )
        if r < 0.9:
            return NetworkPolicyPort(Protocol.UDP, 53)
        if r < 0.95:
            return NetworkPolicyPort(rng.choice((Protocol.UDP, Protocol.SCTP)))
        return NetworkPolicyPort(Protocol.TCP, rng.choice((80, 443, 8080, 9090)))

    def ports(self, ns: str) -> tuple[NetworkPolicyPort, ...] | None:
        r = self.rng.random()
        if r < 0.2:
            return None
        if r < 0.25:
            return ()
        return tuple(self.port_entry(ns) for _ in range(self.rng.choice((1, 1, 2, 3))))

    def peers(self, ns: str) -> tuple[NetworkPolicyPeer, ...] | None:
        r = self.rng.random()
        if r < 0.1:
            return None
        if r < 0.13:
            return ()
        return tuple(self.peer(ns) for _ in range(self.rng.choice((1, 1, 2, 2, 3))))

    # ---- policies

    def policy(self, ns: str, index: int, defaults_done: set[tuple[str, str]]) -> NetworkPolicy:
        rng = self.rng
        r = rng.random()
        name = f"np-{index}"
        if r < 0.12:
            kind = rng.choice(("deny-ingress", "deny-egress", "deny-all"))
            if (ns, kind) not in defaults_done:
                defaults_done.add((ns, kind))
                types = {
                    "deny-ingress": (PolicyType.INGRESS,),
                    "deny-egress": (PolicyType.EGRESS,),
                    "deny-all": (PolicyType.INGRESS, PolicyType.EGRESS),
                }[kind]
                # Written both ways: with policyTypes, and (ingress only) without.
                if kind == "deny-ingress" and rng.random() < 0.5:
                    return NetworkPolicy(f"default-{kind}-{index}", ns, LabelSelector())
                return NetworkPolicy(
                    f"default-{kind}-{index}", ns, LabelSelector(), policy_types=types
                )
        if r < 0.17:
            # Allow DNS to CoreDNS for every pod of the namespace.
            dns = NetworkPolicyEgressRule(
                ports=(
                    NetworkPolicyPort(Protocol.UDP, 53),
                    NetworkPolicyPort(Protocol.TCP, "dns-tcp"),
                ),
                to=(
                    NetworkPolicyPeer(
                        pod_selector=LabelSelector.of({"k8s-app": "kube-dns"}),
                        namespace_selector=LabelSelector.of({NAMESPACE_NAME_LABEL: "kube-system"}),
                    ),
                ),
            )
            return NetworkPolicy(
                f"allow-dns-{index}",
                ns,
                LabelSelector(),
                egress=(dns,),
                policy_types=(PolicyType.EGRESS,),
            )
        selector = self.pod_selector(ns) if rng.random() < 0.93 else LabelSelector()
        shape = rng.random()
        ingress: tuple[NetworkPolicyIngressRule, ...] | None = None
        egress: tuple[NetworkPolicyEgressRule, ...] | None = None
        types: tuple[PolicyType, ...] | None = None
        if shape < 0.55:
            ingress = tuple(
                NetworkPolicyIngressRule(self.ports(ns), self.peers(ns))
                for _ in range(rng.choice((1, 1, 2, 3)))
            )
            if rng.random() < 0.5:
                types = (PolicyType.INGRESS,)
        elif shape < 0.8:
            egress = tuple(
                NetworkPolicyEgressRule(self.ports(ns), self.peers(ns))
                for _ in range(rng.choice((1, 1, 2)))
            )
            types = (PolicyType.EGRESS,) if rng.random() < 0.8 else None
        else:
            ingress = tuple(
                NetworkPolicyIngressRule(self.ports(ns), self.peers(ns))
                for _ in range(rng.choice((1, 2)))
            )
            egress = tuple(
                NetworkPolicyEgressRule(self.ports(ns), self.peers(ns))
                for _ in range(rng.choice((1, 2)))
            )
            types = (PolicyType.INGRESS, PolicyType.EGRESS) if rng.random() < 0.7 else None
        return NetworkPolicy(name, ns, selector, ingress, egress, types)

    def policies(self) -> list[NetworkPolicy]:
        weights = {ns.name: 0 for ns in self.namespaces}
        for w in self.workloads:
            weights[w.namespace] += w.replicas
        names = [ns.name for ns in self.namespaces]
        done: set[tuple[str, str]] = set()
        out = []
        for index in range(self.n_policies):
            ns = self.rng.choices(names, weights=[weights[n] + 1 for n in names])[0]
            out.append(self.policy(ns, index, done))
        return out


def generate(
    pods: int,
    policies: int,
    seed: int = 0,
    *,
    ipblocks_cover_pods: bool = True,
    externals: int = 0,
) -> GeneratedCluster:
    """A realistic cluster of ``pods`` pods and ``policies`` policies, fixed by ``seed``.

    ``ipblocks_cover_pods=False`` keeps every ipBlock outside the pod network;
    ``externals`` adds that many endpoints outside the cluster (at most 14), whose
    addresses fall inside and outside the ipBlocks' CIDRs and excepts.

    >>> g = generate(20, 5, seed=1)
    >>> len(g.cluster.pods), len(g.cluster.policies)
    (20, 5)
    """
    if pods < 3:
        raise ValueError("pods must be at least 3 (two CoreDNS replicas and one workload)")
    if policies < 0:
        raise ValueError("policies must not be negative")
    gen = _Generator(pods, policies, seed, ipblocks_cover_pods, externals)
    gen.make_namespaces()
    gen.make_workloads()
    cluster = Cluster.build(
        namespaces=gen.namespaces,
        pods=gen.pods(),
        services=gen.services(),
        policies=gen.policies(),
        externals=gen.externals(),
    )
    return GeneratedCluster(cluster, cluster_documents(cluster), pods, policies, seed)


def main(argv: Sequence[str] | None = None) -> int:
    """``generate.py --pods N --policies M --seed S [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--policies", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pods-outside-ipblocks",
        action="store_true",
        help="keep every ipBlock outside the pod network 10.244.0.0/16",
    )
    parser.add_argument("--out", type=Path, help="directory for the YAML (default: stdout)")
    args = parser.parse_args(argv)
    generated = generate(
        args.pods, args.policies, args.seed, ipblocks_cover_pods=not args.pods_outside_ipblocks
    )
    if args.out is None:
        sys.stdout.write(generated.to_yaml())
    else:
        for path in generated.write(args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
