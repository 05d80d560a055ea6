"""Self-checks of lesson 01: questions, options, answers and hints, as data.

The lesson shows each with ``quiz.show("01-...")``; see :mod:`lessonkit.bank`.
"""

from __future__ import annotations

from lessonkit.bank._registry import register
from lessonkit.selfcheck import DirectionQuiz, MultipleChoice


@register("01-who-opens-db")
def _who_opens_db() -> object:
    return MultipleChoice(
        "Which server opens a connection to the database server?",
        ["the user's browser", "the web server", "the API server"],
        2,
        "Only the API server talks to the database; the web server asks the API server.",
        hints=["The user only talks to the web server.", "The web server asks the API server.", ""],
    )


@register("01-user-to-web-for-web")
def _user_to_web_for_web() -> object:
    return DirectionQuiz("user", "web", viewpoint="web", what="the user asks for a page")


@register("01-web-to-api-for-web")
def _web_to_api_for_web() -> object:
    return DirectionQuiz("web", "api", viewpoint="web", what="the web server asks for data")


@register("01-the-reply")
def _the_reply() -> object:
    return MultipleChoice(
        "The web server sends the finished page back to the user. "
        "Which connection does this reply travel on?",
        [
            "a new egress connection that the web server opens to the user",
            "the user's own connection to the web server (ingress for the web server)",
            "a new ingress connection into the user's browser",
        ],
        1,
        "A reply belongs to the connection it answers. Rules are written for connections, "
        "named by who starts them: the user started this one.",
        hints=[
            "The web server opens nothing new to answer: it writes back on the open connection.",
            "",
            "The browser receives the page on the connection it opened itself.",
        ],
    )


@register("01-web-to-api-for-api")
def _web_to_api_for_api() -> object:
    return DirectionQuiz("web", "api", viewpoint="api", what="the web server asks for data")


@register("01-api-to-db-for-api")
def _api_to_db_for_api() -> object:
    return DirectionQuiz("api", "db", viewpoint="api", what="a SQL query")


@register("01-api-to-db-for-db")
def _api_to_db_for_db() -> object:
    return DirectionQuiz("api", "db", viewpoint="db", what="a SQL query")
