"""npcore: decide Kubernetes NetworkPolicy connections exactly as Kubernetes does.

The core takes values and returns values: :mod:`npcore.model` mirrors
``networking.k8s.io/v1``, :mod:`npcore.cluster` holds the injected world, and
:func:`is_allowed`, :func:`matrix` and :func:`connectivity_map` decide.  YAML is read
only by :mod:`npcore.load`; text is produced only by :mod:`npcore.explain`.
"""

from npcore.cluster import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    External,
    Namespace,
    Pod,
    Service,
    ServicePort,
)
from npcore.cni import CNI, KNOWN_CNIS, cni_info
from npcore.engine import Connection, DirectionVerdict, RuleMatch, RuleMiss, Verdict, is_allowed
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

__all__ = [
    "ALL_PORTS",
    "CNI",
    "KNOWN_CNIS",
    "NAMESPACE_NAME_LABEL",
    "NO_PORTS",
    "Cluster",
    "Connection",
    "ConnectivityMap",
    "ContainerPort",
    "DirectionVerdict",
    "External",
    "IPBlock",
    "LabelSelector",
    "LabelSelectorRequirement",
    "Matrix",
    "Namespace",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "Operator",
    "Pod",
    "PolicyType",
    "PortSet",
    "Protocol",
    "RuleMatch",
    "RuleMiss",
    "Service",
    "ServicePort",
    "Verdict",
    "cni_info",
    "connectivity_map",
    "is_allowed",
    "matrix",
]
