"""npcore.load: shapes of input, strict decoding, error locations, hostile input, fuzzing.

The API server's behaviour mirrored here: strict decoding (unknown and duplicate fields are
errors: apimachinery's strict JSON/YAML decoding with ``fieldValidation=Strict``, the
default of ``kubectl apply`` since 1.27), pkg/apis/networking/types.go for the fields of a
NetworkPolicy, and pkg/apis/networking/validation/validation.go for what is valid (see
tests/test_validate.py for one row per rule).
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npcore.cli.sources import load_cluster, load_files
from npcore.cluster import NAMESPACE_NAME_LABEL, ContainerPort, ServicePort
from npcore.errors import FieldError, Notice, NpcoreError, ParseError, ValidationError
from npcore.load import (
    Limits,
    LoadResult,
    load_text,
    parse_policies,
    yaml_safe,
)
from npcore.model import (
    IPBlock,
    LabelSelector,
    LabelSelectorRequirement,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Operator,
    PolicyType,
    Protocol,
)

DATA = Path(__file__).parent / "data" / "load"

HEAD = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n"


def policy_text(spec: str) -> str:
    """A NetworkPolicy whose spec is ``spec`` (indented by the caller); spec starts line 5."""
    return HEAD + "spec:\n" + spec


def messages(result: LoadResult) -> list[str]:
    return [str(e) for e in result.errors]


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's parser (when present) and with PyYAML's pure Python one."""
    if request.param == "pure-python":
        monkeypatch.setattr(yaml_safe, "_Loader", yaml.SafeLoader)
    elif not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover
        pytest.skip("libyaml not available")
    return str(request.param)


# --- shapes -------------------------------------------------------------------------------


def test_cluster_fixture(loader: str) -> None:
    result = load_files([DATA / "cluster.yaml"])
    assert result.ok, messages(result)
    cluster = result.cluster
    assert [p.key for p in cluster.pods] == ["shop/db", "shop/web-0", "shop/web-1"]
    db = cluster.pod("shop/db")
    assert db.ip == "10.244.1.5"
    assert db.labels == {"app": "db"}
    assert db.ports == (ContainerPort(5432, Protocol.TCP, "pg"),)
    web = cluster.pod("shop/web-1")
    assert web.labels == {"app": "web"}
    assert web.ports == (ContainerPort(8080, Protocol.TCP, "http"),)
    assert web.ip is not None and web.ip.startswith("10.244.")  # filled by Cluster.build
    (service,) = cluster.services
    assert service.key == "shop/db"
    assert service.selector == {"app": "db"}
    assert service.ports == (
        ServicePort(5432, "pg", Protocol.TCP, "pg"),
        ServicePort(8000, 8000, Protocol.TCP, None),  # targetPort defaults to port
    )
    assert cluster.namespace("shop").labels == {"team": "web", NAMESPACE_NAME_LABEL: "shop"}
    (policy,) = cluster.policies
    assert policy == NetworkPolicy(
        "db-from-web",
        "shop",
        pod_selector=LabelSelector.of({"app": "db"}),
        ingress=(
            NetworkPolicyIngressRule(
                ports=(NetworkPolicyPort(Protocol.TCP, "pg"),),
                from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "web"})),),
            ),
        ),
        policy_types=(PolicyType.INGRESS,),
    )
    assert [str(n) for n in result.notices] == [
        f"{DATA / 'cluster.yaml'}:72: skipped kind Ingress (npcore does not use it)"
    ]
    assert cluster.cni == "calico"


def test_json_list_with_tabs(loader: str) -> None:
    result = load_files([DATA / "list.json"], cni="cilium")
    assert result.ok, messages(result)
    assert [p.key for p in result.cluster.policies] == ["prod/deny-all"]
    assert [p.key for p in result.cluster.pods] == ["prod/a"]
    assert result.cluster.cni == "cilium"


def test_json_text_is_yaml() -> None:
    doc = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "j"},
        "spec": {"egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]},
    }
    (policy,) = parse_policies(json.dumps(doc, indent=2))
    assert policy.egress == (NetworkPolicyEgressRule(ports=(NetworkPolicyPort(Protocol.UDP, 53),)),)
    assert policy.namespace == "default"  # metadata.namespace absent


def test_multi_document_and_empty_documents() -> None:
    text = "---\n" + HEAD + "---\n---\n" + HEAD.replace("name: p", "name: q") + "...\n"
    assert [p.name for p in parse_policies(text)] == ["p", "q"]


def test_directory_and_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEAD)
    (tmp_path / "notes.txt").write_text("not a manifest")
    monkeypatch.setattr("sys.stdin", io.StringIO(HEAD.replace("name: p", "name: s")))
    result = load_files([tmp_path, "-"])
    assert result.ok, messages(result)
    assert [p.name for p in result.cluster.policies] == ["p", "s"]


def test_stdin_errors_are_named_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(HEAD + "spec:\n  podSelector: []\n"))
    result = load_files(["-"])
    assert messages(result) == [
        "<stdin>:6:16: spec.podSelector: Invalid value: a list: must be a mapping"
        " (key: value lines)"
    ]


def test_workloads_give_pods() -> None:
    text = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec:
  replicas: 3
  template:
    metadata: {labels: {app: db}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    metadata: {labels: {app: agent}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  parallelism: 2
  template:
    metadata: {labels: {app: batch}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 0
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  template:
    metadata: {labels: {app: dep}}
"""
    result = load_text(text)
    assert result.ok, messages(result)
    assert [(p.key, dict(p.labels)) for p in result.cluster.pods] == [
        ("data/db-0", {"app": "db"}),
        ("data/db-1", {"app": "db"}),
        ("data/db-2", {"app": "db"}),
        ("default/agent-0", {"app": "agent"}),
        ("default/batch-0", {"app": "batch"}),
        ("default/batch-1", {"app": "batch"}),
        ("default/dep-0", {"app": "dep"}),
    ]


def test_undeclared_namespace_and_pod_ips() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ops}\n"
    cluster = load_cluster(text=text)
    assert cluster.namespace("ops").labels == {NAMESPACE_NAME_LABEL: "ops"}
    assert cluster.pod("ops/a").ip == load_cluster(text=text).pod("ops/a").ip  # stable


def test_lenient_kinds_read_label_text_as_written() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {version: 1.10, on: yes}\n"
        "  annotations: {note: x}\nspec: {nodeName: n1, containers: [{name: c}]}\n"
    )
    result = load_text(text)
    assert result.ok, messages(result)
    assert result.cluster.pod("default/a").labels == {"version": "1.10", "on": "yes"}


def test_replacement_notice() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {v: '1'}}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x, labels: {v: '2'}}\n"
    )
    result = load_text(text, "f.yaml")
    assert result.ok
    assert [p.labels for p in result.cluster.pods] == [{"v": "2"}]
    assert [str(n) for n in result.notices] == [
        "f.yaml:5: replaced pod x/a declared earlier at f.yaml:1"
    ]
    assert result.notices[0] == Notice("replaced pod x/a declared earlier at f.yaml:1", "f.yaml", 5)


def test_replacement_of_a_policy_and_of_a_generated_pod() -> None:
    text = (
        HEAD
        + "---\n"
        + HEAD
        + "spec: {policyTypes: [Egress]}\n---\n"
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n---\n"
        + "apiVersion: v1\nkind: Pod\nmetadata: {name: w-0}\n"
    )
    result = load_text(text, "f.yaml")
    assert result.ok, messages(result)
    assert [p.policy_types for p in result.cluster.policies] == [(PolicyType.EGRESS,)]
    assert [p.key for p in result.cluster.pods] == ["default/w-0"]
    assert [str(n) for n in result.notices] == [
        "f.yaml:6: replaced networkpolicy default/p declared earlier at f.yaml:1",
        "f.yaml:16: replaced pod default/w-0 declared earlier at f.yaml:12 (a pod of Deployment w)",
    ]


def test_every_field_of_a_policy() -> None:
    spec = """
  podSelector:
    matchLabels: {app: db}
    matchExpressions:
    - {key: tier, operator: In, values: [a, b]}
    - {key: canary, operator: DoesNotExist}
  policyTypes: [Ingress, Egress]
  ingress:
  - {}
  - from: []
    ports: []
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: dns}}
    ports:
    - {protocol: UDP, port: 53}
    - {port: 30000, endPort: 32767}
    - {protocol: SCTP}
"""
    (policy,) = parse_policies(policy_text(spec))
    assert policy.pod_selector == LabelSelector.of(
        {"app": "db"},
        [
            LabelSelectorRequirement("tier", Operator.IN, ("a", "b")),
            LabelSelectorRequirement("canary", Operator.DOES_NOT_EXIST),
        ],
    )
    assert policy.ingress == (
        NetworkPolicyIngressRule(),
        NetworkPolicyIngressRule(ports=(), from_=()),
    )
    assert policy.egress == (
        NetworkPolicyEgressRule(
            to=(
                NetworkPolicyPeer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",))),
                NetworkPolicyPeer(
                    pod_selector=LabelSelector.of({"app": "dns"}),
                    namespace_selector=LabelSelector(),
                ),
            ),
            ports=(
                NetworkPolicyPort(Protocol.UDP, 53),
                NetworkPolicyPort(None, 30000, 32767),
                NetworkPolicyPort(Protocol.SCTP),
            ),
        ),
    )
    assert policy.policy_types == (PolicyType.INGRESS, PolicyType.EGRESS)


def test_null_versus_empty() -> None:
    """types.go: an absent list differs from an empty one (None versus ())."""
    (policy,) = parse_policies(policy_text("  ingress:\n  egress: []\n  podSelector:\n"))
    assert policy.ingress is None
    assert policy.egress == ()
    assert policy.pod_selector == LabelSelector()


def test_yaml_merge_keys() -> None:
    text = policy_text(
        "  podSelector: &sel {matchLabels: {app: a}}\n"
        "  ingress:\n  - from:\n    - podSelector:\n        <<: *sel\n"
    )
    (policy,) = parse_policies(text)
    assert policy.ingress is not None
    assert policy.ingress[0].from_ == (
        NetworkPolicyPeer(pod_selector=LabelSelector.of({"app": "a"})),
    )


def test_policy_types_egress_with_ingress_rules_is_valid() -> None:
    (policy,) = parse_policies(policy_text("  policyTypes: [Egress]\n  ingress: [{}]\n"))
    assert policy.policy_types == (PolicyType.EGRESS,)


def test_list_items_paths() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
        "  metadata: {name: a}\n  spec: {ingress: {}}\n"
    )
    assert messages(load_text(text, "l.yaml")) == [
        "l.yaml:7:19: items[0].spec.ingress: Invalid value: a mapping: must be a list of ingress"
        ' rules (start each item on its own line with "- ")'
    ]


# --- errors, exactly ---------------------------------------------------------------------


def test_broken_policy_fixture(loader: str) -> None:
    path = DATA / "broken-policy.yaml"
    result = load_files([path])
    assert not result.ok
    assert result.cluster.policies == ()
    assert [str(e).removeprefix(f"{path}:") for e in result.errors] == [
        "11:7: spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another"
        ' peer (write them as separate list items, each starting with "- ")',
        '14:18: spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16":'
        " must be a strict subset of `cidr` (10.0.0.0/8): inside it and smaller",
        "16:13: spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and"
        " 65535, inclusive",
        '17:17: spec.ingress[0].ports[1].protocol: Unsupported value: "tcp": supported values:'
        ' "SCTP", "TCP", "UDP" (write it in upper case: "TCP")',
        "20:16: spec.ingress[0].ports[2].endPort: Invalid value: 90: may not be specified when"
        " `port` is non-numeric (a port range needs a numeric start port)",
        '23:7: spec.egress[0].to[0].podSelecter: unknown field "podSelecter": did you mean'
        " `podSelector`?",
        "23:7: spec.egress[0].to[0]: Required value: must specify a peer (one of podSelector,"
        " namespaceSelector or ipBlock; to allow everything, leave out the whole from/to list)",
    ]
    error = result.errors[2]
    assert (error.file, error.line, error.column) == (str(path), 16, 13)
    assert (error.kind, error.value, error.path) == (
        "Invalid",
        70000,
        "spec.ingress[0].ports[0].port",
    )


ERRORS = [
    pytest.param(
        policy_text("  podSelecter: {}\n"),
        ['f.yaml:6:3: spec.podSelecter: unknown field "podSelecter": did you mean `podSelector`?'],
        id="unknown-field-did-you-mean",
    ),
    pytest.param(
        policy_text("  Ingress: []\n"),
        ['f.yaml:6:3: spec.Ingress: unknown field "Ingress": did you mean `ingress`?'],
        id="unknown-field-case",
    ),
    pytest.param(
        policy_text("  zzz: 1\n"),
        [
            'f.yaml:6:3: spec.zzz: unknown field "zzz": fields allowed here: egress, ingress,'
            " podSelector, policyTypes"
        ],
        id="unknown-field-lists-allowed",
    ),
    pytest.param(
        policy_text("  podSelector: {app: web}\n"),
        [
            'f.yaml:6:17: spec.podSelector.app: unknown field "app": labels go under'
            " matchLabels, e.g. matchLabels: {app: ...}"
        ],
        id="labels-outside-matchLabels",
    ),
    pytest.param(
        policy_text("  ingress: []\n  ingress: []\n"),
        [
            'f.yaml:7:3: spec.ingress: duplicate field "ingress" (first given at line 6; a key'
            " may appear only once in a mapping)"
        ],
        id="duplicate-field",
    ),
    pytest.param(
        HEAD + "  name: q\n",
        [
            'f.yaml:5:3: metadata.name: duplicate field "name" (first given at line 4; a key may'
            " appear only once in a mapping)"
        ],
        id="duplicate-metadata-name",
    ),
    pytest.param(
        policy_text("  ingress: {}\n"),
        [
            "f.yaml:6:12: spec.ingress: Invalid value: a mapping: must be a list of ingress rules"
            ' (start each item on its own line with "- ")'
        ],
        id="type-ingress-must-be-a-list",
    ),
    pytest.param(
        policy_text("  egress:\n  - ports:\n    - port: 80\n      endPort: '90'\n"),
        [
            'f.yaml:9:16: spec.egress[0].ports[0].endPort: Invalid value: "90": must be an'
            " integer (write the number without quotes)"
        ],
        id="type-endPort-integer",
    ),
    pytest.param(
        policy_text("  egress:\n  - ports:\n    - port: 80.5\n"),
        [
            "f.yaml:8:13: spec.egress[0].ports[0].port: Invalid value: 80.5: must be a port"
            " number or a port name"
        ],
        id="type-port-float",
    ),
    pytest.param(
        policy_text("  egress:\n  - ports:\n    - port: 99999999999\n"),
        [
            "f.yaml:8:13: spec.egress[0].ports[0].port: Invalid value: 99999999999: must be a"
            " 32-bit integer"
        ],
        id="type-port-int32",
    ),
    pytest.param(
        policy_text("  egress:\n  - ports:\n    - port: '80'\n"),
        [
            'f.yaml:8:13: spec.egress[0].ports[0].port: Invalid value: "80": must contain at'
            " least one letter (a-z)"
        ],
        id="quoted-number-is-a-port-name-per-the-api",
    ),
    pytest.param(
        policy_text("  podSelector:\n    matchLabels: {enabled: yes}\n"),
        [
            "f.yaml:7:28: spec.podSelector.matchLabels[enabled]: Invalid value: true: must be a"
            ' string (put it in quotes: "yes")'
        ],
        id="type-label-value-bool",
    ),
    pytest.param(
        policy_text("  podSelector:\n    matchLabels: {app: 'a b'}\n"),
        [
            'f.yaml:7:24: spec.podSelector.matchLabels: Invalid value: "a b": a valid label'
            " must be an empty string or consist of alphanumeric characters, '-', '_' or '.',"
            " and must start and end with an alphanumeric character (e.g. 'MyValue',  or"
            " 'my_value',  or '12345', regex used for validation is"
            " '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        ],
        id="validator-error-placed-at-the-label-value",
    ),
    pytest.param(
        policy_text("  podSelector:\n    matchExpressions:\n    - {key: a, operator: in}\n"),
        [
            'f.yaml:8:26: spec.podSelector.matchExpressions[0].operator: Invalid value: "in":'
            " not a valid selector operator (use one of In, NotIn, Exists, DoesNotExist; case"
            " matters)"
        ],
        id="operator",
    ),
    pytest.param(
        policy_text("  podSelector:\n    matchExpressions:\n    - {key: a}\n"),
        [
            "f.yaml:8:7: spec.podSelector.matchExpressions[0].operator: Required value: one of"
            " In, NotIn, Exists, DoesNotExist"
        ],
        id="operator-required",
    ),
    pytest.param(
        policy_text("  policyTypes: [ingress]\n"),
        [
            'f.yaml:6:17: spec.policyTypes[0]: Unsupported value: "ingress": supported values:'
            ' "Egress", "Ingress" (write it with a capital first letter: "Ingress")'
        ],
        id="policyTypes-value",
    ),
    pytest.param(
        policy_text("  policyTypes: [Ingress, Egress, Ingress]\n"),
        [
            'f.yaml:6:3: spec.policyTypes: Invalid value: ["Ingress", "Egress", "Ingress"]: may'
            " not specify more than two policyTypes"
        ],
        id="policyTypes-count",
    ),
    pytest.param(
        policy_text("  ingress:\n  - from:\n    - podSelector:\n"),
        [
            "f.yaml:8:7: spec.ingress[0].from[0]: Required value: must specify a peer (one of"
            " podSelector, namespaceSelector or ipBlock; to allow everything, leave out the"
            " whole from/to list)"
        ],
        id="null-selector-is-absent-so-no-peer",
    ),
    pytest.param(
        policy_text("  egress:\n  - to:\n    - ipBlock: {except: [10.0.0.0/24]}\n"),
        [
            "f.yaml:8:7: spec.egress[0].to[0].ipBlock.cidr: Required value: an ipBlock needs a"
            " cidr, e.g. 10.0.0.0/8"
        ],
        id="ipBlock-cidr-required",
    ),
    pytest.param(
        HEAD.replace("networking.k8s.io/v1", "extensions/v1beta1"),
        [
            'f.yaml:1:13: apiVersion: Unsupported value: "extensions/v1beta1": no matches for'
            ' kind "NetworkPolicy" in version "extensions/v1beta1" (extensions/v1beta1 no'
            ' longer served since Kubernetes 1.16; use "networking.k8s.io/v1")'
        ],
        id="apiVersion-extensions-v1beta1",
    ),
    pytest.param(
        HEAD.replace("networking.k8s.io/v1", "v1"),
        [
            'f.yaml:1:13: apiVersion: Unsupported value: "v1": no matches for kind'
            ' "NetworkPolicy" in version "v1" (use "networking.k8s.io/v1")'
        ],
        id="apiVersion-v1",
    ),
    pytest.param(
        "kind: NetworkPolicy\nmetadata: {name: p}\n",
        [
            "f.yaml:1:1: apiVersion: Required value: every object needs an apiVersion, e.g."
            ' "apiVersion: networking.k8s.io/v1"'
        ],
        id="apiVersion-missing",
    ),
    pytest.param(
        "apiVersion: v1\nmetadata: {name: p}\n",
        ['f.yaml:1:1: kind: Required value: every object needs a kind, e.g. "kind: NetworkPolicy"'],
        id="kind-missing",
    ),
    pytest.param(
        HEAD.replace("kind: NetworkPolicy", "kind: networkpolicy"),
        [
            'f.yaml:2:7: kind: Unsupported value: "networkpolicy": supported values:'
            ' "DaemonSet", "Deployment", "Job", "Namespace", "NetworkPolicy", "Pod",'
            ' "ReplicaSet", "Service", "StatefulSet" (did you mean `NetworkPolicy`?)'
        ],
        id="kind-case",
    ),
    pytest.param(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {}\n",
        ["f.yaml:3:1: metadata.name: Required value: name or generateName is required"],
        id="metadata-name-required",
    ),
    pytest.param(
        HEAD + "status: {}\n",
        [
            'f.yaml:5:1: status: unknown field "status": fields allowed here: apiVersion, kind,'
            " metadata, spec"
        ],
        id="no-status-in-networking-v1",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.300}\n",
        [
            'f.yaml:4:17: status.podIP: Invalid value: "10.0.0.300": must be a valid IP address,'
            " (e.g. 10.9.8.7 or 2001:db8::ffff)"
        ],
        id="pod-ip",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        "spec: {containers: [{ports: [{containerPort: 80, protocol: udp}]}]}\n",
        [
            'f.yaml:4:60: spec.containers[0].ports[0].protocol: Unsupported value: "udp":'
            ' supported values: "SCTP", "TCP", "UDP" (write it in upper case: "UDP")'
        ],
        id="container-port-protocol",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata: {labels: {a: b}}\n",
        ["f.yaml:3:11: metadata.name: Required value: every Pod needs a name"],
        id="pod-name-required",
    ),
    pytest.param(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 5000}\n",
        ["f.yaml:4:18: spec.replicas: Invalid value: 5000: must be between 0 and 1000 here"],
        id="replicas-cap",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_error_text(text: str, expected: list[str]) -> None:
    result = load_text(text, "f.yaml")
    assert messages(result) == expected
    assert not result.ok


SYNTAX = [
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
        (4, 1),
        "a tab is not allowed for indentation in YAML: indent with spaces",
        id="tab-indentation",
    ),
    pytest.param(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
        (4, 1),
        "YAML syntax error",
        id="unclosed-flow-mapping",
    ),
    pytest.param(
        "spec:\n  podSelector: matchLabels: {app: a}\n",
        (2, 27),
        'check the indentation, and put a value containing ": " in quotes',
        id="mapping-values-not-allowed",
    ),
    pytest.param("- a\n- b\n", (1, 1), "not a list", id="document-is-a-list"),
    pytest.param("hello\n", (1, 1), 'not "hello"', id="document-is-a-scalar"),
    pytest.param("", (1, 1), "no objects found", id="empty-file"),
    pytest.param("# only a comment\n---\n", (1, 1), "no objects found", id="only-comments"),
    pytest.param("a: *nowhere\n", (1, 4), "found undefined alias *nowhere", id="undefined-alias"),
]


@pytest.mark.parametrize(("text", "where", "fragment"), SYNTAX)
def test_syntax_errors(loader: str, text: str, where: tuple[int, int], fragment: str) -> None:
    result = load_text(text, "bad.yaml")
    (error,) = result.errors
    assert (error.file, error.line, error.column) == ("bad.yaml", *where)
    assert fragment in error.message
    assert error.kind == "Syntax"
    assert str(error).startswith(f"bad.yaml:{where[0]}:{where[1]}: ")


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\xfa")
    missing = tmp_path / "missing.yaml"
    result = load_files([binary, missing])
    assert [e.message for e in result.errors] == [
        "not UTF-8 text (byte 1 cannot be decoded)",
        "cannot read: No such file or directory",
    ]
    assert [e.file for e in result.errors] == [str(binary), str(missing)]


# --- public API behaviour ------------------------------------------------------------------


def test_load_cluster_raises_validation_error_with_every_error() -> None:
    text = policy_text("  ingress: {}\n  egress: {}\n")
    with pytest.raises(ValidationError) as info:
        load_cluster(text=text, filename="f.yaml")
    assert len(info.value.errors) == 2
    assert str(info.value).splitlines() == [str(e) for e in info.value.errors]


def test_load_cluster_from_paths() -> None:
    cluster = load_cluster(DATA / "cluster.yaml", DATA / "list.json", cni="flannel")
    assert cluster.cni == "flannel"
    assert len(cluster.policies) == 2


def test_parse_policies_errors() -> None:
    with pytest.raises(ParseError) as parse:
        parse_policies("spec: [", "answer.yaml")
    assert parse.value.errors[0].file == "answer.yaml"
    with pytest.raises(ValidationError) as invalid:
        parse_policies(policy_text("  policyTypes: [Ingress, Egress, Ingress]\n"))
    assert [e.path for e in invalid.value.errors] == ["spec.policyTypes"]
    with pytest.raises(ParseError, match="expected only NetworkPolicy objects here"):
        parse_policies("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    with pytest.raises(ParseError, match="found kind ConfigMap"):
        parse_policies("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    assert issubclass(ParseError, NpcoreError) and issubclass(ValidationError, ValueError)


def test_parse_error_str_lists_every_error() -> None:
    errors = (FieldError.syntax("one").at("f", 1, 2), FieldError.syntax("two").at("f", 3))
    assert str(ParseError(errors)) == "f:1:2: one\nf:3: two"


# --- hostile input ---------------------------------------------------------------------------

BILLION_LAUGHS = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def test_billion_laughs_refused_quickly(loader: str) -> None:
    """Refused while composing (expanded size counted per anchor), so it takes
    milliseconds; the error is asserted, not the time."""
    result = load_text(BILLION_LAUGHS, "bomb.yaml")
    (error,) = result.errors
    assert "refused: more than 500000 YAML nodes once aliases are expanded" in error.message
    assert error.line is not None


def test_billion_laughs_inside_a_policy_refused() -> None:
    text = HEAD + "spec:\n" + textwrap.indent(BILLION_LAUGHS, "  ")
    result = load_text(text, "bomb.yaml")
    assert any("refused" in e.message for e in result.errors)


@pytest.mark.parametrize("shape", ["flow", "block"])
def test_deep_nesting_refused_quickly(loader: str, shape: str) -> None:
    if shape == "flow":
        text = "[" * 10_000 + "]" * 10_000
    else:
        text = "a:\n" + "".join(" " * i + "- \n" for i in range(1, 1_000))
    result = load_text(text, "deep.yaml")
    (error,) = result.errors
    assert "nest" in error.message
    assert error.line is not None


def test_recursive_alias_refused() -> None:
    (error,) = load_text("&a [*a]").errors
    assert error.message == "refused: alias *a refers to a node that contains it"


def test_alias_count_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 50) + "]\n"
    (error,) = load_text(text, limits=Limits(max_aliases=10)).errors
    assert error.message == "refused: more than 10 aliases (*name)"


def test_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 100 + "\n")
    result = load_files([big], limits=Limits(max_bytes=50))
    assert [str(e) for e in result.errors] == [f"{big}: refused: larger than 50 bytes"]
    assert result.errors[0].kind == "Too long"
    (error,) = load_text("x" * 100, limits=Limits(max_bytes=50)).errors
    assert error.message == "refused: larger than 50 bytes"


def test_huge_integer_is_not_a_traceback() -> None:
    text = policy_text("  egress:\n  - ports:\n    - port: " + "9" * 5000 + "\n")
    (error,) = load_text(text).errors
    assert error.path == "spec.egress[0].ports[0].port"


# --- fuzzing: nothing but npcore's own errors escapes --------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["TCP", "tcp", "Ingress", "In", "10.0.0.0/8", "http", "NetworkPolicy"]),
)
_keys = st.sampled_from(
    [
        "apiVersion",
        "kind",
        "metadata",
        "name",
        "namespace",
        "labels",
        "spec",
        "podSelector",
        "namespaceSelector",
        "matchLabels",
        "matchExpressions",
        "key",
        "operator",
        "values",
        "ingress",
        "egress",
        "from",
        "to",
        "ports",
        "port",
        "endPort",
        "protocol",
        "ipBlock",
        "cidr",
        "except",
        "policyTypes",
        "items",
        "containers",
        "replicas",
        "template",
        "status",
        "podIP",
        "selector",
        "targetPort",
        "containerPort",
    ]
)
_trees = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=5)
    ),
    max_leaves=30,
)
_objects = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["networking.k8s.io/v1", "v1", "apps/v1"]),
        "kind": st.sampled_from(
            ["NetworkPolicy", "Pod", "Service", "Deployment", "Namespace", "List", "Job"]
        ),
    },
    optional={"metadata": _trees, "spec": _trees, "items": st.lists(_trees, max_size=3)},
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_npcore_errors(text: str) -> None:
    result = load_text(text, "fuzz.yaml")
    for error in result.errors:
        assert error.file == "fuzz.yaml"
        str(error)
    with contextlib.suppress(NpcoreError):
        parse_policies(text)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_random_text(text: str) -> None:
    _only_npcore_errors(text)


@FUZZ
@given(st.lists(st.one_of(_objects, _trees), min_size=1, max_size=3))
def test_fuzz_random_structures(documents: list[object]) -> None:
    _only_npcore_errors(yaml.safe_dump_all(documents))
    _only_npcore_errors("\n".join(json.dumps(d) for d in documents))


@FUZZ
@given(st.text(alphabet="ab:-[]{}&*!|>'\"#\n\t ,?%@`", max_size=200))
def test_fuzz_yaml_punctuation(text: str) -> None:
    _only_npcore_errors(text)


# --- small things a learner meets ------------------------------------------------------------


def test_duplicate_policy_types_accepted_with_a_notice() -> None:
    """validation.go checks the count and values of policyTypes, not duplicates."""
    result = load_text(policy_text("  policyTypes: [Ingress, Ingress]\n"), "f.yaml")
    assert result.ok
    assert [str(n) for n in result.notices] == [
        "f.yaml:6: spec.policyTypes lists Ingress twice (the API server accepts this; once is"
        " enough)"
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            "  ingress:\n  - ports: [80]\n",
            "f.yaml:7:13: spec.ingress[0].ports[0]: Invalid value: 80: must be a mapping such as"
            ' "port: 80"',
            id="port-written-as-a-number",
        ),
        pytest.param(
            "  ingress:\n  - from:\n    - app: web\n",
            'f.yaml:8:7: spec.ingress[0].from[0].app: unknown field "app": a peer has'
            " podSelector, namespaceSelector or ipBlock; labels go under podSelector:"
            " {matchLabels: {app: ...}}",
            id="labels-written-as-a-peer",
        ),
        pytest.param(
            "  policyTypes: Egress\n",
            'f.yaml:6:16: spec.policyTypes: Invalid value: "Egress": must be a list of policy'
            " types (write a list, even of one item: [Egress])",
            id="policyTypes-written-as-a-string",
        ),
        pytest.param(
            "  egress:\n  - ports: 53\n",
            "f.yaml:7:12: spec.egress[0].ports: Invalid value: 53: must be a list of ports"
            " (write a list, even of one item: [{port: 53}])",
            id="ports-written-as-a-number",
        ),
    ],
)
def test_hints(spec: str, expected: str) -> None:
    """Each hint follows the Kubernetes-worded message, in parentheses or after a colon."""
    assert messages(load_text(policy_text(spec), "f.yaml"))[0] == expected


def test_long_values_are_shortened_in_messages() -> None:
    result = load_text(policy_text("  podSelector:\n    matchLabels: {app: " + "a" * 400 + "}\n"))
    (error,) = result.errors
    assert error.value == "a" * 400
    assert '"' + "a" * 60 + '"... (400 characters)' in error.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\ufeff" + HEAD, id="byte-order-mark"),
        pytest.param(HEAD.replace("\n", "\r\n"), id="crlf"),
        pytest.param(HEAD + "---\napiVersion: v1\nkind: List\nitems: []\n", id="empty-list"),
    ],
)
def test_text_variants(text: str) -> None:
    assert load_text(text).ok


@pytest.mark.parametrize(
    "scalar",
    [
        pytest.param("1" + ":1" * 100_000, id="base-60-integer"),
        pytest.param("9" * 100_000, id="long-integer"),
        pytest.param("1" * 100_000 + ".5", id="long-float"),
    ],
)
def test_long_numbers_are_cheap(loader: str, scalar: str) -> None:
    """YAML 1.1 reads 1:2:3 as a base-60 integer; converting a long one is quadratic."""
    result = load_text(HEAD.replace("name: p", f"name: {scalar}"))
    assert {e.path for e in result.errors} == {"metadata.name"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        pytest.param(
            "a: 1\nb: x\x00\n",
            (2, 5),
            "YAML syntax error: unacceptable character #x0000:",
            id="control-character",
        ),
        pytest.param("a: 1\nb: x\ud800\n", (2, 5), "not valid Unicode text", id="lone-surrogate"),
    ],
)
def test_bad_characters(loader: str, text: str, where: tuple[int, int], message: str) -> None:
    (error,) = load_text(text, "c.yaml").errors
    assert (error.line, error.column) == where
    assert error.message.startswith(message)


def test_anchors_and_aliases_as_yaml_defines_them() -> None:
    text = policy_text(
        "  podSelector: &sel\n    matchLabels: {a: &v b, c: &v d, e: *v}\n"
        "  ingress: [{from: [{podSelector: *sel}]}]\n"
    )
    (policy,) = parse_policies(text)
    assert policy.pod_selector == LabelSelector.of({"a": "b", "c": "d", "e": "d"})
    assert policy.ingress == (
        NetworkPolicyIngressRule(from_=(NetworkPolicyPeer(pod_selector=policy.pod_selector),)),
    )


def test_limits_are_per_file(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text(HEAD)
    result = load_files([small, small], limits=Limits(max_nodes=15))
    assert result.ok, messages(result)
    (error,) = load_text(HEAD + "---\n" + HEAD, limits=Limits(max_nodes=15)).errors
    assert error.message == "refused: more than 15 YAML nodes once aliases are expanded"
