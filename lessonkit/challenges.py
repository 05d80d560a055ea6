""" "Write it" challenges: the learner writes a policy, sees the flows change, and is
graded by the course's autograder, with the same feedback as ``npgrade``.

Rules of this file:

* lessonkit never imports autograder: :class:`WriteIt` takes the grading callable
  (``grade(exercise_id, text, filename=...)``, which returns an object with ``.passed``,
  ``.text()`` and, optionally, ``_repr_html_``); the lesson's cell passes
  ``autograder.grade.grade``.
* Each challenge is data (:data:`CHALLENGES`): the exercise it is graded as (an id of
  ``autograder/exercises``), the task in the learner's words, the world drawn while they type
  (its pods are pods of the exercise's scenario, checked by tests/test_quiz.py), the
  flows to watch, the starting YAML and the port the truth table opens on (the port
  where a mistake shows).
* Old feedback never outlives an edit: any change in the editor clears it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol as _Interface

from lessonkit import scenes
from lessonkit.diagrams import Flow
from npcore import Cluster, ContainerPort, External, Namespace, Pod, Protocol

__all__ = ["CHALLENGES", "Challenge", "GradeFunction", "WriteIt", "challenge"]


class GradeFunction(_Interface):
    """What :class:`WriteIt` calls: ``autograder.grade.grade`` has this shape."""

    def __call__(self, exercise_id: str, answer_text: str, *, filename: str = ...) -> Any: ...


@dataclass(frozen=True)
class Challenge:
    """One "write it" challenge (see the module's rules)."""

    key: str
    exercise: str
    task: str
    world: Callable[[], Cluster]
    flows: Callable[[], list[Flow]]
    starter: str
    port: tuple[int | str, str]


_SKELETON = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {namespace}
spec:
  podSelector:
    matchLabels: {{}}
"""


def _pod(ns: str, name: str, labels: dict[str, str], *ports: tuple[int, str, str]) -> Pod:
    return Pod(
        ns, name, labels, ports=tuple(ContainerPort(n, Protocol(p), nm) for n, p, nm in ports)
    )


def _prod_dev() -> Cluster:
    """The world of exercise default-deny: prod (frontend, backend) and dev (tester)."""
    return Cluster.build(
        namespaces=[Namespace.named("prod"), Namespace.named("dev")],
        pods=[
            _pod("prod", "frontend", {"app": "frontend"}, (80, "TCP", "http")),
            _pod("prod", "backend", {"app": "backend"}, (8080, "TCP", "http")),
            _pod("dev", "tester", {"app": "tester"}),
        ],
        externals=[External("internet", "198.51.100.10")],
    )


def _partner() -> Cluster:
    """The world of exercise ipblock-except: api and db in shop, CoreDNS, three hosts."""
    return Cluster.build(
        namespaces=[Namespace.named("shop"), Namespace.named("kube-system")],
        pods=[
            _pod("shop", "api", {"app": "api"}, (8080, "TCP", "http")),
            _pod("shop", "db", {"app": "db"}, (5432, "TCP", "postgres")),
            _pod(
                "kube-system",
                "coredns",
                {"k8s-app": "kube-dns"},
                (53, "UDP", "dns"),
                (53, "TCP", "dns-tcp"),
            ),
        ],
        externals=[
            External("partner", "203.0.113.10"),
            External("retired-host", "203.0.113.13"),
            External("internet", "198.51.100.10"),
        ],
    )


def _prod_dev_flows() -> list[Flow]:
    return [
        Flow("dev/tester", "prod/frontend", 80, label="tester -> frontend"),
        Flow("prod/frontend", "prod/backend", 8080, label="frontend -> backend"),
        Flow("prod/backend", "internet", 443, label="backend -> internet"),
        Flow("dev/tester", "internet", 443, label="tester -> internet"),
    ]


def _partner_flows() -> list[Flow]:
    return [
        Flow("shop/api", "partner", 443, label="api -> partner"),
        Flow("shop/api", "retired-host", 443, label="api -> retired host"),
        Flow("shop/api", "shop/db", 5432, label="api -> db"),
        Flow("shop/api", "kube-system/coredns", 53, Protocol.UDP, label="api DNS lookup"),
        Flow("shop/api", "internet", 443, label="api -> internet"),
    ]


def _shop_flows() -> list[Flow]:
    return scenes.three_tier_flows()


def _shop_dns_flows() -> list[Flow]:
    return scenes.three_tier_flows(with_dns=True)


CHALLENGES: dict[str, Challenge] = {
    c.key: c
    for c in (
        Challenge(
            "04-write-db-policy",
            "three-tier-db",
            "Write db-policy in namespace shop: the db pod accepts connections only from the "
            "api pods of shop (label name=api-pod), only on TCP 3306. Nothing else changes.",
            scenes.three_tier,
            _shop_flows,
            _SKELETON.format(name="db-policy", namespace="shop"),
            (3306, "TCP"),
        ),
        Challenge(
            "05-write-lockdown",
            "three-tier-lockdown",
            "Lock the shop down: a default deny for every pod of shop, then exactly the five "
            "rules of lesson 02 (users -> web on TCP 80, web -> api on TCP 8080, api -> db on "
            "TCP 3306) and DNS to kube-dns on UDP and TCP 53 for every pod of shop. You may "
            "write several policies, separated by ---.",
            lambda: scenes.three_tier(with_dns=True),
            _shop_dns_flows,
            scenes.DEFAULT_DENY_YAML,
            (3306, "TCP"),
        ),
        Challenge(
            "06-write-default-deny",
            "default-deny",
            "Write default-deny in namespace prod: every pod of prod, now and later, loses all "
            "ingress and all egress. Pods of dev keep their own traffic.",
            _prod_dev,
            _prod_dev_flows,
            _SKELETON.format(name="default-deny", namespace="prod"),
            (80, "TCP"),
        ),
        Challenge(
            "07-write-ipblock-except",
            "ipblock-except",
            "Write api-egress in namespace shop: the api pod (app=api) may open connections "
            "only to 203.0.113.0/24 on TCP 443 except the host 203.0.113.13, to the db pod on "
            "TCP 5432, and to kube-dns (kube-system, k8s-app=kube-dns) on UDP and TCP 53. "
            "Its incoming traffic does not change.",
            _partner,
            _partner_flows,
            _SKELETON.format(name="api-egress", namespace="shop"),
            (443, "TCP"),
        ),
        Challenge(
            "08-drill-service-port",
            "fix-broken-policy",
            "Drill: the api pod must accept connections only from the web pod of shop, on the "
            "port its container listens on. The colleague's api-policy below locks web out "
            "(every other pod is already kept out). Find why and fix it (one policy, same name).",
            scenes.three_tier,
            _shop_flows,
            scenes.SERVICE_PORT_BUG_YAML,
            (8080, "TCP"),
        ),
        Challenge(
            "08-drill-one-dash",
            "three-tier-db",
            "Drill: only the api pods of shop may reach the database, on TCP 3306. This "
            "db-policy lets the web pod in as well. Find the dash.",
            scenes.three_tier,
            _shop_flows,
            scenes.DB_POLICY_OR_BUG_YAML,
            (3306, "TCP"),
        ),
    )
}


def _result_html(result: Any) -> str:
    render = getattr(result, "_repr_html_", None)
    if callable(render):
        return str(render())
    text = html.escape(str(result.text() if hasattr(result, "text") else result))
    return f'<pre style="white-space:pre-wrap">{text}</pre>'


class WriteIt:
    """A live policy editor (validation, diagram, truth table) with a Check button that
    grades the text with ``grade`` as exercise ``challenge.exercise``.

    ``.editor`` is the :class:`~lessonkit.widgets.PolicyEditor`; ``.feedback`` the
    grader's verdict (cleared by any edit); ``.check(text)`` grades without a widget.
    """

    def __init__(self, item: Challenge, grade: GradeFunction) -> None:
        import ipywidgets as w

        from lessonkit.widgets import PolicyEditor

        self.challenge = item
        self.grade = grade
        self.editor = PolicyEditor(
            item.world(), item.flows(), item.starter, port=item.port, title=None
        )
        self.task = w.HTML(f"<b>Write it.</b> {html.escape(item.task)}")
        self.button = w.Button(description="Check", button_style="primary")
        self.feedback = w.HTML(value="")
        self.feedback.add_class("netpol-grade-feedback")
        self.result: Any = None
        self.button.on_click(self._on_check)
        self.editor.editor.observe(self._clear, names="value")
        self.widget = w.VBox([self.task, self.editor.widget, self.button, self.feedback])
        self.widget.add_class("netpol-write-it")

    def check(self, text: str) -> Any:
        """The grader's result for ``text`` (what ``npgrade EXERCISE FILE`` prints)."""
        return self.grade(self.challenge.exercise, text, filename="policy.yaml")

    def _on_check(self, _: object = None) -> None:
        try:
            self.result = self.check(self.editor.editor.value)
        except Exception as error:  # shown to the learner, never lost
            self.result = None
            self.feedback.value = (
                f'<div role="alert">Could not grade: {html.escape(type(error).__name__)}: '
                f"{html.escape(str(error))}</div>"
            )
            return
        self.feedback.value = _result_html(self.result)

    def _clear(self, _: object = None) -> None:
        self.result = None
        self.feedback.value = ""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = f"Write it: {self.challenge.task}"
        return bundle

    def __repr__(self) -> str:
        return f"Write it: {self.challenge.task}"


def challenge(key: str, grade: GradeFunction) -> WriteIt:
    """The "write it" challenge ``key`` (see :data:`CHALLENGES`), graded with ``grade``."""
    try:
        item = CHALLENGES[key]
    except KeyError:
        known = ", ".join(sorted(CHALLENGES))
        raise KeyError(f"no challenge {key!r}; known: {known}") from None
    return WriteIt(item, grade)
