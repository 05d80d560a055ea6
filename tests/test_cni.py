"""Plugin capabilities (``npcore.cni``): one table of facts per plugin, then one table of
verdicts per capability, each checked through the engine (``is_allowed``) and the
all-pairs evaluators (``matrix``, ``connectivity_map``), which must agree.

Capabilities and their sources are in ``npcore/cni.py``'s module docstring:

* ipBlock matches pod IPs: the specification, Calico, Antrea, kube-router,
  kube-network-policies (kind), Canal; not Cilium.
* endPort is honoured: the specification and every current enforcing plugin; not Cilium
  before 1.16, Weave Net or Romana (a range covers only ``port``).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import clusters

from npcore.cli import main
from npcore.cli.sources import load_cluster
from npcore.cluster import Cluster, ContainerPort, External, Namespace, Pod
from npcore.cni import DEFAULT_CNI, KNOWN_CNIS, SPEC_CNI, as_enforced, cni_info
from npcore.engine import Connection, is_allowed
from npcore.explain import explain_text
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    PolicyType,
    Protocol,
)
from npcore.reachability import connectivity_map, matrix

# (plugin, enforces, ipBlock matches pod IPs, endPort honoured)
CATALOGUE = [
    ("spec", True, True, True),
    ("calico", True, True, True),
    ("cilium", True, False, True),
    ("cilium-1.15", True, False, False),
    ("antrea", True, True, True),
    ("kube-router", True, True, True),
    ("kube-network-policies", True, True, True),
    ("canal", True, True, True),
    ("weave-net", True, True, False),
    ("romana", True, True, False),
    ("flannel", False, True, True),
]


def test_the_catalogue_is_the_table() -> None:
    assert sorted(KNOWN_CNIS) == sorted(row[0] for row in CATALOGUE)


@pytest.mark.parametrize(("name", "enforces", "ipblock_pods", "end_port"), CATALOGUE)
def test_plugin_facts_and_sources(
    name: str, enforces: bool, ipblock_pods: bool, end_port: bool
) -> None:
    plugin = cni_info(name)
    assert (plugin.enforces, plugin.ipblock_matches_pods, plugin.end_port) == (
        enforces,
        ipblock_pods,
        end_port,
    )
    assert plugin.sources, f"{name} names no source"
    assert all(s.startswith("https://") for s in plugin.sources)
    # The module docstring has a section for every plugin, with its sources in words.
    import npcore.cni

    assert f"``{name}``" in (npcore.cni.__doc__ or "")


def test_default_is_the_plain_specification() -> None:
    default = cni_info(DEFAULT_CNI)
    assert (default.enforces, default.ipblock_matches_pods, default.end_port) == (
        SPEC_CNI.enforces,
        SPEC_CNI.ipblock_matches_pods,
        SPEC_CNI.end_port,
    )
    assert default.differences == () and SPEC_CNI.differences == ()
    assert Cluster.build().cni == DEFAULT_CNI


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("kind", "kube-network-policies"),
        ("kindnet", "kube-network-policies"),
        ("Cilium", "cilium"),
        ("specification", "spec"),
        ("weave", "weave-net"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    assert cni_info(alias).name == name


# --- the world: two pods in x, a DNS pod in kube-system, two externals ----------------------

WEB = Pod("x", "web", {"app": "web"}, "10.1.0.1", (ContainerPort(80, name="http"),))
DB = Pod("x", "db", {"app": "db"}, "10.1.0.2", (ContainerPort(7000), ContainerPort(7005)))
DNS = Pod(
    "kube-system",
    "coredns",
    {"k8s-app": "kube-dns"},
    "10.9.0.10",
    (ContainerPort(53, Protocol.UDP, "dns"),),
)
INTERNET = External("internet", "8.8.8.8")
METADATA = External("metadata", "169.254.169.254")


def _world(*policies: NetworkPolicy, cni: str) -> Cluster:
    return Cluster.build(
        namespaces=[Namespace.named("x"), Namespace.named("kube-system")],
        pods=[WEB, DB, DNS],
        externals=[INTERNET, METADATA],
        policies=policies,
        cni=cni,
    )


NO_METADATA = NetworkPolicy(
    "no-metadata",
    "x",
    LabelSelector(),
    egress=(
        NetworkPolicyEgressRule(
            to=(
                NetworkPolicyPeer(
                    ip_block=IPBlock("0.0.0.0/0", ("169.254.169.254/32",)),
                ),
            )
        ),
    ),
    policy_types=(PolicyType.EGRESS,),
)
FROM_CIDR = NetworkPolicy(
    "from-cidr",
    "x",
    LabelSelector.of({"app": "db"}),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(NetworkPolicyPeer(ip_block=IPBlock("0.0.0.0/0")),),
        ),
    ),
)
RANGE = NetworkPolicy(
    "range",
    "x",
    LabelSelector.of({"app": "db"}),
    ingress=(
        NetworkPolicyIngressRule(
            from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "web"})),),
            ports=(NetworkPolicyPort(port=7000, end_port=7009),),
        ),
    ),
)


def _verdicts(cluster: Cluster, flows: list[tuple[str, str, int, Protocol]]) -> list[bool]:
    """The verdicts of ``flows`` by the engine, checked against matrix and connectivity map."""
    result = []
    cmap = connectivity_map(cluster)
    for src, dst, port, protocol in flows:
        a, b = cluster.peer(src), cluster.peer(dst)
        allowed = is_allowed(cluster, Connection(a, b, port, protocol)).allowed
        assert matrix(cluster, port, protocol).allowed(a.key, b.key) == allowed
        assert cmap.ports(a.key, b.key).contains(protocol, port) == allowed
        result.append(allowed)
    return result


# Capability 1: ipBlock and pod IPs.  (flow, allowed where ipBlock matches pods, elsewhere)
IPBLOCK_ROWS = [
    # Egress to 0.0.0.0/0 except the metadata address (the metadata-blocking policy).
    ("egress-pod", NO_METADATA, ("x/web", "x/db", 7000, Protocol.TCP), True, False),
    ("egress-dns", NO_METADATA, ("x/web", "kube-system/coredns", 53, Protocol.UDP), True, False),
    ("egress-internet", NO_METADATA, ("x/web", "internet", 443, Protocol.TCP), True, True),
    ("egress-metadata", NO_METADATA, ("x/web", "metadata", 80, Protocol.TCP), False, False),
    # Ingress from 0.0.0.0/0: a pod source is not in it on Cilium; an external is.
    ("ingress-pod", FROM_CIDR, ("x/web", "x/db", 7000, Protocol.TCP), True, False),
    ("ingress-external", FROM_CIDR, ("internet", "x/db", 7000, Protocol.TCP), True, True),
]


@pytest.mark.parametrize(("name", "enforces", "ipblock_pods", "end_port"), CATALOGUE)
@pytest.mark.parametrize(
    ("case", "policy", "flow", "if_pods", "if_not"), IPBLOCK_ROWS, ids=[r[0] for r in IPBLOCK_ROWS]
)
def test_ipblock_matches_pod_ips(
    name: str,
    enforces: bool,
    ipblock_pods: bool,
    end_port: bool,
    case: str,
    policy: NetworkPolicy,
    flow: tuple[str, str, int, Protocol],
    if_pods: bool,
    if_not: bool,
) -> None:
    expected = True if not enforces else (if_pods if ipblock_pods else if_not)
    assert _verdicts(_world(policy, cni=name), [flow]) == [expected]


# Capability 2: endPort.  (port, allowed where endPort is honoured, elsewhere)
ENDPORT_ROWS = [(7000, True, True), (7005, True, False), (7009, True, False), (7010, False, False)]


@pytest.mark.parametrize(("name", "enforces", "ipblock_pods", "end_port"), CATALOGUE)
@pytest.mark.parametrize(("port", "if_honoured", "if_ignored"), ENDPORT_ROWS)
def test_end_port_honoured(
    name: str,
    enforces: bool,
    ipblock_pods: bool,
    end_port: bool,
    port: int,
    if_honoured: bool,
    if_ignored: bool,
) -> None:
    expected = True if not enforces else (if_honoured if end_port else if_ignored)
    flows = [("x/web", "x/db", port, Protocol.TCP)]
    assert _verdicts(_world(RANGE, cni=name), flows) == [expected]


def test_as_enforced_keeps_indices_and_untouched_policies() -> None:
    rewritten = as_enforced(cni_info("cilium-1.15"), [RANGE, NO_METADATA])
    assert rewritten[1] is NO_METADATA
    entry = rewritten[0].ingress[0].ports[0]  # type: ignore[index]
    assert (entry.port, entry.end_port) == (7000, None)
    assert as_enforced(cni_info("cilium"), [RANGE])[0] is RANGE


def test_explain_names_the_capability() -> None:
    cluster = _world(NO_METADATA, cni="cilium")
    text = explain_text(is_allowed(cluster, Connection(WEB, DNS, 53, Protocol.UDP)))
    assert "CNI: cilium (enforces NetworkPolicy; ipBlock peers do not match pod IPs)." in text
    assert text.splitlines()[-1] == "DENIED: blocked by egress from x/web."


# --- the command line shows the difference ---------------------------------------------------

METADATA_FILE = "tests/data/cni/metadata.yaml"
ENDPORT_FILE = "tests/data/cni/endport.yaml"


def _matrix_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    import json

    assert main(["matrix", *argv, "--format", "json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_cli_metadata_policy_on_cilium_cuts_pods_and_dns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [METADATA_FILE, "--port", "53", "--protocol", "UDP", "--external", "i=8.8.8.8"]
    calico = _matrix_json(capsys, *args)["allowed"]
    cilium = _matrix_json(capsys, *args, "--cni", "cilium")["allowed"]
    assert calico["lab/shell"]["kube-system/coredns"] is True  # type: ignore[index]
    assert cilium["lab/shell"]["kube-system/coredns"] is False  # type: ignore[index]
    assert calico["lab/shell"]["lab/notes"] is True  # type: ignore[index]
    assert cilium["lab/shell"]["lab/notes"] is False  # type: ignore[index]
    assert cilium["lab/shell"]["i"] is True  # type: ignore[index]
    assert main(["matrix", METADATA_FILE, "--port", "80", "--cni", "cilium"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert "CNI cilium (enforces NetworkPolicy; ipBlock peers do not match pod IPs)" in header


def test_cli_endport_on_old_cilium(capsys: pytest.CaptureFixture[str]) -> None:
    new = _matrix_json(capsys, ENDPORT_FILE, "--port", "7004", "--cni", "cilium")["allowed"]
    old = _matrix_json(capsys, ENDPORT_FILE, "--port", "7004", "--cni", "cilium-1.15")["allowed"]
    assert new["batch/client"]["batch/worker"] is True  # type: ignore[index]
    assert old["batch/client"]["batch/worker"] is False  # type: ignore[index]


def test_fixture_files_load() -> None:
    assert len(load_cluster(METADATA_FILE).pods) == 3
    assert len(load_cluster(ENDPORT_FILE).policies) == 1


# --- invariants over random clusters ---------------------------------------------------------

WEAKER = ("cilium", "cilium-1.15", "weave-net")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_a_missing_capability_only_ever_removes_connections(cluster: Cluster) -> None:
    """Plugins that match fewer peers or fewer ports isolate the same pods, so every
    connection they allow the specification allows too; Calico is the specification."""
    spec = connectivity_map(cluster.with_cni("spec"))
    assert connectivity_map(cluster.with_cni("calico")).to_dict() == spec.to_dict() | {
        "cni": "calico"
    }
    for name in WEAKER:
        weaker = connectivity_map(cluster.with_cni(name))
        for src in spec.peers:
            for dst in spec.peers:
                assert weaker.ports(src, dst).difference(spec.ports(src, dst)).is_empty
