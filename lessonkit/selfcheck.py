"""The kinds of self-check the lessons use: instant feedback, never graded.

The lessons never build these in a cell (the answer would sit in the cell's source):
they call ``quiz.show("01-...")`` and the questions live as data in
:mod:`lessonkit.bank`.

Rules of this file:

* Every quiz is a plain object first: ``check(choice) -> (correct, feedback)`` decides
  and words the feedback, with no widget involved, so tests call it directly.  The
  ipywidgets UI (``.widget``; shown when the quiz is the last expression of a cell) only
  calls ``check`` and prints what it returns.
* Answers about connections are never typed in by hand: :func:`predict_connection`,
  :func:`which_flow_breaks` and :class:`DirectionQuiz` compute them (npcore's
  :func:`~npcore.is_allowed`, or the definition of ingress and egress), and the reveal is
  npcore's own explanation (:func:`npcore.explain.explain_text`), or, for lessons taught
  before policies are (``brief=True``), a one-line verdict in the words taught so far
  (:func:`brief_verdict`).
* Nothing is scored or recorded.  A wrong answer gets a hint and another try.
* Feedback never relies on colour alone: it starts with "Correct" or "Not quite".
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from npcore import Cluster, Connection, Protocol, Verdict, is_allowed

__all__ = [
    "DirectionQuiz",
    "Expect",
    "FixThisPolicy",
    "MultipleChoice",
    "PredictFlows",
    "PredictThenReveal",
    "brief_verdict",
    "explain_connection",
    "explain_verdict",
    "predict_connection",
    "which_flow_breaks",
]

_CORRECT = "Correct."
_WRONG = "Not quite."


def _option_index(options: Sequence[str], choice: int | str) -> int:
    """The index of ``choice`` (an index, or an option's text, case-insensitive)."""
    if isinstance(choice, bool):
        raise ValueError(f"choose one of the options by number or text, not {choice!r}")
    if isinstance(choice, int):
        if 0 <= choice < len(options):
            return choice
        raise ValueError(f"choice {choice} is out of range: pick 0 to {len(options) - 1}")
    wanted = choice.strip().lower()
    for i, option in enumerate(options):
        if option.strip().lower() == wanted:
            return i
    listed = ", ".join(repr(o) for o in options)
    raise ValueError(f"{choice!r} is not one of the options: {listed}")


def _feedback_html(correct: bool, feedback: str) -> str:
    mark, colour = ("✔", "#1b7837") if correct else ("✘", "#b35806")
    body = html.escape(feedback).replace("\n", "<br>")
    return f'<div style="border-left:4px solid {colour};padding:4px 8px">{mark} {body}</div>'


class _Quiz:
    """Shared display: a question, a choice widget, a button and a feedback area."""

    question: str
    options: Sequence[str]

    def check(self, choice: Any) -> tuple[bool, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _input(self) -> Any:
        import ipywidgets as w

        return w.RadioButtons(options=list(self.options), value=None, layout={"width": "auto"})

    def _after_check(self) -> None:
        """Extra output shown once the learner has answered (nothing by default)."""

    @property
    def widget(self) -> Any:
        """The ipywidgets UI: the question, the options, a Check button, the feedback."""
        import ipywidgets as w

        question = w.HTML(f"<b>{html.escape(self.question)}</b>".replace("\n", "<br>"))
        choice = self._input()
        button = w.Button(description=getattr(self, "button_label", "Check"))
        feedback = w.HTML()
        out = w.Output()

        def on_click(_: Any) -> None:
            out.clear_output()
            if choice.value is None or choice.value == "":
                feedback.value = _feedback_html(False, "Choose an answer first.")
                return
            try:
                correct, text = self.check(choice.value)
            except ValueError as exc:
                feedback.value = _feedback_html(False, str(exc))
                return
            feedback.value = _feedback_html(correct, text)
            with out:
                self._after_check()

        button.on_click(on_click)
        feedback.add_class("netpol-feedback")
        box = w.VBox([question, choice, button, feedback, out])
        box.add_class("netpol-self-check")
        return box

    def _ipython_display_(self) -> None:
        _display_widget(self.widget, repr(self))

    def __repr__(self) -> str:
        lines = [f"Self-check: {self.question}"]
        lines += [f"  {i}. {o}" for i, o in enumerate(self.options)]
        return "\n".join(lines)


@dataclass(frozen=True, eq=False, repr=False)
class MultipleChoice(_Quiz):
    """One question, several options, one right answer, and an explanation.

    ``hints`` (optional, one per option) say why a wrong option is wrong.

    >>> q = MultipleChoice("2 + 2?", ["3", "4"], 1, "Two and two make four.")
    >>> q.check("4")
    (True, 'Correct. Two and two make four.')
    >>> q.check(0)[0]
    False
    """

    question: str
    options: Sequence[str]
    answer_index: int
    explanation: str
    hints: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if len(self.options) < 2:
            raise ValueError("a multiple-choice question needs at least two options")
        if not 0 <= self.answer_index < len(self.options):
            raise ValueError(f"answer_index {self.answer_index} is not an option's index")
        if self.hints is not None and len(self.hints) != len(self.options):
            raise ValueError("give one hint per option (or none)")

    @property
    def answer(self) -> str:
        """The text of the right option."""
        return self.options[self.answer_index]

    def check(self, choice: int | str) -> tuple[bool, str]:
        """Whether ``choice`` (index or text) is right, and what to tell the learner."""
        index = _option_index(self.options, choice)
        if index == self.answer_index:
            return True, f"{_CORRECT} {self.explanation}"
        hint = self.hints[index] if self.hints else ""
        return False, f"{_WRONG} {hint} Try again." if hint else f"{_WRONG} Try again."


def _reveal_text(result: object) -> str:
    """Text for a reveal result: a string, or anything with ``.text()`` (a FlowDiagram)."""
    if isinstance(result, str):
        return result
    text = getattr(result, "text", None)
    if callable(text):
        return str(text())
    return ""


@dataclass(frozen=True, eq=False, repr=False)
class PredictThenReveal(_Quiz):
    """Predict first, then see what really happens.

    ``reveal_fn()`` produces the truth: a string, an object with ``.text()`` (such as a
    ``FlowDiagram``), or a matplotlib figure (shown in the widget only).  With ``options``
    and ``answer_index`` the prediction is checked; without them any prediction is
    welcome and the feedback is the reveal itself.

    >>> q = PredictThenReveal("Is the sky blue?", lambda: "It is.", options=["yes", "no"],
    ...                       answer_index=0)
    >>> q.check("no")
    (False, 'Not quite. Here is what happens:\\nIt is.')
    """

    question: str
    reveal_fn: Callable[[], object]
    options: Sequence[str] = ()
    answer_index: int | None = None
    explanation: str = ""
    button_label: str = field(default="Reveal")

    def __post_init__(self) -> None:
        if (self.answer_index is None) != (not self.options):
            raise ValueError("give both options and answer_index, or neither")
        if self.answer_index is not None and not 0 <= self.answer_index < len(self.options):
            raise ValueError(f"answer_index {self.answer_index} is not an option's index")

    def reveal(self) -> str:
        """The text of what really happens."""
        return _reveal_text(self.reveal_fn())

    def check(self, choice: int | str) -> tuple[bool, str]:
        """Compare the prediction with the truth; the feedback always includes the reveal."""
        reveal = self.reveal()
        tail = f"\n{reveal}" if reveal else ""
        if self.answer_index is None:
            if not str(choice).strip():
                raise ValueError("write down your prediction first")
            return True, f"You predicted: {str(choice).strip()}. Here is what happens:{tail}"
        index = _option_index(self.options, choice)
        extra = f" {self.explanation}" if self.explanation else ""
        if index == self.answer_index:
            return True, f"{_CORRECT}{extra} Here is what happens:{tail}"
        return False, f"{_WRONG}{extra} Here is what happens:{tail}"

    def _input(self) -> Any:
        if self.options:
            return super()._input()
        import ipywidgets as w

        return w.Text(placeholder="your prediction")

    def _after_check(self) -> None:
        result = self.reveal_fn()
        if not isinstance(result, str) and hasattr(result, "savefig"):
            from IPython.display import display

            display(result)  # type: ignore[no-untyped-call]


# --- connections ----------------------------------------------------------------------------


def _endpoint(cluster: Cluster, name: str) -> Any:
    """A pod (``ns/name``) or an external (its name) of ``cluster``."""
    if "/" in name:
        return cluster.pod(name)
    return cluster.external(name)


def explain_verdict(verdict: Verdict) -> str:
    """npcore's reasons for one verdict, in words (:func:`npcore.explain.explain_text`)."""
    from npcore.explain import explain_text

    return explain_text(verdict)


def brief_verdict(verdict: Verdict) -> str:
    """One line in the words of lessons 01-03 (ingress and egress rules, "allowed by
    default"), for reveals shown before NetworkPolicy objects are taught.

    >>> from lessonkit.scenes import three_tier
    >>> brief_verdict(_decide(three_tier(), "shop/web", "shop/db", 3306, "TCP"))
    'shop/web -> shop/db: allowed. Nothing restricts it: with no rules, everything is allowed.'
    """
    src, dst = verdict.connection.src.key, verdict.connection.dst.key
    head = f"{src} -> {dst}"
    if not verdict.enforced:
        return f"{head}: allowed. The network plugin ignores the rules."
    if verdict.allowed:
        if not verdict.egress.isolated and not verdict.ingress.isolated:
            return f"{head}: allowed. Nothing restricts it: with no rules, everything is allowed."
        return f"{head}: allowed. The rules at both ends let it through."
    if verdict.port is None:
        return f"{head}: denied. {dst} has no port of that name."
    sides = []
    if not verdict.egress.allowed:
        sides.append(f"no egress rule of {src} allows it")
    if not verdict.ingress.allowed:
        sides.append(f"no ingress rule of {dst} allows it")
    return f"{head}: denied: {' and '.join(sides)}."


def _reason(verdict: Verdict, brief: bool) -> str:
    return brief_verdict(verdict) if brief else explain_verdict(verdict)


def explain_connection(
    cluster: Cluster, src: str, dst: str, port: int | str, protocol: str = "TCP"
) -> str:
    """Decide ``src -> dst`` on ``cluster`` and explain it (see :func:`explain_verdict`)."""
    return explain_verdict(_decide(cluster, src, dst, port, protocol))


def _decide(cluster: Cluster, src: str, dst: str, port: int | str, protocol: str) -> Verdict:
    connection = Connection(
        _endpoint(cluster, src), _endpoint(cluster, dst), port, Protocol(protocol)
    )
    return is_allowed(cluster, connection)


def predict_connection(
    cluster: Cluster,
    src: str,
    dst: str,
    port: int | str,
    protocol: str = "TCP",
    *,
    question: str | None = None,
    explanation: str = "",
    brief: bool = False,
) -> PredictThenReveal:
    """ "Will ``src`` reach ``dst`` on ``port``?": the answer and the reveal come from npcore
    (its full explanation, or with ``brief`` the one line of :func:`brief_verdict`).

    >>> from lessonkit.scenes import three_tier
    >>> q = predict_connection(three_tier(), "shop/web", "shop/db", 3306)
    >>> q.check("allowed")[0]
    True
    """
    verdict = _decide(cluster, src, dst, port, protocol)
    text = question or f"Predict: can {src} open a connection to {dst} on {protocol} {port}?"
    return PredictThenReveal(
        text,
        lambda: _reason(verdict, brief),
        options=("allowed", "denied"),
        answer_index=0 if verdict.allowed else 1,
        explanation=explanation,
    )


def _flow_name(flow: Any) -> str:
    label = getattr(flow, "label", None)
    return label or f"{flow.src} -> {flow.dst} {flow.protocol} {flow.port}"


def which_flow_breaks(
    cluster: Cluster,
    flows: Sequence[Any],
    *,
    question: str,
    explanation: str = "",
    brief: bool = False,
) -> PredictThenReveal:
    """ "Which of these flows fails?" for flows (``src``, ``dst``, ``port``, ``protocol``,
    ``label``) of which at most one is blocked on ``cluster``; npcore gives the answer.

    The options are the flows' labels and "nothing breaks"; the reveal explains every flow.
    """
    verdicts = [_decide(cluster, f.src, f.dst, f.port, f.protocol) for f in flows]
    blocked = [i for i, v in enumerate(verdicts) if not v.allowed]
    if len(blocked) > 1:
        names = ", ".join(_flow_name(flows[i]) for i in blocked)
        raise ValueError(f"more than one flow is blocked ({names}): ask another question")
    options = (*(_flow_name(f) for f in flows), "nothing breaks")
    text = ("\n" if brief else "\n\n").join(_reason(v, brief) for v in verdicts)
    return PredictThenReveal(
        question,
        lambda: text,
        options=options,
        answer_index=blocked[0] if blocked else len(flows),
        explanation=explanation,
    )


@dataclass(frozen=True, eq=False, repr=False)
class PredictFlows:
    """Predict every flow of a scene (allowed or denied), then reveal the diagram.

    ``flows`` have ``src``, ``dst``, ``port``, ``protocol`` and ``label`` (lessonkit's
    ``Flow``); npcore decides each one.  ``check(choices)`` takes one "allowed" or
    "denied" per flow, in order, and says which predictions hold and why.
    """

    cluster: Cluster
    flows: Sequence[Any]
    question: str = "Predict each connection: allowed or denied?"
    options: Sequence[str] = ("allowed", "denied")
    brief: bool = False

    @property
    def answers(self) -> tuple[str, ...]:
        """npcore's verdict for each flow, as "allowed" or "denied"."""
        return tuple("allowed" if v.allowed else "denied" for v in self._verdicts())

    def _verdicts(self) -> list[Verdict]:
        return [_decide(self.cluster, f.src, f.dst, f.port, f.protocol) for f in self.flows]

    def check(self, choices: Sequence[str]) -> tuple[bool, str]:
        """Whether every prediction holds, with one line per flow."""
        if isinstance(choices, str) or len(choices) != len(self.flows):
            raise ValueError(f"give one prediction per connection ({len(self.flows)} in all)")
        lines = []
        right = 0
        for flow, choice, verdict in zip(self.flows, choices, self._verdicts(), strict=True):
            said = self.options[_option_index(self.options, choice)]
            truth = "allowed" if verdict.allowed else "denied"
            name = _flow_name(flow)
            if said == truth:
                right += 1
                lines.append(f"✔ {name}: {truth}")
            else:
                why = _reason(verdict, self.brief).splitlines()[-1]
                lines.append(f"✘ {name}: you said {said}; {why}")
        total = len(self.flows)
        if right == total:
            return True, f"{_CORRECT} All {total} predictions hold.\n" + "\n".join(lines)
        return False, f"{_WRONG} {right} of {total} right.\n" + "\n".join(lines)

    @property
    def widget(self) -> Any:
        """One allowed/denied toggle per flow, a Reveal button and feedback.  The answer
        diagram is not in the widget at all until every prediction is made: it is drawn
        and appended only when the learner commits (so not even a hidden image or an
        empty placeholder sits in the page before)."""
        import ipywidgets as w

        question = w.HTML(f"<b>{html.escape(self.question)}</b>")
        toggles = [
            w.ToggleButtons(options=list(self.options), value=None, description=_flow_name(f))
            for f in self.flows
        ]
        for toggle in toggles:
            toggle.style.description_width = "initial"
        button = w.Button(description="Reveal")
        feedback = w.HTML()
        feedback.add_class("netpol-feedback")

        def on_click(_: Any) -> None:
            if any(t.value is None for t in toggles):
                feedback.value = _feedback_html(False, "Predict every connection first.")
                return
            feedback.value = _feedback_html(*self.check([t.value for t in toggles]))
            if len(box.children) > len(toggles) + 3:
                return  # already revealed: the diagram does not depend on the predictions
            from lessonkit.diagrams import render

            png, _ = render(self.cluster, list(self.flows))
            picture = w.Image(value=png, format="png", layout=w.Layout(max_width="100%"))
            picture.add_class("netpol-reveal-diagram")
            box.children = (*box.children, picture)

        button.on_click(on_click)
        box = w.VBox([question, *toggles, button, feedback])
        box.add_class("netpol-predict-flows")
        return box

    def _ipython_display_(self) -> None:
        _display_widget(self.widget, repr(self))

    def __repr__(self) -> str:
        lines = [f"Self-check: {self.question}"]
        lines += [f"  - {_flow_name(f)}: allowed or denied?" for f in self.flows]
        return "\n".join(lines)


@dataclass(frozen=True, eq=False, repr=False)
class DirectionQuiz(_Quiz):
    """ "``src`` opens a connection to ``dst``: for ``viewpoint``, ingress or egress?"

    The answer follows from the definition: traffic is named by where the connection
    *starts*, from the point of view of one component.

    >>> DirectionQuiz("web", "api", viewpoint="api").check("ingress")[0]
    True
    """

    src: str
    dst: str
    viewpoint: str
    what: str = ""
    options: Sequence[str] = ("ingress", "egress")

    def __post_init__(self) -> None:
        if self.viewpoint not in (self.src, self.dst):
            raise ValueError(
                f"the viewpoint {self.viewpoint!r} must be one end of the connection "
                f"({self.src!r} or {self.dst!r})"
            )

    @property
    def question(self) -> str:  # type: ignore[override]
        what = f" ({self.what})" if self.what else ""
        return (
            f"{self.src} opens a connection to {self.dst}{what}. "
            f"For {self.viewpoint}, is this ingress or egress traffic?"
        )

    @property
    def answer(self) -> str:
        """``ingress`` if the viewpoint receives the connection, else ``egress``."""
        return "ingress" if self.viewpoint == self.dst else "egress"

    def check(self, choice: str) -> tuple[bool, str]:
        """Whether ``choice`` names the direction right."""
        index = _option_index(self.options, choice)
        right = self.options[index] == self.answer
        if self.answer == "ingress":
            why = (
                f"The connection starts at {self.src} and comes in to {self.viewpoint}: "
                f"ingress for {self.viewpoint}."
            )
        else:
            why = (
                f"{self.viewpoint} starts the connection and it goes out to {self.dst}: "
                f"egress for {self.viewpoint}."
            )
        why += " The reply travels back on the same connection and does not count."
        if right:
            return True, f"{_CORRECT} {why}"
        return (
            False,
            f"{_WRONG} Ask: who starts the connection, and is {self.viewpoint} that one?"
            " Try again.",
        )


# --- fix this policy ----------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One goal of a fix-this-policy exercise: ``src -> dst`` on ``port`` must be
    ``allowed`` (or denied)."""

    src: str
    dst: str
    port: int | str
    allowed: bool
    protocol: str = "TCP"

    def describe(self) -> str:
        """``shop/web -> shop/db TCP 3306 denied``."""
        word = "allowed" if self.allowed else "denied"
        return f"{self.src} -> {self.dst} {self.protocol} {self.port} {word}"


@dataclass(frozen=True, eq=False, repr=False)
class FixThisPolicy:
    """A broken policy to repair in YAML until every goal holds.

    ``cluster`` is the world without the policy being edited; ``check(yaml_text)`` reads
    the learner's YAML with :func:`npcore.load.parse_policies`, adds its policies to
    ``cluster`` (like ``kubectl apply -f``) and tests each :class:`Expect` with npcore.
    The widget is lessonkit's ``PolicyEditor`` (live diagram, errors with line and field)
    plus a Check button.
    """

    cluster: Cluster
    flows: Sequence[Any]
    broken_yaml: str
    goal: Sequence[Expect]
    description: str = "Fix the policy so that every goal below holds."
    port: tuple[int | str, str] | None = None  # where the truth table opens

    @property
    def question(self) -> str:
        """The task, with one line per goal."""
        goals = "\n".join(f"- {g.describe()}" for g in self.goal)
        return f"{self.description}\n{goals}"

    def check(self, yaml_text: str) -> tuple[bool, str]:
        """Whether the policies in ``yaml_text`` meet every goal, and which goals fail."""
        from npcore.errors import ParseError, ValidationError
        from npcore.load import parse_policies

        try:
            policies = parse_policies(yaml_text, "policy.yaml")
        except (ParseError, ValidationError) as error:
            lines = "\n".join(str(e) for e in error.errors)
            return False, f"{_WRONG} The YAML has problems to fix first:\n{lines}"
        if not policies:
            return False, f"{_WRONG} The text holds no NetworkPolicy."
        world = self.cluster.with_policies((*self.cluster.policies, *policies))
        failures = []
        for expect in self.goal:
            verdict = _decide(world, expect.src, expect.dst, expect.port, expect.protocol)
            if verdict.allowed != expect.allowed:
                failures.append(f"want {expect.describe()}, got:\n{explain_verdict(verdict)}")
        if failures:
            return False, f"{_WRONG} " + "\n".join(failures)
        return True, f"{_CORRECT} Every goal holds:\n" + "\n".join(
            f"- {g.describe()}" for g in self.goal
        )

    @property
    def widget(self) -> Any:
        """lessonkit's PolicyEditor with the broken YAML, a goal list and a Check button."""
        import ipywidgets as w

        from lessonkit.widgets import PolicyEditor

        editor = PolicyEditor(self.cluster, list(self.flows), self.broken_yaml, port=self.port)
        goal = w.HTML("<b>" + html.escape(self.question).replace("\n", "<br>") + "</b>")
        button = w.Button(description="Check")
        feedback = w.HTML()

        def on_click(_: Any) -> None:
            feedback.value = _feedback_html(*self.check(editor.editor.value))

        def on_edit(_: Any) -> None:  # old feedback never outlives an edit
            feedback.value = ""

        button.on_click(on_click)
        editor.editor.observe(on_edit, names="value")
        return w.VBox([goal, _editor_widget(editor), button, feedback])

    def _ipython_display_(self) -> None:
        _display_widget(self.widget, repr(self))

    def __repr__(self) -> str:
        return f"Fix this policy: {self.question}\n\n{self.broken_yaml}"


def _display_widget(widget: Any, text: str) -> None:
    """Show ``widget``, with ``text`` (the question) as its plain-text form for static
    viewers and screen readers instead of the widget's class repr."""
    from IPython.display import display

    data = widget._repr_mimebundle_()
    data["text/plain"] = text
    display(data, raw=True)  # type: ignore[no-untyped-call]


def _editor_widget(editor: Any) -> Any:
    """The displayable part of a PolicyEditor (its ``.widget``, or itself)."""
    return getattr(editor, "widget", editor)
