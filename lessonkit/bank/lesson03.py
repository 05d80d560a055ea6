"""Self-checks of lesson 03: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("03-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit import scenes
from lessonkit.bank._registry import register
from lessonkit.selfcheck import MultipleChoice, predict_connection


@register("03-pod-ips")
def _pod_ips() -> object:
    return MultipleChoice(
        "Two pods run on the same node. How many IP addresses do they have between them?",
        ["one: the node's", "two: one per pod", "none until a Service is created"],
        1,
        "Every pod has its own IP address, whichever node it runs on.",
        hints=[
            "The node has its own IP, but so does each pod.",
            "",
            "A Service adds an IP of its own; pods have theirs from the start.",
        ],
    )


@register("03-what-to-configure")
def _what_to_configure() -> object:
    return MultipleChoice(
        "What must you configure so that the web pod can open a connection to the api pod's IP?",
        ["a route on each node", "a NetworkPolicy that allows it", "nothing"],
        2,
        "The cluster network already connects every pod to every other pod.",
        hints=[
            "Routing between pods is the network plugin's job, not yours.",
            "Policies restrict traffic; without any, traffic is allowed.",
            "",
        ],
    )


@register("03-service-port")
def _service_port() -> object:
    return MultipleChoice(
        "The web pod calls http://api (the Service, port 80). "
        "On which port does the connection arrive at the api pod?",
        ["80", "8080", "both"],
        1,
        "The Service forwards port 80 to targetPort 8080: the pod only ever sees 8080. "
        "Remember this when you write policy ports (lesson 05).",
        hints=["80 is the Service's port, not the pod's.", "", "Only one port reaches the pod."],
    )


@register("03-web-to-db-no-policy")
def _web_to_db_no_policy() -> object:
    shop = scenes.three_tier()
    return predict_connection(
        shop,
        "shop/web",
        "shop/db",
        3306,
        question="No policy exists yet. Can the web pod connect to the database on TCP 3306?",
        brief=True,
    )


@register("03-which-to-stop")
def _which_to_stop() -> object:
    return MultipleChoice(
        "Which connection do we want to stop?",
        ["user -> web", "web -> api", "api -> db", "web -> db"],
        3,
        "web -> db is not part of any request; only the API server should reach the database.",
        hints=[
            "Without user -> web nobody could open the shop.",
            "The web server needs the API server to build each page.",
            "The API server is the one component that must read the database.",
            "",
        ],
    )
