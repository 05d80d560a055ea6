"""Self-checks of lesson 07: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("07-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, predict_connection


@register("07-read-describe")
def _read_describe() -> object:
    return MultipleChoice(
        "According to this output, which connection does the api pod accept?",
        [
            "from pods labelled name=web-pod, on TCP 8080",
            "from any pod, on TCP 8080",
            "to pods labelled role=db, on TCP 3306",
        ],
        0,
        "'Allowing ingress traffic' lists the sources (From) and ports (To Port) let in.",
        hints=[
            "",
            "Look at the From line under 'Allowing ingress traffic'.",
            "That is what the api pod may reach (egress), not what it accepts.",
        ],
    )


@register("07-namespace-label-missing")
def _namespace_label_missing() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.NAMESPACE_LABEL_BUG_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="The namespace monitoring has no label team=monitoring. "
        "Can Prometheus reach prod/db on TCP 5432?",
        explanation="The namespaceSelector matches no namespace, so the peer matches nothing.",
    )


@register("07-no-namespace")
def _no_namespace() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.NO_NAMESPACE_YAML),
        "dev/web",
        "prod/db",
        5432,
        question="This policy was applied with `kubectl apply -f` in the default namespace. "
        "Can dev/web reach prod/db?",
        explanation="The policy lives in default and selects app=db pods of default: none.",
    )


@register("07-ipblock-partner")
def _ipblock_partner() -> object:
    ipblocked = scenes.with_yaml(scenes.multi_namespace(), scenes.IPBLOCK_EGRESS_YAML)
    return predict_connection(
        ipblocked,
        "prod/web",
        "partner",
        443,
        question="Can prod/web reach the partner (198.51.100.7) on TCP 443?",
    )


@register("07-ipblock-metadata")
def _ipblock_metadata() -> object:
    ipblocked = scenes.with_yaml(scenes.multi_namespace(), scenes.IPBLOCK_EGRESS_YAML)
    return predict_connection(
        ipblocked,
        "prod/web",
        "metadata",
        443,
        question="Can prod/web reach the metadata service (169.254.169.254) on TCP 443?",
        explanation="169.254.169.254 lies inside the cidr 0.0.0.0/0, but also inside its "
        "`except` range 169.254.169.254/32, so the ipBlock peer does not match it.",
    )


@register("07-metadata-port-80")
def _metadata_port_80() -> object:
    ipblocked = scenes.with_yaml(scenes.multi_namespace(), scenes.IPBLOCK_EGRESS_YAML)
    return predict_connection(
        ipblocked,
        "prod/web",
        "metadata",
        80,
        question="Would prod/web reach the metadata service on TCP 80, even without the except?",
        explanation="The only egress rule allows TCP 443; port 80 matches no rule.",
    )


@register("07-named-port")
def _named_port() -> object:
    shop = scenes.three_tier()
    return predict_connection(
        scenes.with_yaml(shop, scenes.NAMED_PORT_YAML),
        "shop/api",
        "shop/db",
        3306,
        question="The db pod's container port 3306 is named mysql. "
        "Can the api pod reach it on TCP 3306 with this policy?",
    )


@register("07-port-range")
def _port_range() -> object:
    return MultipleChoice(
        "Which ports entry allows TCP 32000 to 32768?",
        [
            "port: 32000, endPort: 32768",
            "port: 32000-32768",
            "port: high-ports, endPort: 32768",
        ],
        0,
        "A range is a numeric port plus endPort, both inclusive.",
        hints=[
            "",
            "A port is a number or a name, never a range string.",
            "endPort needs a number.",
        ],
    )


@register("07-merged-rule")
def _merged_rule() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.MERGED_RULE_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="With the merged rule, can Prometheus open a connection to Postgres (5432)?",
        explanation="Peers and ports of one rule combine freely: prometheus x 5432 matches.",
    )


@register("07-split-rules")
def _split_rules() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.SPLIT_RULES_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="With two rules (one per peer and port), can Prometheus reach 5432?",
    )


@register("07-prove-db-policy")
def _prove_db_policy() -> object:
    return MultipleChoice(
        "You added db-policy. Which test proves it works?",
        [
            "ping db from the web pod",
            "nc -zv -w 1 from web to db:3306 times out AND the api pod still reaches db:3306",
            "kubectl get netpol shows db-policy",
        ],
        1,
        "Test both: the denied path fails, and the allowed path still works.",
        hints=[
            "ICMP is not what policies are about; ping may hang or pass either way.",
            "",
            "Listing shows the object exists, not that it is enforced or correct.",
        ],
    )
