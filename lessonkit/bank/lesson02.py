"""Self-checks of lesson 02: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("02-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, PredictFlows, predict_connection, which_flow_breaks


@register("02-rule-for-api-to-db")
def _rule_for_api_to_db() -> object:
    return MultipleChoice(
        "Which rule lets the API server open connections to the database server?",
        [
            "an ingress rule on the API server",
            "an egress rule on the API server, to the database on TCP 3306",
            "an egress rule on the database server",
        ],
        1,
        "The API server starts the connection, so the rule is egress, on the API server.",
        hints=[
            "Ingress on the API server is about connections coming in from the web server.",
            "",
            "The database does not start this connection; egress on it is about its own calls.",
        ],
    )


@register("02-predict-five-rules")
def _predict_five_rules() -> object:
    locked = scenes.three_tier(lockdown=True)
    return PredictFlows(
        locked, scenes.three_tier_flows(), question="Predict each connection.", brief=True
    )


@register("02-web-to-db-five-rules")
def _web_to_db_five_rules() -> object:
    locked = scenes.three_tier(lockdown=True)
    return predict_connection(
        locked,
        "shop/web",
        "shop/db",
        3306,
        question="With only the five rules, can the web server reach the database on TCP 3306?",
        explanation="No rule allows web -> db, at either end.",
        brief=True,
    )


@register("02-without-rule-4")
def _without_rule_4() -> object:
    flows = scenes.three_tier_flows()[:3]
    return which_flow_breaks(
        scenes.three_tier(lockdown=True, without="api-egress"),
        flows,
        question="Rule 4 (egress from the API server to the database) is missing. What fails?",
        brief=True,
    )


@register("02-without-rule-1")
def _without_rule_1() -> object:
    flows = scenes.three_tier_flows()[:3]
    return which_flow_breaks(
        scenes.three_tier(lockdown=True, without="web-ingress"),
        flows,
        question="Rule 1 (ingress to the web server on TCP 80) is missing. What fails?",
        brief=True,
    )


@register("02-without-rule-3")
def _without_rule_3() -> object:
    flows = scenes.three_tier_flows()[:3]
    return which_flow_breaks(
        scenes.three_tier(lockdown=True, without="api-ingress"),
        flows,
        question="Rule 3 (ingress to the API server from the web server) is missing. What fails?",
        explanation="The web server may send (rule 2), but the API server does not let it in.",
        brief=True,
    )
