"""Self-checks of lesson 04: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("04-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, PredictFlows, predict_connection


@register("04-policy-namespace")
def _policy_namespace() -> object:
    return MultipleChoice(
        "db-policy has `namespace: shop`. Which pods can it select?",
        ["pods of any namespace", "pods of the namespace shop", "pods of kube-system"],
        1,
        "A NetworkPolicy only selects pods in its own namespace.",
        hints=[
            "A policy is a namespaced object, like a Pod: it only reaches into its own namespace.",
            "",
            "kube-system is a namespace like any other; db-policy lives in shop.",
        ],
    )


@register("04-relabelled-db")
def _relabelled_db() -> object:
    shop = scenes.three_tier()
    relabelled = scenes.relabel(
        shop.with_policies([scenes.db_policy()]), "shop/db", {"role": "database"}
    )
    return predict_connection(
        relabelled,
        "shop/web",
        "shop/db",
        3306,
        question="Someone relabels the db pod `role=database`. db-policy is unchanged. "
        "Can the web pod now reach the database?",
        explanation="The selector `role: db` no longer matches, so no policy applies to the pod.",
    )


@register("04-predict-db-policy")
def _predict_db_policy() -> object:
    flows = scenes.three_tier_flows()
    protected = scenes.three_tier(with_db_policy=True)
    return PredictFlows(protected, flows, question="db-policy is applied. Predict each connection.")


@register("04-web-to-db-db-policy")
def _web_to_db_db_policy() -> object:
    protected = scenes.three_tier(with_db_policy=True)
    return predict_connection(
        protected,
        "shop/web",
        "shop/db",
        3306,
        question="With db-policy, can the web pod reach the database on TCP 3306?",
    )


@register("04-db-to-web-db-policy")
def _db_to_web_db_policy() -> object:
    protected = scenes.three_tier(with_db_policy=True)
    return predict_connection(
        protected,
        "shop/db",
        "shop/web",
        80,
        question="With db-policy (policyTypes: Ingress), can the db pod open a connection to web?",
        explanation="db-policy isolates the db pod for ingress only, and web is not selected.",
    )


@register("04-no-rules-no-types")
def _no_rules_no_types() -> object:
    return MultipleChoice(
        "A policy selects the api pod and has no rules at all, and no policyTypes. "
        "What does it do?",
        [
            "nothing",
            "blocks all ingress to the api pod",
            "blocks all egress from the api pod",
            "blocks both directions",
        ],
        1,
        "policyTypes defaults to [Ingress] when there are no egress rules; with no ingress "
        "rules, nothing may come in.",
        hints=[
            "Selecting a pod isolates it, even with no rules.",
            "",
            "Egress is isolated only if policyTypes says so or there are egress rules.",
            "Egress is isolated only if policyTypes says so or there are egress rules.",
        ],
    )


@register("04-what-is-port")
def _what_is_port() -> object:
    return MultipleChoice(
        "In db-policy, what is `port: 3306`?",
        [
            "the port the api pod sends from",
            "the port the db pod listens on, where the connection arrives",
            "the port of the db Service",
        ],
        1,
        "Policy ports are the destination pod's ports, where the traffic arrives.",
        hints=[
            "Clients use random source ports; policies never match them.",
            "",
            "Policies see the pod's port, after the Service has forwarded the traffic.",
        ],
    )


@register("04-api-to-db-port-22")
def _api_to_db_port_22() -> object:
    protected = scenes.three_tier(with_db_policy=True)
    return predict_connection(
        protected,
        "shop/api",
        "shop/db",
        22,
        question="With db-policy, can the api pod reach the db pod on TCP 22?",
        explanation="The api pod matches `from`, but 22 is not in `ports`.",
    )


@register("04-api-egress-db")
def _api_egress_db() -> object:
    api_policy = scenes.yaml_by_policy(scenes.LOCKDOWN_YAML)["api"]
    return predict_connection(
        scenes.with_yaml(scenes.three_tier(), api_policy),
        "shop/api",
        "shop/db",
        3306,
        question="With only this policy applied, can the api pod open a connection to db on 3306?",
        explanation="The egress rule allows TCP 3306 to pods labelled role=db.",
    )


@register("04-api-egress-web")
def _api_egress_web() -> object:
    api_policy = scenes.yaml_by_policy(scenes.LOCKDOWN_YAML)["api"]
    return predict_connection(
        scenes.with_yaml(scenes.three_tier(), api_policy),
        "shop/api",
        "shop/web",
        80,
        question="And can the api pod open a connection to the web pod on TCP 80?",
        explanation="The api pod is isolated for egress; no egress rule allows web on 80.",
    )


@register("04-from-monitoring-dev")
def _from_monitoring_dev() -> object:
    return predict_connection(
        scenes.with_yaml(scenes.multi_namespace(), scenes.DB_FROM_MONITORING_YAML),
        "dev/web",
        "prod/db",
        5432,
        question="With db-from-monitoring, can dev/web reach prod/db on TCP 5432?",
        explanation="The only peer selects the namespace monitoring; dev is not it.",
    )


@register("04-notin-missing-label")
def _notin_missing_label() -> object:
    return predict_connection(
        scenes.with_yaml(scenes.multi_namespace(), scenes.DB_NOT_DEV_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="With `env NotIn [dev]`, can Prometheus (namespace monitoring, no env label) "
        "reach prod/db on TCP 5432?",
        explanation="NotIn matches a namespace without the label, so monitoring is selected.",
    )
