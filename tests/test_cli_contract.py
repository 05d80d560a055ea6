"""The contract every command line shares (npcore.cli.common), run against all three.

Rules checked, one row each, for ``npcore`` (matrix), ``npcore-draw`` and ``npgrade``:

* an input that cannot be read, or is empty, is a usage error: exit status 2, one
  ``PROG: error: ...`` (npgrade: ``npgrade: ...``) line on stderr naming it, nothing on
  stdout, no traceback;
* an invalid manifest exits 1 with the error as ``FILE:LINE:COL: FIELD.PATH: message``;
* notices are ``FILE:LINE: notice: message`` (npcore and npcore-draw; npgrade's answers
  may hold only NetworkPolicies, so it has no notices: another kind is an error, exit 1).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.cli import main as npgrade_main
from lessonkit.cli import main as draw_main
from npcore.cli import main as npcore_main

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: api
    ports:
    - protocol: TCP
      port: 3306
"""
INVALID = POLICY.replace("protocol: TCP", "protocol: tcp")  # line 16, column 17
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n---\n"
PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
"""

Run = Callable[[list[str], str], tuple[int, str, str]]


def _npcore(tmp: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(files: list[str], stdin: str) -> tuple[int, str, str]:
        sys.stdin = io.StringIO(stdin)
        code = npcore_main(["matrix", *files, "--port", "3306"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _draw(tmp: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(files: list[str], stdin: str) -> tuple[int, str, str]:
        sys.stdin = io.StringIO(stdin)
        code = draw_main([*files, "--port", "3306", "-o", str(tmp / "flows.svg")])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _npgrade(tmp: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(files: list[str], stdin: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = npgrade_main(
            ["three-tier-db", *files], stdin=io.StringIO(stdin), stdout=out, stderr=err
        )
        return code, out.getvalue(), err.getvalue()

    return run


def _npcore_command(command: str) -> Callable[[Path, pytest.CaptureFixture[str]], Run]:
    def make(tmp: Path, capsys: pytest.CaptureFixture[str]) -> Run:
        def run(files: list[str], stdin: str) -> tuple[int, str, str]:
            sys.stdin = io.StringIO(stdin)
            code = npcore_main([command, *files])
            out, err = capsys.readouterr()
            return code, out, err

        return run

    return make


def _drill(tmp: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """``npgrade drill ID`` (the answer pasted on stdin) or ``--file FILE`` (one file);
    the task it prints first is not part of the verdict."""

    def run(files: list[str], stdin: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        if files == ["-"]:
            argv, feed = ["drill", "three-tier-db"], stdin
        elif len(files) == 1:
            argv, feed = ["drill", "three-tier-db", "--file", files[0]], "\n"
        else:
            argv, feed = ["drill", "three-tier-db", *files], stdin
        code = npgrade_main(argv, stdin=io.StringIO(feed), stdout=out, stderr=err)
        printed = out.getvalue()
        task_end = printed.find("to grade it.\n")
        return (
            code,
            printed[task_end + len("to grade it.\n") :] if task_end >= 0 else printed,
            (err.getvalue()),
        )

    return run


TOOLS = {
    "npcore": _npcore,
    "npcore check": _npcore_command("check"),
    "npcore describe": _npcore_command("describe"),
    "npcore-draw": _draw,
    "npgrade": _npgrade,
    "npgrade drill": _drill,
}
PREFIX = {
    "npcore": "npcore: error: ",
    "npcore check": "npcore: error: ",
    "npcore describe": "npcore: error: ",
    "npcore-draw": "npcore draw: error: ",
    "npgrade": "npgrade: ",
    "npgrade drill": "npgrade: ",
}
BIG = 5 * 1024 * 1024 + 1  # over npcore's bound (and npgrade's 1 MB one)
TWO_FILES = {"npgrade drill"}  # tools that take one input only skip the two-input rows


def _big(d: Path, text: str) -> list[str]:
    path = d / "big.yaml"
    path.write_text(text * (BIG // len(text) + 1))
    return [str(path)]


def _binary_in_directory(d: Path) -> list[str]:
    (d / "dir").mkdir()
    (d / "dir" / "a.yaml").write_bytes(b"kind: \xff\xfe\n")
    return [str(d / "dir")]


@pytest.fixture(params=sorted(TOOLS))
def tool(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, Run]:
    monkeypatch.setattr(sys, "stdin", sys.stdin)  # restored after each test
    name: str = request.param
    return name, TOOLS[name](tmp_path, capsys)


@pytest.mark.parametrize(
    ("case", "make", "reason"),
    [
        ("missing file", lambda d: [str(d / "nope.yaml")], "no such file or directory"),
        ("empty file", lambda d: [_write(d / "empty.yaml", "")], "the file is empty"),
        ("blank file", lambda d: [_write(d / "blank.yaml", " \n\n")], "the file is empty"),
        ("empty stdin", lambda d: ["-"], "<stdin>: it is empty"),
        ("stdin twice", lambda d: ["-", "-"], "stdin (-) can be read only once"),
        ("comment-only file", lambda d: [_write(d / "c.yaml", "# a\n\n  # b\n")], "only comments"),
        (
            "marker-only file",
            lambda d: [_write(d / "m.yaml", "---\n--- # x\n...\n")],
            "only comments",
        ),
        ("oversized file", lambda d: _big(d, "# padding\n"), "larger than"),
        ("oversized file of spaces", lambda d: _big(d, " "), "larger than"),
        ("a device that never ends", lambda d: ["/dev/zero"], "larger than"),
        ("non-UTF-8 file", lambda d: [_write_bytes(d / "r.bin", b"ab\xff\xfe")], "not UTF-8"),
        ("non-UTF-8 file in a directory", _binary_in_directory, "not UTF-8"),
        (
            "directory without manifests",
            lambda d: [str((d / "dir").mkdir() or d / "dir")],
            "no .yaml, .yml, .json files in the directory",
        ),
    ],
)
def test_unreadable_or_empty_input_exits_2(
    tool: tuple[str, Run], tmp_path: Path, case: str, make: Callable[[Path], list[str]], reason: str
) -> None:
    name, run = tool
    files = make(tmp_path)
    if len(files) > 1 and name in TWO_FILES:
        return
    code, out, err = run(files, "")
    assert (code, out) == (2, ""), case
    assert err.startswith(PREFIX[name]) and reason in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_an_invalid_manifest_exits_1_with_file_line_column(
    tool: tuple[str, Run], tmp_path: Path
) -> None:
    name, run = tool
    files = [_write(tmp_path / "pods.yaml", PODS), _write(tmp_path / "bad.yaml", INVALID)]
    if name.startswith("npgrade"):
        files = files[1:]
    code, out, err = run(files, "")
    assert code == 1
    expected = f'{files[-1]}:16:17: spec.ingress[0].ports[0].protocol: Unsupported value: "tcp"'
    assert expected in out + err
    assert "Traceback" not in out + err


def test_notices_are_file_line_notice(tool: tuple[str, Run], tmp_path: Path) -> None:
    name, run = tool
    both = _write(tmp_path / "both.yaml", CONFIGMAP + POLICY)
    code, out, err = run(
        [both] if name.startswith("npgrade") else [_write(tmp_path / "pods.yaml", PODS), both], ""
    )
    if name.startswith("npgrade"):
        assert code == 1
        assert "expected only NetworkPolicy objects here, found kind ConfigMap" in out + err
        return
    assert code == 0
    assert f"{both}:1: notice: skipped kind ConfigMap (npcore does not use it)\n" in out + err


STDIN_CASES = [
    pytest.param("", "<stdin>: it is empty", id="empty"),
    pytest.param("# only a comment\n---\n", "<stdin>: it has only comments", id="comments"),
    pytest.param(" " * BIG, "<stdin>: refused: larger than", id="oversized spaces"),
    pytest.param("\0" * BIG, "<stdin>: refused: larger than", id="oversized zeros"),
]


@pytest.mark.parametrize(("stdin", "reason"), STDIN_CASES)
def test_unusable_stdin_exits_2_like_a_file(tool: tuple[str, Run], stdin: str, reason: str) -> None:
    name, run = tool
    code, out, err = run(["-"], stdin)
    assert (code, out) == (2, ""), name
    assert err.startswith(PREFIX[name]) and reason in err, err
    assert len(err.splitlines()) == 1


def _write_bytes(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)
