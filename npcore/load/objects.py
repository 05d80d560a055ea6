"""The lenient decoders: Namespace, Pod, Service and the workloads, only what npcore uses.

Rules of this file:

* Only the fields npcore needs are read (labels, container ports, ``status.podIP``, a
  Service's selector and ports); the rest is ignored.  Label values written as plain YAML
  scalars (``version: 1.10``, ``enabled: yes``) are read as the text written.
* A workload gives ``replicas`` pods (default 1, at most ``max_replicas``; a Job gives
  ``parallelism``, a DaemonSet one) named ``NAME-0`` ... ``NAME-(n-1)``, labelled from
  ``spec.template``.
* ``metadata.namespace`` absent means ``default``; an object without a name is an error.
"""

from __future__ import annotations

import ipaddress

from yaml.nodes import Node

from npcore.cluster import ContainerPort, Namespace, Pod, Service, ServicePort
from npcore.errors import FieldError
from npcore.load.fields import (
    Decoded,
    _Ctx,
    _int_or_string,
    _integer,
    _items,
    _join,
    _Meta,
    _metadata,
    _Object,
    _ObjectNode,
    _prefixed,
    _sequence,
    _string,
    _string_map,
)
from npcore.load.yaml_safe import (
    Limits,
    _is_null,
)
from npcore.model import (
    Protocol,
)
from npcore.validate import (
    PROTOCOLS,
    protocol_error,
)

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")


def _decode_lenient(
    ctx: _Ctx,
    limits: Limits,
    kind: str,
    top: dict[str, tuple[Node, Node]],
    path: str,
    line: int,
) -> Decoded:
    """A Namespace, Pod, Service or workload, read leniently (the module's rules)."""
    meta = (
        _metadata(ctx, top["metadata"][1], "metadata", strict=False)
        if "metadata" in top
        else _Meta()
    )
    if not meta.name:
        node = top["metadata"][1] if "metadata" in top else _ObjectNode(top)
        ctx.error(
            FieldError.required(_join(path, "metadata.name"), f"every {kind} needs a name"),
            node,
        )
    spec = top.get("spec", (None, None))[1]
    namespace = meta.namespace or "default"
    obj: _Object | None = None
    if kind == "Namespace":
        obj = _Object(kind, "", meta.name, line, Namespace(meta.name, meta.labels))
    elif kind == "Pod":
        ports = _containers(ctx, spec, "spec") if spec is not None else ()
        ip = _pod_ip(ctx, top["status"][1]) if "status" in top else None
        pod = Pod(namespace, meta.name, meta.labels, ip, ports)
        obj = _Object(kind, namespace, meta.name, line, (pod,))
    elif kind == "Service":
        service = _service(ctx, spec, namespace, meta.name)
        obj = _Object(kind, namespace, meta.name, line, service)
    else:
        pods = _workload(ctx, limits, kind, spec, namespace, meta.name)
        obj = _Object(kind, namespace, meta.name, line, pods)
    if path:
        ctx.errors = [_prefixed(e, f"{path}.") for e in ctx.errors]
    errors, ctx.errors = ctx.errors, []
    return Decoded(None if errors or not meta.name else obj, errors, len(errors), [])


def _get(ctx: _Ctx, node: Node | None, path: str, *keys: str) -> Node | None:
    """The node at ``keys`` under ``node`` (lenient: ``None`` if anything is missing)."""
    for key in keys:
        if node is None or _is_null(node):
            return None
        items = _items(ctx, node, path)
        if items is None:
            return None
        path = _join(path, key)
        node = next((v for k, _, v in items if k == key), None)
    return node


def _protocol(ctx: _Ctx, node: Node | None, path: str) -> Protocol | None:
    if node is None:
        return Protocol.TCP
    text = _string(ctx, node, path)
    if text is None:
        return Protocol.TCP
    if text in PROTOCOLS:
        return Protocol(text)
    ctx.error(protocol_error(path, text), node)
    return None


def _containers(ctx: _Ctx, spec: Node | None, path: str) -> tuple[ContainerPort, ...]:
    result: list[ContainerPort] = []
    containers = _get(ctx, spec, path, "containers")
    cpath = f"{path}.containers"
    items = _sequence(ctx, containers, cpath, "containers") if containers is not None else None
    for i, container in enumerate(items or ()):
        ports = _get(ctx, container, f"{cpath}[{i}]", "ports")
        if ports is None:
            continue
        ppath = f"{cpath}[{i}].ports"
        for j, port in enumerate(_sequence(ctx, ports, ppath, "container ports") or ()):
            here = f"{ppath}[{j}]"
            number_node = _get(ctx, port, here, "containerPort")
            if number_node is None:
                ctx.error(FieldError.required(f"{here}.containerPort"), port)
                continue
            number = _integer(ctx, number_node, f"{here}.containerPort")
            name_node = _get(ctx, port, here, "name")
            name = _string(ctx, name_node, f"{here}.name") if name_node is not None else None
            protocol = _protocol(ctx, _get(ctx, port, here, "protocol"), f"{here}.protocol")
            if number is None or protocol is None:
                continue
            result.append(ContainerPort(number, protocol, name or None))
    return tuple(result)


def _pod_ip(ctx: _Ctx, status: Node) -> str | None:
    node = _get(ctx, status, "status", "podIP")
    if node is None:
        return None
    text = _string(ctx, node, "status.podIP", lenient=True)
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        ctx.error(
            FieldError.invalid(
                "status.podIP",
                text,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ),
            node,
        )
        return None


def _service(ctx: _Ctx, spec: Node | None, namespace: str, name: str) -> Service:
    selector_node = _get(ctx, spec, "spec", "selector")
    selector = (
        _string_map(ctx, selector_node, "spec.selector", lenient=True)
        if selector_node is not None and not _is_null(selector_node)
        else None
    )
    ports: list[ServicePort] = []
    ports_node = _get(ctx, spec, "spec", "ports")
    for i, port in enumerate(
        (_sequence(ctx, ports_node, "spec.ports", "service ports") or ())
        if ports_node is not None
        else ()
    ):
        here = f"spec.ports[{i}]"
        number_node = _get(ctx, port, here, "port")
        if number_node is None:
            ctx.error(FieldError.required(f"{here}.port"), port)
            continue
        number = _integer(ctx, number_node, f"{here}.port")
        target_node = _get(ctx, port, here, "targetPort")
        target = (
            _int_or_string(ctx, target_node, f"{here}.targetPort")
            if target_node is not None
            else None
        )
        protocol = _protocol(ctx, _get(ctx, port, here, "protocol"), f"{here}.protocol")
        name_node = _get(ctx, port, here, "name")
        port_name = _string(ctx, name_node, f"{here}.name") if name_node is not None else None
        if number is None or protocol is None:
            continue
        ports.append(
            ServicePort(number, target if target is not None else number, protocol, port_name)
        )
    return Service(namespace, name, selector, tuple(ports))


def _workload(
    ctx: _Ctx, limits: Limits, kind: str, spec: Node | None, namespace: str, name: str
) -> tuple[Pod, ...]:
    count = 1
    field_name = {"Job": "parallelism", "DaemonSet": ""}.get(kind, "replicas")
    if field_name:
        node = _get(ctx, spec, "spec", field_name)
        if node is not None and not _is_null(node):
            number = _integer(ctx, node, f"spec.{field_name}")
            if number is None:
                return ()
            if number < 0 or number > limits.max_replicas:
                ctx.error(
                    FieldError.invalid(
                        f"spec.{field_name}",
                        number,
                        f"must be between 0 and {limits.max_replicas} here",
                    ),
                    node,
                )
                return ()
            count = number
    template = _get(ctx, spec, "spec", "template")
    labels_node = _get(ctx, template, "spec.template", "metadata", "labels")
    labels = (
        _string_map(ctx, labels_node, "spec.template.metadata.labels", lenient=True)
        if labels_node is not None
        else {}
    )
    pod_spec = _get(ctx, template, "spec.template", "spec")
    ports = _containers(ctx, pod_spec, "spec.template.spec") if pod_spec is not None else ()
    return tuple(Pod(namespace, f"{name}-{i}", dict(labels), None, ports) for i in range(count))
