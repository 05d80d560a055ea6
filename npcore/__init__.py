"""npcore: decide Kubernetes NetworkPolicy connections exactly as Kubernetes does.

The core takes values and returns values: :mod:`npcore.model` mirrors
``networking.k8s.io/v1``, :mod:`npcore.cluster` holds the injected world, and
:func:`is_allowed`, :func:`matrix` and :func:`connectivity_map` decide.  YAML is read
only by :mod:`npcore.load` (checked by :mod:`npcore.validate`); text for people is
produced only at the edges: :mod:`npcore.explain`, :mod:`npcore.describe`,
:mod:`npcore.diff` and :mod:`npcore.cli`.  (``npcore.diff`` stays the module: use
``from npcore.diff import diff``.)
"""

from typing import TYPE_CHECKING, Any

from npcore.cluster import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    External,
    Namespace,
    Pod,
    Service,
    ServicePort,
    UnknownPeerError,
    resolve_port,
)
from npcore.cni import CNI, KNOWN_CNIS, cni_info
from npcore.describe import describe_policies, describe_policy
from npcore.diff import Change, diff_maps
from npcore.engine import (
    Connection,
    DirectionVerdict,
    Isolation,
    RuleMatch,
    RuleMiss,
    Verdict,
    is_allowed,
    isolation,
)
from npcore.errors import FieldError, Notice, NpcoreError, ParseError, ValidationError
from npcore.explain import explain_dict, explain_text
from npcore.flows import Flow, FlowError
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
from npcore.ports import ALL_PORTS, NO_PORTS, PortSet
from npcore.reachability import ConnectivityMap, Matrix, connectivity_map, matrix
from npcore.validate import validate_network_policy

if TYPE_CHECKING:
    from npcore.load import LoadResult, load_cluster, load_files, load_text, parse_policies

_LAZY = {"LoadResult", "load_cluster", "load_files", "load_text", "parse_policies"}


def __getattr__(name: str) -> Any:
    """Load :mod:`npcore.load` (and PyYAML) only when one of its names is first used, so
    ``import npcore`` stays fast for callers that build values in Python."""
    if name in _LAZY:
        from npcore import load

        value = getattr(load, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'npcore' has no attribute {name!r}")

__all__ = [
    "ALL_PORTS",
    "CNI",
    "KNOWN_CNIS",
    "NAMESPACE_NAME_LABEL",
    "NO_PORTS",
    "Change",
    "Cluster",
    "Connection",
    "ConnectivityMap",
    "ContainerPort",
    "DirectionVerdict",
    "External",
    "FieldError",
    "Flow",
    "FlowError",
    "IPBlock",
    "Isolation",
    "LabelSelector",
    "LabelSelectorRequirement",
    "LoadResult",
    "Matrix",
    "Namespace",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "Notice",
    "NpcoreError",
    "Operator",
    "ParseError",
    "Pod",
    "PolicyType",
    "PortSet",
    "Protocol",
    "RuleMatch",
    "RuleMiss",
    "Service",
    "ServicePort",
    "UnknownPeerError",
    "ValidationError",
    "Verdict",
    "cni_info",
    "connectivity_map",
    "describe_policies",
    "describe_policy",
    "diff_maps",
    "explain_dict",
    "explain_text",
    "is_allowed",
    "isolation",
    "load_cluster",
    "load_files",
    "load_text",
    "matrix",
    "parse_policies",
    "resolve_port",
    "validate_network_policy",
]
