"""Helpers for the real-browser test: a JupyterLab server and Debian's headless Chromium.

* :func:`chromium_path` finds Debian's ``chromium`` (Playwright's own downloaded browsers
  are not used); the Makefile's ``system-deps`` target installs it.
* :class:`JupyterLab` runs ``jupyter lab`` from this virtual environment on a free local
  port with a known token, no browser, autosave off, its settings and workspaces in a
  temporary directory, and the app object exposed in the page
  (``window.jupyterapp``) so the test can run JupyterLab commands instead of clicking
  through menus.  It waits until ``/api/status`` answers, and stops the server (and
  only it) when the ``with`` block ends.  ``env`` adds environment variables (the
  learner's ``JUPYTER_CONFIG_DIR``, for example).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jupyter_executable() -> str:
    """The ``jupyter`` of the interpreter running the tests."""
    candidate = Path(sys.executable).with_name("jupyter")
    return str(candidate) if candidate.exists() else "jupyter"


class JupyterLab:
    """``with JupyterLab(root, tmp) as lab:`` a running server; ``lab.url(path)``."""

    def __init__(
        self,
        root_dir: Path,
        work_dir: Path,
        *,
        startup_timeout: float = 90,
        env: dict[str, str] | None = None,
    ) -> None:
        self.root_dir = root_dir
        self.extra_env = dict(env or {})
        self.work_dir = work_dir
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = work_dir / "jupyterlab.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The address of ``path`` (e.g. ``lab/tree/x.ipynb``), with the token."""
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def _settings(self) -> Path:
        settings = self.work_dir / "user-settings"
        plugin = settings / "@jupyterlab" / "docmanager-extension"
        plugin.mkdir(parents=True, exist_ok=True)
        (plugin / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
        news = settings / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        return settings

    def __enter__(self) -> JupyterLab:
        settings = self._settings()
        workspaces = self.work_dir / "workspaces"
        workspaces.mkdir(exist_ok=True)
        command = [
            jupyter_executable(),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={workspaces}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--ServerApp.open_browser=False",
        ]
        if os.geteuid() == 0:  # containers and CI runners often run as root
            command.append("--allow-root")
        env = dict(os.environ)
        env.update(self.extra_env)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root_dir,
            env=env,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.__exit__(None, None, None)
        raise RuntimeError(f"jupyter lab did not answer in {self.startup_timeout}s:\n{self.log()}")

    def log(self) -> str:
        """What the server printed so far."""
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        # The server runs in its own session: signal its process group (it and its
        # kernels), never anything else.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
