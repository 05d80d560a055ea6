"""The API server's validation of a NetworkPolicy, on model values (no YAML here).

This mirrors ``pkg/apis/networking/validation/validation.go`` (``ValidateNetworkPolicy``,
``ValidateNetworkPolicySpec``, ``ValidateNetworkPolicyPort``, ``ValidateNetworkPolicyPeer``,
``ValidateIPBlock``), apimachinery's ``ValidateObjectMeta``, ``ValidateLabelSelector`` and
``util/validation`` (``IsDNS1123Subdomain``, ``IsQualifiedName``, ``IsValidLabelValue``,
``IsValidPortNum``, ``IsValidPortName``), with the same paths and wording.  Where a
message would leave a learner guessing, a short hint in parentheses is added after the
Kubernetes text.

Rules of this file:

* Every function collects every problem and returns a list; nothing raises.
* Paths are Kubernetes field paths: ``spec.ingress[0].from[1].ipBlock.except[0]``.
* What the API server accepts is accepted.  In particular ``policyTypes: [Egress]`` with
  ingress rules present is valid (the ingress rules are ignored), and ``policyTypes``
  listing the same type twice is accepted too (validation.go checks only the count and
  the values).
* CIDRs are checked as the API server's default (non-strict) ``IsValidCIDRForLegacyField``
  does: host bits may be set (``10.0.0.1/24``).  One difference: IPv4 octets with leading
  zeros (``010.0.0.0/8``), which the legacy parser reads as decimal, are refused with the
  wording of the API server's strict mode, because they mean octal to other software.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from npcore.errors import FieldError
from npcore.ipblock import CIDR_INVALID as _CIDR_INVALID
from npcore.ipblock import parse_cidr
from npcore.model import (
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Operator,
    PolicyType,
    Protocol,
)

__all__ = [
    "OPERATORS",
    "POLICY_TYPES",
    "PROTOCOLS",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_qualified_name",
    "is_valid_label_value",
    "is_valid_port_name",
    "is_valid_port_num",
    "operator_error",
    "parse_cidr",
    "policy_type_error",
    "protocol_error",
    "validate_annotations",
    "validate_ip_block",
    "validate_label_selector",
    "validate_labels",
    "validate_network_policy",
    "validate_network_policy_peer",
    "validate_network_policy_port",
    "validate_network_policy_spec",
    "validate_object_meta",
]

PROTOCOLS = tuple(p.value for p in Protocol)
POLICY_TYPES = tuple(p.value for p in PolicyType)
OPERATORS = tuple(o.value for o in Operator)

# --- util/validation/validation.go -------------------------------------------------------

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character"
)
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QNAME_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)

_DNS1123_LABEL_RE = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_QNAME_RE = re.compile(f"^{_QNAME_FMT}$")
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_PORT_NAME_CHARSET_RE = re.compile("^[-a-z0-9]+$")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")


def _full(regex: re.Pattern[str], value: str) -> bool:
    # ``re.fullmatch`` rather than ``^...$``: ``$`` also matches before a trailing newline.
    return regex.fullmatch(value) is not None


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``RegexError``: the message, examples and the regex used."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def is_dns1123_label(value: str) -> list[str]:
    """``IsDNS1123Label``: at most 63 lower case alphanumerics or '-', alphanumeric ends."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append(_max_len_error(63))
    if not _full(_DNS1123_LABEL_RE, value):
        if _full(_DNS1123_SUBDOMAIN_RE, value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """``IsDNS1123Subdomain``: at most 253 characters, dot-separated RFC 1123 labels."""
    errs: list[str] = []
    if len(value) > 253:
        errs.append(_max_len_error(253))
    if not _full(_DNS1123_SUBDOMAIN_RE, value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: ``[prefix/]name``, prefix a DNS subdomain, name at most 63."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len_error(63))
    if not _full(_QNAME_RE, name):
        errs.append(
            "name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """``IsValidLabelValue``: empty, or at most 63 characters of the qualified-name set."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append(_max_len_error(63))
    if not _full(_LABEL_VALUE_RE, value):
        errs.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def is_valid_port_num(port: int) -> list[str]:
    """``IsValidPortNum``: 1 to 65535."""
    if 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def is_valid_port_name(port: str) -> list[str]:
    """``IsValidPortName`` (an IANA_SVC_NAME): at most 15 of ``[-a-z0-9]``, one letter..."""
    errs: list[str] = []
    if len(port) > 15:
        errs.append(_max_len_error(15))
    if not _full(_PORT_NAME_CHARSET_RE, port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


# --- meta/v1 validation -------------------------------------------------------------------


def validate_labels(labels: Iterable[tuple[str, str]], path: str) -> list[FieldError]:
    """``ValidateLabels``: keys are qualified names, values label values."""
    errs: list[FieldError] = []
    for key, value in labels:
        errs.extend(FieldError.invalid(path, key, m) for m in is_qualified_name(key))
        errs.extend(FieldError.invalid(path, value, m) for m in is_valid_label_value(value))
    return errs


# apimachinery ``TotalAnnotationSizeLimitB``: keys and values of all annotations together.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_annotations(annotations: Iterable[tuple[str, str]], path: str) -> list[FieldError]:
    """``ValidateAnnotations``: every key, lower-cased, is a qualified name (an optional DNS
    subdomain prefix and ``/``, then a name of at most 63 characters), and the keys and
    values together take at most 256 KiB (``TotalAnnotationSizeLimitB``, counted in UTF-8
    bytes).  Values are free text.

    >>> validate_annotations([("team", "x"), ("example.com/owner", "y")], "metadata.annotations")
    []
    >>> str(validate_annotations([("k", "v" * 262144)], "metadata.annotations")[0])
    'metadata.annotations: Too long: may not be more than 262144 bytes'
    """
    errs: list[FieldError] = []
    total = 0
    for key, value in annotations:
        errs.extend(FieldError.invalid(path, key, m) for m in is_qualified_name(key.lower()))
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(
            FieldError.too_long(
                path, "", f"may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"
            )
        )
    return errs


def validate_label_selector(selector: LabelSelector, path: str) -> list[FieldError]:
    """``ValidateLabelSelector`` and ``ValidateLabelSelectorRequirement``."""
    errs = validate_labels(selector.match_labels, f"{path}.matchLabels")
    for i, req in enumerate(selector.match_expressions):
        req_path = f"{path}.matchExpressions[{i}]"
        operator = str(req.operator)
        if operator in (Operator.IN, Operator.NOT_IN):
            if not req.values:
                errs.append(
                    FieldError.required(
                        f"{req_path}.values",
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    )
                )
        elif operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST):
            if req.values:
                errs.append(
                    FieldError.forbidden(
                        f"{req_path}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                        list(req.values),
                    )
                )
        else:
            errs.append(operator_error(f"{req_path}.operator", operator))
        errs.extend(
            FieldError.invalid(f"{req_path}.key", req.key, m) for m in is_qualified_name(req.key)
        )
        for j, value in enumerate(req.values):
            errs.extend(
                FieldError.invalid(f"{req_path}.values[{j}]", value, m)
                for m in is_valid_label_value(value)
            )
    return errs


def operator_error(path: str, value: object) -> FieldError:
    """A ``matchExpressions`` operator that is not one of the four."""
    supported = ", ".join(OPERATORS)
    return FieldError.invalid(
        path, value, f"not a valid selector operator (use one of {supported}; case matters)"
    )


# --- networking/validation/validation.go --------------------------------------------------


def protocol_error(path: str, value: object) -> FieldError:
    """A protocol other than ``TCP``, ``UDP`` or ``SCTP``."""
    hint = ""
    if isinstance(value, str) and value.upper() in PROTOCOLS:
        hint = f'write it in upper case: "{value.upper()}"'
    return FieldError.not_supported(path, value, PROTOCOLS, hint)


def policy_type_error(path: str, value: object) -> FieldError:
    """A policy type other than ``Ingress`` or ``Egress``."""
    hint = ""
    if isinstance(value, str) and value.capitalize() in POLICY_TYPES:
        hint = f'write it with a capital first letter: "{value.capitalize()}"'
    return FieldError.not_supported(path, value, POLICY_TYPES, hint)


def validate_network_policy_port(port: NetworkPolicyPort, path: str) -> list[FieldError]:
    """``ValidateNetworkPolicyPort``."""
    errs: list[FieldError] = []
    if port.protocol is not None and str(port.protocol) not in PROTOCOLS:
        errs.append(protocol_error(f"{path}.protocol", str(port.protocol)))
    end_path = f"{path}.endPort"
    if port.port is not None:
        if isinstance(port.port, int):
            errs.extend(
                FieldError.invalid(f"{path}.port", port.port, m)
                for m in is_valid_port_num(port.port)
            )
            if port.end_port is not None:
                if port.end_port < port.port:
                    errs.append(
                        FieldError.invalid(
                            end_path, port.end_port, "must be greater than or equal to `port`"
                        )
                    )
                errs.extend(
                    FieldError.invalid(end_path, port.end_port, m)
                    for m in is_valid_port_num(port.end_port)
                )
        else:
            if port.end_port is not None:
                errs.append(
                    FieldError.invalid(
                        end_path,
                        port.end_port,
                        "may not be specified when `port` is non-numeric"
                        " (a port range needs a numeric start port)",
                    )
                )
            errs.extend(
                FieldError.invalid(f"{path}.port", port.port, m)
                for m in is_valid_port_name(port.port)
            )
    elif port.end_port is not None:
        errs.append(
            FieldError.invalid(
                end_path, port.end_port, "may not be specified when `port` is not specified"
            )
        )
    return errs


def validate_ip_block(block: IPBlock, path: str) -> list[FieldError]:
    """``ValidateIPBlock``: a valid ``cidr``; each ``except`` a strict subset of it."""
    if not block.cidr:
        return [FieldError.required(f"{path}.cidr", "an ipBlock needs a cidr, e.g. 10.0.0.0/8")]
    errs: list[FieldError] = []
    cidr, why = parse_cidr(block.cidr)
    if cidr is None:
        return [FieldError.invalid(f"{path}.cidr", block.cidr, why or _CIDR_INVALID)]
    for i, text in enumerate(block.except_):
        except_path = f"{path}.except[{i}]"
        net, why = parse_cidr(text)
        if net is None:
            errs.append(FieldError.invalid(except_path, text, why or _CIDR_INVALID))
            continue
        if (
            net.version != cidr.version
            or net.network_address not in cidr
            or cidr.prefixlen >= net.prefixlen
        ):
            errs.append(
                FieldError.invalid(
                    except_path,
                    text,
                    f"must be a strict subset of `cidr` ({block.cidr}): inside it and smaller",
                )
            )
    return errs


def validate_network_policy_peer(peer: NetworkPolicyPeer, path: str) -> list[FieldError]:
    """``ValidateNetworkPolicyPeer``."""
    errs: list[FieldError] = []
    count = 0
    if peer.pod_selector is not None:
        count += 1
        errs.extend(validate_label_selector(peer.pod_selector, f"{path}.podSelector"))
    if peer.namespace_selector is not None:
        count += 1
        errs.extend(validate_label_selector(peer.namespace_selector, f"{path}.namespaceSelector"))
    if peer.ip_block is not None:
        count += 1
        errs.extend(validate_ip_block(peer.ip_block, f"{path}.ipBlock"))
    if count == 0:
        errs.append(
            FieldError.required(
                path,
                "must specify a peer (one of podSelector, namespaceSelector or ipBlock;"
                " to allow everything, leave out the whole from/to list)",
            )
        )
    elif count > 1 and peer.ip_block is not None:
        errs.append(
            FieldError.forbidden(
                path,
                "may not specify both ipBlock and another peer"
                ' (write them as separate list items, each starting with "- ")',
            )
        )
    return errs


def validate_network_policy_spec(policy: NetworkPolicy, path: str = "spec") -> list[FieldError]:
    """``ValidateNetworkPolicySpec``."""
    errs = validate_label_selector(policy.pod_selector, f"{path}.podSelector")
    for i, ingress in enumerate(policy.ingress or ()):
        rule_path = f"{path}.ingress[{i}]"
        for j, port in enumerate(ingress.ports or ()):
            errs.extend(validate_network_policy_port(port, f"{rule_path}.ports[{j}]"))
        for j, peer in enumerate(ingress.from_ or ()):
            errs.extend(validate_network_policy_peer(peer, f"{rule_path}.from[{j}]"))
    for i, egress in enumerate(policy.egress or ()):
        rule_path = f"{path}.egress[{i}]"
        for j, port in enumerate(egress.ports or ()):
            errs.extend(validate_network_policy_port(port, f"{rule_path}.ports[{j}]"))
        for j, peer in enumerate(egress.to or ()):
            errs.extend(validate_network_policy_peer(peer, f"{rule_path}.to[{j}]"))
    types = policy.policy_types or ()
    if len(types) > len(POLICY_TYPES):
        errs.append(
            FieldError.invalid(
                f"{path}.policyTypes",
                [str(t) for t in types],
                "may not specify more than two policyTypes",
            )
        )
        return errs
    for i, ptype in enumerate(types):
        if str(ptype) not in POLICY_TYPES:
            errs.append(policy_type_error(f"{path}.policyTypes[{i}]", str(ptype)))
    return errs


def validate_object_meta(policy: NetworkPolicy, path: str = "metadata") -> list[FieldError]:
    """``ValidateObjectMeta`` with ``NameIsDNSSubdomain``: name, namespace, labels and
    annotations."""
    errs: list[FieldError] = []
    if not policy.name:
        errs.append(FieldError.required(f"{path}.name", "name or generateName is required"))
    else:
        errs.extend(
            FieldError.invalid(f"{path}.name", policy.name, m)
            for m in is_dns1123_subdomain(policy.name)
        )
    if not policy.namespace:
        errs.append(FieldError.required(f"{path}.namespace"))
    else:
        errs.extend(
            FieldError.invalid(f"{path}.namespace", policy.namespace, m)
            for m in is_dns1123_label(policy.namespace)
        )
    errs.extend(validate_labels(policy.labels, f"{path}.labels"))
    errs.extend(validate_annotations(policy.annotations, f"{path}.annotations"))
    return errs


def validate_network_policy(policy: NetworkPolicy) -> list[FieldError]:
    """``ValidateNetworkPolicy``: every problem the API server would report, in its order.

    >>> from npcore.model import NetworkPolicyIngressRule
    >>> bad = NetworkPolicy("p", ingress=(NetworkPolicyIngressRule(
    ...     ports=(NetworkPolicyPort(port=70000),)),))
    >>> [str(e) for e in validate_network_policy(bad)]
    ['spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive']
    """
    return validate_object_meta(policy) + validate_network_policy_spec(policy)
