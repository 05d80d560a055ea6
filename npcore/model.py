"""The NetworkPolicy object model: frozen values mirroring ``networking.k8s.io/v1``.

Rules of this file:

* Attribute names are snake_case copies of the API's JSON names; ``from`` and
  ``except`` (Python keywords) become ``from_`` and ``except_``.
* ``None`` means *absent* (a nil Go pointer or an omitted list) and stays distinct from
  an empty tuple.  Where the API gives both the same meaning, the function that decides
  says so in its docstring, next to the table of combinations.
* Nothing here reads YAML, prints or draws.  ``npcore.load`` builds these values and
  ``npcore.validate`` checks them; the engine may assume they are valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "IPBlock",
    "LabelSelector",
    "LabelSelectorRequirement",
    "NetworkPolicy",
    "NetworkPolicyEgressRule",
    "NetworkPolicyIngressRule",
    "NetworkPolicyPeer",
    "NetworkPolicyPort",
    "Operator",
    "PolicyType",
    "Protocol",
]


class Protocol(StrEnum):
    """``v1.Protocol`` values a NetworkPolicyPort accepts (upper case, as the API requires)."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class PolicyType(StrEnum):
    """``networking/v1.PolicyType``: the directions a policy may isolate."""

    INGRESS = "Ingress"
    EGRESS = "Egress"


class Operator(StrEnum):
    """``metav1.LabelSelectorOperator``."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True)
class LabelSelectorRequirement:
    """One ``matchExpressions`` entry: ``key``, ``operator`` and ``values``.

    ``values`` must be non-empty for ``In``/``NotIn`` and empty for ``Exists``/
    ``DoesNotExist`` (checked by ``npcore.validate``).
    """

    key: str
    operator: Operator
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """``metav1.LabelSelector``: ``matchLabels`` AND ``matchExpressions``.

    "An empty label selector matches all objects" (types.go).  Matching follows
    apimachinery's ``Requirement.Matches``: :func:`npcore.selectors.selector_matches`.
    """

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    @classmethod
    def of(
        cls,
        match_labels: Mapping[str, str] | None = None,
        match_expressions: tuple[LabelSelectorRequirement, ...]
        | list[LabelSelectorRequirement] = (),
    ) -> LabelSelector:
        """Build a selector from a plain mapping (sorted, so equal selectors compare equal)."""
        return cls(tuple(sorted((match_labels or {}).items())), tuple(match_expressions))

    @property
    def is_empty(self) -> bool:
        """``{}``: no labels and no expressions, which selects everything."""
        return not self.match_labels and not self.match_expressions


@dataclass(frozen=True, slots=True)
class IPBlock:
    """``IPBlock``: "a particular CIDR ... that is allowed to the pods matched by a
    NetworkPolicySpec's podSelector. The except entry describes CIDRs that should not be
    included within this rule" (types.go).  Strings are kept as written, for printing;
    :mod:`npcore.ipblock` parses and matches them (:func:`npcore.ipblock.ipblock_contains`).
    """

    cidr: str
    except_: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkPolicyPeer:
    """``NetworkPolicyPeer``: exactly one of ``ip_block`` or a pod/namespace selector pair.

    See :func:`npcore.engine.peer_matches` for the table of combinations.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True)
class NetworkPolicyPort:
    """``NetworkPolicyPort``: protocol (default TCP), a port number or name, an ``endPort``.

    "If this field is not provided, this matches all port names and numbers" (``port``);
    ``endPort`` "indicates that the range of ports from port to endPort if set,
    inclusive, should be allowed" (types.go).
    """

    protocol: Protocol | None = None
    port: int | str | None = None
    end_port: int | None = None

    @property
    def effective_protocol(self) -> Protocol:
        """ "The protocol (TCP, UDP, or SCTP) which traffic must match. If not specified,
        this field defaults to TCP." (types.go)"""
        return self.protocol if self.protocol is not None else Protocol.TCP


@dataclass(frozen=True, slots=True)
class NetworkPolicyIngressRule:
    """``NetworkPolicyIngressRule``: traffic matching ``ports`` AND ``from_`` is allowed.

    An absent or empty ``from_`` matches all sources; an absent or empty ``ports``
    matches all ports (types.go).
    """

    ports: tuple[NetworkPolicyPort, ...] | None = None
    from_: tuple[NetworkPolicyPeer, ...] | None = None

    @property
    def peers(self) -> tuple[NetworkPolicyPeer, ...] | None:
        """The rule's peers (``from``), named as in egress rules for shared code."""
        return self.from_


@dataclass(frozen=True, slots=True)
class NetworkPolicyEgressRule:
    """``NetworkPolicyEgressRule``: traffic matching ``ports`` AND ``to`` is allowed.

    An absent or empty ``to`` matches all destinations; an absent or empty ``ports``
    matches all ports (types.go).
    """

    ports: tuple[NetworkPolicyPort, ...] | None = None
    to: tuple[NetworkPolicyPeer, ...] | None = None

    @property
    def peers(self) -> tuple[NetworkPolicyPeer, ...] | None:
        """The rule's peers (``to``)."""
        return self.to


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """A ``NetworkPolicy`` object (metadata plus spec, flattened).

    ``namespace`` is ``metadata.namespace``; a manifest without one lands in
    ``default``, as ``kubectl apply`` without ``-n`` does.
    """

    name: str
    namespace: str = "default"
    pod_selector: LabelSelector = field(default_factory=LabelSelector)
    ingress: tuple[NetworkPolicyIngressRule, ...] | None = None
    egress: tuple[NetworkPolicyEgressRule, ...] | None = None
    policy_types: tuple[PolicyType, ...] | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()  # metadata.annotations, sorted by key

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    def policy_types_in_effect(self) -> tuple[PolicyType, ...]:
        """The directions this policy isolates, in the order written (``Ingress`` first when
        defaulted): the one place where ``spec.policyTypes`` is defaulted.

        types.go: "If this field is not specified, it will default based on the existence
        of ingress or egress rules; policies that contain an egress section are assumed to
        affect egress, and all policies (whether or not they contain an ingress section)
        are assumed to affect ingress."  An egress section counts only if it has at least
        one rule (the API server's defaulting: ``len(spec.Egress) > 0``).  An explicit
        empty list (``policyTypes: []``) is defaulted the same way: the API server's
        ``SetDefaults_NetworkPolicySpec`` checks ``len(obj.PolicyTypes) == 0``.

        >>> NetworkPolicy("p", policy_types=(PolicyType.EGRESS,)).policy_types_in_effect()
        (<PolicyType.EGRESS: 'Egress'>,)
        """
        if self.policy_types:
            return self.policy_types
        if self.egress:
            return (PolicyType.INGRESS, PolicyType.EGRESS)
        return (PolicyType.INGRESS,)

    def effective_policy_types(self) -> frozenset[PolicyType]:
        """The directions this policy isolates, as a set (:meth:`policy_types_in_effect`).

        >>> sorted(NetworkPolicy("p").effective_policy_types())
        [<PolicyType.INGRESS: 'Ingress'>]
        >>> sorted(NetworkPolicy("p", egress=(NetworkPolicyEgressRule(),)).effective_policy_types())
        [<PolicyType.EGRESS: 'Egress'>, <PolicyType.INGRESS: 'Ingress'>]
        """
        return frozenset(self.policy_types_in_effect())

    def rules(
        self, direction: PolicyType
    ) -> tuple[NetworkPolicyIngressRule, ...] | tuple[NetworkPolicyEgressRule, ...]:
        """The rules of ``direction`` that count: none when the direction is not in the
        effective policyTypes ("rules of a direction that is not in policyTypes are
        ignored"), and none for an absent or empty list ("allows nothing")."""
        if direction not in self.effective_policy_types():
            return ()
        if direction is PolicyType.INGRESS:
            return self.ingress or ()
        return self.egress or ()
