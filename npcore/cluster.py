"""The injected world: namespaces, pods, services, externals, policies and a CNI.

Rules of this file:

* A ``Cluster`` is a frozen value; ``Cluster.build`` is the one place that fills in
  defaults: namespaces that are referenced but not declared exist with their automatic
  ``kubernetes.io/metadata.name`` label, and pods without an IP get a stable,
  deterministic address in ``10.244.0.0/16`` (derived from ``namespace/name``).
* Peers are named ``namespace/pod``; externals by their own name.
* Named ports are resolved here, against a pod's container ports of the same name and
  protocol (:func:`resolve_named_port`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from npcore.cni import CNI, DEFAULT_CNI, cni_info
from npcore.model import NetworkPolicy, Protocol

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "Cluster",
    "ContainerPort",
    "External",
    "Namespace",
    "Pod",
    "Service",
    "ServicePort",
    "resolve_named_port",
]

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace and its labels (including ``kubernetes.io/metadata.name``)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def named(cls, name: str, labels: Mapping[str, str] | None = None) -> Namespace:
        """A namespace with the label the API server adds to every namespace."""
        return cls(name, {**(labels or {}), NAMESPACE_NAME_LABEL: name})


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A container port: number, protocol (default TCP) and optional name."""

    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod: where it lives, its labels, its IP and its container ports."""

    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    ip: str | None = None
    ports: tuple[ContainerPort, ...] = ()

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class External:
    """An endpoint outside the cluster (the internet, a VM, a database) with one IP."""

    name: str
    ip: str

    @property
    def key(self) -> str:
        """Its name."""
        return self.name


Peer = Pod | External


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A Service port: clients use ``port``; traffic reaches the pod's ``target_port``."""

    port: int
    target_port: int | str
    protocol: Protocol = Protocol.TCP
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A Service whose ``selector`` picks its endpoint pods in its namespace."""

    namespace: str
    name: str
    selector: Mapping[str, str] | None = field(default=None, hash=False)
    ports: tuple[ServicePort, ...] = ()

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"


def resolve_named_port(pod: Pod, name: str, protocol: Protocol) -> int | None:
    """The number of ``pod``'s container port called ``name`` with ``protocol``, if any.

    A NetworkPolicyPort's named port "will be resolved against the destination pod's
    container ports"; a name the pod does not define matches nothing.
    """
    for port in pod.ports:
        if port.name == name and port.protocol == protocol:
            return port.port
    return None


def _stable_ip(key: str, taken: set[str]) -> str:
    """A deterministic address in 10.244.0.0/16 for ``key``, avoiding ``taken``."""
    base = ipaddress.IPv4Network("10.244.0.0/16")
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")
    size = base.num_addresses - 2
    for step in range(size):
        candidate = str(base.network_address + 1 + (digest + step) % size)
        if candidate not in taken:
            return candidate
    raise ValueError("more pods than addresses in 10.244.0.0/16")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Cluster:
    """Everything the evaluator needs, passed in as values."""

    namespaces: tuple[Namespace, ...] = ()
    pods: tuple[Pod, ...] = ()
    services: tuple[Service, ...] = ()
    policies: tuple[NetworkPolicy, ...] = ()
    externals: tuple[External, ...] = ()
    cni: str = DEFAULT_CNI

    @classmethod
    def build(
        cls,
        *,
        namespaces: Iterable[Namespace] = (),
        pods: Iterable[Pod] = (),
        services: Iterable[Service] = (),
        policies: Iterable[NetworkPolicy] = (),
        externals: Iterable[External] = (),
        cni: str = DEFAULT_CNI,
    ) -> Cluster:
        """Build a cluster, filling in the defaults described in the module docstring.

        Declared namespaces always carry ``kubernetes.io/metadata.name``.
        """
        declared: dict[str, Namespace] = {}
        for ns in namespaces:
            declared[ns.name] = Namespace.named(ns.name, ns.labels)
        pod_list = list(pods)
        service_list = list(services)
        policy_list = list(policies)
        for name in (
            [p.namespace for p in pod_list]
            + [s.namespace for s in service_list]
            + [p.namespace for p in policy_list]
        ):
            if name not in declared:
                declared[name] = Namespace.named(name)
        taken = {p.ip for p in pod_list if p.ip}
        filled: list[Pod] = []
        for pod in pod_list:
            if not pod.ip:
                ip = _stable_ip(pod.key, taken)
                taken.add(ip)
                pod = replace(pod, ip=ip)
            filled.append(pod)
        return cls(
            namespaces=tuple(declared.values()),
            pods=tuple(filled),
            services=tuple(service_list),
            policies=tuple(policy_list),
            externals=tuple(externals),
            cni=cni_info(cni).name,
        )

    @property
    def cni_plugin(self) -> CNI:
        """The CNI's facts (whether it enforces policies)."""
        return cni_info(self.cni)

    @property
    def enforced(self) -> bool:
        """Whether this cluster's CNI enforces NetworkPolicy."""
        return self.cni_plugin.enforces

    def namespace(self, name: str) -> Namespace:
        """The namespace called ``name`` (one that exists only by reference, if undeclared)."""
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        return Namespace.named(name)

    def namespace_labels(self) -> dict[str, Mapping[str, str]]:
        """Labels of every namespace, by name."""
        return {ns.name: ns.labels for ns in self.namespaces}

    def pod(self, key: str) -> Pod:
        """The pod named ``namespace/name``; ``KeyError`` if there is none."""
        for pod in self.pods:
            if pod.key == key:
                return pod
        raise KeyError(key)

    def service(self, key: str) -> Service:
        """The service named ``namespace/name``; ``KeyError`` if there is none."""
        for service in self.services:
            if service.key == key:
                return service
        raise KeyError(key)

    def external(self, name: str) -> External:
        """The external endpoint called ``name``; ``KeyError`` if there is none."""
        for ext in self.externals:
            if ext.name == name:
                return ext
        raise KeyError(name)

    def peers(self) -> tuple[Peer, ...]:
        """Every pod, then every external, in the cluster's order."""
        return (*self.pods, *self.externals)

    def endpoints(self, service: Service) -> tuple[Pod, ...]:
        """The pods a Service's selector picks in its namespace (none without a selector)."""
        if not service.selector:
            return ()
        wanted = service.selector
        return tuple(
            p
            for p in self.pods
            if p.namespace == service.namespace
            and all(p.labels.get(k) == v for k, v in wanted.items())
        )

    def with_policies(self, policies: Iterable[NetworkPolicy]) -> Cluster:
        """The same cluster with its policies replaced."""
        return replace(self, policies=tuple(policies))

    def with_cni(self, cni: str) -> Cluster:
        """The same cluster on another CNI."""
        return replace(self, cni=cni_info(cni).name)
