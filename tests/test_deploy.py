"""What an instructor deploys (deploy/) is consistent with itself and with the tested setup.

No cluster and no container engine run here: these tests check what can be checked without
them.  The pins are the ones tests/test_hub.py installs; every file the Containerfile copies
exists; the Kubernetes manifests parse; the hub hook of the Zero to JupyterHub values gives
each user the roster's UID and their role's configuration; the grading script is valid
shell; learners' configuration hides exactly the instructor tools.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"


def requirements() -> dict[str, str]:
    pins = {}
    for line in (DEPLOY / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and version, f"not pinned: {line}"
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_requirement_is_pinned_and_covers_netpol_lab() -> None:
    pins = requirements()
    for name in (
        "jupyterhub",
        "jupyterlab",
        "nbgrader",
        "pyyaml",
        "nbclient",
        "nbformat",
        "ipywidgets",
        "matplotlib",
        "jupytext",
        "ipykernel",
        "jupyter-core",
    ):
        assert name in pins, name
    assert pins["nbgrader"] == "0.9.6"
    assert pins["jupyterhub"].startswith("5.4.")  # the hub of the Zero to JupyterHub chart 4.3


def test_containerfile_copies_files_that_exist() -> None:
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    sources = [
        line.split()[-2]
        for line in text.splitlines()
        if line.startswith("COPY ") and "--from=" not in line and not line.startswith("COPY . ")
    ]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), src
    assert "-r /tmp/requirements.txt" in text and "--no-deps /tmp/dist/netpol_lab-" in text

    def ignore_list(name: str) -> list[str]:
        lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        return [ln for ln in lines if ln.strip() and not ln.startswith("#")]

    assert {".venv", ".git"} <= set(ignore_list(".containerignore"))
    assert ignore_list(".dockerignore") == ignore_list(".containerignore")


@pytest.mark.parametrize("name", sorted(p.name for p in K8S.glob("*.yaml")))
def test_kubernetes_files_parse(name: str) -> None:
    docs = [d for d in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if d]
    assert docs
    for doc in docs:
        assert isinstance(doc, dict)


def _values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "z2jh-values.yaml").read_text(encoding="utf-8"))


def _roster() -> dict[str, str]:
    docs = yaml.safe_load_all((K8S / "classroom.yaml").read_text(encoding="utf-8"))
    return next(d for d in docs if d["kind"] == "ConfigMap")["data"]


def test_roster_gives_every_user_a_uid_of_their_own() -> None:
    roster = _roster()
    rows = [line.split(":") for line in roster["passwd"].splitlines() if line.strip()]
    uids = [row[2] for row in rows]
    assert len(set(uids)) == len(uids) and "1000" not in uids
    assert set(roster["instructors"].split()) <= {row[0] for row in rows}


def test_hub_hook_sets_uid_and_role(tmp_path: Path) -> None:
    roster = _roster()
    for key, value in roster.items():
        (tmp_path / key).write_text(value, encoding="utf-8")
    code = _values()["hub"]["extraConfig"]["netpol-classroom.py"]
    code = code.replace('"/etc/netpol-lab/roster"', repr(str(tmp_path)))
    config = SimpleNamespace(KubeSpawner=SimpleNamespace(), Authenticator=SimpleNamespace())
    exec(compile(code, "z2jh-values.yaml:netpol-classroom.py", "exec"), {"c": config})
    hook = config.KubeSpawner.pre_spawn_hook
    assert config.Authenticator.allowed_users == {"teacher", "ana", "ben"}

    def spawn(name: str) -> SimpleNamespace:
        spawner = SimpleNamespace(user=SimpleNamespace(name=name), environment={})
        hook(spawner)
        return spawner

    teacher, ana = spawn("teacher"), spawn("ana")
    assert (teacher.uid, teacher.gid, ana.uid, ana.gid) == (2000, 100, 2001, 100)
    assert teacher.environment["JUPYTER_CONFIG_PATH"].startswith(
        "/etc/netpol-lab/jupyter/instructor:"
    )
    assert ana.environment["JUPYTER_CONFIG_PATH"].startswith("/etc/netpol-lab/jupyter/learner:")
    with pytest.raises(ValueError, match="not on the classroom roster"):
        spawn("mallory")


def test_values_mount_the_exchange_and_name_the_uids() -> None:
    single = _values()["singleuser"]
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    assert mounts["nbgrader-exchange"] == single["extraEnv"]["NBGRADER_EXCHANGE"]
    assert single["extraEnv"]["NSS_WRAPPER_PASSWD"].startswith(mounts["roster"])
    job = next(yaml.safe_load_all((K8S / "grading-job.yaml").read_text(encoding="utf-8")))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][0] == "netpol-grade"
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 2000


def test_grading_script_is_valid_shell() -> None:
    assert subprocess.run(["sh", "-n", str(DEPLOY / "grade.sh")], check=False).returncode == 0
    usage = subprocess.run(["sh", str(DEPLOY / "grade.sh")], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: netpol-grade" in usage.stderr


def test_learners_lose_exactly_the_instructor_tools() -> None:
    learner = DEPLOY / "jupyter" / "learner"
    page = json.loads((learner / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    assert set(page["disabledExtensions"]) == {
        "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:create-assignment",
        "@jupyter/nbgrader:course-list",
    }
    server = json.loads((learner / "jupyter_server_config.json").read_text(encoding="utf-8"))
    enabled = server["ServerApp"]["jpserver_extensions"]
    assert enabled == {
        "nbgrader.server_extensions.formgrader": False,
        "nbgrader.server_extensions.course_list": False,
        "nbgrader.server_extensions.assignment_list": True,
        "nbgrader.server_extensions.validate_assignment": True,
    }
    assert not (DEPLOY / "jupyter" / "instructor" / "labconfig").exists()
