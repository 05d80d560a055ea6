"""lessonkit.quiz: every self-check decides and words its feedback without a widget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lessonkit import scenes
from lessonkit.quiz import (
    DirectionQuiz,
    Expect,
    FixThisPolicy,
    MultipleChoice,
    PredictFlows,
    PredictThenReveal,
    explain_connection,
    predict_connection,
    which_flow_breaks,
)
from npcore import Connection, Protocol, is_allowed
from npcore.explain import explain_text

MC = MultipleChoice(
    "For the web server, the request it sends to the API server is...",
    ["ingress", "egress", "neither"],
    1,
    "The web server starts that connection: egress.",
    hints=["The web server starts it.", "", "Every connection has a direction."],
)


@pytest.mark.parametrize(
    ("choice", "correct", "feedback"),
    [
        (1, True, "Correct. The web server starts that connection: egress."),
        ("egress", True, "Correct. The web server starts that connection: egress."),
        ("  EGRESS ", True, "Correct. The web server starts that connection: egress."),
        (0, False, "Not quite. The web server starts it. Try again."),
        ("neither", False, "Not quite. Every connection has a direction. Try again."),
    ],
    ids=["by-index", "by-text", "case-and-space-insensitive", "wrong-with-hint", "wrong-text"],
)
def test_multiple_choice_check(choice: int | str, correct: bool, feedback: str) -> None:
    assert MC.check(choice) == (correct, feedback)


def test_multiple_choice_wrong_without_hint_gets_generic_hint() -> None:
    q = MultipleChoice("Q?", ["a", "b"], 0, "Because.")
    ok, feedback = q.check("b")
    assert not ok
    assert feedback.startswith("Not quite.")
    assert feedback.endswith("Try again.")
    assert "Because" not in feedback  # the explanation is kept for the right answer


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (3, "choice 3 is out of range: pick 0 to 2"),
        (-1, "choice -1 is out of range: pick 0 to 2"),
        ("sideways", "'sideways' is not one of the options: 'ingress', 'egress', 'neither'"),
        (True, "choose one of the options by number or text, not True"),
    ],
    ids=["index-too-big", "negative-index", "unknown-text", "bool"],
)
def test_multiple_choice_rejects_invalid_choices(choice: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        MC.check(choice)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"options": ["only"], "answer_index": 0}, "needs at least two options"),
        ({"options": ["a", "b"], "answer_index": 2}, "answer_index 2 is not an option's index"),
        ({"options": ["a", "b"], "answer_index": 0, "hints": ["x"]}, "one hint per option"),
    ],
    ids=["one-option", "answer-out-of-range", "hints-length"],
)
def test_multiple_choice_validates_itself(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MultipleChoice("Q?", explanation="", **kwargs)  # type: ignore[arg-type]


@given(
    options=st.lists(
        st.text(min_size=1).filter(str.strip), min_size=2, max_size=6, unique_by=str.lower
    )
    .map(lambda xs: [x.strip() for x in xs])
    .filter(lambda xs: len({x.lower() for x in xs}) == len(xs)),
    data=st.data(),
)
def test_exactly_one_option_is_right(options: list[str], data: st.DataObject) -> None:
    answer = data.draw(st.integers(0, len(options) - 1))
    q = MultipleChoice("Q?", options, answer, "why")
    results = [q.check(i)[0] for i in range(len(options))]
    assert results == [i == answer for i in range(len(options))]
    assert [q.check(o)[0] for o in options] == results


def test_predict_then_reveal_with_options_always_shows_the_truth() -> None:
    q = PredictThenReveal("Q?", lambda: "the truth", options=["a", "b"], answer_index=1)
    assert q.check("b") == (True, "Correct. Here is what happens:\nthe truth")
    assert q.check("a") == (False, "Not quite. Here is what happens:\nthe truth")


def test_predict_then_reveal_free_prediction() -> None:
    q = PredictThenReveal("What happens?", lambda: "the truth")
    assert q.check(" it fails ") == (
        True,
        "You predicted: it fails. Here is what happens:\nthe truth",
    )
    with pytest.raises(ValueError, match="write down your prediction first"):
        q.check("   ")


def test_predict_then_reveal_reads_text_method() -> None:
    class Diagram:
        def text(self) -> str:
            return "web -> db: DENIED"

    q = PredictThenReveal("Q?", Diagram, options=["allowed", "denied"], answer_index=1)
    assert q.check("denied")[1].endswith("web -> db: DENIED")


def test_predict_then_reveal_needs_both_options_and_answer() -> None:
    with pytest.raises(ValueError, match="give both options and answer_index, or neither"):
        PredictThenReveal("Q?", lambda: "", options=["a", "b"])


@pytest.mark.parametrize(
    ("src", "dst", "viewpoint", "answer"),
    [
        ("user", "web", "web", "ingress"),
        ("web", "api", "web", "egress"),
        ("web", "api", "api", "ingress"),
        ("api", "db", "api", "egress"),
        ("api", "db", "db", "ingress"),
    ],
    ids=[
        "user-to-web-for-web",
        "web-to-api-for-web",
        "web-to-api-for-api",
        "api-to-db-for-api",
        "api-to-db-for-db",
    ],
)
def test_direction_quiz_follows_who_starts(src: str, dst: str, viewpoint: str, answer: str) -> None:
    q = DirectionQuiz(src, dst, viewpoint=viewpoint)
    other = "egress" if answer == "ingress" else "ingress"
    ok, feedback = q.check(answer)
    assert ok and feedback.startswith("Correct.")
    assert "reply" in feedback
    ok, feedback = q.check(other)
    assert not ok
    assert feedback == (
        f"Not quite. Ask: who starts the connection, and is {viewpoint} that one? Try again."
    )


def test_direction_quiz_viewpoint_must_be_an_end() -> None:
    with pytest.raises(ValueError, match="must be one end of the connection"):
        DirectionQuiz("web", "api", viewpoint="db")


def test_direction_quiz_question_names_the_viewpoint() -> None:
    q = DirectionQuiz("api", "db", viewpoint="db", what="a SQL query")
    assert q.question == (
        "api opens a connection to db (a SQL query). For db, is this ingress or egress traffic?"
    )


# predict_connection: the answer is npcore's, keyed to the rule it illustrates.
CASES = [
    ("default-allow", scenes.three_tier(), "shop/web", "shop/db", 3306, "TCP", "allowed"),
    (
        "db-policy-blocks-web",
        scenes.three_tier(with_db_policy=True),
        "shop/web",
        "shop/db",
        3306,
        "TCP",
        "denied",
    ),
    (
        "db-policy-admits-api",
        scenes.three_tier(with_db_policy=True),
        "shop/api",
        "shop/db",
        3306,
        "TCP",
        "allowed",
    ),
    (
        "db-policy-other-port",
        scenes.three_tier(with_db_policy=True),
        "shop/api",
        "shop/db",
        22,
        "TCP",
        "denied",
    ),
    (
        "db-policy-only-selected-pod",
        scenes.three_tier(with_db_policy=True),
        "shop/db",
        "shop/web",
        80,
        "TCP",
        "allowed",
    ),
    (
        "flannel-does-not-enforce",
        scenes.three_tier(with_db_policy=True, cni="flannel"),
        "shop/web",
        "shop/db",
        3306,
        "TCP",
        "allowed",
    ),
    (
        "lockdown-user-to-web",
        scenes.three_tier(lockdown=True),
        "user",
        "shop/web",
        80,
        "TCP",
        "allowed",
    ),
    (
        "lockdown-web-to-db",
        scenes.three_tier(lockdown=True),
        "shop/web",
        "shop/db",
        3306,
        "TCP",
        "denied",
    ),
    (
        "lockdown-dns-udp",
        scenes.three_tier(lockdown=True),
        "shop/api",
        "kube-system/coredns",
        53,
        "UDP",
        "allowed",
    ),
    (
        "lockdown-dns-tcp",
        scenes.three_tier(lockdown=True),
        "shop/api",
        "kube-system/coredns",
        53,
        "TCP",
        "allowed",
    ),
    (
        "lockdown-service-port-is-not-pod-port",
        scenes.three_tier(lockdown=True),
        "shop/web",
        "shop/api",
        80,
        "TCP",
        "denied",
    ),
]


@pytest.mark.parametrize(
    ("cluster", "src", "dst", "port", "protocol", "answer"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_predict_connection_uses_npcore(
    cluster, src: str, dst: str, port: int, protocol: str, answer: str
) -> None:
    q = predict_connection(cluster, src, dst, port, protocol)
    assert q.options == ("allowed", "denied")
    assert q.check(answer)[0]
    other = "denied" if answer == "allowed" else "allowed"
    ok, feedback = q.check(other)
    assert not ok
    assert f"Connection: {src} -> {dst} on {protocol} port {port}" in feedback
    assert feedback.splitlines()[-1].startswith(f"{answer.upper()}: ")


@given(
    st.sampled_from(
        [
            scenes.three_tier(),
            scenes.three_tier(with_db_policy=True),
            scenes.three_tier(lockdown=True),
            scenes.x_y_z(),
        ]
    ),
    st.data(),
)
def test_predict_connection_agrees_with_is_allowed(cluster, data: st.DataObject) -> None:
    names = [p.key for p in cluster.peers()]
    src = data.draw(st.sampled_from(names))
    dst = data.draw(st.sampled_from(names))
    port = data.draw(st.sampled_from([53, 80, 81, 3306, 8080]))
    protocol = data.draw(st.sampled_from(["TCP", "UDP"]))
    q = predict_connection(cluster, src, dst, port, protocol)
    peers = {p.key: p for p in cluster.peers()}
    verdict = is_allowed(cluster, Connection(peers[src], peers[dst], port, Protocol(protocol)))
    assert q.check("allowed")[0] is verdict.allowed
    assert q.check("denied")[0] is not verdict.allowed


@pytest.mark.parametrize(
    ("cluster", "src", "dst", "port", "last_line"),
    [
        (
            scenes.three_tier(with_db_policy=True),
            "shop/web",
            "shop/db",
            3306,
            "DENIED: blocked by ingress to shop/db.",
        ),
        (
            scenes.three_tier(with_db_policy=True),
            "shop/api",
            "shop/db",
            "mysql",
            "ALLOWED: egress from shop/api and ingress to shop/db both allow it.",
        ),
        (
            scenes.three_tier(with_db_policy=True, cni="flannel"),
            "shop/web",
            "shop/db",
            3306,
            "ALLOWED: Flannel does not enforce NetworkPolicy (on a CNI that does, it would be "
            "blocked by ingress to shop/db).",
        ),
    ],
    ids=["blocked-by-ingress", "named-port", "flannel"],
)
def test_explain_connection_is_npcores_explanation(
    cluster, src: str, dst: str, port: int | str, last_line: str
) -> None:
    text = explain_connection(cluster, src, dst, port)
    peers = {p.key: p for p in cluster.peers()}
    assert text == explain_text(is_allowed(cluster, Connection(peers[src], peers[dst], port)))
    assert text.splitlines()[-1] == last_line


def test_quiz_widget_builds_and_checks() -> None:
    widget = MC.widget
    _question, choice, button, feedback, _out = widget.children
    assert list(choice.options) == ["ingress", "egress", "neither"]
    button.click()
    assert "Choose an answer first." in feedback.value
    choice.value = "ingress"
    button.click()
    assert "Not quite. The web server starts it." in feedback.value
    choice.value = "egress"
    button.click()
    assert "✔ Correct. The web server starts that connection: egress." in feedback.value


THREE_STEPS = scenes.three_tier_flows()[:3]


@pytest.mark.parametrize(
    ("without", "answer"),
    [
        ("web-ingress", "user -> web"),
        ("web-egress", "web -> api"),
        ("api-ingress", "web -> api"),
        ("api-egress", "api -> db"),
        ("db-ingress", "api -> db"),
        ("dns", "nothing breaks"),
    ],
)
def test_which_flow_breaks_answers_from_npcore(without: str, answer: str) -> None:
    q = which_flow_breaks(
        scenes.three_tier(lockdown=True, without=without), THREE_STEPS, question="What fails?"
    )
    assert q.options == ("user -> web", "web -> api", "api -> db", "nothing breaks")
    ok, feedback = q.check(answer)
    assert ok
    assert feedback.count("\n") >= 9  # every flow explained, three lines each
    wrong = next(o for o in q.options if o != answer)
    assert not q.check(wrong)[0]


def test_which_flow_breaks_refuses_ambiguous_questions() -> None:
    with pytest.raises(ValueError, match="more than one flow is blocked"):
        which_flow_breaks(
            scenes.three_tier(lockdown=True, without="web-egress").with_policies(
                [scenes.lockdown_policies()[0]]
            ),
            THREE_STEPS,
            question="?",
        )


FIX = FixThisPolicy(
    scenes.three_tier(),
    scenes.three_tier_flows(),
    scenes.SERVICE_PORT_BUG_YAML,
    [
        Expect("shop/web", "shop/api", 8080, True),
        Expect("shop/db", "shop/api", 8080, False),
    ],
)


def test_fix_this_policy_broken_yaml_fails_with_the_reason() -> None:
    ok, feedback = FIX.check(scenes.SERVICE_PORT_BUG_YAML)
    assert not ok
    assert feedback.startswith("Not quite. want shop/web -> shop/api TCP 8080 allowed, got:\n")
    assert "port does not match" in feedback


def test_fix_this_policy_fixed_yaml_passes() -> None:
    fixed = scenes.SERVICE_PORT_BUG_YAML.replace("port: 80\n", "port: 8080\n")
    assert FIX.check(fixed) == (
        True,
        "Correct. Every goal holds:\n"
        "- shop/web -> shop/api TCP 8080 allowed\n"
        "- shop/db -> shop/api TCP 8080 denied",
    )


def test_fix_this_policy_named_port_also_passes() -> None:
    named = scenes.SERVICE_PORT_BUG_YAML.replace("port: 80\n", "port: http\n")
    assert FIX.check(named)[0]


def test_fix_this_policy_over_permissive_fails() -> None:
    too_open = scenes.SERVICE_PORT_BUG_YAML.replace(
        "    ports:\n    - protocol: TCP\n      port: 80\n", ""
    ).replace(
        "  - from:\n    - podSelector:\n        matchLabels:\n          name: web-pod\n", "  - {}\n"
    )
    ok, feedback = FIX.check(too_open)
    assert not ok
    assert "want shop/db -> shop/api TCP 8080 denied" in feedback


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            scenes.SERVICE_PORT_BUG_YAML.replace("port: 80\n", "port: 80000\n"),
            "Not quite. The YAML has problems to fix first:\npolicy.yaml:19:13: "
            "spec.ingress[0].ports[0].port: Invalid value: 80000: must be between 1 and 65535, "
            "inclusive",
        ),
        (
            "",
            "Not quite. The YAML has problems to fix first:\n"
            "policy.yaml:1:1: no objects found: the file is empty (or only comments)",
        ),
        ("apiVersion: v1\nkind: List\nitems: []\n", "Not quite. The text holds no NetworkPolicy."),
    ],
    ids=["invalid-port", "empty", "empty-list"],
)
def test_fix_this_policy_reports_errors_with_line_and_field(text: str, expected: str) -> None:
    assert FIX.check(text) == (False, expected)


def test_fix_this_policy_widget_checks_the_editor_text() -> None:
    _goal, _editor, button, feedback = FIX.widget.children
    button.click()
    assert "✘ Not quite." in feedback.value
    editor = _editor.children[0]
    editor.value = scenes.SERVICE_PORT_BUG_YAML.replace("port: 80\n", "port: 8080\n")
    button.click()
    assert "✔ Correct. Every goal holds" in feedback.value


@pytest.mark.parametrize(
    ("cluster", "answers"),
    [
        (scenes.three_tier(), ("allowed", "allowed", "allowed", "allowed")),
        (scenes.three_tier(with_db_policy=True), ("allowed", "allowed", "allowed", "denied")),
        (scenes.three_tier(lockdown=True), ("allowed", "allowed", "allowed", "denied")),
        (
            scenes.three_tier(lockdown=True, without="web-egress"),
            ("allowed", "denied", "allowed", "denied"),
        ),
        (
            scenes.three_tier(lockdown=True, cni="flannel"),
            ("allowed", "allowed", "allowed", "allowed"),
        ),
    ],
    ids=["no-policy", "db-policy", "lockdown", "lockdown-without-web-egress", "flannel"],
)
def test_predict_flows_answers_from_npcore(cluster, answers: tuple[str, ...]) -> None:
    q = PredictFlows(cluster, scenes.three_tier_flows())
    assert q.answers == answers
    ok, feedback = q.check(list(answers))
    assert ok
    assert feedback.startswith("Correct. All 4 predictions hold.\n✔ user -> web: allowed")


def test_predict_flows_names_each_wrong_prediction() -> None:
    q = PredictFlows(scenes.three_tier(with_db_policy=True), scenes.three_tier_flows())
    ok, feedback = q.check(["allowed", "allowed", "denied", "allowed"])
    assert not ok
    assert feedback.splitlines() == [
        "Not quite. 2 of 4 right.",
        "✔ user -> web: allowed",
        "✔ web -> api: allowed",
        "✘ api -> db: you said denied; "
        "ALLOWED: egress from shop/api and ingress to shop/db both allow it.",
        "✘ web -> db (unwanted): you said allowed; DENIED: blocked by ingress to shop/db.",
    ]


@pytest.mark.parametrize("choices", [["allowed"], "allowed", []], ids=["too-few", "str", "empty"])
def test_predict_flows_needs_one_prediction_per_flow(choices: object) -> None:
    q = PredictFlows(scenes.three_tier(), scenes.three_tier_flows())
    with pytest.raises(ValueError, match=r"give one prediction per connection \(4 in all\)"):
        q.check(choices)  # type: ignore[arg-type]


def test_predict_flows_widget_reveals_after_every_prediction() -> None:
    q = PredictFlows(scenes.three_tier(with_db_policy=True), scenes.three_tier_flows())
    _question, *toggles, button, feedback = q.widget.children
    assert [t.description for t in toggles] == [
        "user -> web",
        "web -> api",
        "api -> db",
        "web -> db (unwanted)",
    ]
    button.click()
    assert "Predict every connection first." in feedback.value
    for toggle, answer in zip(toggles, q.answers, strict=True):
        toggle.value = answer
    button.click()
    assert "✔ Correct. All 4 predictions hold." in feedback.value


# --- the bank of self-checks (lessonkit.bank) and the "write it" challenges ---------------


def _bank_checks():
    from lessonkit import bank

    return [(check_id, bank.get(check_id)) for check_id in bank.ids()]


def test_every_multiple_choice_answers_each_wrong_option_with_its_own_hint():
    from lessonkit.selfcheck import MultipleChoice as MC

    for check_id, check in _bank_checks():
        if not isinstance(check, MC):
            continue
        assert check.hints is not None, f"{check_id}: no hints"
        for index, hint in enumerate(check.hints):
            if index == check.answer_index:
                continue
            assert hint.strip(), f"{check_id}: option {index} has no hint"
            correct, feedback = check.check(index)
            assert not correct and hint in feedback
            assert "who starts the connection" not in feedback or "start" in hint


def test_a_wrong_choice_without_a_hint_gets_no_unrelated_advice():
    q = MultipleChoice("2 + 2?", ["3", "4"], 1, "Two and two make four.")
    assert q.check(0) == (False, "Not quite. Try again.")


def _reveals(check_id: str, check) -> list[str]:
    if isinstance(check, PredictFlows):
        wrong = ["denied" if a == "allowed" else "allowed" for a in check.answers]
        return [check.check(wrong)[1]]
    if isinstance(check, PredictThenReveal):
        return [check.reveal()]
    return []


def test_reveals_before_lesson_04_are_short_and_use_only_words_taught_so_far():
    for check_id, check in _bank_checks():
        if check_id >= "04":
            continue
        for text in _reveals(check_id, check):
            for word in ("spec.", "isolated for", "selecting polic", "default-deny", "Connection:"):
                assert word not in text, f"{check_id}: {word!r} in an early reveal:\n{text}"
            if isinstance(check, PredictThenReveal):
                assert len(text.splitlines()) <= 3, f"{check_id}: {len(text.splitlines())} lines"


def test_reveals_from_lesson_04_on_give_npcore_full_explanation():
    full = [t for i, c in _bank_checks() if i >= "04" for t in _reveals(i, c)]
    assert full and all("Connection: " in t or "✔" in t or "✘" in t for t in full)
    assert any("isolated for ingress" in t for t in full)


def test_brief_verdict_names_the_side_that_blocks():
    from lessonkit.selfcheck import _decide, brief_verdict

    locked = scenes.three_tier(lockdown=True)
    line = brief_verdict(_decide(locked, "shop/web", "shop/db", 3306, "TCP"))
    assert line == (
        "shop/web -> shop/db: denied: no egress rule of shop/web allows it "
        "and no ingress rule of shop/db allows it."
    )
    open_line = brief_verdict(_decide(locked, "shop/api", "shop/db", 3306, "TCP"))
    assert open_line == "shop/api -> shop/db: allowed. The rules at both ends let it through."


def test_the_ipblock_reveal_names_the_except_range():
    from lessonkit import bank

    check = bank.get("07-ipblock-metadata")
    correct, feedback = check.check("denied")
    assert correct and "`except`" in feedback and "169.254.169.254/32" in feedback


def test_unknown_check_ids_name_the_known_ones():
    from lessonkit import bank

    with pytest.raises(KeyError, match="01-who-opens-db"):
        bank.get("01-nope")


def _images(widget) -> list:
    """Every image widget inside ``widget`` (children of children too), and every Output
    area's recorded outputs that hold an image."""
    import ipywidgets as w

    found = []
    stack = [widget]
    while stack:
        node = stack.pop()
        if isinstance(node, w.Image):
            found.append(node)
        if isinstance(node, w.Output):
            found += [o for o in node.outputs if "image/png" in o.get("data", {})]
        stack.extend(getattr(node, "children", ()))
    return found


def test_predict_flows_draws_nothing_until_the_learner_commits():
    import ipywidgets as w

    check = PredictFlows(scenes.three_tier(with_db_policy=True), scenes.three_tier_flows())
    box = check.widget
    toggles = [c for c in box.children if isinstance(c, w.ToggleButtons)]
    button = next(c for c in box.children if isinstance(c, w.Button))
    feedback = next(c for c in box.children if isinstance(c, w.HTML) and c is not box.children[0])
    assert _images(box) == [], "no answer image (not even a hidden one) before a prediction"
    button.click()  # nothing predicted yet: no reveal
    assert _images(box) == [] and "Predict every connection first" in feedback.value
    toggles[0].value = check.answers[0]
    button.click()  # one prediction of four is not a commitment
    assert _images(box) == []
    for toggle, answer in zip(toggles, check.answers, strict=True):
        toggle.value = answer
    button.click()
    assert "All 4 predictions hold" in feedback.value
    (picture,) = _images(box)
    assert bytes(picture.value).startswith(b"\x89PNG"), "drawn once the learner commits"
    assert picture.layout.display != "none"
    button.click()  # revealing again adds no second diagram
    assert len(_images(box)) == 1


def test_no_bank_widget_holds_an_image_before_the_learner_acts():
    """Every self-check and challenge of the bank, as first displayed: no answer image."""
    from lessonkit import bank

    for check_id in bank.ids():
        check = bank.get(check_id)
        widget = getattr(check, "widget", None)
        if widget is None:
            continue
        assert _images(widget) == [], f"{check_id} shows an image before any answer"


def _grade():
    import importlib

    return importlib.import_module("autograder.grade").grade


def _example(exercise: str, passes: bool) -> str:
    import yaml

    from lessonkit.workspace import LESSONS

    definition = LESSONS.parent / "autograder" / "exercises" / f"{exercise}.yaml"
    data = yaml.safe_load(definition.read_text(encoding="utf-8"))
    return next(e["answer"] for e in data["examples"] if e["passes"] is passes)


@pytest.mark.parametrize("key", sorted(__import__("lessonkit.challenges").challenges.CHALLENGES))
def test_challenge_world_is_the_exercise_scenario_and_grading_is_npgrade(key):
    import importlib

    from lessonkit.challenges import CHALLENGES, challenge

    grade_module = importlib.import_module("autograder.grade")
    catalog = importlib.import_module("autograder.catalog")
    item = CHALLENGES[key]
    scenario = catalog.load(item.exercise).scenario
    theirs = {p.key: (dict(p.labels), p.ports) for p in scenario.pods}
    world = item.world()
    for pod in world.pods:  # every pod drawn is the exercise's pod, same labels and ports
        assert theirs.get(pod.key) == (dict(pod.labels), pod.ports), pod.key
    flows = item.flows()
    assert (item.port[0], item.port[1]) in {(f.port, f.protocol) for f in flows}
    widget = challenge(key, grade_module.grade)
    assert widget.editor.port.value == item.port  # the truth table opens where it matters
    assert not widget.editor.errors or key.startswith("0")
    starter = widget.check(item.starter)
    assert not starter.passed, f"{key}: the starting YAML already passes"
    good = widget.check(_example(item.exercise, True))
    assert good.passed and good.text() == grade_module.grade(
        item.exercise, _example(item.exercise, True), filename="policy.yaml"
    ).text()


def test_write_it_feedback_is_npgrade_and_clears_on_edit():
    from lessonkit.challenges import challenge

    widget = challenge("08-drill-one-dash", _grade())
    widget.button.click()
    assert "not passed" in widget.feedback.value
    assert "instead of AND" in widget.result.text()  # npgrade names the mistake
    assert "instead of AND" in widget.feedback.value
    assert widget.result is not None and not widget.result.passed
    widget.editor.editor.value += "\n"
    assert widget.feedback.value == "" and widget.result is None
    widget.editor.editor.value = _example("three-tier-db", True)
    widget.button.click()
    assert widget.result.passed and "passed" in widget.feedback.value


def test_write_it_names_the_service_port_mistake_like_npgrade():
    from lessonkit.challenges import challenge

    widget = challenge("08-drill-service-port", _grade())
    widget.button.click()
    text = widget.result.text()
    assert "Service" in text and "8080" in text, text


def test_write_it_shows_a_grader_failure_instead_of_losing_it():
    from lessonkit.challenges import challenge

    def broken(exercise_id, answer_text, *, filename="answer.yaml"):
        raise RuntimeError("grader exploded")

    widget = challenge("04-write-db-policy", broken)
    widget.button.click()
    assert "grader exploded" in widget.feedback.value and widget.result is None


def test_lessonkit_docstring_examples():
    import doctest
    import importlib

    for name in ("lessonkit.selfcheck", "lessonkit.widgets", "lessonkit.verdicts"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
        assert result.attempted > 0, name


def test_the_service_port_drill_says_truly_what_the_starting_policy_does():
    """08-drill-service-port: "locks web out (every other pod is already kept out)"."""
    from lessonkit.challenges import CHALLENGES
    from lessonkit.scenes import with_yaml
    from npcore import Connection, is_allowed

    item = CHALLENGES["08-drill-service-port"]
    assert "locks web out" in item.task and "lets other pods in" not in item.task
    cluster = with_yaml(item.world(), item.starter)
    api = cluster.pod("shop/api")
    sources = [*(p for p in cluster.pods if p.key != "shop/api"), *cluster.externals]
    assert sources
    for src in sources:
        assert not is_allowed(cluster, Connection(src, api, 8080)).allowed, src
