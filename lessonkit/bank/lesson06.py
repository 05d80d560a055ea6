"""Self-checks of lesson 06: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("06-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, predict_connection


@register("06-who-blocks")
def _who_blocks() -> object:
    return MultipleChoice(
        "Which component blocks a connection that a NetworkPolicy does not allow?",
        ["the API server", "the network plugin (CNI) on the nodes", "kube-proxy", "the pod itself"],
        1,
        "The API server only stores the policy; the network plugin enforces it.",
        hints=[
            "The API server validates and stores objects; it carries no pod traffic.",
            "",
            "kube-proxy implements Services, not NetworkPolicy.",
            "The application inside the pod knows nothing about policies.",
        ],
    )


@register("06-not-enforcing")
def _not_enforcing() -> object:
    return MultipleChoice(
        "Which of these does NOT enforce NetworkPolicy on its own?",
        ["Calico", "Cilium", "kube-router", "Flannel"],
        3,
        "Flannel provides pod networking only; pair it with a policy controller (Canal, "
        "kube-network-policies) to get enforcement.",
        hints=[
            "Calico enforces NetworkPolicy (and adds its own policy objects).",
            "Cilium enforces NetworkPolicy, with eBPF.",
            "kube-router enforces NetworkPolicy; k3s even embeds it for that.",
            "",
        ],
    )


@register("06-flannel-db-policy")
def _flannel_db_policy() -> object:
    return predict_connection(
        scenes.three_tier(with_db_policy=True, cni="flannel"),
        "shop/web",
        "shop/db",
        3306,
        question="db-policy is applied on a Flannel cluster. Can the web pod reach the database?",
    )


@register("06-prove-it")
def _prove_it() -> object:
    return MultipleChoice(
        "You applied db-policy and `kubectl get netpol -n shop` lists it. "
        "How do you know the database is protected?",
        [
            "kubectl printed `created`, so it is",
            "test web -> db: the connection must fail",
            "kubectl describe netpol shows the rule",
        ],
        1,
        "Only a denied connection that really fails proves enforcement.",
        hints=[
            "The API server accepts policies even when no plugin enforces them.",
            "",
            "describe shows what is stored, not whether anything enforces it.",
        ],
    )
