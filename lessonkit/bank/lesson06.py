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


@register("06-choose-plugin")
def _choose_plugin() -> object:
    return MultipleChoice(
        "A new cluster needs a network plugin, and the team will rely on NetworkPolicies. "
        "The installers at hand are Flannel's manifest and Calico's operator. What do you do?",
        [
            "install Flannel: it is the simplest, and policies work on any plugin",
            "install Calico through its operator, then watch calico-node in calico-system",
            "install Flannel, then check that kubectl apply accepts a NetworkPolicy",
        ],
        1,
        "Calico enforces NetworkPolicy; Flannel alone stores policies and ignores them.",
        hints=[
            "Policies are only enforced by a plugin that supports them.",
            "",
            "The API server accepts a policy whatever the plugin: that proves nothing.",
        ],
    )


@register("06-cilium-ipblock")
def _cilium_ipblock() -> object:
    return MultipleChoice(
        "On a Cilium cluster, the pods of a namespace get one egress rule: to ipBlock "
        "0.0.0.0/0 except 169.254.169.254/32. Can they still reach pods of another namespace?",
        [
            "yes: 0.0.0.0/0 contains every pod address",
            "no: on Cilium an ipBlock never matches pods, so add a peer that selects them",
            "only pods on the same node",
        ],
        1,
        "Cilium matches pods by their labels only; ipBlock covers addresses outside the cluster.",
        hints=[
            "That holds on Calico, not on Cilium.",
            "",
            "Cilium does not decide by node here.",
        ],
    )
