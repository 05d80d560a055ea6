"""``npgrade``: grading files, listing, drills; exit statuses 0/1/2; no tracebacks."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.exercise import load_exercise

GOOD = load_exercise("three-tier-db").examples[0].answer
OR_MISTAKE = next(e for e in load_exercise("three-tier-db").examples if not e.passes).answer


def run(
    argv: list[str], stdin: str = "", clock: Iterator[float] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ticks = clock or iter([0.0, 0.0])
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, clock=lambda: next(ticks))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def answer(tmp_path: Path) -> Path:
    path = tmp_path / "db-policy.yaml"
    path.write_text(GOOD)
    return path


def test_passing_answer_exits_0(answer: Path) -> None:
    code, out, err = run(["three-tier-db", str(answer)])
    assert (code, err) == (0, "")
    assert out.startswith("three-tier-db: passed, 6/6 points\n")


def test_json_output(answer: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(OR_MISTAKE)
    code, out, _ = run(["three-tier-db", str(wrong), "--format", "json"])
    data = json.loads(out)
    assert code == 1
    assert data["exercise"] == "three-tier-db"
    assert (data["passed"], data["score"], data["max_score"]) == (False, 3, 6)
    assert (
        "shop/web -> shop/db TCP 3306: your policies allow it; the task requires it denied "
        "(shop/db-policy ingress[0].from[0] admits it)"
    ) in data["feedback"]


def test_invalid_input_exits_1_with_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("port: 3306", "port: 3306, protocol: tcp"))
    code, out, err = run(["three-tier-db", str(bad)])
    assert code == 1
    assert f"{bad}:" in out and 'Unsupported value: "tcp"' in out
    assert "Traceback" not in out + err


def test_stdin_answer() -> None:
    code, out, _ = run(["three-tier-db", "-"], stdin=GOOD)
    assert code == 0, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "x.yaml"], "npgrade: unknown exercise 'nope'; known exercises: "),
        (["three-tier-db", "/nonexistent/a.yaml"], "npgrade: cannot read /nonexistent/a.yaml"),
        (["three-tier-db"], "npgrade: the following arguments are required: FILE"),
        (["three-tier-db", "x", "--format", "xml"], "invalid choice: 'xml'"),
        (["drill", "nope"], "npgrade: unknown exercise 'nope'"),
        ([], "npgrade EXERCISE FILE..."),
    ],
    ids=[
        "unknown exercise",
        "unreadable file",
        "no file",
        "bad format",
        "unknown drill",
        "no args",
    ],
)
def test_usage_errors_exit_2_without_traceback(argv: list[str], message: str) -> None:
    code, out, err = run(argv)
    assert code == 2
    assert message in out + err
    assert "Traceback" not in out + err


def test_list_shows_every_exercise() -> None:
    code, out, _ = run(["list"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "POINTS", "TIME", "TITLE"]
    row = next(line for line in lines if line.startswith("three-tier-db "))
    assert row.split()[1:3] == ["policy", "6"]


def test_list_json() -> None:
    code, out, _ = run(["list", "--format", "json"])
    data = json.loads(out)
    assert code == 0
    entry = next(e for e in data if e["id"] == "three-tier-db")
    assert entry == {
        "id": "three-tier-db",
        "title": "Protect the database of the three-tier application",
        "kind": "policy",
        "points": 6.0,
        "time_budget": None,
        "cka": False,
    }


def test_drill_with_file_reads_it_after_enter(answer: Path) -> None:
    code, out, _ = run(
        ["drill", "three-tier-db", "--file", str(answer)], stdin="\n", clock=iter([100.0, 352.0])
    )
    assert code == 0
    assert "Task three-tier-db: Protect the database" in out
    assert "press Enter to grade it" in out
    assert "three-tier-db: passed, 6/6 points" in out
    assert "Time: 4:12 (this exercise has no time budget)" in out


def test_drill_reads_pasted_answer_and_reports_json() -> None:
    code, out, _ = run(
        ["drill", "three-tier-db", "--format", "json"], stdin=OR_MISTAKE, clock=iter([0.0, 61.0])
    )
    data = json.loads(out)
    assert code == 1
    assert data["elapsed_seconds"] == 61.0
    assert data["passed"] is False


def test_drill_with_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(
        ["drill", "three-tier-db", "--file", str(tmp_path / "none.yaml")], stdin="\n"
    )
    assert code == 2
    assert "cannot read" in err


def test_drill_reports_time_over_budget(tmp_path: Path) -> None:
    answer = tmp_path / "np.yaml"
    answer.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: block-metadata, namespace: apps}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
        "  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]\n"
    )
    code, out, _ = run(
        ["drill", "cka-block-metadata", "--file", str(answer)],
        stdin="\n",
        clock=iter([10.0, 410.0]),
    )
    assert code == 0
    assert "Time budget: 4:00" in out
    assert out.rstrip().endswith("Time: 6:40 of 4:00 (over budget by 2:40)")


def test_drill_json_reports_budget() -> None:
    code, out, err = run(
        ["drill", "cka-pick-least-permissive", "--format", "json"],
        stdin="answer: b\n",
        clock=iter([0.0, 90.0]),
    )
    data = json.loads(out)
    assert code == 0
    assert err.startswith("Task cka-pick-least-permissive: ")
    assert (data["budget_seconds"], data["elapsed_seconds"], data["within_budget"]) == (
        240.0,
        90.0,
        True,
    )


def test_a_reader_that_goes_away_is_not_a_traceback() -> None:
    """``npgrade show ID | head -1``: the pipe closes early; exit 0, nothing on stderr."""
    import os
    import subprocess

    npgrade = os.path.join(os.path.dirname(sys.executable), "npgrade")
    done = subprocess.run(
        f"'{npgrade}' show three-tier-lockdown | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
