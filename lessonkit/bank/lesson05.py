"""Self-checks of lesson 05: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("05-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, PredictFlows, predict_connection, which_flow_breaks


@register("05-second-api-pod")
def _second_api_pod() -> object:
    return MultipleChoice(
        "A second API pod is started with the label name=api-pod. Can it reach the database?",
        ["yes, on TCP 3306", "no, db-policy names one pod", "only after db-policy is re-applied"],
        0,
        "Policies select by labels, not by pod names: every pod labelled name=api-pod in shop "
        "matches, now and later.",
        hints=[
            "",
            "db-policy names no pod: its `from` is a label selector, name=api-pod.",
            "Selectors are evaluated all the time: new pods with matching labels are covered.",
        ],
    )


@register("05-predict-lockdown")
def _predict_lockdown() -> object:
    locked = scenes.with_yaml(scenes.three_tier(with_dns=True), scenes.LOCKDOWN_YAML)
    return PredictFlows(
        locked, scenes.three_tier_flows(with_dns=True), question="Predict each flow."
    )


@register("05-web-without-egress")
def _web_without_egress() -> object:
    return which_flow_breaks(
        scenes.three_tier(lockdown=True, without="web-egress"),
        scenes.three_tier_flows()[:3],
        question="Remove the egress rule from the `web` policy. Which step fails?",
    )


@register("05-two-policies-add-up")
def _two_policies_add_up() -> object:
    protected = scenes.with_yaml(scenes.three_tier(), scenes.DB_POLICY_YAML)
    return predict_connection(
        scenes.with_yaml(protected, scenes.EXTRA_DB_ACCESS_YAML),
        "shop/web",
        "shop/db",
        3306,
        question="db-policy admits only api pods; reports-to-db admits web pods. "
        "Can the web pod reach the database?",
        explanation="The db pod accepts what either policy allows.",
    )


@register("05-stop-web-to-api")
def _stop_web_to_api() -> object:
    return MultipleChoice(
        "The shop is locked down and web -> api must now be stopped. What do you do?",
        [
            "add a policy that denies web -> api",
            "remove the rules that allow it (web's egress to api, api's ingress from web)",
            "apply a deny policy before the others",
        ],
        1,
        "NetworkPolicies only allow; to stop traffic, take away the rule that allows it.",
        hints=[
            "A NetworkPolicy cannot deny: it can only add allowed traffic.",
            "",
            "Order does not matter: policies are a union.",
        ],
    )


@register("05-dns-without-allow-dns")
def _dns_without_allow_dns() -> object:
    return predict_connection(
        scenes.three_tier(lockdown=True, without="dns"),
        "shop/web",
        "kube-system/coredns",
        53,
        "UDP",
        question="Lockdown without the allow-dns policy: can the web pod query kube-dns on UDP 53?",
        explanation="default-deny isolates every shop pod for egress, and nothing allows DNS.",
    )


@register("05-best-dns-rule")
def _best_dns_rule() -> object:
    return MultipleChoice(
        "Which egress rule allows DNS best?",
        [
            "ports: [UDP 53], no `to`",
            "to: kube-dns pods in kube-system; ports: UDP 53 and TCP 53",
            "to: kube-dns pods in kube-system; ports: UDP 53",
        ],
        1,
        "Both protocols, and only to the cluster's DNS pods.",
        hints=[
            "Without `to`, the pod may reach port 53 of any host, and TCP is missing.",
            "",
            "DNS also uses TCP (large answers, some resolvers); lookups then fail at random.",
        ],
    )


@register("05-two-dashes")
def _two_dashes() -> object:
    shop = scenes.three_tier()
    return predict_connection(
        scenes.with_yaml(shop, scenes.DB_POLICY_OR_BUG_YAML),
        "shop/web",
        "shop/db",
        3306,
        question="With this policy (two dashes), can the web pod reach the database?",
        explanation="`- namespaceSelector` alone matches every pod of shop, web included.",
    )


@register("05-one-dash")
def _one_dash() -> object:
    shop = scenes.three_tier()
    return predict_connection(
        scenes.with_yaml(shop, scenes.DB_POLICY_AND_YAML),
        "shop/web",
        "shop/db",
        3306,
        question="With this policy (one dash, both selectors), can the web pod reach the database?",
        explanation="One entry with both selectors: a pod of shop AND labelled name=api-pod.",
    )


@register("05-prometheus-scope-bug")
def _prometheus_scope_bug() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.PROMETHEUS_SCOPE_BUG_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="Can Prometheus reach prod/db on TCP 5432 with this policy?",
        explanation="`podSelector: app=prometheus` looks for such pods in prod, and finds none.",
    )


@register("05-prometheus-fixed")
def _prometheus_fixed() -> object:
    world = scenes.multi_namespace()
    return predict_connection(
        scenes.with_yaml(world, scenes.PROMETHEUS_FIXED_YAML),
        "monitoring/prometheus",
        "prod/db",
        5432,
        question="And with the namespaceSelector added to the same entry?",
    )


@register("05-empty-rule")
def _empty_rule() -> object:
    return MultipleChoice(
        "A policy in shop has `podSelector: {}` and `policyTypes: [Ingress]`, "
        "with `ingress: [{}]`. What does it do?",
        [
            "blocks all ingress to every pod of shop",
            "allows all ingress to every pod of shop",
            "selects no pod, so nothing",
        ],
        1,
        "`{}` selects every pod, and one empty rule matches every source and port.",
        hints=[
            "That would be no ingress rules at all; here there is one empty rule.",
            "",
            "An empty selector selects everything.",
        ],
    )


@register("05-empty-namespace-selector")
def _empty_namespace_selector() -> object:
    return MultipleChoice(
        "`from: [namespaceSelector: {}]` lets in...",
        [
            "every pod of the policy's namespace",
            "every pod of every namespace, and nothing from outside the cluster",
            "everything, including the internet",
        ],
        1,
        "An empty namespaceSelector selects all namespaces; outside addresses need ipBlock.",
        hints=[
            "That is `podSelector: {}`; an empty namespaceSelector spans every namespace.",
            "",
            "Selectors only ever match pods; addresses outside the cluster need an ipBlock.",
        ],
    )


@register("05-service-port")
def _service_port() -> object:
    shop = scenes.three_tier()
    return predict_connection(
        scenes.with_yaml(shop, scenes.SERVICE_PORT_BUG_YAML),
        "shop/web",
        "shop/api",
        8080,
        question="With this policy, does the web pod's call to http://api (Service port 80, "
        "pod port 8080) get through?",
        explanation="The connection arrives on 8080; the policy only allows 80.",
    )
