"""npcore: decide Kubernetes NetworkPolicy connections exactly as Kubernetes does.

The core takes values and returns values: :mod:`npcore.model` mirrors
``networking.k8s.io/v1``, :mod:`npcore.cluster` holds the injected world, and
:func:`is_allowed`, :func:`matrix` and :func:`connectivity_map` decide.  YAML is read
only by :mod:`npcore.load` (checked by :mod:`npcore.validate`), from text: files,
directories and stdin are read only by the command-line layer, :mod:`npcore.cli`, which
is also the only part that prints or exits.  Text for people is produced by
:mod:`npcore.explain`, :mod:`npcore.describe` and :mod:`npcore.diff`.  (``npcore.diff``
stays the module: use ``from npcore.diff import diff``.)
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
    from npcore.cli.sources import load_cluster, load_files
    from npcore.load import LoadResult, load_sources, load_text, parse_policies

_LAZY = {"LoadResult", "load_sources", "load_text", "parse_policies"}
_FROM_FILES = {"load_cluster", "load_files"}


def __getattr__(name: str) -> Any:
    """Load :mod:`npcore.load` (and PyYAML) only when one of its names is first used, so
    ``import npcore`` stays fast for callers that build values in Python.

    ``load_files`` and ``load_cluster`` (which take file paths) come from the
    command-line layer, :mod:`npcore.cli.sources`: the core itself reads no files."""
    if name in _FROM_FILES:
        from npcore.cli import sources

        value = getattr(sources, name)
    elif name in _LAZY:
        from npcore import load

        value = getattr(load, name)
    else:
        raise AttributeError(f"module 'npcore' has no attribute {name!r}")
    globals()[name] = value
    return value

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
    "load_sources",
    "load_text",
    "matrix",
    "parse_policies",
    "resolve_port",
    "validate_network_policy",
]
