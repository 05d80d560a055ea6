"""The ``npcore`` command line: every subcommand, both formats, exit statuses 0/1/2, stdin.

Most tests call :func:`npcore.cli.main` in-process (capsys); a few run ``python -m npcore``
as a subprocess, as a user or another tool would.  The contract under test is issue #2 §6
(see npcore/cli.py's docstring and docs/cli.md).
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from npcore.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, main
from npcore.cli.sources import load_files
from npcore.describe import describe_policies

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("tests/data/cli")
CLUSTER = str(DATA / "cluster.yaml")
POLICIES = str(DATA / "policies.yaml")
OPEN_DB = str(DATA / "policies-open-db.yaml")
INVALID = str(DATA / "invalid.yaml")
PEERS = ["shop/web", "shop/api-0", "shop/api-1", "shop/db"]


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- check ----------------------------------------------------------------------------------


def test_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", CLUSTER, POLICIES) == (
        EXIT_OK,
        "OK: 8 objects (3 policies, 4 pods, 1 service) in 1 namespace\n",
        "",
    )


def test_check_reports_every_problem_and_notices_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "check", INVALID)
    assert code == EXIT_INVALID
    assert err == ""
    assert out.splitlines() == [
        f"{INVALID}:1: notice: skipped kind ConfigMap (npcore does not use it)",
        f"{INVALID}:15:13: spec.ingress[0].ports[0].port: Invalid value: 70000: must be "
        "between 1 and 65535, inclusive",
        f'{INVALID}:16:17: spec.ingress[0].ports[0].protocol: Unsupported value: "tcp": '
        'supported values: "SCTP", "TCP", "UDP" (write it in upper case: "TCP")',
        "FAILED: 2 problems",
    ]


def test_check_error_lines_have_the_contract_shape(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "check", INVALID)
    errors = [line for line in out.splitlines() if ": notice: " not in line][:-1]
    assert errors
    for line in errors:
        assert re.fullmatch(r"[^:]+:\d+:\d+: spec(\.\w+(\[\d+\])?)+: .+", line), line


def test_check_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(Path(POLICIES).read_text()))
    assert run(capsys, "check", "-") == (
        EXIT_OK,
        "OK: 3 objects (3 policies, 0 pods, 0 services) in 1 namespace\n",
        "",
    )


def test_check_stdin_errors_are_named_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(Path(INVALID).read_text()))
    code, out, _ = run(capsys, "check", "-")
    assert code == EXIT_INVALID
    assert out.splitlines()[1].startswith("<stdin>:15:13: spec.ingress[0].ports[0].port: ")


# --- matrix ---------------------------------------------------------------------------------


def test_matrix_text_one_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "matrix", CLUSTER, POLICIES, "--port", "8080")
    assert (code, err) == (EXIT_OK, "")
    assert out.splitlines() == [
        "TCP port 8080, CNI calico (enforces NetworkPolicy); rows: from, columns: to; "
        ". allowed, X denied",
        "-           shop/web  shop/api-0  shop/api-1  shop/db",
        "shop/web    .         .           .           X",
        "shop/api-0  X         .           X           X",
        "shop/api-1  X         X           .           X",
        "shop/db     X         X           X           .",
    ]


def test_matrix_text_all_ports(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", CLUSTER, POLICIES, "--external", "internet=8.8.8.8")
    assert code == EXIT_OK
    assert out.splitlines() == [
        "All ports, CNI calico (enforces NetworkPolicy); rows: from, columns: to; "
        "each cell lists the allowed ports (all; X none)",
        "-           shop/web  shop/api-0  shop/api-1  shop/db   internet",
        "shop/web    all       TCP 8080    TCP 8080    X         all",
        "shop/api-0  X         all         X           TCP 3306  all",
        "shop/api-1  X         X           all         TCP 3306  all",
        "shop/db     X         X           X           all       all",
        "internet    X         X           X           X         all",
    ]


def test_matrix_json_one_port_exact(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "matrix", CLUSTER, POLICIES, "--port", "3306", "--external", "internet=8.8.8.8",
        "--format", "json",
    )  # fmt: skip
    assert code == EXIT_OK
    peers = [*PEERS, "internet"]
    allowed_pairs = (
        {(p, p) for p in peers}
        | {(p, "internet") for p in PEERS}  # no pod is isolated for egress
        | {("shop/api-0", "shop/db"), ("shop/api-1", "shop/db")}
    )
    assert json.loads(out) == {
        "port": 3306,
        "protocol": "TCP",
        "cni": "calico",
        "enforced": True,
        "peers": peers,
        "allowed": {s: {d: (s, d) in allowed_pairs for d in peers} for s in peers},
    }
    assert list(json.loads(out)) == ["port", "protocol", "cni", "enforced", "peers", "allowed"]


def test_matrix_json_named_port_and_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "matrix", CLUSTER, POLICIES, "--port", "http", "--protocol", "udp",
        "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert (code, data["port"], data["protocol"]) == (EXIT_OK, "http", "UDP")
    # No pod defines http over UDP: the named port reaches nothing, not even the pod itself.
    assert all(not v for row in data["allowed"].values() for v in row.values())


def test_matrix_json_all_ports_exact(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", CLUSTER, POLICIES, "--format", "json")
    assert code == EXIT_OK
    none: list[str] = []
    assert json.loads(out) == {
        "port": None,
        "protocol": None,
        "cni": "calico",
        "enforced": True,
        "peers": PEERS,
        "allowed": {
            "shop/web": {
                "shop/web": ["all"], "shop/api-0": ["TCP 8080"], "shop/api-1": ["TCP 8080"],
                "shop/db": none,
            },
            "shop/api-0": {
                "shop/web": none, "shop/api-0": ["all"], "shop/api-1": none,
                "shop/db": ["TCP 3306"],
            },
            "shop/api-1": {
                "shop/web": none, "shop/api-0": none, "shop/api-1": ["all"],
                "shop/db": ["TCP 3306"],
            },
            "shop/db": {
                "shop/web": none, "shop/api-0": none, "shop/api-1": none, "shop/db": ["all"],
            },
        },
    }  # fmt: skip


def test_matrix_flannel_allows_everything(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", CLUSTER, POLICIES, "--cni", "Flannel", "--port", "80")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0] == (
        "TCP port 80, CNI flannel (does not enforce NetworkPolicy: everything is allowed); "
        "rows: from, columns: to; . allowed, X denied"
    )
    assert all(set(line.split()[1:]) == {"."} for line in lines[2:])


def test_matrix_without_pods_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", POLICIES)
    assert code == EXIT_OK
    assert out.splitlines()[1] == (
        "(no peers: the input has no pods; add --external NAME=IP for endpoints)"
    )


# --- explain --------------------------------------------------------------------------------


def test_explain_text_pod(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "explain", CLUSTER, POLICIES, "--from", "shop/web", "--to", "shop/db",
        "--port", "mysql",
    )  # fmt: skip
    assert (code, err) == (EXIT_OK, "")
    assert out == (
        "Connection: shop/web -> shop/db on TCP port mysql (a named port: 3306 on shop/db)\n"
        "CNI: calico (enforces NetworkPolicy).\n"
        "Egress from shop/web: not isolated (no policy selects shop/web for egress), so all "
        "egress is allowed.\n"
        "Ingress to shop/db: isolated for ingress by shop/default-deny, shop/db-from-api.\n"
        "  - shop/db-from-api spec.ingress[0] does not admit it: peer does not match.\n"
        "  - shop/default-deny has no ingress rules: it admits nothing.\n"
        "  Ingress is denied: no rule of a selecting policy admits it.\n"
        "DENIED: blocked by ingress to shop/db.\n"
    )


def test_explain_json_pod(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", CLUSTER, POLICIES, "--from", "shop/api-0", "--to", "shop/db",
        "--port", "3306", "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == EXIT_OK
    assert list(data) == [
        "from", "to", "protocol", "port", "resolved_port", "cni", "enforced", "allowed",
        "policy_allows", "self_traffic", "blocked_by", "egress", "ingress",
    ]  # fmt: skip
    assert (data["from"], data["to"], data["allowed"], data["port"]) == (
        "shop/api-0",
        "shop/db",
        True,
        3306,
    )
    assert data["ingress"]["admitted_by"] == [
        {
            "policy": "shop/db-from-api",
            "rule": "spec.ingress[0]",
            "peer": "from[0]",
            "port": "ports[0]",
        }
    ]


def test_explain_service_text_teaches_dnat(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", CLUSTER, POLICIES, "--from", "shop/web", "--to", "shop/api",
        "--port", "80",
    )  # fmt: skip
    lines = out.splitlines()
    assert code == EXIT_OK
    assert lines[:3] == [
        "Connection: shop/web -> Service shop/api on TCP port 80",
        "The Service sends it to targetPort http (a container port name, resolved on each "
        "endpoint pod) on 2 endpoint pod(s): shop/api-0, shop/api-1.",
        "NetworkPolicy sees the pod port after DNAT, not the Service port: policies must "
        "allow the targetPort, not 80.",
    ]
    assert "[endpoint shop/api-0]" in lines and "[endpoint shop/api-1]" in lines
    assert lines[-1] == "ALLOWED to all 2 endpoint(s) of Service shop/api."


def test_explain_service_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", CLUSTER, POLICIES, "--from", "shop/db", "--to", "service:shop/api",
        "--port", "http", "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == EXIT_OK
    assert {k: v for k, v in data.items() if k != "verdicts"} == {
        "from": "shop/db",
        "service": "shop/api",
        "protocol": "TCP",
        "service_port": 80,
        "target_port": "http",
        "endpoints": ["shop/api-0", "shop/api-1"],
        "allowed": False,
    }
    assert [v["to"] for v in data["verdicts"]] == ["shop/api-0", "shop/api-1"]
    assert [v["resolved_port"] for v in data["verdicts"]] == [8080, 8080]


def test_explain_ip_peers_and_externals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "explain", CLUSTER, POLICIES, "--from", "shop/web", "--to", "1.1.1.1",
        "--port", "443", "--format", "json",
    )  # fmt: skip
    data = json.loads(out)
    assert (code, data["to"], data["allowed"], data["ingress"]["pod"]) == (
        EXIT_OK,
        "1.1.1.1",
        True,
        None,
    )
    code, out, _ = run(
        capsys, "explain", CLUSTER, POLICIES, "--external", "dns=1.1.1.1", "--from", "dns",
        "--to", "shop/web", "--port", "80",
    )  # fmt: skip
    assert code == EXIT_OK
    assert out.splitlines()[0] == "Connection: dns -> shop/web on TCP port 80"


def test_explain_pod_and_service_with_one_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    extra = tmp_path / "api-pod.yaml"
    extra.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: shop}\nspec: {}\n"
    )
    code, out, err = run(
        capsys, "explain", CLUSTER, str(extra), "--from", "shop/web", "--to", "shop/api",
        "--port", "80",
    )  # fmt: skip
    assert code == EXIT_OK
    assert out.startswith("Connection: shop/web -> shop/api on TCP port 80\n")
    assert err == (
        "note: shop/api names both a pod and a Service; using the pod "
        "(write service:shop/api for the Service)\n"
    )


# --- describe -------------------------------------------------------------------------------


def test_describe_prints_every_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "describe", CLUSTER, POLICIES)
    assert (code, err) == (EXIT_OK, "")
    assert out == describe_policies(load_files([POLICIES]).cluster.policies)
    assert out.count("\n\nName:") == 2
    assert out.splitlines()[:10] == [
        "Name:         default-deny",
        "Namespace:    shop",
        "Labels:       <none>",
        "Annotations:  <none>",
        "Spec:",
        "  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)",
        "  Allowing ingress traffic:",
        "    <none> (Selected pods are isolated for ingress connectivity)",
        "  Not affecting egress traffic",
        "  Policy Types: Ingress",
    ]


def test_describe_without_policies(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "describe", CLUSTER) == (
        EXIT_OK,
        "",
        "npcore: no NetworkPolicy in the input\n",
    )


# --- diff -----------------------------------------------------------------------------------


def test_diff_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "diff", "--cluster", CLUSTER, POLICIES, OPEN_DB) == (
        EXIT_OK,
        "shop/web -> shop/db: before none; after all (gained: all)\n"
        "shop/api-0 -> shop/db: before TCP 3306; after all "
        "(gained: TCP 1-3305, TCP 3307-65535, UDP all, SCTP all)\n"
        "shop/api-1 -> shop/db: before TCP 3306; after all "
        "(gained: TCP 1-3305, TCP 3307-65535, UDP all, SCTP all)\n",
        "",
    )


def test_diff_json_and_repeated_cluster_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "diff", "--cluster", CLUSTER, "--format", "json", OPEN_DB, POLICIES)
    data = json.loads(out)
    assert code == EXIT_OK
    assert data["count"] == 3
    assert data["changes"][0] == {
        "from": "shop/web",
        "to": "shop/db",
        "before": ["all"],
        "after": [],
        "gained": [],
        "lost": ["all"],
    }


def test_diff_no_difference(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "diff", "--cluster", CLUSTER, POLICIES, POLICIES) == (
        EXIT_OK,
        "no difference\n",
        "",
    )


# --- exit statuses --------------------------------------------------------------------------


def test_invalid_input_exits_1_with_errors_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "matrix", CLUSTER, INVALID, "--format", "json")
    assert (code, out) == (EXIT_INVALID, "")
    assert err.splitlines() == [
        f"{INVALID}:1: notice: skipped kind ConfigMap (npcore does not use it)",
        f"{INVALID}:15:13: spec.ingress[0].ports[0].port: Invalid value: 70000: must be "
        "between 1 and 65535, inclusive",
        f'{INVALID}:16:17: spec.ingress[0].ports[0].protocol: Unsupported value: "tcp": '
        'supported values: "SCTP", "TCP", "UDP" (write it in upper case: "TCP")',
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["matrix", CLUSTER, "--cni", "weavy"],
            "npcore: error: unknown CNI 'weavy'; known plugins: antrea, calico, canal, cilium, "
            "cilium-1.15, flannel, kube-network-policies, kube-router, romana, spec, weave-net",
        ),
        (
            ["check", "missing.yaml"],
            "npcore: error: cannot read missing.yaml: no such file or directory",
        ),
        (["check", "-", "-"], "npcore: error: stdin (-) can be read only once"),
        (
            ["check", "docs/"],
            "npcore: error: cannot read docs/: no .yaml, .yml, .json files in the directory",
        ),
        (
            ["explain", CLUSTER, "--from", "shop/nope", "--to", "shop/db", "--port", "1"],
            "npcore: error: --from shop/nope: no pod, Service or external endpoint has that "
            "name (known: shop/web, shop/api-0, shop/api-1, shop/db, shop/api (Service)); write "
            "namespace/pod, namespace/service, an --external NAME, or an IP address",
        ),
        (
            ["explain", CLUSTER, "--from", "shop/api", "--to", "shop/db", "--port", "1"],
            "npcore: error: --from shop/api is a Service: connections start from a pod; name one "
            "of its pods (shop/api-0, shop/api-1)",
        ),
        (
            ["explain", CLUSTER, "--from", "shop/web", "--to", "shop/api", "--port", "8080"],
            "npcore: error: --to shop/api --port 8080: Service shop/api has no TCP port 8080; its "
            "ports: 80/TCP (http) -> targetPort http (8080 is a targetPort, the pod port the "
            "Service sends traffic to; clients connect to the Service port 80)",
        ),
        (
            ["explain", CLUSTER, "--from", "pod:shop/api", "--to", "shop/db", "--port", "1"],
            "npcore: error: --from pod:shop/api: there is no pod shop/api (known: shop/web, "
            "shop/api-0, shop/api-1, shop/db, shop/api (Service))",
        ),
        (
            ["matrix", CLUSTER, "--external", "shop/web=1.2.3.4"],
            "npcore: error: --external shop/web: a peer with that name already exists",
        ),
        (["matrix", CLUSTER, "--protocol", "UDP"], "npcore: error: --protocol needs --port"),
        (
            ["diff", "--cluster", CLUSTER, POLICIES],
            "npcore: error: diff needs --cluster FILE... and two policy files A B "
            "(e.g. npcore diff --cluster cluster.yaml before.yaml after.yaml)",
        ),
    ],
    ids=[
        "unknown-cni", "unreadable-file", "stdin-twice", "directory-without-manifests",
        "unknown-peer", "service-as-source",
        "service-port-missing", "pod-prefix-missing", "external-name-taken",
        "protocol-without-port", "diff-too-few-files",
    ],
)  # fmt: skip
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert err == message + "\n"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["matrix"], "the following arguments are required: FILE"),
        (["explain", CLUSTER, "--to", "shop/db", "--port", "80"], "required: --from"),
        (["matrix", CLUSTER, "--port", "70000"], "port 70000 is not between 1 and 65535"),
        (["matrix", CLUSTER, "--port", "80", "--protocol", "ICMP"], "choose TCP, UDP or SCTP"),
        (["matrix", CLUSTER, "--external", "internet"], "write NAME=IP"),
        (["matrix", CLUSTER, "--external", "x=300.1.1.1"], "'300.1.1.1' is not an IP address"),
        (["matrix", CLUSTER, "--format", "yaml"], "invalid choice: 'yaml'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
    ids=[
        "no-files", "missing-from", "port-range", "protocol", "external-form", "external-ip",
        "format", "unknown-command", "no-command",
    ],
)  # fmt: skip
def test_argparse_errors_exit_2_with_usage(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (EXIT_USAGE, "")
    assert err.startswith("npcore: error: ")
    assert fragment in err
    assert "usage: npcore" in err
    assert "Traceback" not in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK
    assert "check" in out and "matrix" in out and "explain" in out and "diff" in out


@pytest.mark.parametrize(
    "text",
    [
        "kind: [unclosed",
        "\x00\x01binary",
        "a: &a [*a, *a]",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: 7\n",
        "- just\n- a list\n",
    ],
    ids=["yaml-syntax", "control-chars", "alias-loop", "spec-wrong-type", "top-level-list"],
)
def test_hostile_stdin_never_gives_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    for command in (["check", "-"], ["matrix", "-"], ["describe", "-"]):
        monkeypatch.setattr(sys, "stdin", io.StringIO(text))
        code, out, err = run(capsys, *command)
        assert code in (EXIT_OK, EXIT_INVALID)
        assert "Traceback" not in out + err


# --- as a subprocess ------------------------------------------------------------------------


def _python_m(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "npcore", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_python_m_npcore_every_exit_status() -> None:
    ok = _python_m("matrix", CLUSTER, "-", "--port", "3306", "--format", "json",
                   stdin=Path(POLICIES).read_text())  # fmt: skip
    assert (ok.returncode, ok.stderr) == (0, "")
    assert json.loads(ok.stdout)["allowed"]["shop/api-0"]["shop/db"] is True

    invalid = _python_m("check", INVALID)
    assert invalid.returncode == 1
    assert invalid.stdout.splitlines()[-1] == "FAILED: 2 problems"

    usage = _python_m("explain", CLUSTER, "--from", "x/y", "--to", "shop/db", "--port", "1")
    assert usage.returncode == 2
    assert usage.stdout == ""
    assert usage.stderr.startswith("npcore: error: --from x/y: no pod")


def test_python_m_npcore_describe_and_diff() -> None:
    described = _python_m("describe", POLICIES)
    assert described.returncode == 0
    assert described.stdout == describe_policies(load_files([POLICIES]).cluster.policies)
    diffed = _python_m("diff", "--cluster", CLUSTER, POLICIES, OPEN_DB, "--format", "json")
    assert diffed.returncode == 0
    assert json.loads(diffed.stdout)["count"] == 3


# --- docs/cli.md: every example runs and prints what the page shows ------------------------

DOC = ROOT / "docs" / "cli.md"
EXAMPLE = re.compile(r"```console\n\$ (?P<cmd>[^\n]+)\n(?P<out>.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return [(m["cmd"], m["out"]) for m in EXAMPLE.finditer(DOC.read_text())]


def test_the_doc_has_examples_of_every_subcommand() -> None:
    commands = {shlex.split(cmd)[1] for cmd, _ in _examples()}
    assert commands >= {"check", "matrix", "explain", "describe", "diff"}


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda v: str(v)[:60])
def test_doc_example(capsys: pytest.CaptureFixture[str], command: str, expected: str) -> None:
    argv = shlex.split(command)
    assert argv[0] == "npcore"
    status = 0
    if "; echo $?" in command:  # examples that show the exit status
        argv = shlex.split(command.split(";")[0])
        status = int(expected.rstrip("\n").splitlines()[-1])
        expected = "".join(expected.splitlines(keepends=True)[:-1])
    code = main(argv[1:])
    out, err = capsys.readouterr()
    assert code == status
    assert out + err == expected


def test_draw_dispatches_to_lessonkit(tmp_path, capsys):
    """`npcore draw` renders the flow diagram through lessonkit (npcore never imports
    matplotlib itself)."""
    from npcore.cli import main

    out = tmp_path / "flows.svg"
    status = main(["draw", str(DATA / "cluster.yaml"), "--port", "80", "-o", str(out)])
    assert status == 0
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "CNI: calico" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("port", "protocol", "expected"),
    [
        pytest.param(53, "UDP", {"x/dns", "x/any"}, id="the declared port and protocol"),
        pytest.param(53, "TCP", {"x/any"}, id="former copy: right number, wrong protocol"),
        pytest.param("dns", "udp", {"x/dns", "x/any"}, id="a name, its protocol"),
        pytest.param("dns", "TCP", {"x/any"}, id="former copy: a name, wrong protocol"),
        pytest.param(80, "TCP", {"x/any"}, id="an undeclared port: only the pod without ports"),
    ],
)
def test_npcore_draw_pairs_only_reach_listening_pods(
    port: int | str, protocol: str, expected: set[str]
) -> None:
    """npcore draw without --flow draws every pair on --port, leaving out destination
    pods that declare ports but not this one (Cluster.listening, resolve_port)."""
    from lessonkit.cli import all_pairs
    from npcore.cluster import Cluster, ContainerPort, Pod
    from npcore.model import Protocol

    dns = Pod("x", "dns", ports=(ContainerPort(53, Protocol.UDP, "dns"),))
    cluster = Cluster.build(pods=[dns, Pod("x", "any"), Pod("x", "client")])
    reached = {f.dst for f in all_pairs(cluster, port, protocol) if f.src == "x/client"}
    assert reached == expected
