"""lessonkit.diagrams: arrows, colours, line styles, lamps, banner and text alternative.

The known scene is the course's three-tier shop: ``user`` (outside) -> ``shop/web`` ->
``shop/api`` -> ``shop/db``, plus the unwanted ``shop/web -> shop/db``.  With the db
policy (ingress to ``role=db`` only from ``tier=backend`` on 3306) the unwanted flow is
denied by the ingress side of ``shop/db``; everything else is allowed.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from lessonkit.diagrams import (
    ALLOWED_COLOR,
    DENIED_COLOR,
    Flow,
    FlowCanvas,
    compute_diagram,
    draw_flows,
    draw_matrix,
    flow_figure,
    render,
)
from lessonkit.legibility import MIN_ARROW_PX  # noqa: F401
from lessonkit.legibility import problems as _layout_problems
from npcore import (
    Cluster,
    Connection,
    ContainerPort,
    External,
    LabelSelector,
    NetworkPolicy,
    NetworkPolicyEgressRule,
    NetworkPolicyIngressRule,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    Pod,
    PolicyType,
    Protocol,
    is_allowed,
    matrix,
)

# --- the scene ----------------------------------------------------------------------------

DB_POLICY = NetworkPolicy(
    "db-policy",
    "shop",
    LabelSelector.of({"role": "db"}),
    ingress=(
        NetworkPolicyIngressRule(
            ports=(NetworkPolicyPort(Protocol.TCP, 3306),),
            from_=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"tier": "backend"})),),
        ),
    ),
    policy_types=(PolicyType.INGRESS,),
)
# web may only talk to api: its egress blocks web -> db as well.
WEB_EGRESS = NetworkPolicy(
    "web-egress",
    "shop",
    LabelSelector.of({"name": "web-pod"}),
    egress=(
        NetworkPolicyEgressRule(
            to=(NetworkPolicyPeer(pod_selector=LabelSelector.of({"name": "api-pod"})),)
        ),
    ),
    policy_types=(PolicyType.EGRESS,),
)
DENY_ALL = NetworkPolicy("default-deny", "shop", LabelSelector.of({}))


def three_tier(*policies: NetworkPolicy, cni: str = "calico") -> Cluster:
    pods = [
        Pod("shop", "web", {"name": "web-pod", "tier": "frontend"}, ports=(ContainerPort(80),)),
        Pod(
            "shop",
            "api",
            {"name": "api-pod", "tier": "backend"},
            ports=(ContainerPort(8080, name="http"),),
        ),
        Pod(
            "shop",
            "db",
            {"role": "db", "tier": "database"},
            ports=(ContainerPort(3306, name="mysql"),),
        ),
    ]
    return Cluster.build(
        pods=pods, externals=[External("user", "203.0.113.10")], policies=policies, cni=cni
    )


FLOWS = [
    Flow("user", "shop/web", 80),
    Flow("shop/web", "shop/api", 8080),
    Flow("shop/api", "shop/db", 3306),
    Flow("shop/web", "shop/db", 3306, label="unwanted"),
]

ALLOWED = (True, (), ALLOWED_COLOR, "-")
DENIED_INGRESS = (False, ("ingress",), DENIED_COLOR, "--")
DENIED_BOTH = (False, ("egress", "ingress"), DENIED_COLOR, "--")
DENIED_EGRESS = (False, ("egress",), DENIED_COLOR, "--")

# (policies, cni, flow index) -> (allowed, blocked_by, colour, line style)
ARROW_CASES = [
    pytest.param((), "calico", 0, ALLOWED, id="no-policy-user-web-allowed"),
    pytest.param((), "calico", 3, ALLOWED, id="no-policy-web-db-allowed"),
    pytest.param((DB_POLICY,), "calico", 0, ALLOWED, id="db-policy-user-web-allowed"),
    pytest.param((DB_POLICY,), "calico", 1, ALLOWED, id="db-policy-web-api-allowed"),
    pytest.param((DB_POLICY,), "calico", 2, ALLOWED, id="db-policy-api-db-allowed-by-rule"),
    pytest.param((DB_POLICY,), "calico", 3, DENIED_INGRESS, id="db-policy-web-db-ingress-blocks"),
    pytest.param((DB_POLICY, WEB_EGRESS), "calico", 3, DENIED_BOTH, id="both-sides-block-web-db"),
    pytest.param((WEB_EGRESS,), "calico", 3, DENIED_EGRESS, id="egress-only-blocks-web-db"),
    pytest.param((WEB_EGRESS,), "calico", 1, ALLOWED, id="egress-rule-admits-web-api"),
    pytest.param((DENY_ALL,), "calico", 0, DENIED_INGRESS, id="deny-all-blocks-user-ingress"),
    pytest.param((DB_POLICY,), "flannel", 3, ALLOWED, id="flannel-does-not-enforce"),
    pytest.param((DENY_ALL,), "flannel", 0, ALLOWED, id="flannel-deny-all-ignored"),
]


def _arrow_artists(ax) -> dict[str, FancyArrowPatch]:
    return {
        p.get_gid(): p
        for p in ax.patches
        if isinstance(p, FancyArrowPatch) and (p.get_gid() or "").startswith("arrow:")
    }


def _gids(ax, prefix: str) -> set[str]:
    return {
        a.get_gid()
        for a in [*ax.lines, *ax.texts, *ax.patches]
        if (a.get_gid() or "").startswith(prefix)
    }


@pytest.mark.parametrize(("policies", "cni", "index", "expected"), ARROW_CASES)
def test_arrow_verdict_colour_and_style(policies, cni, index, expected):
    cluster = three_tier(*policies, cni=cni)
    arrow = compute_diagram(cluster, FLOWS).arrows[index]
    assert (arrow.allowed, arrow.blocked_by, arrow.color, arrow.linestyle) == expected


@pytest.mark.parametrize(("policies", "cni", "index", "expected"), ARROW_CASES)
def test_drawn_arrow_matches_verdict(policies, cni, index, expected):
    _allowed, blocked_by, color, linestyle = expected
    fig = Figure()
    ax = fig.add_subplot()
    draw_flows(ax, three_tier(*policies, cni=cni), FLOWS)
    flow = FLOWS[index]
    name = f"{flow.src}->{flow.dst}:{flow.port}"
    patch = _arrow_artists(ax)[f"arrow:{name}"]
    assert patch.get_edgecolor() == pytest.approx(to_rgba(color))
    assert patch.get_linestyle() == linestyle
    markers = {g.split(":")[1] for g in _gids(ax, "block:") if g.endswith(name)}
    assert markers == set(blocked_by)


def test_one_arrow_per_flow_and_boxes_per_peer():
    fig = Figure()
    ax = fig.add_subplot()
    draw_flows(ax, three_tier(DB_POLICY), FLOWS)
    assert len(_arrow_artists(ax)) == len(FLOWS)
    assert _gids(ax, "box:") == {"box:shop/web", "box:shop/api", "box:shop/db", "box:user"}
    assert _gids(ax, "band:") == {"band:namespace shop", "band:outside the cluster"}


def test_allowed_and_denied_differ_in_colour_and_line_style():
    assert to_rgba(ALLOWED_COLOR) != to_rgba(DENIED_COLOR)
    fig = Figure()
    ax = fig.add_subplot()
    draw_flows(ax, three_tier(DB_POLICY), FLOWS)
    arrows = _arrow_artists(ax)
    ok, bad = arrows["arrow:shop/api->shop/db:3306"], arrows["arrow:shop/web->shop/db:3306"]
    assert ok.get_linestyle() != bad.get_linestyle()
    assert ok.get_edgecolor() != bad.get_edgecolor()


@pytest.mark.parametrize(
    ("policies", "isolated"),
    [
        pytest.param((), set(), id="no-policy-no-lamp"),
        pytest.param((DB_POLICY,), {"shop/db:in"}, id="db-ingress-lamp"),
        pytest.param((WEB_EGRESS,), {"shop/web:out"}, id="web-egress-lamp"),
        pytest.param(
            (DENY_ALL,), {"shop/web:in", "shop/api:in", "shop/db:in"}, id="deny-all-ingress-lamps"
        ),
        pytest.param((DB_POLICY, WEB_EGRESS), {"shop/db:in", "shop/web:out"}, id="one-lamp-each"),
    ],
)
def test_isolation_lamps(policies, isolated):
    fig = Figure()
    ax = fig.add_subplot()
    diagram = draw_flows(ax, three_tier(*policies), FLOWS)
    lamps = [line for line in ax.lines if (line.get_gid() or "").startswith("lamp:")]
    assert len(lamps) == 6  # two per pod, none for the external user
    drawn = set()
    for lamp in lamps:
        _, pod, side, state = lamp.get_gid().split(":")
        filled = to_rgba(lamp.get_markerfacecolor()) != to_rgba("white")
        assert filled == (state == "on"), lamp.get_gid()  # filled means isolated
        if filled:
            drawn.add(f"{pod}:{side}")
    assert drawn == isolated
    assert {
        f"{pod}:{side}"
        for pod, pair in diagram.isolated.items()
        for side, on in zip(("in", "out"), pair, strict=True)
        if on
    } == isolated
    labels = [t.get_text() for t in ax.texts]
    assert labels.count("in") == labels.count("out") == 3


def test_text_alternative_for_the_three_tier_scene():
    text = compute_diagram(three_tier(DB_POLICY), FLOWS).text()
    assert text.splitlines() == [
        "user -> shop/web TCP 80: ALLOWED",
        "shop/web -> shop/api TCP 8080: ALLOWED",
        "shop/api -> shop/db TCP 3306: ALLOWED",
        "shop/web -> shop/db TCP 3306 [unwanted]: DENIED (ingress of shop/db)",
        "shop/db is isolated for ingress",
        "CNI: calico (enforces NetworkPolicy)",
    ]


def test_text_alternative_names_both_blocking_sides():
    line = compute_diagram(three_tier(DB_POLICY, WEB_EGRESS), FLOWS).text().splitlines()[3]
    assert line.endswith("DENIED (egress of shop/web and ingress of shop/db)")


def test_flannel_banner_and_text():
    fig = Figure()
    ax = fig.add_subplot()
    diagram = draw_flows(ax, three_tier(DB_POLICY, cni="flannel"), FLOWS)
    banners = [t for t in ax.texts if t.get_gid() == "banner"]
    assert len(banners) == 1
    assert "NOT enforced by flannel" in banners[0].get_text()
    assert not diagram.enforced
    assert all(a.allowed for a in diagram.arrows)
    lines = diagram.text().splitlines()
    assert lines[3].endswith("ALLOWED (policies would deny it, but flannel does not enforce them)")
    assert (
        lines[-1] == "CNI: flannel: policies NOT enforced by flannel; every connection is allowed"
    )


def test_no_banner_when_enforced():
    fig = Figure()
    ax = fig.add_subplot()
    draw_flows(ax, three_tier(DB_POLICY), FLOWS)
    assert not [t for t in ax.texts if t.get_gid() == "banner"]


def test_named_port_missing_on_destination_is_denied_by_nobody():
    flow = Flow("shop/web", "shop/db", "http")
    arrow = compute_diagram(three_tier(), [flow]).arrows[0]
    assert (arrow.allowed, arrow.blocked_by, arrow.port) == (False, (), None)
    assert "no port named 'http' on shop/db" in arrow.line()


def test_named_port_resolves_in_the_text():
    arrow = compute_diagram(three_tier(), [Flow("shop/web", "shop/api", "http")]).arrows[0]
    assert arrow.line() == "shop/web -> shop/api TCP http (8080): ALLOWED"


def test_explanation_names_the_blocking_side():
    arrow = compute_diagram(three_tier(DB_POLICY), FLOWS).arrows[3]
    assert "DENIED" in arrow.explanation
    assert "shop/db" in arrow.explanation
    assert "db-policy" in arrow.explanation


def test_unknown_peer_is_a_readable_error():
    with pytest.raises(ValueError, match=r"unknown peer 'shop/cache'.*known peers: shop/web"):
        compute_diagram(three_tier(), [Flow("shop/web", "shop/cache", 80)])


def test_bad_protocol_is_a_readable_error():
    with pytest.raises(ValueError, match="use TCP, UDP or SCTP"):
        compute_diagram(three_tier(), [Flow("shop/web", "shop/db", 80, "ICMP")])


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        pytest.param("user:shop/web:80", None, Flow("user", "shop/web", 80), id="number"),
        pytest.param("a/b:c/d", 53, Flow("a/b", "c/d", 53), id="default-port"),
        pytest.param("a/b:c/d:dns/udp", None, Flow("a/b", "c/d", "dns", "UDP"), id="named-udp"),
        pytest.param("a/b:c/d:5432/TCP", 80, Flow("a/b", "c/d", 5432), id="explicit-wins"),
    ],
)
def test_flow_parse(text, default, expected):
    assert Flow.parse(text, default) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("user", "SRC:DST:PORT", id="no-dst"),
        pytest.param("a/b:c/d", "no port", id="no-port"),
        pytest.param("a/b:c/d:", "'' is not a port number or name", id="empty-port"),
        pytest.param("a/b:c/d:80/icmp", "TCP, UDP or SCTP", id="bad-protocol"),
        pytest.param("a:b:c:d", "SRC:DST:PORT", id="too-many-parts"),
    ],
)
def test_flow_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        Flow.parse(text)


def test_self_flow_is_drawn_as_a_loop_and_allowed():
    fig = Figure()
    ax = fig.add_subplot()
    diagram = draw_flows(ax, three_tier(DENY_ALL), [Flow("shop/db", "shop/db", 3306)])
    assert diagram.arrows[0].allowed
    assert "arrow:shop/db->shop/db:3306" in _arrow_artists(ax)


def test_legend_shows_both_line_styles():
    fig = Figure()
    ax = fig.add_subplot()
    draw_flows(ax, three_tier(DB_POLICY), FLOWS)
    handles = ax.get_legend().legend_handles
    styles = {h.get_label(): h.get_linestyle() for h in handles if isinstance(h, Line2D)}
    assert styles["allowed"] == "-"
    assert styles["denied"] == "--"


@pytest.mark.parametrize(
    ("fmt", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml")], ids=["png", "svg"]
)
def test_render_formats(fmt, magic):
    data, diagram = render(three_tier(DB_POLICY), FLOWS, fmt=fmt)
    assert data.startswith(magic)
    assert len(diagram.arrows) == 4


def test_render_changes_with_the_cni():
    calico, _ = render(three_tier(DB_POLICY), FLOWS)
    flannel, _ = render(three_tier(DB_POLICY, cni="flannel"), FLOWS)
    assert calico != flannel


def test_flow_figure_sizes_to_a_30_pod_scene():
    pods = [Pod(f"ns{i % 3}", f"p{i}", {"app": f"a{i % 5}"}) for i in range(30)]
    cluster = Cluster.build(pods=pods, policies=[NetworkPolicy("deny", "ns0")])
    flows = [Flow(f"ns{i % 3}/p{i}", f"ns{(i + 1) % 3}/p{(i + 1) % 30}", 80) for i in range(30)]
    fig, diagram = flow_figure(cluster, flows)
    width, height = fig.get_size_inches()
    assert 6 <= width <= 16.01 and 3 <= height <= 14.01
    assert len(diagram.isolated) == 30
    assert sum(not a.allowed for a in diagram.arrows) == 10  # the ten flows into ns0


def test_draw_matrix_marks_every_cell():
    cluster = three_tier(DB_POLICY)
    m = matrix(cluster, 3306)
    fig = Figure()
    ax = fig.add_subplot()
    draw_matrix(ax, m)
    marks = [t.get_text() for t in ax.texts]
    n = len(m.peers)
    assert len(marks) == n * n
    denied = sum(not m.allowed_at(i, j) for i in range(n) for j in range(n))
    assert marks.count("✗") == denied > 0


# --- properties ---------------------------------------------------------------------------

POLICY_POOL = [DB_POLICY, WEB_EGRESS, DENY_ALL]
PEERS = ["user", "shop/web", "shop/api", "shop/db"]


@settings(max_examples=60, deadline=None)
@given(
    chosen=st.lists(st.sampled_from(POLICY_POOL), unique_by=lambda p: p.name),
    cni=st.sampled_from(["calico", "flannel", "cilium"]),
    pairs=st.lists(
        st.tuples(st.sampled_from(PEERS), st.sampled_from(PEERS), st.sampled_from([80, 3306])),
        min_size=1,
        max_size=6,
    ),
)
def test_diagram_agrees_with_is_allowed(chosen, cni, pairs):
    cluster = three_tier(*chosen, cni=cni)
    flows = [Flow(s, d, p) for s, d, p in pairs]
    diagram = compute_diagram(cluster, flows)
    lines = diagram.text().splitlines()
    for flow, arrow, line in zip(flows, diagram.arrows, lines, strict=False):
        c = cluster.pod if "/" in flow.src else cluster.external
        d = cluster.pod if "/" in flow.dst else cluster.external
        verdict = is_allowed(cluster, Connection(c(flow.src), d(flow.dst), flow.port))
        assert arrow.allowed == verdict.allowed
        assert (arrow.color == ALLOWED_COLOR) == arrow.allowed
        assert (arrow.linestyle == "-") == arrow.allowed
        assert bool(arrow.blocked_by) == (not arrow.allowed)
        assert ("ALLOWED" in line) == arrow.allowed
    assert lines[-1].startswith(f"CNI: {cni}")
    assert len(lines) >= len(flows) + 1


# --- npcore draw (lessonkit.cli) ----------------------------------------------------------

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent
SHOP_YAML = str(REPO / "docs" / "img" / "three-tier.yaml")
LARGEST_YAML = str(REPO / "tests" / "data" / "draw" / "five-pods.yaml")  # 20 arrows on 80
TOO_LARGE_YAML = str(REPO / "tests" / "data" / "draw" / "six-pods.yaml")  # 30 arrows on 80
SHOP_FLOWS = [
    "--flow=user:shop/web:80",
    "--flow=shop/web:shop/api:8080",
    "--flow=shop/api:shop/db:3306",
    "--flow=shop/web:shop/db:3306",
]


def _draw(argv, capsys):
    from lessonkit.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")], ids=["png", "svg"]
)
def test_draw_writes_the_picture_and_prints_the_text(tmp_path, capsys, suffix, magic):
    out_file = tmp_path / f"flows{suffix}"
    argv = [SHOP_YAML, "--external", "user=203.0.113.10", *SHOP_FLOWS, "-o", str(out_file)]
    code, out, _ = _draw(argv, capsys)
    assert code == 0
    assert out_file.read_bytes().startswith(magic)
    assert out.splitlines() == [
        "user -> shop/web TCP 80: ALLOWED",
        "shop/web -> shop/api TCP 8080: ALLOWED",
        "shop/api -> shop/db TCP 3306: ALLOWED",
        "shop/web -> shop/db TCP 3306: DENIED (ingress of shop/db)",
        "shop/db is isolated for ingress",
        "CNI: calico (enforces NetworkPolicy)",
    ]


def test_draw_all_pairs_on_a_port_skips_pods_not_listening(tmp_path, capsys):
    argv = [SHOP_YAML, "--external", "user=203.0.113.10", "--port", "3306"]
    code, out, _ = _draw([*argv, "-o", str(tmp_path / "f.png")], capsys)
    assert code == 0
    arrows = [line for line in out.splitlines() if " -> " in line]
    assert sorted(a.split(":")[0] for a in arrows) == sorted(
        f"{s} -> {d} TCP 3306"
        for s, d in [
            ("shop/web", "shop/db"),
            ("shop/api", "shop/db"),
            ("user", "shop/db"),
            ("shop/web", "user"),
            ("shop/api", "user"),
            ("shop/db", "user"),
        ]
    )
    assert "shop/web -> shop/db TCP 3306: DENIED (ingress of shop/db)" in arrows
    assert "shop/api -> shop/db TCP 3306: ALLOWED" in arrows


def test_draw_on_flannel_prints_the_not_enforced_line(tmp_path, capsys):
    argv = [SHOP_YAML, *SHOP_FLOWS[1:], "--cni", "Flannel", "-o", str(tmp_path / "f.png")]
    code, out, _ = _draw(argv, capsys)
    assert code == 0
    assert out.splitlines()[-1].startswith("CNI: flannel: policies NOT enforced")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["-o", "f.gif", "--port", "80"], "must end in .png or .svg", id="format"),
        pytest.param(["--flow", "nobody:shop/web:80"], "unknown peer 'nobody'", id="peer"),
        pytest.param([], "give --port N", id="no-port-no-flow"),
        pytest.param(["--port", "80", "--cni", "weavy"], "unknown CNI 'weavy'", id="cni"),
        pytest.param(["--port", "70000"], "not between 1 and 65535", id="port-range"),
        pytest.param(["--port", "80", "--external", "user"], "write NAME=IP", id="external"),
        pytest.param(["--flow", "shop/web"], "SRC:DST:PORT", id="flow-shape"),
        pytest.param(["--port", "80", "--external", "shop/web=1.2.3.4"], "already", id="dup"),
    ],
)
def test_draw_usage_errors_exit_2(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = _draw([SHOP_YAML, *args], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("npcore draw: error: ")
    assert message in err
    assert "Traceback" not in err


def test_draw_refuses_more_connections_than_it_draws_legibly(tmp_path, capsys):
    from lessonkit.cli import MAX_FLOWS

    out_file = tmp_path / "f.png"
    code, out, err = _draw([TOO_LARGE_YAML, "--port", "80", "-o", str(out_file)], capsys)
    assert code == 2 and out == "" and not out_file.exists()
    assert err == (
        f"npcore draw: error: 30 connections are too many to draw legibly (at most {MAX_FLOWS}):"
        " pick some with --flow SRC:DST, or see them all with npcore matrix\n"
    )
    # the bound counts --flow too: one more than the largest accepted scene is refused
    pairs = ["shop/web:data/db", "data/db:shop/web"] * MAX_FLOWS
    flows = [f"--flow={pair}" for pair in pairs[: MAX_FLOWS + 1]]
    code, _, err = _draw([LARGEST_YAML, "--port", "80", *flows, "-o", str(out_file)], capsys)
    assert code == 2 and f"{MAX_FLOWS + 1} connections are too many" in err
    assert not out_file.exists()


def test_draw_refuses_a_picture_that_would_be_hard_to_read(tmp_path, capsys):
    """40 pods would be drawn smaller than the common size: refused, with what to do."""
    text = "".join(
        f"---\n{{apiVersion: v1, kind: Pod, metadata: {{name: p{i}, namespace: ns{i % 2}}}}}\n"
        for i in range(40)
    )
    (tmp_path / "many.yaml").write_text(text)
    out_file = tmp_path / "f.png"
    argv = [str(tmp_path / "many.yaml"), "--flow", "ns0/p0:ns1/p1:80", "-o", str(out_file)]
    code, out, err = _draw(argv, capsys)
    assert code == 2 and out == "" and not out_file.exists()
    assert err.startswith(
        "npcore draw: error: this diagram would be hard to read (40 pods and externals"
        " would be drawn too small"
    )
    assert err.endswith(
        "pick fewer with --flow SRC:DST, give fewer manifests, or use npcore matrix\n"
    )


def test_draw_refuses_a_crowded_picture_under_the_bound(tmp_path, capsys):
    """20 arrows among five pods of one namespace, every pod isolated both ways: the
    labels "blocked by egress and ingress" collide, so nothing is written."""
    pods = "".join(
        f"---\n{{apiVersion: v1, kind: Pod, metadata: {{name: p{i}, namespace: shop}}}}\n"
        for i in range(5)
    )
    deny = (
        "---\n{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny,"
        " namespace: shop}, spec: {podSelector: {}, policyTypes: [Ingress, Egress]}}\n"
    )
    (tmp_path / "crowded.yaml").write_text(pods + deny)
    out_file = tmp_path / "f.png"
    argv = [str(tmp_path / "crowded.yaml"), "--port", "80", "-o", str(out_file)]
    code, out, err = _draw(argv, capsys)
    assert code == 2 and out == "" and not out_file.exists()
    assert err.startswith("npcore draw: error: this diagram would be hard to read (")
    assert "overlaps" in err and "more): pick fewer with --flow SRC:DST" in err


def test_draw_missing_file_is_a_usage_error(tmp_path, capsys):
    code, _, err = _draw([str(tmp_path / "nope.yaml"), "--port", "80"], capsys)
    assert code == 2
    assert "no such file or directory" in err


def test_draw_invalid_manifest_exits_1_with_file_line_and_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n"
    )
    code, out, err = _draw([str(bad), "--port", "80", "-o", str(tmp_path / "f.png")], capsys)
    assert code == 1
    assert out == ""
    assert err.startswith(f"{bad}:8:")
    assert "spec.ingress[0].ports[0].port" in err
    assert not (tmp_path / "f.png").exists()


def test_readme_picture_is_committed_and_current(tmp_path, capsys):
    from matplotlib.image import imread

    committed = REPO / "docs" / "img" / "three-tier.png"
    fresh = tmp_path / "three-tier.png"
    argv = [SHOP_YAML, "--external", "user=203.0.113.10", *SHOP_FLOWS]
    code, _, _ = _draw(
        [*argv, "--title", "The shop with db-policy (Calico)", "-o", str(fresh)], capsys
    )
    assert code == 0
    assert imread(committed).shape == imread(fresh).shape


# --- FlowCanvas (cached scene, redrawn verdicts) ------------------------------------------


def test_flow_canvas_shows_the_same_verdicts_as_render():
    canvas = FlowCanvas(three_tier(), FLOWS)
    for cluster in (three_tier(DB_POLICY), three_tier(DB_POLICY, cni="flannel")):
        data, diagram = canvas.render(cluster)
        assert data.startswith(b"\x89PNG")
        assert diagram == compute_diagram(cluster, FLOWS)


def test_flow_canvas_redraw_leaves_nothing_behind():
    canvas = FlowCanvas(three_tier(), FLOWS)
    first, _ = canvas.render(three_tier(DB_POLICY))
    count = len(canvas.ax.get_children())
    flannel, _ = canvas.render(three_tier(DB_POLICY, WEB_EGRESS, cni="flannel"))
    again, _ = canvas.render(three_tier(DB_POLICY))
    assert flannel != first
    assert again == first  # same inputs, same bytes: no artist of the flannel picture left
    assert len(canvas.ax.get_children()) == count


def test_flow_canvas_draws_the_banner_only_when_not_enforced():
    canvas = FlowCanvas(three_tier(), FLOWS)
    canvas.render(three_tier(cni="flannel"))
    assert [t.get_gid() for t in canvas.ax.texts].count("banner") == 1
    canvas.render(three_tier())
    assert "banner" not in [t.get_gid() for t in canvas.ax.texts]


def test_flow_canvas_rebuilds_its_scene_for_other_pods():
    canvas = FlowCanvas(three_tier(), FLOWS)
    bigger = Cluster.build(
        pods=[*three_tier().pods, Pod("shop", "cache", {"app": "cache"})],
        externals=three_tier().externals,
    )
    canvas.render(bigger)
    assert any(p.get_gid() == "box:shop/cache" for p in canvas.ax.patches)


def test_npcore_draw_dispatches_to_lessonkit(tmp_path, capsys):
    from npcore.cli import main as npcore_main

    out_file = tmp_path / "flows.svg"
    code = npcore_main(["draw", SHOP_YAML, "--port", "3306", "-o", str(out_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert out_file.read_bytes().startswith(b"<?xml")
    assert "shop/web -> shop/db TCP 3306: DENIED (ingress of shop/db)" in out
    assert npcore_main(["draw", SHOP_YAML]) == 2
    assert "npcore draw: error: give --port N" in capsys.readouterr().err


# --- every diagram the course makes: no overlap, no cut text, every arrow visible ----------


def _recorded_scenes():
    """Every (cluster, flows) the lessons, their self-checks and challenges, and
    `npcore draw` draw: each lesson's code runs in-process with lessonkit.diagrams'
    layout recorded; each PredictFlows self-check's reveal is added."""
    import contextlib
    import io
    import tempfile

    import jupytext

    import lessonkit.diagrams as d
    from lessonkit import bank
    from lessonkit.cli import main as draw_main
    from lessonkit.selfcheck import PredictFlows

    seen: dict[object, tuple] = {}
    original = d._layout

    def record(cluster, flows):
        key = (repr(cluster), tuple(flows))
        seen.setdefault(key, (cluster, tuple(flows)))
        return original(cluster, flows)

    d._layout = record
    try:
        for source in sorted((REPO / "lessons").glob("[0-9][0-9]-*.py")):
            namespace: dict[str, object] = {}
            for cell in jupytext.read(source).cells:
                if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
                    continue
                code = "\n".join(
                    line for line in cell.source.splitlines() if not line.startswith("%")
                )
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, str(source), "exec"), namespace)
        for check_id in bank.ids():
            check = bank.get(check_id)
            if isinstance(check, PredictFlows):
                render(check.cluster, check.flows)
        with (
            tempfile.TemporaryDirectory() as tmp,
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            out = f"{tmp}/flows.png"
            shop = [SHOP_YAML, "--external", "user=203.0.113.10", *SHOP_FLOWS, "-o", out]
            assert draw_main(shop) == 0
            assert draw_main([SHOP_YAML, "--port", "3306", "-o", out]) == 0
            # the largest scene drawn with every pair of peers, and one pod more (refused)
            assert draw_main([LARGEST_YAML, "--port", "80", "-o", out]) == 0
            assert draw_main([TOO_LARGE_YAML, "--port", "80", "-o", f"{tmp}/no.png"]) == 2
            assert not __import__("os").path.exists(f"{tmp}/no.png")
    finally:
        d._layout = original
    # each "write it" challenge as the learner first sees it (its starter policies)
    from lessonkit.challenges import CHALLENGES
    from lessonkit.scenes import with_yaml

    for item in CHALLENGES.values():
        cluster, flows = with_yaml(item.world(), item.starter), tuple(item.flows())
        seen.setdefault((repr(cluster), flows), (cluster, flows))
    return list(seen.values())


def _deny_everything(cluster: Cluster) -> Cluster:
    """``cluster`` with a default deny (ingress and egress) in every namespace: every
    arrow between pods carries the longest label ("blocked by egress and ingress")."""
    namespaces = sorted({p.namespace for p in cluster.pods})
    deny = [
        NetworkPolicy(
            "deny-everything",
            ns,
            LabelSelector.of({}),
            policy_types=(PolicyType.INGRESS, PolicyType.EGRESS),
        )
        for ns in namespaces
    ]
    return cluster.with_policies(deny)


def test_every_course_diagram_is_free_of_overlaps_and_keeps_its_arrows_visible():
    scenes_drawn = _recorded_scenes()
    assert len(scenes_drawn) >= 12  # lessons, reveals, explorers, challenges, npcore draw
    widths = set()
    problems = []
    for cluster, flows in scenes_drawn:
        for variant in (cluster, cluster.with_cni("flannel"), _deny_everything(cluster)):
            fig, _diagram = flow_figure(variant, flows, title="A title as long as most titles")
            widths.add(round(fig.get_size_inches()[0], 2))
            problems += [
                f"{variant.cni} {[f.name for f in flows][:2]}...: {p}"
                for p in _layout_problems(fig, fig.axes[0])
            ]
    assert not problems, "\n".join(problems)
    assert widths == {11.0}, f"diagrams of different widths: {widths}"


def test_the_overlap_check_finds_overlaps_and_hidden_arrows():
    """The check above can fail: a text over a box title and a text over an arrow's
    shaft are both reported."""
    fig, _ = flow_figure(three_tier(DB_POLICY), FLOWS)
    ax = fig.axes[0]
    title = next(t for t in ax.texts if t.get_text() == "web")
    ax.text(*title.get_position(), "an overlapping text", fontsize=9)
    assert any("overlaps" in p for p in _layout_problems(fig, ax))
    fig, _ = flow_figure(three_tier(), [Flow("shop/web", "shop/api", 8080)])
    ax = fig.axes[0]
    label = next(t for t in ax.texts if (t.get_gid() or "").startswith("label:"))
    x, y = label.get_position()
    ax.text(x, y, "X" * 12, fontsize=60, ha="center", va="center")  # hides the shaft
    assert any("px visible" in p for p in _layout_problems(fig, ax))


def test_the_overlap_check_finds_labels_on_pod_boxes_and_arrowheads():
    """A label moved onto a pod box, and a text on an arrowhead, are both reported."""
    fig, _ = flow_figure(three_tier(DB_POLICY), FLOWS)
    ax = fig.axes[0]
    assert _layout_problems(fig, ax) == []
    label = next(t for t in ax.texts if (t.get_gid() or "").startswith("label:"))
    box = next(p for p in ax.patches if p.get_gid() == "box:shop/api")
    x0, y0 = box.get_x(), box.get_y()
    label.set_position((x0 + 0.2, y0 + box.get_height() - 0.1))
    label.set_horizontalalignment("center")
    label.set_verticalalignment("bottom")
    assert any("covers the pod box box:shop/api" in p for p in _layout_problems(fig, ax))
    fig, _ = flow_figure(three_tier(), [Flow("shop/web", "shop/api", 8080)])
    ax = fig.axes[0]
    arrow = next(p for p in ax.patches if (p.get_gid() or "").startswith("arrow:"))
    end = arrow._path_original.vertices[-1]
    ax.text(*end, "o", fontsize=7, ha="center", va="center")
    assert any("overlaps the head of arrow:" in p for p in _layout_problems(fig, ax))


def test_the_overlap_check_finds_an_arrow_through_the_legend():
    from matplotlib.path import Path

    fig, _ = flow_figure(three_tier(DB_POLICY), FLOWS)
    ax = fig.axes[0]
    assert _layout_problems(fig, ax) == []
    (x0, x1), (y0, _) = ax.get_xlim(), ax.get_ylim()
    y = y0 + 0.3  # the legend's band
    across = Path([(x0 + 1, y), ((x0 + x1) / 2, y), (x1 - 1, y)], [1, 3, 3])
    ax.add_patch(FancyArrowPatch(path=across, arrowstyle="-|>", gid="arrow:across"))
    assert "arrow:across crosses the legend" in _layout_problems(fig, ax)


def test_lamps_agree_with_the_banner_on_a_cni_that_does_not_enforce():
    fig = Figure()
    ax = fig.add_subplot()
    diagram = draw_flows(ax, three_tier(DB_POLICY, cni="flannel"), FLOWS)
    assert not [line for line in ax.lines if (line.get_gid() or "").startswith("lamp:")]
    words = [t for t in ax.texts if (t.get_gid() or "").endswith(":not-enforced")]
    assert len(words) == 3 and all(t.get_text() == "not enforced" for t in words)
    assert "isolated" not in diagram.text()  # npcore: nothing is isolated on flannel
    assert not any(any(pair) for pair in diagram.isolated.values())


def _scene_pool():
    from lessonkit import scenes

    return [three_tier(), scenes.multi_namespace(with_dns=True), scenes.three_tier(with_dns=True)]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(data=st.data())
def test_labels_never_cover_a_pod_box_or_an_arrow_end_in_any_scene(data):
    """Beyond the course's own diagrams: any few flows in the course's scenes, every pod
    isolated (the longest labels): no label or header covers a pod box, and no text
    covers an arrowhead or an arrow's tail."""
    cluster = data.draw(st.sampled_from(_scene_pool()))
    peers = [p.key for p in cluster.pods] + [e.key for e in cluster.externals]
    pair = st.lists(st.sampled_from(peers), min_size=2, max_size=2, unique=True)
    flows = [
        Flow(src, dst, port, label=f"{src.split('/')[-1]} -> {dst.split('/')[-1]}")
        for (src, dst), port in data.draw(
            st.lists(st.tuples(pair, st.sampled_from([53, 80, 3306])), min_size=1, max_size=5)
        )
    ]
    fig, _ = flow_figure(_deny_everything(cluster), flows, title="A title")
    problems = [
        p
        for p in _layout_problems(fig, fig.axes[0])
        if "covers the pod box" in p or "the head of" in p or "the tail of" in p
    ]
    assert not problems, "\n".join(problems)
