"""Container Network Interface plugins and whether they enforce NetworkPolicy.

"Network policies are implemented by the network plugin. To use network policies, you
must be using a networking solution which supports NetworkPolicy. Creating a
NetworkPolicy resource without a controller that implements it will have no effect."
(kubernetes.io, Network Policies, Prerequisites.)

Facts are stated carefully (see shared/design/teaching.md §2): Flannel alone does not
enforce policies; the API server still accepts and lists them, with no error.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CNI", "DEFAULT_CNI", "KNOWN_CNIS", "UnknownCNIError", "cni_info"]


@dataclass(frozen=True, slots=True)
class CNI:
    """A network plugin: its name, whether it enforces NetworkPolicy, and a note."""

    name: str
    enforces: bool
    note: str


KNOWN_CNIS: dict[str, CNI] = {
    c.name: c
    for c in (
        CNI("calico", True, "Calico enforces NetworkPolicy."),
        CNI("cilium", True, "Cilium enforces NetworkPolicy."),
        CNI("antrea", True, "Antrea enforces NetworkPolicy."),
        CNI("kube-router", True, "kube-router enforces NetworkPolicy."),
        CNI(
            "weave-net",
            True,
            "Weave Net enforced NetworkPolicy (historical: Weaveworks closed in 2024 and the "
            "project is archived).",
        ),
        CNI(
            "romana",
            True,
            "Romana is listed by Kubernetes as supporting NetworkPolicy (historical; check "
            "whether it is still maintained).",
        ),
        CNI("canal", True, "Canal is Flannel for networking plus Calico for policy."),
        CNI(
            "flannel",
            False,
            "Flannel does not enforce NetworkPolicy: policies are accepted and listed, and "
            "have no effect, with no error or warning.",
        ),
    )
}

DEFAULT_CNI = "calico"


class UnknownCNIError(ValueError):
    """A CNI name this project does not know."""


def cni_info(name: str) -> CNI:
    """Look a plugin up by name (case-insensitive; ``weave`` means ``weave-net``).

    >>> cni_info("Flannel").enforces
    False
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    key = {"weave": "weave-net", "weavenet": "weave-net", "kuberouter": "kube-router"}.get(key, key)
    try:
        return KNOWN_CNIS[key]
    except KeyError:
        known = ", ".join(sorted(KNOWN_CNIS))
        raise UnknownCNIError(f"unknown CNI {name!r}; known plugins: {known}") from None
