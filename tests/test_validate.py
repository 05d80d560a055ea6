"""npcore.validate: one row per rule of the API server's NetworkPolicy validation.

References (kubernetes/kubernetes):

* pkg/apis/networking/validation/validation.go: ValidateNetworkPolicy, ...Spec, ...Port,
  ...Peer, ValidateIPBlock.
* staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go:
  ValidateLabelSelector, ValidateLabelSelectorRequirement, ValidateLabels.
* staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go: IsDNS1123Subdomain,
  IsDNS1123Label, IsQualifiedName, IsValidLabelValue, IsValidPortNum, IsValidPortName.
* pkg/apis/core/validation/ips.go: IsValidCIDRForLegacyField (non-strict).
* pkg/apis/networking/types.go for the meaning of each field.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npcore.errors import FieldError
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
from npcore.validate import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_port_name,
    parse_cidr,
    validate_network_policy,
)

DNS1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
    "[a-z0-9])?)*')"
)
DNS1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
QNAME = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def ingress_port(**kw: object) -> NetworkPolicy:
    return NetworkPolicy(
        "p",
        ingress=(NetworkPolicyIngressRule(ports=(NetworkPolicyPort(**kw),)),),  # type: ignore[arg-type]
    )


def egress_peer(**kw: object) -> NetworkPolicy:
    return NetworkPolicy(
        "p",
        egress=(NetworkPolicyEgressRule(to=(NetworkPolicyPeer(**kw),)),),  # type: ignore[arg-type]
    )


def ipblock(cidr: str, *excepts: str) -> NetworkPolicy:
    return egress_peer(ip_block=IPBlock(cidr, excepts))


def selector(*exprs: LabelSelectorRequirement, **labels: str) -> NetworkPolicy:
    return NetworkPolicy("p", pod_selector=LabelSelector.of(labels, exprs))


VALID = [
    pytest.param(NetworkPolicy("deny-all"), id="empty-spec-selects-all"),
    pytest.param(NetworkPolicy("a.b-c", namespace="prod-1"), id="name-subdomain-with-dots"),
    pytest.param(
        NetworkPolicy(
            "p",
            ingress=(NetworkPolicyIngressRule(),),
            policy_types=(PolicyType.EGRESS,),
        ),
        id="policyTypes-Egress-with-ingress-rules-is-accepted",
    ),
    pytest.param(
        NetworkPolicy("p", policy_types=(PolicyType.INGRESS, PolicyType.INGRESS)),
        id="policyTypes-duplicates-accepted-like-the-api-server",
    ),
    pytest.param(NetworkPolicy("p", policy_types=()), id="policyTypes-empty"),
    pytest.param(ingress_port(port=1), id="port-1"),
    pytest.param(ingress_port(port=65535), id="port-65535"),
    pytest.param(ingress_port(port=80, end_port=80), id="endPort-equal-port"),
    pytest.param(ingress_port(port=32000, end_port=32768), id="endPort-range"),
    pytest.param(ingress_port(port="http"), id="named-port"),
    pytest.param(ingress_port(port="a-1-b"), id="named-port-hyphens"),
    pytest.param(ingress_port(protocol=Protocol.SCTP), id="protocol-SCTP-no-port"),
    pytest.param(ipblock("10.0.0.1/24"), id="cidr-host-bits-allowed-ParseCIDRSloppy"),
    pytest.param(ipblock("10.0.0.0/8", "10.1.0.0/16", "10.2.3.4/32"), id="except-strict-subsets"),
    pytest.param(ipblock("2001:db8::/32", "2001:db8:1::/48"), id="ipv6"),
    pytest.param(ipblock("0.0.0.0/0", "169.254.169.254/32"), id="everything-but-metadata"),
    pytest.param(
        egress_peer(pod_selector=LabelSelector(), namespace_selector=LabelSelector()),
        id="pod-and-namespace-selector-together",
    ),
    pytest.param(
        selector(
            LabelSelectorRequirement("env", Operator.IN, ("prod", "")),
            LabelSelectorRequirement("example.com/tier", Operator.EXISTS),
            app="db",
        ),
        id="selector-expressions-and-empty-value",
    ),
    pytest.param(
        NetworkPolicy("p", labels=(("app.kubernetes.io/name", "x"),)), id="metadata-labels"
    ),
]


@pytest.mark.parametrize("policy", VALID)
def test_valid(policy: NetworkPolicy) -> None:
    assert validate_network_policy(policy) == []


INVALID = [
    # metadata: ValidateObjectMeta with NameIsDNSSubdomain / ValidateNamespaceName
    pytest.param(
        NetworkPolicy(""),
        "metadata.name",
        "Required value: name or generateName is required",
        id="metadata.name-required",
    ),
    pytest.param(
        NetworkPolicy("Allow_DB"),
        "metadata.name",
        f'Invalid value: "Allow_DB": {DNS1123_SUBDOMAIN}',
        id="metadata.name-dns1123-subdomain",
    ),
    pytest.param(
        NetworkPolicy("a" * 254),
        "metadata.name",
        f'Invalid value: "{"a" * 254}": must be no more than 253 characters',
        id="metadata.name-max-253",
    ),
    pytest.param(
        NetworkPolicy("p", namespace="my.ns"),
        "metadata.namespace",
        'Invalid value: "my.ns": must not contain dots',
        id="metadata.namespace-dns1123-label-no-dots",
    ),
    pytest.param(
        NetworkPolicy("p", namespace="Prod"),
        "metadata.namespace",
        f'Invalid value: "Prod": {DNS1123_LABEL}',
        id="metadata.namespace-dns1123-label",
    ),
    pytest.param(
        NetworkPolicy("p", labels=(("-bad", "x"),)),
        "metadata.labels",
        f'Invalid value: "-bad": name part {QNAME}',
        id="metadata.labels-key-qualified-name",
    ),
    # ValidateLabelSelector / ValidateLabels
    pytest.param(
        selector(**{"app": "a b"}),
        "spec.podSelector.matchLabels",
        f'Invalid value: "a b": {LABEL_VALUE}',
        id="matchLabels-value-label-value",
    ),
    pytest.param(
        selector(**{"app": "x" * 64}),
        "spec.podSelector.matchLabels",
        f'Invalid value: "{"x" * 64}": must be no more than 63 characters',
        id="matchLabels-value-max-63",
    ),
    pytest.param(
        selector(**{"Example.com/app": "x"}),
        "spec.podSelector.matchLabels",
        f'Invalid value: "Example.com/app": prefix part {DNS1123_SUBDOMAIN}',
        id="matchLabels-key-prefix-dns-subdomain",
    ),
    pytest.param(
        selector(**{"/app": "x"}),
        "spec.podSelector.matchLabels",
        'Invalid value: "/app": prefix part must be non-empty',
        id="matchLabels-key-empty-prefix",
    ),
    pytest.param(
        selector(**{"a" * 64: "x"}),
        "spec.podSelector.matchLabels",
        f'Invalid value: "{"a" * 64}": name part must be no more than 63 characters',
        id="matchLabels-key-name-max-63",
    ),
    pytest.param(
        selector(**{"a/b/c": "x"}),
        "spec.podSelector.matchLabels",
        f'Invalid value: "a/b/c": a qualified name {QNAME} with an optional DNS subdomain '
        "prefix and '/' (e.g. 'example.com/MyName')",
        id="matchLabels-key-two-slashes",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", Operator.IN)),
        "spec.podSelector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        id="matchExpressions-In-needs-values",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", Operator.NOT_IN, ())),
        "spec.podSelector.matchExpressions[0].values",
        "Required value: must be specified when `operator` is 'In' or 'NotIn'",
        id="matchExpressions-NotIn-needs-values",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", Operator.EXISTS, ("x",))),
        "spec.podSelector.matchExpressions[0].values",
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        id="matchExpressions-Exists-forbids-values",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", Operator.DOES_NOT_EXIST, ("x",))),
        "spec.podSelector.matchExpressions[0].values",
        "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        id="matchExpressions-DoesNotExist-forbids-values",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", "in", ("x",))),  # type: ignore[arg-type]
        "spec.podSelector.matchExpressions[0].operator",
        'Invalid value: "in": not a valid selector operator'
        " (use one of In, NotIn, Exists, DoesNotExist; case matters)",
        id="matchExpressions-operator",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("-env", Operator.EXISTS)),
        "spec.podSelector.matchExpressions[0].key",
        f'Invalid value: "-env": name part {QNAME}',
        id="matchExpressions-key-qualified-name",
    ),
    pytest.param(
        selector(LabelSelectorRequirement("env", Operator.IN, ("a,b",))),
        "spec.podSelector.matchExpressions[0].values[0]",
        f'Invalid value: "a,b": {LABEL_VALUE}',
        id="matchExpressions-values-label-value",
    ),
    # ValidateNetworkPolicyPort
    pytest.param(
        ingress_port(protocol="tcp"),
        "spec.ingress[0].ports[0].protocol",
        'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'
        ' (write it in upper case: "TCP")',
        id="port-protocol-upper-case",
    ),
    pytest.param(
        ingress_port(protocol="ICMP"),
        "spec.ingress[0].ports[0].protocol",
        'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        id="port-protocol-supported-values",
    ),
    pytest.param(
        ingress_port(port=70000),
        "spec.ingress[0].ports[0].port",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
        id="port-IsValidPortNum-high",
    ),
    pytest.param(
        ingress_port(port=0),
        "spec.ingress[0].ports[0].port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
        id="port-IsValidPortNum-zero",
    ),
    pytest.param(
        ingress_port(port=90, end_port=80),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 80: must be greater than or equal to `port`",
        id="endPort-ge-port",
    ),
    pytest.param(
        ingress_port(port=80, end_port=70000),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
        id="endPort-IsValidPortNum",
    ),
    pytest.param(
        ingress_port(port="http", end_port=90),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is non-numeric"
        " (a port range needs a numeric start port)",
        id="endPort-forbidden-with-named-port",
    ),
    pytest.param(
        ingress_port(end_port=90),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is not specified",
        id="endPort-needs-port",
    ),
    pytest.param(
        ingress_port(port="80"),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "80": must contain at least one letter (a-z)',
        id="named-port-needs-a-letter",
    ),
    pytest.param(
        ingress_port(port="ht_tp"),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "ht_tp": must contain only alpha-numeric characters (a-z, 0-9), and'
        " hyphens (-)",
        id="named-port-charset",
    ),
    pytest.param(
        ingress_port(port="abcdefghijklmnop"),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "abcdefghijklmnop": must be no more than 15 characters',
        id="named-port-max-15",
    ),
    pytest.param(
        ingress_port(port="a--b"),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "a--b": must not contain consecutive hyphens',
        id="named-port-consecutive-hyphens",
    ),
    pytest.param(
        ingress_port(port="-ab"),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "-ab": must not begin or end with a hyphen',
        id="named-port-hyphen-ends",
    ),
    # ValidateNetworkPolicyPeer
    pytest.param(
        egress_peer(),
        "spec.egress[0].to[0]",
        "Required value: must specify a peer (one of podSelector, namespaceSelector or ipBlock;"
        " to allow everything, leave out the whole from/to list)",
        id="peer-must-specify-a-peer",
    ),
    pytest.param(
        egress_peer(pod_selector=LabelSelector(), ip_block=IPBlock("10.0.0.0/8")),
        "spec.egress[0].to[0]",
        "Forbidden: may not specify both ipBlock and another peer"
        ' (write them as separate list items, each starting with "- ")',
        id="peer-ipBlock-alone",
    ),
    pytest.param(
        egress_peer(namespace_selector=LabelSelector.of({"a b": "x"})),
        "spec.egress[0].to[0].namespaceSelector.matchLabels",
        f'Invalid value: "a b": name part {QNAME}',
        id="peer-namespaceSelector-validated",
    ),
    # ValidateIPBlock
    pytest.param(
        ipblock(""),
        "spec.egress[0].to[0].ipBlock.cidr",
        "Required value: an ipBlock needs a cidr, e.g. 10.0.0.0/8",
        id="ipBlock-cidr-required",
    ),
    pytest.param(
        ipblock("10.0.0.0"),
        "spec.egress[0].to[0].ipBlock.cidr",
        f'Invalid value: "10.0.0.0": {CIDR}',
        id="ipBlock-cidr-needs-prefix-length",
    ),
    pytest.param(
        ipblock("10.0.0.0/33"),
        "spec.egress[0].to[0].ipBlock.cidr",
        f'Invalid value: "10.0.0.0/33": {CIDR}',
        id="ipBlock-cidr-prefix-too-long",
    ),
    pytest.param(
        ipblock("10.0.0.0/255.0.0.0"),
        "spec.egress[0].to[0].ipBlock.cidr",
        f'Invalid value: "10.0.0.0/255.0.0.0": {CIDR}',
        id="ipBlock-cidr-netmask-form-refused",
    ),
    pytest.param(
        ipblock("010.0.0.0/8"),
        "spec.egress[0].to[0].ipBlock.cidr",
        'Invalid value: "010.0.0.0/8": must not have leading 0s in IP or prefix length',
        id="ipBlock-cidr-leading-zeros",
    ),
    pytest.param(
        ipblock("10.0.0.0/8", "10.0.0.0/8"),
        "spec.egress[0].to[0].ipBlock.except[0]",
        'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr` (10.0.0.0/8):'
        " inside it and smaller",
        id="ipBlock-except-strict-subset-equal",
    ),
    pytest.param(
        ipblock("10.0.0.0/16", "10.0.0.0/8"),
        "spec.egress[0].to[0].ipBlock.except[0]",
        'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr` (10.0.0.0/16):'
        " inside it and smaller",
        id="ipBlock-except-strict-subset-larger",
    ),
    pytest.param(
        ipblock("10.0.0.0/8", "192.168.0.0/16"),
        "spec.egress[0].to[0].ipBlock.except[0]",
        'Invalid value: "192.168.0.0/16": must be a strict subset of `cidr` (10.0.0.0/8):'
        " inside it and smaller",
        id="ipBlock-except-outside",
    ),
    pytest.param(
        ipblock("10.0.0.0/8", "::/64"),
        "spec.egress[0].to[0].ipBlock.except[0]",
        'Invalid value: "::/64": must be a strict subset of `cidr` (10.0.0.0/8):'
        " inside it and smaller",
        id="ipBlock-except-other-family",
    ),
    pytest.param(
        ipblock("10.0.0.0/8", "10.1.0.0"),
        "spec.egress[0].to[0].ipBlock.except[0]",
        f'Invalid value: "10.1.0.0": {CIDR}',
        id="ipBlock-except-valid-cidr",
    ),
    # policyTypes
    pytest.param(
        NetworkPolicy(
            "p", policy_types=(PolicyType.INGRESS, PolicyType.EGRESS, PolicyType.INGRESS)
        ),
        "spec.policyTypes",
        'Invalid value: ["Ingress", "Egress", "Ingress"]: may not specify more than two'
        " policyTypes",
        id="policyTypes-at-most-two",
    ),
    pytest.param(
        NetworkPolicy("p", policy_types=("ingress",)),  # type: ignore[arg-type]
        "spec.policyTypes[0]",
        'Unsupported value: "ingress": supported values: "Egress", "Ingress"'
        ' (write it with a capital first letter: "Ingress")',
        id="policyTypes-supported-values",
    ),
]


@pytest.mark.parametrize(("policy", "path", "message"), INVALID)
def test_invalid(policy: NetworkPolicy, path: str, message: str) -> None:
    errors = validate_network_policy(policy)
    assert [(e.path, e.message) for e in errors] == [(path, message)]
    assert str(errors[0]) == f"{path}: {message}"


def test_collects_every_error_in_api_server_order() -> None:
    policy = NetworkPolicy(
        "Bad_Name",
        ingress=(
            NetworkPolicyIngressRule(
                ports=(NetworkPolicyPort(port=0), NetworkPolicyPort(port="x", end_port=3)),
                from_=(NetworkPolicyPeer(),),
            ),
        ),
        egress=(NetworkPolicyEgressRule(to=(NetworkPolicyPeer(ip_block=IPBlock("bad")),)),),
    )
    paths = [e.path for e in validate_network_policy(policy)]
    assert paths == [
        "metadata.name",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].ports[1].endPort",
        "spec.ingress[0].from[0]",
        "spec.egress[0].to[0].ipBlock.cidr",
    ]


def test_error_kinds_and_values() -> None:
    (error,) = validate_network_policy(ingress_port(port=70000))
    assert error.kind == "Invalid"
    assert error.value == 70000
    (error,) = validate_network_policy(ingress_port(protocol="tcp"))
    assert error.kind == "Unsupported value"
    (error,) = validate_network_policy(egress_peer())
    assert error.kind == "Required"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("http", True), ("h2c", True), ("123", False), ("web-api-1", True), ("", False)],
)
def test_port_name(value: str, ok: bool) -> None:
    assert (is_valid_port_name(value) == []) is ok


def test_helpers_reject_trailing_newline() -> None:
    assert is_dns1123_label("abc\n") != []
    assert is_qualified_name("app\n") != []


@pytest.mark.parametrize(
    "text", ["10.0.0.0/8", "192.168.1.7/24", "::/0", "2001:db8::1/64", "10.0.0.0/08"]
)
def test_parse_cidr_accepts(text: str) -> None:
    network, why = parse_cidr(text)
    assert network is not None and why is None


@pytest.mark.parametrize(
    "text", ["", "10.0.0.0", "10/8", " 10.0.0.0/8", "10.0.0.0/8 ", "fe80::1%eth0/64", "a/b"]
)
def test_parse_cidr_refuses(text: str) -> None:
    network, why = parse_cidr(text)
    assert network is None and why


def test_field_error_str() -> None:
    error = FieldError.invalid("spec.podSelector", 1, "bad")
    assert str(error) == "spec.podSelector: Invalid value: 1: bad"
    assert str(error.at("f.yaml", 3, 5)) == "f.yaml:3:5: spec.podSelector: Invalid value: 1: bad"
    assert str(error.at("<stdin>", 3)) == "<stdin>:3: spec.podSelector: Invalid value: 1: bad"
    assert str(error.at("f.yaml")) == "f.yaml: spec.podSelector: Invalid value: 1: bad"


_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "a", "app", "10.0.0.0/8", "::/0", "http", "TCP", "a/b", "-x"]),
)
_selectors = st.builds(
    LabelSelector,
    st.lists(st.tuples(_text, _text), max_size=3).map(tuple),
    st.lists(
        st.builds(
            LabelSelectorRequirement,
            _text,
            st.sampled_from(list(Operator)),
            st.lists(_text, max_size=3).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
)
_ports = st.builds(
    NetworkPolicyPort,
    st.one_of(st.none(), st.sampled_from(list(Protocol))),
    st.one_of(st.none(), st.integers(-(2**31), 2**31), _text),
    st.one_of(st.none(), st.integers(-(2**31), 2**31)),
)
_peers = st.builds(
    NetworkPolicyPeer,
    st.one_of(st.none(), _selectors),
    st.one_of(st.none(), _selectors),
    st.one_of(st.none(), st.builds(IPBlock, _text, st.lists(_text, max_size=2).map(tuple))),
)
_maybe_list = lambda items: st.one_of(st.none(), st.lists(items, max_size=2).map(tuple))  # noqa: E731
_policies = st.builds(
    NetworkPolicy,
    _text,
    _text,
    _selectors,
    _maybe_list(st.builds(NetworkPolicyIngressRule, _maybe_list(_ports), _maybe_list(_peers))),
    _maybe_list(st.builds(NetworkPolicyEgressRule, _maybe_list(_ports), _maybe_list(_peers))),
    st.one_of(st.none(), st.lists(st.sampled_from(list(PolicyType)), max_size=3).map(tuple)),
    st.lists(st.tuples(_text, _text), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(_policies)
def test_never_raises_and_every_error_is_well_formed(policy: NetworkPolicy) -> None:
    for error in validate_network_policy(policy):
        assert error.path.startswith(("metadata.", "spec."))
        assert error.kind in ("Invalid", "Required", "Forbidden", "Unsupported value")
        assert str(error).startswith(error.path + ": ")
