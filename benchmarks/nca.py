"""network-config-analyzer (NCA): find or install it, run it, read its connectivity map.

Rules of this file:

* NCA is a test- and benchmark-only tool.  It pins old versions of PyYAML, lxml,
  networkx and beautifulsoup4 (``==``), so it lives in its own virtual environment,
  ``benchmarks/.nca-venv``, never in the project's venv.  :func:`find_nca` looks for
  ``$NCA`` (a path to an ``nca`` executable), then that venv, then ``nca`` on ``PATH``.
* :func:`nca_semantics` rewrites a cluster so that npcore computes what NCA computes
  (the two known deviations of NCA from Kubernetes, docs/differential.md): D1, an
  ``Exists``/``DoesNotExist`` requirement in a peer's ``podSelector`` that is paired
  with a ``namespaceSelector`` only matches pods of the policy's own namespace; D2,
  ipBlocks never match pod addresses.
* :func:`parse_connectivity` reads the output of ``nca --connectivity -r DIR
  --output_format txt_no_fw_rules --output_endpoints pods``: one line per pair and
  protocol group, ``SRC => DST : CONN``, where SRC/DST is ``namespace/pod`` or an IPv4
  range ``A-B`` and CONN is ``All connections`` or groups like
  ``{protocols:TCP, UDP,dst_ports:53,80-90}``.  A pair that is not listed has no
  connections.  Anything else in a pair line raises ``ValueError``, so a format change
  cannot pass silently.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from npcore import (
    ALL_PORTS,
    NAMESPACE_NAME_LABEL,
    NO_PORTS,
    Cluster,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyPeer,
    Operator,
    PortSet,
    Protocol,
)

__all__ = [
    "NCA_ARGS",
    "NCA_VENV",
    "NCA_VERSION",
    "NcaMap",
    "ensure_nca",
    "find_nca",
    "nca_semantics",
    "parse_connection",
    "parse_connectivity",
    "run_nca",
]

HERE = Path(__file__).resolve().parent
NCA_VENV = HERE / ".nca-venv"
NCA_VERSION = "2.1.0"
NCA_ARGS = ("--output_format", "txt_no_fw_rules", "--output_endpoints", "pods")

_GROUP = re.compile(r"\{([^{}]*)\}")
_PROTOCOLS = {p.value: p for p in Protocol}


def find_nca() -> Path | None:
    """An ``nca`` executable: ``$NCA``, ``benchmarks/.nca-venv/bin/nca``, or on PATH."""
    env = os.environ.get("NCA")
    candidates = [Path(env)] if env else []
    candidates.append(NCA_VENV / "bin" / "nca")
    on_path = shutil.which("nca")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_nca(quiet: bool = False) -> Path | None:
    """:func:`find_nca`, creating ``benchmarks/.nca-venv`` with ``pip install
    network-config-analyzer==NCA_VERSION`` first if there is none; None if that fails."""
    found = find_nca()
    if found is not None:
        return found
    if not quiet:
        print(f"installing network-config-analyzer=={NCA_VERSION} into {NCA_VENV} ...")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(NCA_VENV)], check=True)
        pip = NCA_VENV / "bin" / "pip"
        package = f"network-config-analyzer=={NCA_VERSION}"
        subprocess.run([str(pip), "install", "--quiet", package], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"could not install NCA: {exc}", file=sys.stderr)
        return None
    return find_nca()


def run_nca(exe: Path, directory: Path, timeout: float = 600.0, check: bool = True) -> str:
    """NCA's connectivity map of the YAML files in ``directory``, as text (its standard
    output, then its standard error); with ``check``, a run that printed no pair and
    failed raises ``RuntimeError``."""
    proc = subprocess.run(
        [str(exe), "--connectivity", "-r", str(directory), *NCA_ARGS],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and "=>" not in proc.stdout and proc.returncode not in (0, 1):
        raise RuntimeError(f"nca failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


IPRange = tuple[int, int]
Endpoint = str | IPRange


@dataclass
class NcaMap:
    """NCA's connectivity map: pod pairs, and pods to/from IPv4 ranges."""

    pods: dict[tuple[str, str], PortSet] = field(default_factory=dict)
    ip_lines: list[tuple[Endpoint, Endpoint, PortSet]] = field(default_factory=list)

    def pod_ports(self, src: str, dst: str) -> PortSet:
        """The ports NCA allows from pod ``src`` to pod ``dst`` (none when unlisted)."""
        return self.pods.get((src, dst), NO_PORTS)

    def ip_ports(self, src: str, dst: str) -> PortSet:
        """The ports NCA allows between a pod and an address (one side is an IP)."""
        out = NO_PORTS
        for a, b, ports in self.ip_lines:
            if _endpoint_matches(a, src) and _endpoint_matches(b, dst):
                out = out.union(ports)
        return out


def _endpoint_matches(endpoint: Endpoint, name_or_ip: str) -> bool:
    if isinstance(endpoint, str):
        return endpoint == name_or_ip
    try:
        value = int(ipaddress.IPv4Address(name_or_ip))
    except ValueError:
        return False
    return endpoint[0] <= value <= endpoint[1]


def _parse_endpoint(text: str) -> Endpoint:
    text = text.strip()
    if "-" in text:
        lo, _, hi = text.partition("-")
        try:
            return int(ipaddress.IPv4Address(lo)), int(ipaddress.IPv4Address(hi))
        except ValueError:
            pass
    if "/" in text:
        try:
            net = ipaddress.IPv4Network(text, strict=False)
            return int(net.network_address), int(net.broadcast_address)
        except ValueError:
            pass
    try:
        value = int(ipaddress.IPv4Address(text))
        return value, value
    except ValueError:
        pass
    if text.endswith("[Pod]"):
        text = text[: -len("[Pod]")]
    if text.count("/") != 1:
        raise ValueError(f"unknown NCA endpoint {text!r}")
    return text


def parse_connection(text: str) -> PortSet:
    """NCA's connection text as a PortSet.

    >>> parse_connection("{protocols:TCP, UDP,dst_ports:53,80-90}").describe()
    ['TCP 53', 'TCP 80-90', 'UDP 53', 'UDP 80-90']
    >>> parse_connection("All connections").is_all
    True
    """
    text = text.strip()
    if text == "All connections":
        return ALL_PORTS
    if text == "No connections":
        return NO_PORTS
    groups = _GROUP.findall(text)
    if not groups or _GROUP.sub("", text).strip(", ") != "":
        raise ValueError(f"unknown NCA connection {text!r}")
    result = NO_PORTS
    for group in groups:
        fields: dict[str, str] = {}
        for m in re.finditer(r"(\w+):([^:]*?)(?=,\w+:|$)", group):
            fields[m.group(1)] = m.group(2)
        if set(fields) - {"protocols", "dst_ports"} or "protocols" not in fields:
            raise ValueError(f"unknown NCA connection group {group!r}")
        protocols = [p.strip() for p in fields["protocols"].split(",") if p.strip()]
        ranges: list[tuple[int, int]] = []
        if "dst_ports" in fields:
            for part in fields["dst_ports"].split(","):
                lo, _, hi = part.strip().partition("-")
                ranges.append((int(lo), int(hi or lo)))
        else:
            ranges.append((1, 65535))
        for name in protocols:
            if name not in _PROTOCOLS:
                raise ValueError(f"unknown NCA protocol {name!r} in {text!r}")
            result = result.union(PortSet.from_ranges({_PROTOCOLS[name]: ranges}))
    return result


def parse_connectivity(output: str) -> NcaMap:
    """Read NCA's ``txt_no_fw_rules`` connectivity output (see the module docstring)."""
    out = NcaMap()
    for line in output.splitlines():
        if " => " not in line or " : " not in line:
            continue
        pair, _, conn = line.partition(" : ")
        src_text, _, dst_text = pair.partition(" => ")
        src, dst = _parse_endpoint(src_text), _parse_endpoint(dst_text)
        ports = parse_connection(conn)
        if isinstance(src, str) and isinstance(dst, str):
            out.pods[(src, dst)] = out.pods.get((src, dst), NO_PORTS).union(ports)
        else:
            out.ip_lines.append((src, dst, ports))
    return out


def _d1_peer(peer: NetworkPolicyPeer, policy_namespace: str) -> NetworkPolicyPeer:
    """D1: NCA matches a podSelector's Exists/DoesNotExist only in the policy's namespace
    (``PeerContainer.get_peers_with_key(self.namespace, ...)``), even when a
    namespaceSelector picks other namespaces."""
    pods, namespaces = peer.pod_selector, peer.namespace_selector
    if pods is None or namespaces is None:
        return peer
    keyed = (Operator.EXISTS, Operator.DOES_NOT_EXIST)
    if not any(r.operator in keyed for r in pods.match_expressions):
        return peer
    own = LabelSelectorRequirement(NAMESPACE_NAME_LABEL, Operator.IN, (policy_namespace,))
    narrowed = LabelSelector(namespaces.match_labels, (*namespaces.match_expressions, own))
    return dataclasses.replace(peer, namespace_selector=narrowed)


def _d1_policy(policy: NetworkPolicy) -> NetworkPolicy:
    ingress = policy.ingress
    if ingress is not None:
        ingress = tuple(
            dataclasses.replace(r, from_=tuple(_d1_peer(p, policy.namespace) for p in r.from_))
            if r.from_
            else r
            for r in ingress
        )
    egress = policy.egress
    if egress is not None:
        egress = tuple(
            dataclasses.replace(r, to=tuple(_d1_peer(p, policy.namespace) for p in r.to))
            if r.to
            else r
            for r in egress
        )
    return dataclasses.replace(policy, ingress=ingress, egress=egress)


def nca_semantics(cluster: Cluster, *, d1: bool = True, d2: bool = True) -> Cluster:
    """``cluster`` rewritten so that npcore decides as NCA 2.1.0 does: D1 narrows the
    namespaceSelector of peers whose podSelector uses Exists/DoesNotExist to the
    policy's namespace; D2 removes pod addresses, so no ipBlock matches a pod."""
    out = cluster
    if d1:
        out = out.with_policies(_d1_policy(p) for p in out.policies)
    if d2:
        out = dataclasses.replace(
            out, pods=tuple(dataclasses.replace(p, ip=None) for p in out.pods)
        )
    return out
