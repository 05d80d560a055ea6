"""``npcore probe``: the files a learner applies to a real cluster, the kubectl-only
``run.sh`` (run here against a stand-in kubectl, ``tests/data/probe/fake-kubectl``), and
``npcore probe compare`` on recorded observations (no cluster here).

Recorded observations in ``tests/data/probe/`` (written by ``run.sh`` through the
stand-in, for the scenario ``tests/data/cli/cluster.yaml`` + ``policies.yaml``):
``observed-agree.json`` (the cluster does what npcore predicts), ``observed-differ.json``
(``db-from-api`` not applied: the API pods cannot reach the database on 3306),
``observed-all-allowed.json`` (a plugin that does not enforce policies),
``observed-none.json`` (nothing connected: the probe itself failed) and
``observed-truncated.json`` (run.sh interrupted mid-write).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from npcore.cli import main as npcore_main
from npcore.cli.probe import main as probe_main
from npcore.cli.sources import load_cluster
from npcore.probe import AGNHOST_IMAGE, policy_manifest, probe_files, probe_targets
from npcore.probecompare import ProbeInputError, compare, parse_documents
from npcore.reachability import matrix

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
RECORDED = DATA / "probe"
SHOP = [str(DATA / "cli" / "cluster.yaml"), str(DATA / "cli" / "policies.yaml")]
SCENARIOS = {
    "shop": SHOP,
    "metadata-udp": [str(DATA / "cni" / "metadata.yaml")],
    "endport": [str(DATA / "cni" / "endport.yaml")],
}


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _write(tmp_path: Path, files: list[str], *extra: str) -> Path:
    out = tmp_path / "probe"
    assert probe_main([*files, "--out", str(out), *extra]) == 0
    return out


# --- what npcore probe writes -----------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_generated_manifests_pass_npcore_check_and_keep_the_prediction(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The generated scenario and policies are valid, and npcore predicts the same matrix
    from them as from the original files (labels, namespaces, port names kept)."""
    files = SCENARIOS[scenario]
    out = _write(tmp_path, files)
    generated = [str(out / "scenario.yaml"), str(out / "policies.yaml")]
    capsys.readouterr()
    assert npcore_main(["check", *generated]) == 0
    assert capsys.readouterr().out.startswith("OK: ")
    expected = json.loads((out / "expected.json").read_text())
    again = load_cluster(*generated)
    assert [matrix(again, d["port"], d["protocol"]).to_dict() for d in expected] == expected


def test_expected_json_is_a_list_of_matrix_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _write(tmp_path, SHOP)
    documents = json.loads((out / "expected.json").read_text())
    assert [(d["port"], d["protocol"]) for d in documents] == [
        (80, "TCP"),
        (3306, "TCP"),
        (8080, "TCP"),
    ]
    capsys.readouterr()
    for document in documents:
        argv = ["matrix", *SHOP, "--port", str(document["port"]), "--format", "json"]
        assert npcore_main(argv) == 0
        assert json.loads(capsys.readouterr().out) == document


def test_pods_listen_on_every_probed_port_with_labels_and_names_kept() -> None:
    cluster = load_cluster(str(DATA / "cni" / "metadata.yaml"))
    assert probe_targets(cluster) == ((53, "TCP"), (80, "TCP"), (53, "UDP"))
    docs = list(yaml.safe_load_all(probe_files(cluster)["scenario.yaml"]))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Namespace", "Namespace", "Pod", "Pod", "Pod"]
    dns = next(d for d in docs if d["metadata"]["name"] == "coredns")
    assert dns["metadata"]["labels"] == {"k8s-app": "kube-dns"}
    containers = dns["spec"]["containers"]
    assert [c["name"] for c in containers] == ["serve-53-tcp", "serve-80-tcp", "serve-53-udp"]
    assert {c["image"] for c in containers} == {AGNHOST_IMAGE}
    assert containers[2]["args"] == ["serve-hostname", "--udp", "--http=false", "--port", "53"]
    names = [c["ports"][0].get("name") for c in containers]
    assert names == ["dns-tcp", None, "dns"]  # the scenario's port names, where declared


def test_policy_manifest_round_trip_of_every_field() -> None:
    text = (DATA / "cni" / "metadata.yaml").read_text() + (
        DATA / "cni" / "endport.yaml"
    ).read_text()
    cluster = load_cluster(text=text.replace("\n# A batch", "\n---\n# A batch"))
    for policy in cluster.policies:
        again = load_cluster(text=yaml.safe_dump(policy_manifest(policy))).policies[0]
        assert again == policy


def test_no_policies_means_no_policies_file(tmp_path: Path) -> None:
    out = _write(tmp_path, [str(DATA / "cli" / "cluster.yaml")])
    assert sorted(p.name for p in out.iterdir()) == ["expected.json", "run.sh", "scenario.yaml"]
    assert os.access(out / "run.sh", os.X_OK)


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["--out", "OUT"], 2, "the following arguments are required: FILE"),
        ([str(DATA / "cli" / "invalid.yaml"), "--out", "OUT"], 1, "Invalid value: 70000"),
        ([str(DATA / "cli" / "cluster.yaml"), "--out", "OUT", "--cni", "nope"], 2, "unknown CNI"),
    ],
)
def test_generate_errors(
    argv: list[str], status: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert probe_main(argv) == status
    assert message in capsys.readouterr().err


def test_out_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert probe_main([*SHOP, "--out", str(target)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


# --- run.sh, against the stand-in kubectl -----------------------------------------------------

REAL_IPS = {
    "shop/web": "10.244.1.7",
    "shop/api-0": "10.244.2.4",
    "shop/api-1": "10.244.1.9",
    "shop/db": "fd00:10:244::b",  # run.sh must bracket an IPv6 address
}


def _run_script(out: Path, tmp_path: Path, allowed: set[tuple[str, str, int]]) -> Path:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "ips").write_text("".join(f"{k} {v}\n" for k, v in REAL_IPS.items()))
    lines = []
    for src, dst, port in sorted(allowed):
        host = REAL_IPS[dst]
        host = f"[{host}]" if ":" in host else host
        lines.append(f"{src} {host}:{port} tcp")
    (fake / "allowed").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "FAKE_DIR": str(fake), "KUBECTL": str(RECORDED / "fake-kubectl")}
    observed = tmp_path / "observed.json"
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, str(out / "run.sh"), str(observed)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return observed


def _cells(documents: list[dict[str, object]]) -> set[tuple[str, str, int]]:
    return {
        (src, dst, int(str(d["port"])))
        for d in documents
        for src, row in d["allowed"].items()  # type: ignore[attr-defined]
        for dst, ok in row.items()
        if ok
    }


def test_run_script_observes_every_pair_and_compare_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _write(tmp_path, SHOP)
    expected = json.loads((out / "expected.json").read_text())
    observed = _run_script(out, tmp_path, _cells(expected))
    data = json.loads(observed.read_text())
    assert [(d["port"], d["protocol"], d["cni"]) for d in data] == [
        (80, "TCP", None),
        (3306, "TCP", None),
        (8080, "TCP", None),
    ]
    assert [d["allowed"] for d in data] == [d["allowed"] for d in expected]
    capsys.readouterr()
    assert probe_main(["compare", str(out / "expected.json"), str(observed)]) == 0
    assert capsys.readouterr().out == "AGREE: all 48 cells as npcore predicted (CNI calico).\n"


def test_run_script_with_one_cell_flipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _write(tmp_path, SHOP)
    cells = _cells(json.loads((out / "expected.json").read_text()))
    observed = _run_script(out, tmp_path, cells | {("shop/web", "shop/db", 3306)})
    capsys.readouterr()
    assert probe_main(["compare", str(out / "expected.json"), str(observed)]) == 1
    report = capsys.readouterr().out
    assert report.splitlines()[0] == "DIFFER: 1 of 48 cells are not as npcore predicted."
    assert "- TCP 3306: shop/web -> shop/db: expected DENIED, connected" in report


# --- compare on recorded observations ---------------------------------------------------------


def _compare(capsys: pytest.CaptureFixture[str], observed: str) -> tuple[int, str, str]:
    status = probe_main(["compare", str(RECORDED / "expected.json"), str(RECORDED / observed)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_recorded_all_agree(capsys: pytest.CaptureFixture[str]) -> None:
    assert _compare(capsys, "observed-agree.json") == (
        0,
        "AGREE: all 48 cells as npcore predicted (CNI calico).\n",
        "",
    )


def test_recorded_some_differ(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _compare(capsys, "observed-differ.json")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "DIFFER: 2 of 48 cells are not as npcore predicted."
    assert lines[1].startswith("2 cell(s): npcore expects these ALLOWED; the cluster did not")
    assert lines[2:] == [
        f"- TCP 3306: shop/api-{i} -> shop/db: expected ALLOWED, did not connect (why npcore "
        f"decides so: npcore explain FILES --from shop/api-{i} --to shop/db --port 3306 "
        "--protocol TCP)"
        for i in (0, 1)
    ]
    assert "does not enforce" not in out


def test_recorded_everything_allowed_means_not_enforced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _compare(capsys, "observed-all-allowed.json")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "DIFFER: 32 of 48 cells are not as npcore predicted."
    assert "this cluster's network plugin does not enforce NetworkPolicy" in lines[1]
    assert sum(line.startswith("- ") for line in lines) == 32


def test_recorded_nothing_connected_means_the_probe_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = _compare(capsys, "observed-none.json")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "DIFFER: 16 of 48 cells are not as npcore predicted."
    assert lines[1].startswith("No connection succeeded, not even from a pod to itself")
    assert "does not enforce" not in out


def test_recorded_truncated_is_unusable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _compare(capsys, "observed-truncated.json")
    assert (status, out) == (2, "")
    assert err.startswith("npcore probe: error: ")
    assert "observed-truncated.json:14:5: not valid JSON" in err
    assert "did run.sh stop early?" in err


def _observed() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads((RECORDED / "observed-agree.json").read_text())
    return data


def _broken(kind: str) -> object:
    data = _observed()
    if kind == "cell":
        data[0]["allowed"]["shop/web"]["shop/db"] = "timeout"  # type: ignore[index]
    elif kind == "row":
        del data[1]["allowed"]["shop/db"]  # type: ignore[attr-defined]
    elif kind == "peers":
        text = json.dumps(data[0]).replace("shop/db", "shop/cache")
        data[0] = json.loads(text)
    elif kind == "port":
        data = data[:2]
    elif kind == "schema":
        return {"matrix": data}
    elif kind == "protocol":
        data[0]["protocol"] = "tcp"
    return data


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("cell", "[0].allowed['shop/web']['shop/db']: 'timeout' is not true or false"),
        ("row", "[1].allowed['shop/db']: missing row (did run.sh finish?)"),
        ("peers", "TCP 80.peers: not the expected peers (missing ['shop/db'], unexpected"),
        ("port", "TCP 8080: not probed"),
        ("schema", "missing port, protocol, peers, allowed"),
        ("protocol", "[0].protocol: 'tcp' is not TCP, UDP or SCTP"),
    ],
)
def test_unusable_observations(
    kind: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "observed.json"
    path.write_text(json.dumps(_broken(kind)))
    status = probe_main(["compare", str(RECORDED / "expected.json"), str(path)])
    assert status == 2
    assert message in capsys.readouterr().err


def test_compare_accepts_single_matrix_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``npcore matrix --format json`` output compares directly (one port)."""
    single = tmp_path / "one.json"
    single.write_text(json.dumps(_observed()[1]))
    assert probe_main(["compare", str(single), str(single)]) == 0
    assert capsys.readouterr().out == "AGREE: all 16 cells as npcore predicted.\n"


def test_compare_core_is_pure() -> None:
    expected = parse_documents(json.loads((RECORDED / "expected.json").read_text()), "e")
    observed = parse_documents(_observed(), "o")
    result = compare(expected, observed)
    assert (result.cells, result.differences, result.not_enforced) == (48, (), False)
    with pytest.raises(ProbeInputError, match="e: top level"):
        parse_documents([], "e")
    with pytest.raises(ProbeInputError, match="probed twice"):
        parse_documents([_observed()[0], _observed()[0]], "o")


# --- docs/probe.md: every console example runs and prints what the page shows --------------

DOC = ROOT / "docs" / "probe.md"
EXAMPLE = re.compile(r"```console\n\$ (?P<cmd>[^\n]+)\n(?P<out>.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return [(m["cmd"], m["out"]) for m in EXAMPLE.finditer(DOC.read_text())]


def test_the_doc_shows_every_command() -> None:
    shown = {" ".join(shlex.split(cmd)[:2]) for cmd, _ in _examples()}
    assert {"npcore probe", "npcore matrix", "npgrade show"} <= shown
    assert any("compare" in cmd for cmd, _ in _examples())
    assert any("--from-cluster" in cmd for cmd, _ in _examples())


@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda v: str(v)[:60])
def test_doc_example(
    command: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Run from a scratch directory that sees the repository's tests/ (so --out writes
    there), with the npcore or npgrade entry point."""
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    status = 0
    if "; echo $?" in command:
        status = int(expected.rstrip("\n").splitlines()[-1])
        expected = "".join(expected.splitlines(keepends=True)[:-1])
        command = command.split(";")[0]
    argv = shlex.split(command)
    if argv[0] == "npgrade":
        from autograder.cli import main as npgrade_main

        code = npgrade_main(argv[1:])
    else:
        assert argv[0] == "npcore"
        code = npcore_main(argv[1:])
    out, err = capsys.readouterr()
    assert code == status
    assert out + err == expected
