"""Interactive explorers for the lessons (ipywidgets), built on :mod:`lessonkit.diagrams`.

Rules of this file:

* Every decision comes from npcore; a widget only chooses the inputs (which policies are
  on, which CNI, which YAML) and shows what :func:`lessonkit.diagrams.render` returns.
* The diagram is a PNG in an :class:`ipywidgets.Image`, rendered by a
  :class:`lessonkit.diagrams.FlowCanvas` (a bare Agg figure whose scene is drawn once and
  whose verdicts are redrawn on each change): it does not depend on the notebook's
  matplotlib backend, and its bytes change exactly when the picture changes.
* Callbacks never fail silently: every callback runs through :meth:`_Panel._guard`, which
  shows the exception in the widget's error box (``.error``) and keeps it in
  ``.last_error``; the next successful update clears it.
* Each explorer has a text alternative next to the picture (``FlowDiagram.text()``), for
  screen readers, and a status line (``.message``) with ``role="status"``.
* Display an explorer with ``display(explorer)`` or by leaving it as the last expression
  of a cell; ``.widget`` is the underlying ipywidgets box.
"""

from __future__ import annotations

import functools
import html
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import ipywidgets as W

from lessonkit.diagrams import Flow, FlowCanvas, FlowDiagram
from npcore import KNOWN_CNIS, Cluster, NetworkPolicy, Protocol, cni_info, matrix
from npcore.reachability import Matrix

__all__ = ["FlowExplorer", "PolicyEditor", "error_excerpt", "message_html", "truth_table_html"]


def error_excerpt(text: str, error: Any) -> str:
    r"""One validation error as the learner needs it: the message, then its YAML line
    with a caret under the column (when the error knows its line).

    >>> from npcore.errors import FieldError
    >>> print(error_excerpt("a: 1\nspec:\n  podSelecter: {}\n",
    ...       FieldError("spec.podSelecter", "unknown field", file="p.yaml", line=3, column=3)))
    p.yaml:3:3: spec.podSelecter: unknown field
        3 |   podSelecter: {}
          |   ^
    """
    message = str(error)
    line = getattr(error, "line", None)
    lines = text.splitlines()
    if not isinstance(line, int) or not 1 <= line <= len(lines):
        return message
    column = getattr(error, "column", None)
    number = f"{line:5d} | "
    excerpt = f"{message}\n{number}{lines[line - 1]}"
    if isinstance(column, int) and column >= 1:
        excerpt += "\n" + " " * (len(number) - 2) + "| " + " " * (column - 1) + "^"
    return excerpt


def message_html(cluster: Cluster, diagram: FlowDiagram) -> str:
    """The status line: what the CNI does with policies, and how many flows get through."""
    note = cni_info(cluster.cni).note
    css = "netpol-ok" if diagram.enforced else "netpol-warning"
    return (
        f'<div class="netpol-status {css}" role="status" aria-live="polite">'
        f"<b>{html.escape(note)}</b> {html.escape(diagram.summary)}.</div>"
    )


def truth_table_html(m: Matrix) -> str:
    """An npcore Matrix as an HTML table (rows: from, columns: to), marks and colours."""
    head = "".join(f"<th scope='col'>{html.escape(p)}</th>" for p in m.peers)
    rows = []
    for i, src in enumerate(m.peers):
        cells = []
        for j, dst in enumerate(m.peers):
            ok = m.allowed_at(i, j)
            word = "allowed" if ok else "denied"
            color = "#0072B2" if ok else "#D55E00"
            cells.append(
                f"<td class='netpol-{word}' title='{html.escape(src)} to {html.escape(dst)}: "
                f"{word}' style='color:{color};text-align:center'>{'✓' if ok else '✗'}</td>"
            )
        rows.append(f"<tr><th scope='row'>{html.escape(src)}</th>{''.join(cells)}</tr>")
    caption = f"Who can connect on {m.protocol} {m.port} (rows: from, columns: to)"
    if not m.enforced:
        caption += f"; policies NOT enforced by {m.cni}"
    return (
        f"<table class='netpol-truth-table'><caption>{html.escape(caption)}</caption>"
        f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def _pre(text: str, css: str = "") -> str:
    return f'<pre class="{css}" style="white-space:pre-wrap;margin:0">{html.escape(text)}</pre>'


def _text_alternative(diagram: FlowDiagram) -> str:
    return (
        '<details class="netpol-text-alternative"><summary>Text description of the '
        f"diagram</summary>{_pre(diagram.text())}</details>"
    )


class _Panel:
    """Shared plumbing: the error box, the guard, the picture and its text alternative."""

    def __init__(self) -> None:
        self.error = W.HTML(value="")
        self.error.add_class("netpol-error")
        self.last_error: BaseException | None = None
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.image.add_class("netpol-diagram")
        self.message = W.HTML(value="")
        self.message.add_class("netpol-message")
        self.text_alternative = W.HTML(value="")
        self.diagram: FlowDiagram | None = None
        self.widget: W.Box = W.VBox()
        self._picture: FlowCanvas | None = None

    def _show_error(self, where: str, error: BaseException) -> None:
        self.last_error = error
        detail = "".join(traceback.format_exception(error))
        self.error.value = (
            '<div role="alert" style="color:#D55E00;border:1px solid #D55E00;padding:4px">'
            f"<b>Something went wrong while {html.escape(where)}:</b> "
            f"{html.escape(type(error).__name__)}: {html.escape(str(error))}"
            f"<details><summary>details</summary>{_pre(detail)}</details></div>"
        )

    def _clear_error(self) -> None:
        self.last_error = None
        self.error.value = ""

    def _guard(self, where: str, fn: Callable[..., None]) -> Callable[..., None]:
        """``fn`` wrapped so that an exception is shown in the widget, never lost."""

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                fn(*args, **kwargs)
            except Exception as error:  # shown to the learner, and kept for tests
                self._show_error(where, error)
            else:
                self._clear_error()

        return run

    def _draw(self, cluster: Cluster, flows: list[Flow], title: str | None) -> FlowDiagram:
        if self._picture is None:
            self._picture = FlowCanvas(cluster, flows, title=title)
        data, diagram = self._picture.render(cluster)
        self.image.value = data
        self.diagram = diagram
        self.message.value = message_html(cluster, diagram)
        self.text_alternative.value = _text_alternative(diagram)
        return diagram

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The live widget, with the diagram's text alternative as its plain-text form
        (what static viewers, screen readers and saved notebooks show)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        diagram = getattr(self, "diagram", None)
        if isinstance(bundle, dict) and diagram is not None:
            bundle["text/plain"] = diagram.text()
        return bundle


class FlowExplorer(_Panel):
    """Toggle policies, switch the CNI, pick a connection: see npcore decide.

    ``policies_yaml`` maps a policy (``ns/name`` or ``name``) to the YAML shown next to its
    checkbox.  Attributes: ``.toggles`` (policy key -> Checkbox), ``.cni`` (Dropdown),
    ``.connection`` (Dropdown of flows), ``.explanation`` (npcore's explanation of the
    picked connection), ``.diagram`` (the last :class:`FlowDiagram`), ``.message``,
    ``.policy_yaml`` (policy key -> the YAML shown next to its checkbox).
    """

    def __init__(
        self,
        cluster: Cluster,
        flows: Iterable[Flow],
        *,
        policies_yaml: Mapping[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__()
        self.base = cluster
        self.flows = list(flows)
        self.title = title
        yaml_for = dict(policies_yaml or {})
        self.toggles: dict[str, W.Checkbox] = {}
        self.policy_yaml: dict[str, W.HTML] = {}  # policy key -> its YAML, next to its box
        rows: list[W.Widget] = []
        for policy in cluster.policies:
            box = W.Checkbox(value=True, description=policy.key, indent=False)
            box.add_class("netpol-policy-toggle")
            self.toggles[policy.key] = box
            text = yaml_for.get(policy.key) or yaml_for.get(policy.name)
            parts: list[W.Widget] = [box]
            if text:
                shown = W.HTML(
                    f"<details><summary>YAML</summary>{_pre(text)}</details>",
                    layout=W.Layout(flex="1"),
                )
                self.policy_yaml[policy.key] = shown
                parts.append(shown)
            rows.append(W.HBox(parts))
        self.cni = W.Dropdown(
            options=list(KNOWN_CNIS), value=cluster.cni, description="CNI", style={}
        )
        self.cni.add_class("netpol-cni")
        self.connection = W.Dropdown(
            options=[(f.name, i) for i, f in enumerate(self.flows)],
            value=0 if self.flows else None,
            description="Connection",
            layout=W.Layout(width="max-content"),
        )
        self.connection.add_class("netpol-connection")
        self.explanation = W.HTML(value="")
        self.explanation.add_class("netpol-explanation")

        self._update = self._guard("redrawing the diagram", self._redraw)
        self._explain = self._guard("explaining the connection", self._show_explanation)
        for box in self.toggles.values():
            box.observe(self._update, names="value")
        self.cni.observe(self._update, names="value")
        self.connection.observe(self._explain, names="value")

        policies = (
            W.VBox([W.HTML("<b>Policies</b> (untick to remove one)"), *rows])
            if rows
            else W.HTML("<i>No policies in this scene.</i>")
        )
        self.widget = W.VBox(
            [
                W.HBox([policies, self.cni]),
                self.error,
                self.message,
                self.image,
                self.text_alternative,
                self.connection,
                self.explanation,
            ]
        )
        self.widget.add_class("netpol-flow-explorer")
        self._update()

    @property
    def cluster(self) -> Cluster:
        """The cluster as the controls set it: enabled policies, chosen CNI."""
        on = [p for p in self.base.policies if self.toggles[p.key].value]
        return self.base.with_policies(on).with_cni(self.cni.value)

    @property
    def enabled(self) -> list[str]:
        """Keys of the policies that are switched on."""
        return [key for key, box in self.toggles.items() if box.value]

    def _redraw(self, _change: object = None) -> None:
        self._draw(self.cluster, self.flows, self.title)
        self._show_explanation()

    def _show_explanation(self, _change: object = None) -> None:
        if self.diagram is None or self.connection.value is None:
            self.explanation.value = ""
            return
        arrow = self.diagram.arrows[self.connection.value]
        self.explanation.value = _pre(arrow.explanation, "netpol-explanation-text")


class PolicyEditor(_Panel):
    """Edit policy YAML; every change is checked by npcore and redraws the picture.

    The policies written in the editor are added to ``cluster``'s own policies (like
    ``kubectl apply -f``).  Errors are listed with their file, line, column and field
    (``.errors``); while the text has errors, the diagram and the truth table keep
    showing the last version that had none.
    """

    def __init__(
        self,
        cluster: Cluster,
        flows: Iterable[Flow],
        initial_yaml: str,
        *,
        filename: str = "policy.yaml",
        title: str | None = None,
        port: tuple[int | str, str] | None = None,
    ) -> None:
        super().__init__()
        self.base = cluster
        self.flows = list(flows)
        self.filename = filename
        self.title = title
        self.errors: list[str] = []
        self.policies: tuple[NetworkPolicy, ...] = ()
        self.editor = W.Textarea(
            value=initial_yaml,
            continuous_update=True,
            layout=W.Layout(width="100%", height="22em"),
        )
        self.editor.add_class("netpol-yaml-editor")
        self.error_list = W.HTML(value="")
        self.error_list.add_class("netpol-validation")
        ports = list(dict.fromkeys((f.port, f.protocol.upper()) for f in self.flows))
        if port is not None and (port[0], port[1].upper()) not in ports:
            ports.append((port[0], port[1].upper()))
        first = (port[0], port[1].upper()) if port is not None else ports[0] if ports else None
        self.port = W.Dropdown(
            options=[(f"{proto} {number}", (number, proto)) for number, proto in ports],
            value=first,
            description="Port",
        )
        self.truth_table = W.HTML(value="")
        self.truth_table.add_class("netpol-truth-table")

        self._update = self._guard("checking the YAML", self._check)
        self._table = self._guard("drawing the truth table", self._show_table)
        self.editor.observe(self._update, names="value")
        self.port.observe(self._table, names="value")
        self.widget = W.VBox(
            [
                self.editor,
                self.error_list,
                self.error,
                self.message,
                self.image,
                self.text_alternative,
                self.port,
                self.truth_table,
            ]
        )
        self.widget.add_class("netpol-policy-editor")
        self._update()

    @property
    def cluster(self) -> Cluster:
        """The scene plus the last policies written without errors."""
        return self.base.with_policies((*self.base.policies, *self.policies))

    def _check(self, _change: object = None) -> None:
        from npcore.errors import ParseError, ValidationError
        from npcore.load import parse_policies

        try:
            policies = parse_policies(self.editor.value, self.filename)
        except (ParseError, ValidationError) as error:
            self.errors = [str(e) for e in error.errors]
            text = self.editor.value
            items = "".join(
                f"<li>{_pre(error_excerpt(text, e), 'netpol-error-excerpt')}</li>"
                for e in error.errors
            )
            if self.diagram is None:  # never valid yet: show the scene on its own
                kept = " The diagram shows the scene without the policies in the editor."
                self._draw(self.cluster, self.flows, self.title)
                self._show_table()
            else:
                kept = " The diagram shows the last version without errors."
            self.error_list.value = (
                '<div role="alert" style="color:#D55E00">'
                f"<b>{len(self.errors)} error(s) in {html.escape(self.filename)}.</b>{kept}"
                f"<ul>{items}</ul></div>"
            )
            return
        self.errors = []
        self.policies = policies
        names = ", ".join(p.key for p in policies) or "no policies"
        self.error_list.value = f'<div style="color:#0072B2">✓ Valid: {html.escape(names)}.</div>'
        self._draw(self.cluster, self.flows, self.title)
        self._show_table()

    def _show_table(self, _change: object = None) -> None:
        if self.port.value is None:
            self.truth_table.value = ""
            return
        port, proto = self.port.value
        self.truth_table.value = truth_table_html(matrix(self.cluster, port, Protocol(proto)))
