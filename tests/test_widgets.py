"""lessonkit.widgets: the explorers react to their controls, and never fail silently.

Widgets are driven as plain objects (setting a control's ``value`` fires the same
callbacks a click does); the real-browser test is tests/test_browser.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

import lessonkit.widgets as widgets
from lessonkit.diagrams import Flow
from lessonkit.scenes import DB_POLICY_YAML, three_tier, three_tier_flows
from lessonkit.widgets import FlowExplorer, PolicyEditor, truth_table_html
from npcore import matrix

WEB_DB = 3  # index of the unwanted web -> db flow in three_tier_flows()


def explorer(**kwargs) -> FlowExplorer:
    return FlowExplorer(three_tier(with_db_policy=True, **kwargs), three_tier_flows())


def test_explorer_starts_with_every_policy_on():
    ex = explorer()
    assert ex.enabled == ["shop/db-policy"]
    assert ex.diagram is not None
    assert not ex.diagram.arrows[WEB_DB].allowed
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert ex.last_error is None


def test_toggling_a_policy_changes_the_diagram():
    ex = explorer()
    before, picture = ex.diagram, ex.image.value
    ex.toggles["shop/db-policy"].value = False
    assert ex.diagram != before
    assert ex.diagram.arrows[WEB_DB].allowed
    assert ex.diagram.arrows[WEB_DB].linestyle == "-"
    assert ex.image.value != picture
    assert "shop/db is isolated" not in ex.diagram.text()
    ex.toggles["shop/db-policy"].value = True
    assert ex.diagram == before


def test_switching_to_flannel_changes_message_and_arrows():
    ex = explorer()
    assert "Calico enforces NetworkPolicy" in ex.message.value
    assert "3 of 4 connections allowed" in ex.message.value
    picture = ex.image.value
    ex.cni.value = "flannel"
    assert "Flannel does not enforce NetworkPolicy" in ex.message.value
    assert "4 of 4 connections allowed" in ex.message.value
    assert "netpol-warning" in ex.message.value
    assert not ex.diagram.enforced
    assert all(a.allowed for a in ex.diagram.arrows)
    assert ex.image.value != picture
    assert "NOT enforced by flannel" in ex.text_alternative.value


def test_cni_dropdown_offers_every_known_cni():
    ex = explorer()
    assert set(ex.cni.options) >= {"calico", "cilium", "flannel"}
    assert ex.cni.value == "calico"


@pytest.mark.parametrize(
    ("index", "words"),
    [
        pytest.param(WEB_DB, ("DENIED", "ingress to shop/db", "shop/db-policy"), id="web-db"),
        pytest.param(2, ("ALLOWED", "shop/db-policy"), id="api-db-admitted"),
        pytest.param(0, ("ALLOWED", "outside the cluster"), id="user-web"),
    ],
)
def test_picking_a_connection_shows_npcore_explanation(index, words):
    ex = explorer()
    ex.connection.value = index
    for word in words:
        assert word in ex.explanation.value


def test_explanation_follows_the_cni():
    ex = explorer()
    ex.connection.value = WEB_DB
    ex.cni.value = "flannel"
    assert "Flannel does not enforce NetworkPolicy" in ex.explanation.value
    assert "ALLOWED" in ex.explanation.value


def test_policy_yaml_is_shown_next_to_its_checkbox():
    ex = FlowExplorer(
        three_tier(with_db_policy=True),
        three_tier_flows(),
        policies_yaml={"db-policy": DB_POLICY_YAML},
    )
    shown = ex.policy_yaml["shop/db-policy"]
    assert "role: db" in shown.value and "<details>" in shown.value
    assert shown in ex.widget.children[0].children[0].children[1].children  # next to its box


def test_explorer_text_alternative_is_the_diagram_text():
    ex = explorer()
    assert "shop/web -&gt; shop/db TCP 3306" in ex.text_alternative.value
    assert "DENIED (ingress of shop/db)" in ex.text_alternative.value


def test_callback_errors_are_shown_not_swallowed(monkeypatch):
    ex = explorer()

    def broken(*args, **kwargs):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(widgets.FlowCanvas, "render", broken)
    ex.cni.value = "cilium"
    assert isinstance(ex.last_error, RuntimeError)
    assert "the renderer fell over" in ex.error.value
    assert 'role="alert"' in ex.error.value
    monkeypatch.undo()
    ex.cni.value = "calico"
    assert ex.last_error is None
    assert ex.error.value == ""


def test_unknown_peer_in_a_flow_is_shown_in_the_widget():
    ex = FlowExplorer(three_tier(), [Flow("shop/web", "shop/cache", 80)])
    assert isinstance(ex.last_error, ValueError)
    assert "unknown peer" in ex.error.value


def test_explorer_displays_as_its_widget():
    ex = explorer()
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    # Static viewers and screen readers get the text alternative, not a class repr.
    assert bundle["text/plain"] == ex.diagram.text()
    assert bundle["text/plain"].splitlines()[0] == "user -> shop/web TCP 80 [user -> web]: ALLOWED"


def test_truth_table_html_marks_every_cell():
    m = matrix(three_tier(with_db_policy=True), 3306)
    table = truth_table_html(m)
    n = len(m.peers)
    assert table.count("<td") == n * n
    denied = sum(not m.allowed_at(i, j) for i in range(n) for j in range(n))
    assert table.count("✗") == denied > 0
    assert "Who can connect on TCP 3306" in table


# --- the YAML editor ----------------------------------------------------------------------

BROKEN_PORT = DB_POLICY_YAML.replace("port: 3306", "port: 70000")
BROKEN_SYNTAX = DB_POLICY_YAML.replace("  ingress:\n", "  ingress:\n   - [\n")


def editor() -> PolicyEditor:
    return PolicyEditor(three_tier(), three_tier_flows(), DB_POLICY_YAML)


def test_editor_draws_the_initial_yaml():
    ed = editor()
    assert ed.errors == []
    assert [p.key for p in ed.policies] == ["shop/db-policy"]
    assert not ed.diagram.arrows[WEB_DB].allowed
    assert "Who can connect on TCP 80" in ed.truth_table.value


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        pytest.param(BROKEN_PORT, 19, "spec.ingress[0].ports[0].port", id="port-out-of-range"),
        pytest.param(BROKEN_SYNTAX, 14, "YAML syntax error", id="yaml-syntax"),
    ],
)
def test_invalid_yaml_shows_line_and_field_and_keeps_the_last_good_diagram(text, line, field):
    ed = editor()
    good, picture = ed.diagram, ed.image.value
    ed.editor.value = text
    assert ed.errors, "an invalid policy must produce errors"
    first = ed.errors[0]
    assert first.startswith("policy.yaml:")
    assert int(first.split(":")[1]) == line
    assert field in first
    assert "policy.yaml" in ed.error_list.value
    assert "last version without errors" in ed.error_list.value
    assert ed.diagram == good
    assert ed.image.value == picture
    assert ed.last_error is None


def test_fixing_the_yaml_redraws():
    ed = editor()
    ed.editor.value = BROKEN_PORT
    ed.editor.value = DB_POLICY_YAML.replace("name: api-pod", "name: web-pod")
    assert ed.errors == []
    assert ed.diagram.arrows[WEB_DB].allowed
    assert not ed.diagram.arrows[2].allowed  # api -> db is no longer admitted
    assert "Valid" in ed.error_list.value


def test_editor_starting_with_broken_yaml_draws_the_scene_alone():
    ed = PolicyEditor(three_tier(), three_tier_flows(), BROKEN_PORT)
    assert ed.errors and "spec.ingress[0].ports[0].port" in ed.errors[0]
    assert ed.policies == ()
    assert ed.diagram is not None
    assert all(a.allowed for a in ed.diagram.arrows)  # no policy at all yet
    assert "without the policies in the editor" in ed.error_list.value
    ed.editor.value = DB_POLICY_YAML
    assert not ed.diagram.arrows[WEB_DB].allowed


def test_an_empty_editor_is_an_error_not_a_crash():
    ed = editor()
    ed.editor.value = ""
    assert ed.errors and "policy.yaml:1" in ed.errors[0]
    assert ed.last_error is None


def test_editor_truth_table_follows_the_port_and_the_yaml():
    ed = editor()
    ed.port.value = (3306, "TCP")
    before = ed.truth_table.value
    assert "TCP 3306" in before
    ed.editor.value = DB_POLICY_YAML.replace("role: db", "role: nothing")  # selects no pod
    assert ed.errors == []
    assert ed.truth_table.value != before
    assert "✗" not in ed.truth_table.value


def test_editor_error_shows_the_yaml_line_with_a_caret_under_the_column():
    editor = PolicyEditor(three_tier(), three_tier_flows(), DB_POLICY_YAML)
    editor.editor.value = DB_POLICY_YAML.replace("podSelector:", "podSelecter:", 1)
    assert editor.errors and editor.errors[0].startswith("policy.yaml:")
    line = int(editor.errors[0].split(":")[1])
    column = int(editor.errors[0].split(":")[2])
    assert "podSelecter" in editor.error_list.value
    shown = editor.error_list.value
    source_line = DB_POLICY_YAML.replace("podSelector:", "podSelecter:", 1).splitlines()[line - 1]
    import html as h

    assert h.escape(f"{line:5d} | {source_line}") in shown
    assert f"      | {' ' * (column - 1)}^" in shown


def test_editor_opens_its_truth_table_on_the_port_asked_for():
    editor = PolicyEditor(three_tier(), three_tier_flows(), DB_POLICY_YAML, port=(3306, "TCP"))
    assert editor.port.value == (3306, "TCP")
    assert "TCP 3306" in editor.truth_table.value
