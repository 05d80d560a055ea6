"""autograder.sandbox: the grader of record for nbgrader submissions runs no learner code.

Tables of cases keyed to the sandbox's rules (module docstring of autograder/sandbox.py):
static extraction of the answer literal, the trusted spec from the SOURCE notebook, the
verdict -> nbgrader output mapping (checked against nbgrader's own ``determine_grade``),
and the child process's limits and failure paths.  Grading itself is the real
``autograder.grade.grade``.
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbformat import from_dict
from nbgrader.utils import determine_grade

from autograder import sandbox
from autograder.exercise import load_exercise
from autograder.grade import grade

ROOT = Path(__file__).resolve().parent.parent
SOURCE_NB = ROOT / "exercises" / "source" / "ps2-three-tier" / "ps2-three-tier.ipynb"
REFERENCE = load_exercise("three-tier-db").reference
PARTIAL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-policy, namespace: shop}
spec:
  podSelector: {matchLabels: {role: db}}
  ingress:
    - from: [{podSelector: {}}]
      ports: [{port: 3306}]
"""


# --- extract_answer: the answer is the literal text, never an evaluated value ---------------

EXTRACTED = [
    ("triple-quoted-raw", 'answer = r"""\nkind: X\n"""', "\nkind: X\n"),
    ("padded-to-cell-lines", '# note\nanswer = """\na: 1\n"""', "\n\na: 1\n"),
    ("last-assignment-wins", 'answer = "a"\nanswer = "b"', "\nb"),
    ("annotated", 'answer: str = "x"', "x"),
    ("chained-targets", 'x = answer = "y"', "y"),
    ("other-statements-not-run", 'answer = "x"\nwhile True:\n    pass', "x"),
    ("implicit-concatenation", 'answer = ("a"\n          "b")', "ab"),
    ("backslashes-kept-in-raw", 'answer = r"a\\nb"', "a\\nb"),
]


@pytest.mark.parametrize(
    ("source", "expected"), [c[1:] for c in EXTRACTED], ids=[c[0] for c in EXTRACTED]
)
def test_extract_answer_reads_the_literal(source: str, expected: str) -> None:
    assert sandbox.extract_answer(source) == expected


REFUSED = [
    ("syntax-error", 'answer = r"""\nkind: X\n', "not valid Python (line 1"),
    ("no-assignment", "print('hi')", "does not assign `answer`"),
    ("nested-in-if", 'if True:\n    answer = "x"', "does not assign `answer`"),
    ("computed-call", 'answer = open("ref.yaml").read()', "must be a plain string literal"),
    ("f-string", 'x = 1\nanswer = f"{x}"', "(line 2) must be a plain string literal"),
    ("name", "answer = solution", "must be a plain string literal"),
    ("bytes", 'answer = b"kind: X"', "must be a plain string literal"),
    ("concatenation-operator", 'answer = "a" + "b"', "must be a plain string literal"),
    ("too-long", "answer = '" + "x" * sandbox.MAX_SOURCE_CHARS + "'", "the limit is"),
]


@pytest.mark.parametrize(
    ("source", "message"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_extract_answer_refuses_with_a_sentence(source: str, message: str) -> None:
    with pytest.raises(sandbox.AnswerError) as info:
        sandbox.extract_answer(source)
    assert message in str(info.value)
    assert 'answer = r"""<your YAML>"""' in str(info.value) or "limit" in message


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_extract_answer_returns_any_raw_text_unchanged(text: str) -> None:
    source = "answer = " + repr(text)
    assert sandbox.extract_answer(source) == text


@given(st.text(max_size=300))
def test_extract_answer_never_raises_anything_but_answer_error(source: str) -> None:
    with contextlib.suppress(sandbox.AnswerError):
        sandbox.extract_answer(source)


# --- the spec comes from the SOURCE notebook; the submission is only searched -------------


def test_read_spec_of_the_committed_source_notebook() -> None:
    spec = sandbox.read_spec(json.loads(SOURCE_NB.read_text(encoding="utf-8")))
    ex = load_exercise("three-tier-db")
    assert (
        sandbox.ExerciseSlot(
            "three-tier-db", "answer-three-tier-db", "test-three-tier-db", ex.max_score
        )
        in spec
    )


def test_read_spec_refuses_a_test_cell_without_answer_cell() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "",
                "metadata": {"nbgrader": {"grade": True, "grade_id": "test-x", "points": 1}},
            }
        ]
    }
    with pytest.raises(ValueError, match="has no answer cell 'answer-x'"):
        sandbox.read_spec(nb)


def _cell(grade_id: str | None, source: str, cell_type: str = "code") -> dict[str, object]:
    meta = {} if grade_id is None else {"nbgrader": {"grade_id": grade_id, "solution": True}}
    return {"cell_type": cell_type, "metadata": meta, "source": source}


FIND = [
    ("first-of-duplicates", [_cell("answer-x", "one"), _cell("answer-x", "two")], "one"),
    ("source-as-list", [{**_cell("answer-x", ""), "source": ["a", "b"]}], "ab"),
    ("deleted", [_cell(None, "answer = 'x'")], None),
    ("turned-into-markdown", [_cell("answer-x", "answer = 'x'", "markdown")], None),
    ("metadata-not-a-dict", [{"cell_type": "code", "metadata": [], "source": "x"}], None),
]


@pytest.mark.parametrize(("cells", "expected"), [c[1:] for c in FIND], ids=[c[0] for c in FIND])
def test_find_answer_source(cells: list[dict[str, object]], expected: str | None) -> None:
    assert sandbox.find_answer_source({"cells": cells}, "answer-x") == expected


@pytest.mark.parametrize(
    "nb",
    [{}, {"cells": "nope"}, {"cells": [1, "x", None]}],
    ids=["no-cells", "cells-not-a-list", "cells-not-dicts"],
)
def test_find_answer_source_on_garbage_notebooks(nb: dict[str, object]) -> None:
    assert sandbox.find_answer_source(nb, "answer-x") is None


# --- verdict -> outputs: nbgrader's own determine_grade reads back the same score ---------


@pytest.mark.parametrize(
    ("score", "passed"),
    [(0.0, False), (2.5, False), (6.0, True)],
    ids=["zero-is-an-error-output", "partial-is-an-execute-result", "full-is-plain-stdout"],
)
def test_verdict_outputs_score_the_same_in_nbgrader(score: float, passed: bool) -> None:
    v = sandbox.Verdict("ex", "test-ex", score, 6.0, passed, ("shop/web -> shop/db TCP 3306",))
    cell = from_dict(
        {
            "cell_type": "code",
            "source": "check('ex', answer)",
            "execution_count": None,
            "metadata": {
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "grade_id": "test-ex",
                    "points": 6.0,
                    "locked": True,
                }
            },
            "outputs": sandbox.verdict_outputs(v),
        }
    )
    assert determine_grade(cell) == (score, 6.0)
    assert "shop/web -> shop/db TCP 3306" in json.dumps(cell["outputs"])


# --- grade_item (in this process, with a stand-in grader for the scaling rules) ------------


def _fake(score: float, max_score: float, passed: bool):
    return lambda exercise, text: SimpleNamespace(
        score=score, max_score=max_score, passed=passed, feedback=[f"graded {text.strip()}"]
    )


SCALING = [
    ("scaled-to-test-cell-points", _fake(3, 6, False), 10.0, 5.0, False),
    ("full-marks", _fake(6, 6, True), 10.0, 10.0, True),
    ("over-max-is-clipped", _fake(9, 6, True), 4.0, 4.0, True),
    ("negative-is-clipped", _fake(-1, 6, False), 4.0, 0.0, False),
    ("zero-max-scores-zero", _fake(0, 0, True), 4.0, 0.0, False),
]


@pytest.mark.parametrize(
    ("grader", "points", "score", "passed"), [c[1:] for c in SCALING], ids=[c[0] for c in SCALING]
)
def test_grade_item_scales_to_the_test_cell_points(grader, points, score, passed) -> None:
    item = {
        "exercise": "ex",
        "test_cell": "test-ex",
        "points": points,
        "source": 'answer = "kind: X"',
    }
    v = sandbox.grade_item(item, grader)
    assert (v.score, v.max_score, v.passed) == (score, points, passed)
    assert v.feedback == ("graded kind: X",)


def test_grade_item_missing_answer_cell_scores_zero_with_a_sentence() -> None:
    item = {"exercise": "ex", "test_cell": "test-ex", "points": 3, "source": None}
    v = sandbox.grade_item(item, _fake(3, 3, True))
    assert (v.score, v.passed) == (0.0, False)
    assert "`answer-ex` is missing" in v.feedback[0]


def test_grade_item_unreadable_answer_cell_never_reaches_the_grader() -> None:
    def boom(exercise: str, text: str) -> None:
        raise AssertionError("the grader must not be called")

    item = {
        "exercise": "ex",
        "test_cell": "test-ex",
        "points": 3,
        "source": "answer = open('defs/ex.yaml').read()",
    }
    v = sandbox.grade_item(item, boom)
    assert v.score == 0.0 and "plain string literal" in v.feedback[0]


# --- run_sandboxed: the real grader in a limited child process -----------------------------


def _item(source: str | None, exercise: str = "three-tier-db", points: float = 6.0) -> dict:
    return {
        "exercise": exercise,
        "test_cell": f"test-{exercise}",
        "points": points,
        "source": source,
    }


def test_child_grades_like_grade_itself() -> None:
    answers = [REFERENCE, PARTIAL, "kind: NetworkPolicy\n  spec: [\n", ""]
    verdicts = sandbox.run_sandboxed([_item(f'answer = r"""\n{a}"""') for a in answers])
    for answer, v in zip(answers, verdicts, strict=True):
        direct = grade("three-tier-db", "\n" + answer, filename="answer cell")
        assert (v.score, v.passed, v.feedback) == (
            direct.score,
            direct.passed,
            tuple(direct.feedback),
        )
    assert verdicts[0].score == 6.0 and 0 < verdicts[1].score < 6.0
    assert verdicts[2].score == verdicts[3].score == 0.0


def test_child_error_lines_are_cell_lines() -> None:
    (v,) = sandbox.run_sandboxed(
        [_item('# my answer\nanswer = r"""\nkind: NetworkPolicy\n  spec: [\n"""')]
    )
    assert v.score == 0.0
    assert v.feedback[0].startswith("answer cell:4:"), v.feedback


def test_unknown_exercise_is_a_zero_with_a_sentence_not_a_crash() -> None:
    (v,) = sandbox.run_sandboxed([_item('answer = "x"', exercise="no-such-exercise")])
    assert v.score == 0.0 and "The grader failed on this answer" in v.feedback[0]


ECHO_ONE = (
    "import json,sys; items=json.load(sys.stdin)['items']; assert len(items)==1; i=items[0];"
    "json.dump({'verdicts':[{'exercise':i['exercise'],'test_cell':i['test_cell'],"
    "'score':i['points'],'max_score':i['points'],'passed':True,'feedback':['ok']}]},"
    "sys.stdout)"
)

FAILURES = [
    ("timeout", ("-c", "while True: pass"), "took longer than 2 s"),
    ("memory", ("-c", "x = bytearray(2**31)"), "needed more than 256 MB"),
    ("crash", ("-c", "import sys; sys.exit(3)"), "The grader failed on this answer"),
    (
        "no-file-writes",
        ("-c", "f = open('x', 'w'); f.write('a' * 10); f.close()"),
        "The grader failed",
    ),
    ("garbage-reply", ("-c", "print('hello')"), "unreadable reply"),
    (
        "score-above-max",
        ("-c", ECHO_ONE.replace("'score':i['points']", "'score':99")),
        "inconsistent reply",
    ),
    (
        "environment-scrubbed",
        ("-c", "import os,sys; sys.exit(0 if 'NPGRADE_SECRET' not in os.environ else 5)"),
        "unreadable reply",
    ),
    (
        "cwd-is-empty",
        ("-c", "import os,sys; sys.exit(0 if not os.listdir('.') else 5)"),
        "unreadable reply",
    ),
]


@pytest.mark.parametrize(
    ("argv", "message"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES]
)
def test_child_failures_score_zero_with_a_sentence(
    argv: tuple[str, ...], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NPGRADE_SECRET", "s3cret")
    (v,) = sandbox.run_sandboxed([_item("answer = 'x'")], timeout=2, memory_mb=256, child_argv=argv)
    assert (v.score, v.max_score, v.passed) == (0.0, 6.0, False)
    assert message in v.feedback[0], v.feedback


def test_a_failing_batch_is_regraded_one_answer_at_a_time() -> None:
    items = [_item("answer = 'a'"), _item("answer = 'b'", points=2.0)]
    verdicts = sandbox.run_sandboxed(items, child_argv=("-c", ECHO_ONE))
    assert [(v.score, v.feedback) for v in verdicts] == [(6.0, ("ok",)), (2.0, ("ok",))]


def test_grade_submission_and_cli_on_a_released_notebook(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    source = json.loads(SOURCE_NB.read_text(encoding="utf-8"))
    submission = copy.deepcopy(source)
    for cell in submission["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer-three-tier-db":
            cell["source"] = f'answer = r"""\n{PARTIAL}"""\n'
    spec = sandbox.read_spec(source)
    verdicts = {v.exercise: v for v in sandbox.grade_submission(spec, submission)}
    assert 0 < verdicts["three-tier-db"].score < verdicts["three-tier-db"].max_score
    path = tmp_path / "submitted.ipynb"
    path.write_text(json.dumps(submission), encoding="utf-8")
    assert sandbox.main([str(SOURCE_NB), str(path)]) == 0
    printed = {d["exercise"]: d for d in json.loads(capsys.readouterr().out)}
    assert printed["three-tier-db"]["score"] == verdicts["three-tier-db"].score
    assert sandbox.main([]) == 2


def test_source_notebook_answers_pass_with_their_solution_markers() -> None:
    """The instructor version keeps ### BEGIN/END SOLUTION inside the string: YAML comments."""
    source = json.loads(SOURCE_NB.read_text(encoding="utf-8"))
    verdicts = sandbox.grade_submission(sandbox.read_spec(source), source)
    assert verdicts and all(v.passed and v.score == v.max_score for v in verdicts)
