"""Connections to a Service: resolve to its endpoint pods and the pod port after DNAT.

Rules of this file:

* A client connects to ``service:port``; kube-proxy (or the CNI's replacement) rewrites
  the destination to one endpoint pod and the ServicePort's ``targetPort`` (DNAT) before
  any NetworkPolicy sees the packet.  So the verdict is decided on each endpoint pod, on
  the targetPort, never on the Service port.
* The endpoints are the pods of the Service's namespace that its selector matches
  (:meth:`Cluster.endpoints`).
* A ServicePort is chosen by its ``port`` number, or by its ``name``, and by protocol.
* A numeric ``targetPort`` is used as is; a named one is "the name of a port in the
  backend Pods", resolved per endpoint against its container ports of the same name and
  protocol (the engine does that for a named :class:`Connection` port).
* A port the Service does not expose is a :class:`ServicePortError` whose message lists
  the Service's ports.
"""

from __future__ import annotations

from dataclasses import dataclass

from npcore.cluster import Cluster, Pod, Service, ServicePort, resolve_port
from npcore.engine import Connection, Endpoint, Verdict, is_allowed
from npcore.errors import NpcoreError
from npcore.model import Protocol

__all__ = [
    "ServicePortError",
    "ServiceTarget",
    "ServiceVerdict",
    "describe_service_ports",
    "evaluate_service",
    "resolve_service",
]


class ServicePortError(NpcoreError):
    """A connection names a port the Service does not expose."""


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    """Where a connection to ``service`` on ``service_port`` lands: its endpoint pods."""

    service: Service
    service_port: ServicePort
    endpoints: tuple[Pod, ...]


@dataclass(frozen=True, slots=True)
class ServiceVerdict:
    """The verdict on each endpoint of a Service, for one source."""

    src: Endpoint
    target: ServiceTarget
    verdicts: tuple[Verdict, ...]

    @property
    def allowed(self) -> bool:
        """Every endpoint accepts the connection (and there is at least one)."""
        return bool(self.verdicts) and all(v.allowed for v in self.verdicts)


def _port_text(sp: ServicePort) -> str:
    name = f" ({sp.name})" if sp.name else ""
    return f"{sp.port}/{sp.protocol}{name} -> targetPort {sp.target_port}"


def describe_service_ports(service: Service) -> str:
    """``80/TCP (http) -> targetPort 8080, 53/UDP -> targetPort dns`` or ``none``."""
    return ", ".join(_port_text(sp) for sp in service.ports) or "none"


def resolve_service(
    cluster: Cluster, service: Service, port: int | str, protocol: Protocol = Protocol.TCP
) -> ServiceTarget:
    """The ServicePort that ``port`` (number or name) and ``protocol`` select, and the
    Service's endpoint pods; :class:`ServicePortError` if the Service has no such port.

    >>> from npcore.cluster import Pod, Service, ServicePort
    >>> svc = Service("x", "web", {"app": "web"}, (ServicePort(80, 8080, name="http"),))
    >>> c = Cluster.build(pods=[Pod("x", "web-0", {"app": "web"})], services=[svc])
    >>> t = resolve_service(c, svc, 80)
    >>> t.service_port.target_port, [p.key for p in t.endpoints]
    (8080, ['x/web-0'])
    """
    for sp in service.ports:
        if sp.protocol != protocol:
            continue
        if (isinstance(port, int) and sp.port == port) or (
            isinstance(port, str) and sp.name == port
        ):
            return ServiceTarget(service, sp, cluster.endpoints(service))
    message = (
        f"Service {service.key} has no {protocol} port {port}; "
        f"its ports: {describe_service_ports(service)}"
    )
    targets = [sp for sp in service.ports if _targets(cluster, service, sp, port)]
    if targets:
        message += (
            f" ({port} is a targetPort, the pod port the Service sends traffic to; "
            f"clients connect to the Service port {targets[0].port})"
        )
    raise ServicePortError(message)


def _targets(cluster: Cluster, service: Service, sp: ServicePort, port: int | str) -> bool:
    """Whether ``port`` is where ``sp`` sends traffic (its targetPort, or its number)."""
    if sp.target_port == port:
        return True
    if isinstance(sp.target_port, str) and isinstance(port, int):
        return any(
            resolve_port(pod, sp.target_port, sp.protocol) == port
            for pod in cluster.endpoints(service)
        )
    return False


def evaluate_service(
    cluster: Cluster,
    src: Endpoint,
    service: Service,
    port: int | str,
    protocol: Protocol = Protocol.TCP,
) -> ServiceVerdict:
    """Decide a connection from ``src`` to ``service:port`` on each endpoint pod, on the
    targetPort (after DNAT).

    >>> from npcore.cluster import Pod, Service, ServicePort
    >>> from npcore.model import NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort
    >>> svc = Service("x", "web", {"app": "web"}, (ServicePort(80, 8080),))
    >>> only_80 = NetworkPolicy("only-80", "x", ingress=(
    ...     NetworkPolicyIngressRule(ports=(NetworkPolicyPort(port=80),)),))
    >>> c = Cluster.build(pods=[Pod("x", "a"), Pod("x", "web-0", {"app": "web"})],
    ...                   services=[svc], policies=[only_80])
    >>> evaluate_service(c, c.pod("x/a"), svc, 80).allowed  # the pod port is 8080
    False
    """
    target = resolve_service(cluster, service, port, protocol)
    verdicts = tuple(
        is_allowed(cluster, Connection(src, pod, target.service_port.target_port, protocol))
        for pod in target.endpoints
    )
    return ServiceVerdict(src, target, verdicts)
