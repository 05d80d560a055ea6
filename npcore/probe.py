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
    A bash script that needs only ``kubectl``: it waits for the pods it created (each by
    name, never a whole namespace), reads their IPs, runs ``/agnhost connect IP:PORT
    --timeout=... --protocol=...`` from every pod to every pod for every probed port (as
    the upstream e2e prober does), and writes ``observed.json`` in the same schema
    (``cni`` and ``enforced`` are ``null``: the script cannot know them), plus
    ``rejected``: the cells that were refused rather than timed out (see
    :func:`run_script` for how each outcome is read).

``cleanup.sh``
    Deletes what the two manifests created, by name: the policies, the Services, the
    pods; never a namespace (one may be the learner's own, and ``kube-system`` is the
    cluster's).

Pods in system namespaces (``kube-system``, every ``kube-*``) never become Ready
(:data:`NEVER_READY`): the cluster's own Services there select labels such as
``k8s-app: kube-dns``, and a probe pod that became one of their endpoints would answer
the cluster's DNS queries.  A pod that is not Ready is no Service's endpoint, and
NetworkPolicy applies to it all the same.

Everything written into ``run.sh`` or the manifests from the command line is checked
first (:func:`timeout_error`, :func:`image_error`) and shell-quoted.

The probed ports are the numbers and protocols the pods declare (every
``containerPort``); a scenario that declares none is probed on TCP 80.  Services and
externals are not probed: a probe is pod to pod, by pod IP.  Comparing the observations
with the prediction is :mod:`npcore.probecompare`.
"""

from __future__ import annotations

import json
import re
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
    "NEVER_READY",
    "Target",
    "cleanup_script",
    "expected_documents",
    "image_error",
    "namespace_manifest",
    "pod_manifest",
    "policy_manifest",
    "probe_files",
    "probe_targets",
    "run_script",
    "scenario_documents",
    "scenario_yaml",
    "service_manifest",
    "system_namespace",
    "timeout_error",
    "yaml_documents",
]

#: The image of the Kubernetes e2e tests (``k8s.io/kubernetes/test/utils/image``): one
#: small binary with the ``serve-hostname``, ``porter`` and ``connect`` subcommands.
AGNHOST_IMAGE = "registry.k8s.io/e2e-test-images/agnhost:2.52"
#: How long ``agnhost connect`` waits: a blocked connection shows as a timeout.
DEFAULT_TIMEOUT = "2s"

#: A readiness gate nobody sets: a pod with it runs its containers but is never Ready.
NEVER_READY = "netpol-lab.example/never-ready"

Target = tuple[int, Protocol]

_DURATION = re.compile(r"[0-9]{1,6}(ms|s|m)")
# The image reference grammar of the container tools (distribution/reference): an optional
# registry host[:port], slash-separated lowercase path components, an optional :tag and an
# optional @algorithm:hex digest.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"(?:{_HOST}(?::[0-9]{{1,5}})?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


def timeout_error(text: str) -> str | None:
    """Why ``text`` is not a usable ``agnhost connect --timeout`` (a Go duration in whole
    milliseconds, seconds or minutes, more than zero), or ``None`` when it is.

    >>> timeout_error("2s") is None, timeout_error("1500ms") is None
    (True, True)
    >>> timeout_error("abc")
    "'abc' is not a duration: write a whole number with ms, s or m, like 2s"
    >>> timeout_error("0s")
    "'0s' is no time at all: agnhost would wait forever; use at least 1s"
    """
    if not _DURATION.fullmatch(text):
        return f"{text!r} is not a duration: write a whole number with ms, s or m, like 2s"
    if int(text.rstrip("ms")) == 0:
        return f"{text!r} is no time at all: agnhost would wait forever; use at least 1s"
    return None


def image_error(text: str) -> str | None:
    """Why ``text`` is not a container image reference, or ``None`` when it is.

    The grammar: ``[HOST[:PORT]/]PATH[:TAG][@DIGEST]``, lowercase path components.

    >>> image_error("registry.k8s.io/e2e-test-images/agnhost:2.52") is None
    True
    >>> image_error("x; touch /tmp/PW")[:40]
    "'x; touch /tmp/PW' is not an image refer"
    """
    if len(text) > 255 or not _IMAGE.fullmatch(text):
        return (
            f"{text!r} is not an image reference: write it as kubectl would pull it, "
            f"like {AGNHOST_IMAGE}"
        )
    return None


def system_namespace(name: str) -> bool:
    """``kube-system`` and the other ``kube-*`` namespaces, where the cluster's own
    Services (kube-dns, metrics-server) select pods by label."""
    return name.startswith("kube-")


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
    """``pod`` as a Pod that listens on every target; its labels and port names kept.
    In a system namespace it carries the :data:`NEVER_READY` readiness gate."""
    names: Mapping[tuple[int, Protocol], str | None] = {
        (p.port, Protocol(p.protocol)): p.name for p in pod.ports
    }
    metadata: dict[str, object] = {"name": pod.name, "namespace": pod.namespace}
    if pod.labels:
        metadata["labels"] = dict(sorted(pod.labels.items()))
    containers = [
        _container(port, proto, names.get((port, proto)), image) for port, proto in targets
    ]
    spec: dict[str, object] = {"terminationGracePeriodSeconds": 1}
    if system_namespace(pod.namespace):
        spec["readinessGates"] = [{"conditionType": NEVER_READY}]
    spec["containers"] = containers
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


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
# Each connection is one of: connected (true); TIMEOUT, dropped by the network (false);
# REFUSED or another network error, rejected (false, and listed in "rejected").  Anything
# else (kubectl exec refused, a container missing) stops the script with the message.
set -u
OUT="${1:-observed.json}"
DEFAULT_TIMEOUT=@TIMEOUT@
TIMEOUT="${TIMEOUT:-$DEFAULT_TIMEOUT}"
KUBECTL="${KUBECTL:-kubectl}"
PEERS=(@PEERS@)
CONTAINERS=(@CONTAINERS@)
PROBES=(@PROBES@)

if ! [[ $TIMEOUT =~ ^[0-9]+(ms|s|m)$ ]]; then
  echo "run.sh: TIMEOUT=$TIMEOUT is not a duration: write a whole number" \
    "with ms, s or m, like 2s" >&2
  exit 2
fi
ERR=$(mktemp) || exit 2
trap 'rm -f "$ERR" "$OUT.partial"' EXIT

# Wait only for the pods npcore probe created, each by name (other pods in the same
# namespaces, such as finished Jobs in kube-system, never become ready).
for peer in "${PEERS[@]}"; do
  if ! "$KUBECTL" wait --for=condition=ContainersReady "pod/${peer#*/}" -n "${peer%%/*}" \
      --timeout=300s >/dev/null 2>"$ERR"; then
    echo "run.sh: pod $peer is not ready after 300s; nothing was probed." >&2
    sed 's/^/  kubectl: /' "$ERR" >&2
    echo "  Look at it: kubectl describe pod -n ${peer%%/*} ${peer#*/}" \
      "(was scenario.yaml applied? can the image be pulled?)" >&2
    exit 2
  fi
done
IPS=()  # by index, as PEERS (no associative arrays: macOS ships bash 3.2)
for i in "${!PEERS[@]}"; do
  peer=${PEERS[$i]}
  IPS[$i]=$("$KUBECTL" get pod -n "${peer%%/*}" "${peer#*/}" -o jsonpath='{.status.podIP}')
  if [ -z "${IPS[$i]}" ]; then echo "run.sh: no IP for pod $peer" >&2; exit 2; fi
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
    rejected=""
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
            >/dev/null 2>"$ERR"; then
          verdict=true; outcome=connected
        elif grep -q '^TIMEOUT' "$ERR"; then
          verdict=false; outcome=timeout
        elif grep -q -e '^REFUSED' -e '^OTHER' "$ERR"; then
          verdict=false; outcome="rejected ($(grep -m1 -e '^REFUSED' -e '^OTHER' "$ERR"))"
          rejected+="${rejected:+, }[\"$src\", \"$dst\"]"
        else
          echo "run.sh: $proto $port $src -> $dst: kubectl exec failed," \
            "not a connection outcome:" >&2
          sed 's/^/  /' "$ERR" >&2
          echo "  Nothing was written. Check that pod $src runs its container" \
            "${CONTAINERS[$i]} and that you may exec into it" \
            "(kubectl auth can-i create pods/exec -n ${src%%/*}), then run run.sh again." >&2
          exit 2
        fi
        echo "$proto $port $src -> $dst: $outcome" >&2
        row+="${row:+, }\"$dst\": $verdict"
      done
      sep=","
      [ "$i" = "$((${#PEERS[@]} - 1))" ] && sep=""
      printf '     "%s": {%s}%s\n' "$src" "$row" "$sep"
    done
    printf '   },\n   "rejected": [%s]}\n' "$rejected"
  done
  echo "]"
} > "$OUT.partial" || exit 2
mv "$OUT.partial" "$OUT" || exit 2
echo "wrote $OUT; compare it with: npcore probe compare expected.json $OUT" >&2
"""


def run_script(
    cluster: Cluster, targets: Iterable[Target] | None = None, timeout: str = DEFAULT_TIMEOUT
) -> str:
    """The kubectl-only ``run.sh`` that probes every ordered pair of pods.

    Rules of the script (tested through a stand-in kubectl): it waits for each probe pod
    by name (``kubectl wait pod/NAME -n NS``, containers ready), and names the pod that
    is not; ``agnhost connect`` exit 0 is *connected*; ``TIMEOUT`` on its standard error
    is *dropped* (``false``); ``REFUSED`` or ``OTHER`` (a reset, "no route to host": the
    network or the plugin answered) is ``false`` and listed in ``rejected``, since some
    plugins (kube-router, so k3s) reject blocked connections instead of dropping them;
    anything else is not a connection outcome (``kubectl exec`` refused, no such
    container) and stops the script, exit 2, without writing the output.  Every value
    interpolated into the script is shell-quoted; ``timeout`` must pass
    :func:`timeout_error` (a ``ValueError`` otherwise).
    """
    problem = timeout_error(timeout)
    if problem:
        raise ValueError(f"--timeout {problem}")
    chosen = tuple(targets) if targets is not None else probe_targets(cluster)
    first = chosen[0]
    container = f"serve-{first[0]}-{first[1].lower()}"
    peers = [pod.key for pod in cluster.pods]
    values = {
        "@PEERS@": " ".join(shlex.quote(p) for p in peers),
        "@CONTAINERS@": " ".join(shlex.quote(container) for _ in peers),
        "@PROBES@": " ".join(shlex.quote(f"{port} {proto}") for port, proto in chosen),
        "@TIMEOUT@": shlex.quote(timeout),
    }
    script = _SCRIPT
    for key, value in values.items():
        script = script.replace(key, value)
    return script


_CLEANUP = r"""#!/usr/bin/env bash
# Generated by npcore probe: delete what scenario.yaml and policies.yaml created, by name:
# the NetworkPolicies, the Services and the probe pods.  Namespaces are left in place
# (one may be yours, and kube-system is the cluster's).  Needs kubectl.  Usage:
#   bash cleanup.sh
set -u
KUBECTL="${KUBECTL:-kubectl}"
OBJECTS=(@OBJECTS@)
status=0
for object in "${OBJECTS[@]}"; do
  read -r kind ns name <<<"$object"
  "$KUBECTL" delete "$kind" "$name" -n "$ns" --ignore-not-found --wait=false || status=1
done
echo "Namespaces left in place: @NAMESPACES@. If you created one only for this" \
  "practice: kubectl delete namespace NAME" >&2
exit $status
"""


def cleanup_script(cluster: Cluster) -> str:
    """The kubectl-only ``cleanup.sh``: delete the scenario's NetworkPolicies, Services and
    probe pods by name (never a namespace: one may hold the learner's own objects)."""
    objects = [
        *(f"networkpolicy {p.namespace} {p.name}" for p in cluster.policies),
        *(f"service {s.namespace} {s.name}" for s in cluster.services),
        *(f"pod {pod.namespace} {pod.name}" for pod in cluster.pods),
    ]
    namespaces = sorted({pod.namespace for pod in cluster.pods})
    return _CLEANUP.replace("@OBJECTS@", " ".join(shlex.quote(o) for o in objects)).replace(
        "@NAMESPACES@", ", ".join(namespaces)
    )


def probe_files(
    cluster: Cluster, *, image: str = AGNHOST_IMAGE, timeout: str = DEFAULT_TIMEOUT
) -> dict[str, str]:
    """The files of ``npcore probe``: name to text (``scenario.yaml``, ``policies.yaml``
    when there are policies, ``expected.json``, ``run.sh``, ``cleanup.sh``).  A
    ``ValueError`` names an unusable ``image`` or ``timeout`` (:func:`image_error`,
    :func:`timeout_error`)."""
    problem = image_error(image)
    if problem:
        raise ValueError(f"--image {problem}")
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
        "cleanup.sh": cleanup_script(cluster),
    }
    if not cluster.policies:  # kubectl apply refuses a file without objects
        del files["policies.yaml"]
    return files
