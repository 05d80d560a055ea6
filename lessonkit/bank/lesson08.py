"""Self-checks of lesson 08: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("08-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, predict_connection


@register("08-pod-to-itself")
def _pod_to_itself() -> object:
    locked = scenes.three_tier(lockdown=True)
    return predict_connection(
        locked,
        "shop/db",
        "shop/db",
        3306,
        question="The shop is locked down. Can the db pod connect to its own port 3306?",
        explanation="A pod cannot block access to itself.",
    )


@register("08-kubelet-probe")
def _kubelet_probe() -> object:
    return MultipleChoice(
        "A default deny (ingress) is applied in shop. What happens to the kubelet's HTTP "
        "readiness probe on the web pod?",
        [
            "it fails, so the pod becomes NotReady",
            "it keeps working: node-to-pod traffic is always allowed",
            "it works only if a policy allows the node's IP",
        ],
        1,
        "Traffic from the node a pod runs on is always allowed, so probes keep working.",
        hints=[
            "The kubelet probes from the pod's own node, and that traffic is never blocked.",
            "",
            "No policy is needed: node-to-pod traffic gets through whatever the policies say.",
        ],
    )


@register("08-what-policy-can-do")
def _what_policy_can_do() -> object:
    return MultipleChoice(
        "Which of these can a plain NetworkPolicy do?",
        [
            "allow egress only to api.example.com",
            "allow only GET requests to /health",
            "allow egress to 198.51.100.0/24 on TCP 443",
            "log every denied connection",
        ],
        2,
        "IP blocks, protocols and ports are within reach; names, HTTP and logs are not.",
        hints=[
            "Domain names are not part of the API: use an ipBlock or a plugin's FQDN policy.",
            "NetworkPolicy does not look inside HTTP.",
            "",
            "There is no logging in the API; some plugins offer it separately.",
        ],
    )


@register("08-existing-connections")
def _existing_connections() -> object:
    return MultipleChoice(
        "You applied a deny-all policy while a long-lived connection from web to db was open. "
        "What can you rely on?",
        [
            "the open connection is closed at once",
            "new connections are blocked once the plugin has applied the policy",
            "nothing changes until the pods restart",
        ],
        1,
        "New connections follow the policy once it is programmed; "
        "existing ones depend on the plugin.",
        hints=[
            "Whether open connections are cut is up to the plugin: you cannot rely on it.",
            "",
            "Policies apply to running pods as soon as the plugin has programmed the node.",
        ],
    )
