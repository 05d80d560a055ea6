"""Check npcore's prediction on a real cluster: the files a learner applies and runs.

:func:`probe_files` turns a scenario into the files of ``npcore probe FILES --out DIR``
(as values: names and texts; the command line writes them):

``scenario.yaml``
    The namespaces (with their labels) and one bare Pod per pod of the scenario (a
    Deployment's replicas become ``NAME-0``, ``NAME-1``... as npcore names them), each
    with its labels, running the Kubernetes e2e test image agnhost
    (:data:`AGNHOST_IMAGE`) with one container per probed port and protocol, as the
    upstream NetworkPolicy e2e tests build their pods: ``serve-hostname --tcp`` /
    ``--udp`` (``--http=false``), and ``porter`` with ``SERVE_SCTP_PORT_N`` for SCTP.
    Every pod listens on every probed port, so "denied" can only mean a policy (or the
    plugin) dropped the connection.  Declared container port names are kept on the pods
    that declared them, so named ports in policies resolve as in the scenario.
``policies.yaml``
    The scenario's NetworkPolicies, written back as manifests.
``expected.json``
    A JSON **list** with one document per probed port and protocol, each exactly the
    ``npcore matrix --port N --protocol P --format json`` document.
``run.sh``
    A bash script that needs only ``kubectl``: it waits for the pods, reads their IPs,
    runs ``/agnhost connect IP:PORT --timeout=... --protocol=...`` from every pod to every
    pod for every probed port (as the upstream e2e prober does), and writes
    ``observed.json`` in the same schema (``cni`` and ``enforced`` are ``null``: the
    script cannot know them).

The probed ports are the numbers and protocols the pods declare (every
``containerPort``); a scenario that declares none is probed on TCP 80.  Services and
externals are not probed: a probe is pod to pod, by pod IP.  Comparing the observations
with the prediction is :mod:`npcore.probecompare`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping

import yaml

from npcore.cluster import Cluster, Namespace, Pod, Service
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Protocol,
)
from npcore.reachability import matrix

__all__ = [
    "AGNHOST_IMAGE",
    "DEFAULT_TIMEOUT",
    "Target",
    "expected_documents",
    "namespace_manifest",
    "pod_manifest",
    "policy_manifest",
    "probe_files",
    "probe_targets",
    "run_script",
    "scenario_documents",
    "scenario_yaml",
    "service_manifest",
    "yaml_documents",
]

#: The image of the Kubernetes e2e tests (``k8s.io/kubernetes/test/utils/image``): one
#: small binary with the ``serve-hostname``, ``porter`` and ``connect`` subcommands.
AGNHOST_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.52"
#: How long ``agnhost connect`` waits: a blocked connection shows as a timeout.
DEFAULT_TIMEOUT = "2s"

Target = tuple[int, Protocol]


def probe_targets(cluster: Cluster) -> tuple[Target, ...]:
    """Every (port, protocol) a pod of ``cluster`` declares, sorted; TCP 80 if none.

    >>> from npcore.cluster import ContainerPort
    >>> c = Cluster.build(pods=[Pod("x", "a", ports=(ContainerPort(53, Protocol.UDP),))])
    >>> probe_targets(c)
    ((53, <Protocol.UDP: 'UDP'>),)
    """
    found = {(p.port, Protocol(p.protocol)) for pod in cluster.pods for p in pod.ports}
    order = {Protocol.TCP: 0, Protocol.UDP: 1, Protocol.SCTP: 2}
    return tuple(sorted(found, key=lambda t: (order[t[1]], t[0]))) or ((80, Protocol.TCP),)


# --- manifests ------------------------------------------------------------------------------


def namespace_manifest(namespace: Namespace) -> dict[str, object]:
    """A Namespace with its labels."""
    metadata: dict[str, object] = {"name": namespace.name}
    if namespace.labels:
        metadata["labels"] = dict(sorted(namespace.labels.items()))
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def _container(port: int, protocol: Protocol, name: str | None, image: str) -> dict[str, object]:
    proto = protocol.lower()
    container: dict[str, object] = {"name": f"serve-{port}-{proto}", "image": image}
    if protocol is Protocol.SCTP:
        container["args"] = ["porter"]
        container["env"] = [{"name": f"SERVE_SCTP_PORT_{port}", "value": "sctp"}]
    else:
        container["args"] = ["serve-hostname", f"--{proto}", "--http=false", "--port", str(port)]
    entry: dict[str, object] = {"containerPort": port, "protocol": str(protocol)}
    if name:
        entry["name"] = name
    container["ports"] = [entry]
    return container


def pod_manifest(
    pod: Pod, targets: Iterable[Target], image: str = AGNHOST_IMAGE
) -> dict[str, object]:
    """``pod`` as a Pod that listens on every target; its labels and port names kept."""
    names: Mapping[tuple[int, Protocol], str | None] = {
        (p.port, Protocol(p.protocol)): p.name for p in pod.ports
    }
    metadata: dict[str, object] = {"name": pod.name, "namespace": pod.namespace}
    if pod.labels:
        metadata["labels"] = dict(sorted(pod.labels.items()))
    containers = [
        _container(port, proto, names.get((port, proto)), image) for port, proto in targets
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"terminationGracePeriodSeconds": 1, "containers": containers},
    }


def _selector(selector: LabelSelector) -> dict[str, object]:
    result: dict[str, object] = {}
    if selector.match_labels:
        result["matchLabels"] = dict(selector.match_labels)
    if selector.match_expressions:
        result["matchExpressions"] = [
            {
                "key": r.key,
                "operator": str(r.operator),
                **({"values": list(r.values)} if r.values else {}),
            }
            for r in selector.match_expressions
        ]
    return result


def _ip_block(block: IPBlock) -> dict[str, object]:
    result: dict[str, object] = {"cidr": block.cidr}
    if block.except_:
        result["except"] = list(block.except_)
    return result


def _peer(peer: NetworkPolicyPeer) -> dict[str, object]:
    result: dict[str, object] = {}
    if peer.pod_selector is not None:
        result["podSelector"] = _selector(peer.pod_selector)
    if peer.namespace_selector is not None:
        result["namespaceSelector"] = _selector(peer.namespace_selector)
    if peer.ip_block is not None:
        result["ipBlock"] = _ip_block(peer.ip_block)
    return result


def _port(entry: NetworkPolicyPort) -> dict[str, object]:
    result: dict[str, object] = {}
    if entry.protocol is not None:
        result["protocol"] = str(entry.protocol)
    if entry.port is not None:
        result["port"] = entry.port
    if entry.end_port is not None:
        result["endPort"] = entry.end_port
    return result


def policy_manifest(policy: NetworkPolicy) -> dict[str, object]:
    """``policy`` written back as a manifest (what ``kubectl apply`` reads).

    >>> policy_manifest(NetworkPolicy("deny", "x"))["spec"]
    {'podSelector': {}}
    """
    metadata: dict[str, object] = {"name": policy.name, "namespace": policy.namespace}
    if policy.labels:
        metadata["labels"] = dict(policy.labels)
    spec: dict[str, object] = {"podSelector": _selector(policy.pod_selector)}
    if policy.ingress is not None:
        spec["ingress"] = [
            {
                **({"from": [_peer(p) for p in rule.from_]} if rule.from_ is not None else {}),
                **({"ports": [_port(e) for e in rule.ports]} if rule.ports is not None else {}),
            }
            for rule in policy.ingress
        ]
    if policy.egress is not None:
        spec["egress"] = [
            {
                **({"to": [_peer(p) for p in rule.to]} if rule.to is not None else {}),
                **({"ports": [_port(e) for e in rule.ports]} if rule.ports is not None else {}),
            }
            for rule in policy.egress
        ]
    if policy.policy_types is not None:
        spec["policyTypes"] = [str(t) for t in policy.policy_types]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": spec,
    }


def service_manifest(service: Service) -> dict[str, object]:
    """A ClusterIP Service with its selector and ports (target ports kept by name)."""
    ports = []
    for p in service.ports:
        entry: dict[str, object] = {"port": p.port, "targetPort": p.target_port}
        entry["protocol"] = str(p.protocol)
        if p.name:
            entry = {"name": p.name, **entry}
        ports.append(entry)
    spec: dict[str, object] = {"ports": ports}
    if service.selector:
        spec = {"selector": dict(sorted(service.selector.items())), **spec}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "namespace": service.namespace},
        "spec": spec,
    }


def scenario_documents(
    cluster: Cluster, targets: Iterable[Target] | None = None, image: str = AGNHOST_IMAGE
) -> list[dict[str, object]]:
    """The namespaces, the pods, then the Services, as manifests (no policies)."""
    chosen = tuple(targets) if targets is not None else probe_targets(cluster)
    used = {pod.namespace for pod in cluster.pods}
    namespaces = [ns for ns in cluster.namespaces if ns.name in used or ns.labels]
    return [
        *(namespace_manifest(ns) for ns in namespaces),
        *(pod_manifest(pod, chosen, image) for pod in cluster.pods),
        *(service_manifest(service) for service in cluster.services),
    ]


def yaml_documents(documents: Iterable[Mapping[str, object]], header: str = "") -> str:
    """Manifests as one YAML stream (``---`` between documents), after ``header``."""
    parts = [
        yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False) for doc in documents
    ]
    return header + "---\n".join(parts)


def scenario_yaml(cluster: Cluster, *, image: str = AGNHOST_IMAGE, policies: bool = False) -> str:
    """The scenario to apply to a practice cluster (and its policies with ``policies``)."""
    docs = scenario_documents(cluster, image=image)
    if policies:
        docs += [policy_manifest(p) for p in cluster.policies]
    header = (
        "# Generated by npcore: the scenario's namespaces and pods, each pod running agnhost\n"
        "# servers on every probed port (labels and container port names as in the scenario).\n"
    )
    return yaml_documents(docs, header)


# --- expected and observed ------------------------------------------------------------------


def expected_documents(
    cluster: Cluster, targets: Iterable[Target] | None = None
) -> list[dict[str, object]]:
    """One ``npcore matrix --format json`` document per target, pods only."""
    pods_only = Cluster(
        namespaces=cluster.namespaces,
        pods=cluster.pods,
        services=cluster.services,
        policies=cluster.policies,
        cni=cluster.cni,
    )
    chosen = tuple(targets) if targets is not None else probe_targets(cluster)
    return [matrix(pods_only, port, protocol).to_dict() for port, protocol in chosen]


_SCRIPT = r"""#!/usr/bin/env bash
# Generated by npcore probe: connect from every pod to every pod on every probed port and
# write what happened to observed.json, in the schema of expected.json.  Needs kubectl
# (with a context on the practice cluster) and nothing else.  Usage:
#   bash run.sh [OUTPUT]          (default observed.json; TIMEOUT=3s bash run.sh to wait longer)
set -u
OUT="${1:-observed.json}"
TIMEOUT="${TIMEOUT:-@TIMEOUT@}"
KUBECTL="${KUBECTL:-kubectl}"
PEERS=(@PEERS@)
CONTAINERS=(@CONTAINERS@)
PROBES=(@PROBES@)
NAMESPACES=(@NAMESPACES@)

for ns in "${NAMESPACES[@]}"; do
  "$KUBECTL" wait --for=condition=Ready pod --all -n "$ns" --timeout=300s >&2 || exit 2
done
IPS=()  # by index, as PEERS (no associative arrays: macOS ships bash 3.2)
for i in "${!PEERS[@]}"; do
  peer=${PEERS[$i]}
  IPS[$i]=$("$KUBECTL" get pod -n "${peer%%/*}" "${peer#*/}" -o jsonpath='{.status.podIP}')
  if [ -z "${IPS[$i]}" ]; then echo "no IP for pod $peer" >&2; exit 2; fi
done

peers_json=""
for peer in "${PEERS[@]}"; do peers_json+="${peers_json:+, }\"$peer\""; done
{
  echo "["
  first_probe=1
  for probe in "${PROBES[@]}"; do
    read -r port proto <<<"$probe"
    lower=$(echo "$proto" | tr '[:upper:]' '[:lower:]')
    [ $first_probe = 1 ] || echo "  ,"
    first_probe=0
    printf '  {"port": %s, "protocol": "%s", "cni": null, "enforced": null,\n' "$port" "$proto"
    printf '   "peers": [%s],\n   "allowed": {\n' "$peers_json"
    for i in "${!PEERS[@]}"; do
      src=${PEERS[$i]}
      row=""
      for j in "${!PEERS[@]}"; do
        dst=${PEERS[$j]}
        host=${IPS[$j]}
        case "$host" in *:*) host="[$host]" ;; esac
        if "$KUBECTL" exec -n "${src%%/*}" "${src#*/}" -c "${CONTAINERS[$i]}" -- \
            /agnhost connect "$host:$port" --timeout="$TIMEOUT" --protocol="$lower" \
            >/dev/null 2>&1; then
          verdict=true
        else
          verdict=false
        fi
        echo "$proto $port $src -> $dst: $verdict" >&2
        row+="${row:+, }\"$dst\": $verdict"
      done
      sep=","
      [ "$i" = "$((${#PEERS[@]} - 1))" ] && sep=""
      printf '     "%s": {%s}%s\n' "$src" "$row" "$sep"
    done
    printf '   }}\n'
  done
  echo "]"
} > "$OUT"
echo "wrote $OUT; compare it with: npcore probe compare expected.json $OUT" >&2
"""


def run_script(
    cluster: Cluster, targets: Iterable[Target] | None = None, timeout: str = DEFAULT_TIMEOUT
) -> str:
    """The kubectl-only ``run.sh`` that probes every ordered pair of pods."""
    chosen = tuple(targets) if targets is not None else probe_targets(cluster)
    first = chosen[0]
    container = f"serve-{first[0]}-{first[1].lower()}"
    peers = [pod.key for pod in cluster.pods]
    namespaces = sorted({pod.namespace for pod in cluster.pods})
    values = {
        "@PEERS@": " ".join(shlex.quote(p) for p in peers),
        "@CONTAINERS@": " ".join(container for _ in peers),
        "@PROBES@": " ".join(shlex.quote(f"{port} {proto}") for port, proto in chosen),
        "@NAMESPACES@": " ".join(shlex.quote(n) for n in namespaces),
        "@TIMEOUT@": timeout,
    }
    script = _SCRIPT
    for key, value in values.items():
        script = script.replace(key, value)
    return script


def probe_files(
    cluster: Cluster, *, image: str = AGNHOST_IMAGE, timeout: str = DEFAULT_TIMEOUT
) -> dict[str, str]:
    """The files of ``npcore probe``: name to text (``scenario.yaml``, ``policies.yaml``
    when there are policies, ``expected.json``, ``run.sh``)."""
    targets = probe_targets(cluster)
    policies = yaml_documents(
        [policy_manifest(p) for p in cluster.policies],
        "# Generated by npcore: the scenario's NetworkPolicies.\n",
    )
    files = {
        "scenario.yaml": scenario_yaml(cluster, image=image),
        "policies.yaml": policies,
        "expected.json": json.dumps(expected_documents(cluster, targets), indent=2) + "\n",
        "run.sh": run_script(cluster, targets, timeout),
    }
    if not cluster.policies:  # kubectl apply refuses a file without objects
        del files["policies.yaml"]
    return files
