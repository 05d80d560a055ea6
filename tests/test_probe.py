"""``npcore probe``: the files a learner applies to a real cluster, the kubectl-only
``run.sh`` (run here against a stand-in kubectl, ``tests/data/probe/fake-kubectl``), and
``npcore probe compare`` on recorded observations (no cluster here).

Recorded observations in ``tests/data/probe/`` (written by ``run.sh`` through the
stand-in, for the scenario ``tests/data/cli/cluster.yaml`` + ``policies.yaml``):
``observed-agree.json`` (the cluster does what npcore predicts), ``observed-differ.json``
(``db-from-api`` not applied: the API pods cannot reach the database on 3306),
``observed-all-allowed.json`` (a plugin that does not enforce policies),
``observed-none.json`` (every connection refused, even each pod's to itself: the
servers were not listening, so the probe itself failed) and ``observed-truncated.json``
(a file cut short; run.sh itself writes its output only when it finishes).
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
from npcore.probe import (
    AGNHOST_IMAGE,
    NEVER_READY,
    policy_manifest,
    probe_files,
    probe_targets,
)
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
    assert sorted(p.name for p in out.iterdir()) == [
        "cleanup.sh",
        "expected.json",
        "run.sh",
        "scenario.yaml",
    ]
    assert os.access(out / "run.sh", os.X_OK) and os.access(out / "cleanup.sh", os.X_OK)


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


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timeout", '2s"; touch PWNED; echo "', "is not a duration"),
        ("--timeout", "abc", "'abc' is not a duration: write a whole number with ms, s or m"),
        ("--timeout", "2", "is not a duration"),
        ("--timeout", "1h", "is not a duration"),
        ("--timeout", "0s", "is no time at all"),
        ("--image", "x; touch PWNED", "'x; touch PWNED' is not an image reference"),
        ("--image", "Agnhost:2.52", "is not an image reference"),
        ("--image", "agnhost:2.52 --privileged", "is not an image reference"),
        ("--image", "", "is not an image reference"),
        ("--out", "/proc/npcore-probe-test", "cannot create the directory"),
        ("--out", "FILE/sub", "cannot create the directory"),
        ("--out", "FILE", "exists and is not a directory"),
    ],
)
def test_unusable_options_are_a_sentence_and_exit_2(
    option: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing unchecked reaches run.sh or the manifests; no traceback for any --out."""
    (tmp_path / "file").write_text("x")
    value = value.replace("FILE", str(tmp_path / "file"))
    argv = [*SHOP, "--out", str(tmp_path / "out"), option, value]
    if option == "--out":
        argv = [*SHOP, "--out", value]
    assert probe_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"npcore probe: error: {option} ")
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "1500ms"),
        ("--timeout", "5s"),
        ("--timeout", "1m"),
        ("--image", "agnhost"),
        ("--image", "localhost:5000/e2e/agnhost:2.52"),
        ("--image", "registry.k8s.io/e2e-test-images/agnhost@sha256:" + "a" * 64),
    ],
)
def test_usable_options_are_written_as_given(option: str, value: str, tmp_path: Path) -> None:
    out = _write(tmp_path, SHOP, option, value)
    if option == "--timeout":
        assert f"DEFAULT_TIMEOUT={value}\n" in (out / "run.sh").read_text()
    else:
        docs = list(yaml.safe_load_all((out / "scenario.yaml").read_text()))
        images = {c["image"] for d in docs if d["kind"] == "Pod" for c in d["spec"]["containers"]}
        assert images == {value}


def test_every_value_in_run_sh_is_shell_quoted() -> None:
    """The arrays run.sh iterates are shell words exactly as npcore names them."""
    cluster = load_cluster(*SHOP)
    script = probe_files(cluster)["run.sh"]
    arrays = dict(re.findall(r"^(PEERS|CONTAINERS|PROBES)=\((.*)\)$", script, re.M))
    assert shlex.split(arrays["PEERS"]) == [p.key for p in cluster.pods]
    assert shlex.split(arrays["PROBES"]) == ["80 TCP", "3306 TCP", "8080 TCP"]
    assert set(shlex.split(arrays["CONTAINERS"])) == {"serve-80-tcp"}
    assert "--all" not in script  # never a whole namespace


def test_system_namespace_pods_never_become_service_endpoints() -> None:
    """A probe pod labelled k8s-app: kube-dns in kube-system must not join the cluster's
    real kube-dns Service: it carries a readiness gate nobody sets; other pods do not."""
    cluster = load_cluster(str(DATA / "cni" / "metadata.yaml"))
    docs = list(yaml.safe_load_all(probe_files(cluster)["scenario.yaml"]))
    gates = {
        f"{d['metadata']['namespace']}/{d['metadata']['name']}": d["spec"].get("readinessGates")
        for d in docs
        if d["kind"] == "Pod"
    }
    assert gates == {
        "kube-system/coredns": [{"conditionType": NEVER_READY}],
        "lab/shell": None,
        "lab/notes": None,
    }


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


def _table(cells: set[tuple[str, str, int]]) -> str:
    lines = []
    for src, dst, port in sorted(cells):
        host = REAL_IPS[dst]
        host = f"[{host}]" if ":" in host else host
        lines.append(f"{src} {host}:{port} tcp\n")
    return "".join(lines)


def _bash_run(
    out: Path, tmp_path: Path, env: dict[str, str] | None = None, **tables: str
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Run ``out/run.sh`` against the stand-in kubectl with its ``tables``; return the
    process, the output path and the stand-in's call log."""
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "ips").write_text("".join(f"{k} {v}\n" for k, v in REAL_IPS.items()))
    for name, text in tables.items():
        (fake / name).write_text(text)
    env = {
        **os.environ,
        **(env or {}),
        "FAKE_DIR": str(fake),
        "KUBECTL": str(RECORDED / "fake-kubectl"),
    }
    observed = tmp_path / "observed.json"
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run(
        [bash, str(out / "run.sh"), str(observed)], env=env, capture_output=True, text=True
    )
    return done, observed, fake / "calls"


def _run_script(out: Path, tmp_path: Path, allowed: set[tuple[str, str, int]]) -> Path:
    done, observed, _ = _bash_run(out, tmp_path, allowed=_table(allowed))
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


def test_run_script_waits_for_each_probe_pod_by_name(tmp_path: Path) -> None:
    out = _write(tmp_path, SHOP)
    done, _, calls = _bash_run(out, tmp_path, allowed="")
    assert done.returncode == 0, done.stderr
    waits = [line for line in calls.read_text().splitlines() if line.startswith("wait ")]
    assert waits == [
        f"wait --for=condition=ContainersReady pod/{pod} -n shop --timeout=300s"
        for pod in ("web", "api-0", "api-1", "db")
    ]


@pytest.mark.parametrize(
    ("tables", "env", "stderr"),
    [
        (
            {"notready": "shop/api-1\n"},
            {},
            [
                "run.sh: pod shop/api-1 is not ready after 300s; nothing was probed.",
                "kubectl: error: timed out waiting for the condition on pods/api-1",
                "kubectl describe pod -n shop api-1",
            ],
        ),
        (
            {"forbidden": "shop/web\n"},
            {},
            [
                "run.sh: TCP 80 shop/web -> shop/web: kubectl exec failed, not a connection",
                'Error from server (Forbidden): pods "web" is forbidden',
                "Nothing was written.",
                "kubectl auth can-i create pods/exec -n shop",
            ],
        ),
        ({}, {"TIMEOUT": "2s; touch PWNED"}, ["is not a duration"]),
    ],
    ids=["pod-not-ready", "exec-forbidden", "bad-TIMEOUT"],
)
def test_run_script_stops_with_a_message_when_it_cannot_probe(
    tables: dict[str, str], env: dict[str, str], stderr: list[str], tmp_path: Path
) -> None:
    """Only agnhost's own answers are connection outcomes; anything else stops run.sh
    (exit 2) with what went wrong, and no observed.json is left behind."""
    out = _write(tmp_path, SHOP)
    done, observed, _ = _bash_run(out, tmp_path, env, **tables)
    assert done.returncode == 2
    for text in stderr:
        assert text in done.stderr
    assert not observed.exists()
    assert not list(tmp_path.glob("observed.json*"))
    assert not (tmp_path / "PWNED").exists()


def test_run_script_tells_refused_from_timed_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """REFUSED and OTHER are answers of the network: not connected, and listed in
    ``rejected``; TIMEOUT is a drop.  A plugin that rejects what npcore denies agrees."""
    out = _write(tmp_path, SHOP)
    expected = json.loads((out / "expected.json").read_text())
    allowed = _cells(expected)
    refused = {("shop/web", "shop/db", 3306), ("shop/api-0", "shop/web", 8080)}
    other = {("shop/db", "shop/api-1", 8080)}
    done, observed, _ = _bash_run(
        out, tmp_path, allowed=_table(allowed), refused=_table(refused), other=_table(other)
    )
    assert done.returncode == 0, done.stderr
    assert "TCP 3306 shop/web -> shop/db: rejected (REFUSED)" in done.stderr
    assert "TCP 8080 shop/db -> shop/api-1: rejected (OTHER: dial tcp" in done.stderr
    assert "TCP 3306 shop/api-0 -> shop/web: timeout" in done.stderr
    data = json.loads(observed.read_text())
    assert [d["allowed"] for d in data] == [d["allowed"] for d in expected]
    assert [sorted(map(tuple, d["rejected"])) for d in data] == [
        [],
        [("shop/web", "shop/db")],
        [("shop/api-0", "shop/web"), ("shop/db", "shop/api-1")],
    ]
    capsys.readouterr()
    assert probe_main(["compare", str(out / "expected.json"), str(observed)]) == 0
    assert capsys.readouterr().out == (
        "AGREE: all 48 cells as npcore predicted (CNI calico).\n"
        "3 denied cell(s) were refused rather than timed out: this cluster's plugin rejects "
        "blocked connections (kube-router and k3s do) instead of dropping them; both are "
        "denied.\n"
    )


def test_cleanup_deletes_by_name_and_never_a_namespace(tmp_path: Path) -> None:
    out = _write(tmp_path, SHOP)
    fake = tmp_path / "fake"
    fake.mkdir()
    env = {**os.environ, "FAKE_DIR": str(fake), "KUBECTL": str(RECORDED / "fake-kubectl")}
    bash = shutil.which("bash")
    assert bash is not None
    done = subprocess.run([bash, str(out / "cleanup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    objects = [
        "networkpolicy default-deny",
        "networkpolicy api-from-web",
        "networkpolicy db-from-api",
        "service api",
        "pod web",
        "pod api-0",
        "pod api-1",
        "pod db",
    ]
    assert (fake / "calls").read_text().splitlines() == [
        f"delete {o} -n shop --ignore-not-found --wait=false" for o in objects
    ]
    assert "Namespaces left in place: shop." in done.stderr


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
        f"- TCP 3306: shop/api-{i} -> shop/db: expected ALLOWED, timed out (why npcore "
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
    """Not 48 cells blamed on policies: one sentence that the probe itself failed."""
    status, out, err = _compare(capsys, "observed-none.json")
    assert (status, out) == (2, "")
    assert "every cell: nothing connected, not even a pod to itself" in err
    assert "The probe servers are not running" in err
    assert "policy on the cluster blocks" not in err


def test_recorded_truncated_is_unusable(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _compare(capsys, "observed-truncated.json")
    assert (status, out) == (2, "")
    assert err.startswith("npcore probe: error: ")
    assert "observed-truncated.json:14:5: not valid JSON" in err
    assert "give the whole file run.sh wrote" in err


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
    elif kind == "missing-cell":
        del data[0]["allowed"]["shop/web"]["shop/db"]  # type: ignore[index]
    elif kind == "extra-cell":
        data[0]["allowed"]["shop/web"]["shop/cache"] = True  # type: ignore[index]
    elif kind == "extra-row":
        data[0]["allowed"]["shop/cache"] = {}  # type: ignore[index]
    elif kind == "extra-peer":
        data[0]["peers"].append("shop/cache")  # type: ignore[attr-defined]
    elif kind == "single":
        return data[1]
    elif kind == "rejected-allowed":
        data[0]["rejected"] = [["shop/web", "shop/web"]]
    elif kind == "rejected-unknown":
        data[0]["rejected"] = [["shop/web", "shop/cache"]]
    elif kind == "nothing":
        for doc in data:
            for row in doc["allowed"].values():  # type: ignore[attr-defined]
                for dst in row:
                    row[dst] = False
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
        (
            "missing-cell",
            "[0].allowed['shop/web']['shop/db']: missing cell: the row of 'shop/web' needs",
        ),
        ("extra-cell", "[0].allowed['shop/web']['shop/cache']: a cell for 'shop/cache', which"),
        ("extra-row", "[0].allowed['shop/cache']: a row for 'shop/cache', which is not in"),
        ("extra-peer", "[0].peers: names 'shop/cache', but allowed has no row and no cell"),
        ("single", "top level: one matrix document (TCP 3306), but the prediction has 3 ports"),
        ("rejected-allowed", "[0].rejected[0]: ['shop/web', 'shop/web'] is rejected but allowed"),
        ("rejected-unknown", "[0].rejected[0]: ['shop/web', 'shop/cache'] is not a [source,"),
        ("nothing", "every cell: nothing connected, not even a pod to itself"),
    ],
)
def test_unusable_observations(
    kind: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "observed.json"
    path.write_text(json.dumps(_broken(kind)))
    status = probe_main(["compare", str(RECORDED / "expected.json"), str(path)])
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert "None is not" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply to read"),
        (" " * (6 * 1024 * 1024), "larger than 5242880 characters"),
    ],
    ids=["deep-list", "deep-object", "too-large"],
)
@pytest.mark.parametrize("side", ["expected", "observed"])
def test_hostile_json_is_refused_with_a_sentence(
    content: str, message: str, side: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = tmp_path / "hostile.json"
    hostile.write_text(content)
    files = {"expected": str(RECORDED / "expected.json"), "observed": str(hostile)}
    if side == "expected":
        files = {"expected": str(hostile), "observed": str(RECORDED / "observed-agree.json")}
    assert probe_main(["compare", files["expected"], files["observed"]]) == 2
    err = capsys.readouterr().err
    assert err == f"npcore probe: error: {hostile}: {message}: not an observation run.sh writes\n"


def test_a_pod_that_cannot_reach_itself_has_no_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cells towards a pod whose server is down are put down to that, not to policies."""
    data = _observed()
    row = data[1]["allowed"]  # TCP 3306
    for src in row:  # type: ignore[attr-defined]
        row[src]["shop/db"] = False  # type: ignore[index]
    path = tmp_path / "observed.json"
    path.write_text(json.dumps(data))
    assert probe_main(["compare", str(RECORDED / "expected.json"), str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "DIFFER: 3 of 48 cells are not as npcore predicted."
    assert lines[1].startswith(
        "3 cell(s): the server is not running on shop/db (TCP 3306): the pod could not "
        "connect even to itself"
    )
    assert len(lines) == 5 and all(line.startswith("- TCP 3306: ") for line in lines[2:])
    assert "another policy" not in "\n".join(lines)


def test_compare_accepts_single_matrix_documents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``npcore matrix --format json`` output compares directly (one port)."""
    single = tmp_path / "one.json"
    single.write_text(json.dumps(_observed()[1]))
    assert probe_main(["compare", str(single), str(single)]) == 0
    assert capsys.readouterr().out == "AGREE: all 16 cells as npcore predicted.\n"


def test_single_documents_of_other_ports_are_not_probed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, other = tmp_path / "one.json", tmp_path / "other.json"
    one.write_text(json.dumps(_observed()[1]))
    other.write_text(json.dumps(_observed()[0]))
    assert probe_main(["compare", str(one), str(other)]) == 2
    err = capsys.readouterr().err
    assert f"{other}: TCP 3306: not probed (the prediction has TCP 3306; the observation" in err


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
