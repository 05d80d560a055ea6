"""The injected world: namespaces, pods, services, externals, policies and a CNI.

Rules of this file:

* A ``Cluster`` is a frozen value; ``Cluster.build`` is the one place that fills in
  defaults: namespaces that are referenced but not declared exist with their automatic
  ``kubernetes.io/metadata.name`` label, and pods without an IP get a stable,
  deterministic address in ``10.244.0.0/16`` (derived from ``namespace/name``).
* Peers are named ``namespace/pod``; externals by their own name.
* Named ports are resolved here and only here, against a pod's container ports of the
  same name AND protocol (:func:`resolve_port`); a name defined only for another protocol,
  or on an endpoint outside the cluster, resolves to nothing.
* Peers are looked up by name in one place, :meth:`Cluster.peer`; an unknown name is an
  :class:`UnknownPeerError` that lists the known peers.
* What a pod listens on is :meth:`Cluster.listening`: its declared container ports, by
  protocol; a pod that declares none (and an external endpoint) may listen on any port.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, overload

from npcore.cni import CNI, DEFAULT_CNI, cni_info
from npcore.errors import NpcoreError
from npcore.model import NetworkPolicy, Protocol
from npcore.ports import ALL_PORTS, PortSet

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "Cluster",
    "ContainerPort",
    "External",
    "Namespace",
    "Pod",
    "Service",
    "ServicePort",
    "UnknownPeerError",
    "resolve_named_port",
    "resolve_port",
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


def resolve_port(dst: Peer, port: int | str, protocol: Protocol | str) -> int | None:
    """The port number a connection to ``port`` reaches at ``dst``: the number itself, or
    the number of ``dst``'s container port called ``port`` with ``protocol``.

    A NetworkPolicyPort's named port "will be resolved against the destination pod's
    container ports" (types.go), by name and protocol: a name the pod defines only for
    another protocol, or does not define, or a name given for an endpoint outside the
    cluster (which has no container ports), resolves to ``None`` and matches nothing.

    >>> web = Pod("x", "web", ports=(ContainerPort(8080, name="http"),))
    >>> resolve_port(web, "http", Protocol.TCP), resolve_port(web, "http", Protocol.UDP)
    (8080, None)
    """
    if isinstance(port, int):
        return port
    if isinstance(dst, Pod):
        for container_port in dst.ports:
            if container_port.name == port and container_port.protocol == protocol:
                return container_port.port
    return None


def resolve_named_port(pod: Pod, name: str, protocol: Protocol) -> int | None:
    """The number of ``pod``'s container port called ``name`` with ``protocol``, if any
    (:func:`resolve_port` for a name)."""
    return resolve_port(pod, name, protocol)


class UnknownPeerError(NpcoreError, KeyError):
    """A name that is no peer of the cluster; the message lists the known ones.

    It is a ``KeyError`` (what ``Cluster.pod`` raised before) and a ``ValueError``
    (:class:`~npcore.errors.NpcoreError`, what the flow parsers raised).
    """

    def __init__(self, name: str, known: Iterable[str]) -> None:
        names = list(known)
        shown = ", ".join(names[:20]) + (f", ... ({len(names)} in all)" if len(names) > 20 else "")
        message = f"unknown peer {name!r}; known peers: {shown or 'none'}"
        super().__init__(message)
        self.name = name
        self.known = tuple(names)
        self.message = message

    def __str__(self) -> str:
        return self.message


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

    @overload
    def peer(self, name: str) -> Peer: ...

    @overload
    def peer(self, name: str, *, services: Literal[True]) -> Peer | Service: ...

    @overload
    def peer(self, name: str, *, services: bool) -> Peer | Service: ...

    def peer(self, name: str, *, services: bool = False) -> Peer | Service:
        """The peer called ``name``; :class:`UnknownPeerError` (a ``KeyError``) listing the
        known peers if there is none.

        ==========================  ==================================================
        name                        finds
        ==========================  ==================================================
        ``namespace/pod``           that pod; with ``services=True`` the Service of
                                    that name when no pod has it (the pod wins a tie)
        ``pod:namespace/name``      that pod only
        ``service:namespace/name``  that Service only (``svc:`` too; ``services=True``)
        an external's name          that external endpoint
        an IP address               the pod or external endpoint with that IP
        ==========================  ==================================================

        >>> c = Cluster.build(pods=[Pod("x", "a")], externals=[External("user", "1.2.3.4")])
        >>> c.peer("x/a").key, c.peer("user").key, c.peer("1.2.3.4").key
        ('x/a', 'user', 'user')
        """
        kind, sep, rest = name.partition(":")
        if sep and kind == "pod":
            found: Peer | Service | None = self._find_pod(rest)
        elif sep and kind in ("service", "svc") and services:
            found = self._find_service(rest)
        elif "/" in name:
            found = self._find_pod(name)
            if found is None and services:
                found = self._find_service(name)
        else:
            found = next((e for e in self.externals if e.name == name), None)
            if found is None:
                found = next((p for p in self.peers() if p.ip == name), None)
        if found is None:
            known = [p.key for p in self.peers()]
            if services:
                known += [f"{s.key} (Service)" for s in self.services]
            raise UnknownPeerError(name, known)
        return found

    def _find_pod(self, key: str) -> Pod | None:
        return next((p for p in self.pods if p.key == key), None)

    def _find_service(self, key: str) -> Service | None:
        return next((s for s in self.services if s.key == key), None)

    def listening(self, pod: Peer | str) -> PortSet:
        """The ports ``pod`` (a peer or its name) listens on, by protocol: its declared
        container ports.  A pod that declares no container port, and an endpoint outside
        the cluster, may listen on any port (``ALL_PORTS``): containerPorts are
        informational in Kubernetes, so only a declared list says what is there.

        >>> c = Cluster.build(pods=[Pod("x", "dns", ports=(ContainerPort(53, Protocol.UDP),))])
        >>> c.listening("x/dns").describe(), c.listening("x/dns").contains(Protocol.TCP, 53)
        (['UDP 53'], False)
        """
        peer = self.peer(pod) if isinstance(pod, str) else pod
        if not isinstance(peer, Pod) or not peer.ports:
            return ALL_PORTS
        return PortSet.from_ranges(
            {
                protocol: [(p.port, p.port) for p in peer.ports if p.protocol == protocol]
                for protocol in Protocol
            }
        )

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
