"""A real multi-user JupyterHub classroom on this machine (needs root: it creates Unix users).

    sudo .venv/bin/python tools/classroom_demo.py up        # or: make classroom-demo
    sudo .venv/bin/python tools/classroom_demo.py install   # only build the environment

``up`` builds (once) the classroom environment, creates an instructor and learners as Unix
users with random passwords, copies the course into the instructor's ``~/course``, has the
instructor generate and release every assignment into a shared nbgrader exchange, starts
JupyterHub on http://127.0.0.1:8000 and prints who can log in.  Ctrl-C stops the hub and
removes everything it created: the users, their processes and their files.

What it builds, in a folder every user can read (``/opt/netpol-lab`` or
``$NETPOL_CLASSROOM_PREFIX``):

* ``env-<hash>/``: a virtual environment made from Debian's ``/usr/bin/python3`` (the
  default ``python3`` may live in root's private home, which other users cannot execute),
  with ``deploy/requirements.txt`` (pinned JupyterHub, JupyterLab, nbgrader) and netpol-lab
  installed from a wheel built from this checkout.  Reused while the requirements and the
  interpreter stay the same; the wheel is reinstalled when the checkout changed.
* ``configurable-http-proxy-<version>/``: configurable-http-proxy from npm.

tests/test_hub.py drives the same functions in a browser.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
REQUIREMENTS = DEPLOY / "requirements.txt"
PREFIX = Path(os.environ.get("NETPOL_CLASSROOM_PREFIX", "/opt/netpol-lab"))
BASE_PYTHON = os.environ.get("NETPOL_CLASSROOM_PYTHON", "/usr/bin/python3")
CHP_VERSION = "4.6.3"
COURSE_ID = "netpol-lab"
ASSIGNMENTS = ("ps1-direction", "ps2-three-tier", "ps3-enforcement", "ps4-cka-drills")
# The GECOS field of every user this tool creates: only such users are ever removed.
USER_MARK = "netpol-lab classroom demo"
# What the wheel build never copies from the checkout: anywhere, caches and environments;
# at the top, build outputs; in exercises/, nbgrader's working folders.
IGNORED_ANYWHERE = {"__pycache__", ".git", ".venv", ".nca-venv", "node_modules"}
IGNORED_AT_TOP = {
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "build",
    "dist",
    "test-output",
}
IGNORED_IN_EXERCISES = {"release", "submitted", "autograded", "feedback", "gradebook.db"}


def _build_ignore(folder: str, names: list[str]) -> set[str]:
    here = Path(folder).resolve()
    ignored = {n for n in names if n in IGNORED_ANYWHERE or n.endswith(".egg-info")}
    if here == ROOT:
        ignored |= IGNORED_AT_TOP & set(names)
    if here == ROOT / "exercises":
        ignored |= IGNORED_IN_EXERCISES & set(names)
    return ignored


def log(message: str) -> None:
    print(f"[classroom] {message}", file=sys.stderr, flush=True)


def _run(argv: Sequence[str | Path], **kwargs: object) -> None:
    subprocess.run([str(a) for a in argv], check=True, **kwargs)  # type: ignore[call-overload]


def build_wheel(out_dir: Path, python: str = sys.executable) -> Path:
    """Build netpol-lab's wheel from a copy of this checkout (the checkout stays clean)."""
    with tempfile.TemporaryDirectory(prefix="netpol-wheel-src-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT, src, ignore=_build_ignore)
        out_dir.mkdir(parents=True, exist_ok=True)
        _run(
            [python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out_dir, src],
            stdout=subprocess.DEVNULL,
        )
    wheels = sorted(out_dir.glob("netpol_lab-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip wheel wrote no netpol_lab wheel into {out_dir}")
    return wheels[-1]


def _tree_digest(root: Path) -> str:
    """A digest of the files that go into the wheel (to skip reinstalling an unchanged one)."""
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "README.md", "npcore", "autograder", "lessonkit"):
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts:
                digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Environment:
    """The classroom's installed software: the Python environment and the proxy."""

    env: Path
    proxy_bin: Path

    @property
    def bin(self) -> Path:
        return self.env / "bin"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _world_readable(path: Path) -> None:
    _run(["chmod", "-R", "a+rX,go-w", path])


def ensure_environment(prefix: Path = PREFIX, python: str = BASE_PYTHON) -> Environment:
    """Build (or reuse) the classroom environment and the proxy under ``prefix``."""
    if not os.access(python, os.X_OK):
        raise RuntimeError(f"{python} not found: install Debian's python3 and python3-venv")
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True, check=True
    ).stdout
    key = hashlib.sha256(REQUIREMENTS.read_bytes() + version.encode()).hexdigest()[:12]
    env = prefix / f"env-{key}"
    proxy_dir = prefix / f"configurable-http-proxy-{CHP_VERSION}"
    with _locked(prefix / ".lock"):
        prefix.chmod(0o755)
        if not (env / ".complete").is_file():
            shutil.rmtree(env, ignore_errors=True)
            log(f"building {env} from {python} and {REQUIREMENTS.name}")
            _run([python, "-m", "venv", env])
            _run(
                [env / "bin" / "python", "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS],
                stdout=subprocess.DEVNULL,
            )
            (env / ".complete").write_text(version)
        digest = _tree_digest(ROOT)
        stamp = env / ".netpol-lab-tree"
        if not stamp.is_file() or stamp.read_text() != digest:
            log("installing netpol-lab from a wheel of this checkout")
            with tempfile.TemporaryDirectory(prefix="netpol-wheel-") as tmp:
                wheel = build_wheel(Path(tmp), str(env / "bin" / "python"))
                _run(
                    [
                        env / "bin" / "python",
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--no-deps",
                        "--force-reinstall",
                        wheel,
                    ],
                    stdout=subprocess.DEVNULL,
                )
            stamp.write_text(digest)
        proxy_bin = proxy_dir / "node_modules" / ".bin" / "configurable-http-proxy"
        if not proxy_bin.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError("npm not found: `make classroom-env` installs nodejs and npm")
            log(f"installing configurable-http-proxy {CHP_VERSION} from npm")
            proxy_dir.mkdir(parents=True, exist_ok=True)
            _run(
                [
                    npm,
                    "install",
                    "--silent",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    proxy_dir,
                    f"configurable-http-proxy@{CHP_VERSION}",
                ],
                stdout=subprocess.DEVNULL,
            )
        _world_readable(prefix)
    return Environment(env, proxy_bin)


@contextlib.contextmanager
def environment_in_use(prefix: Path = PREFIX, python: str = BASE_PYTHON) -> Iterator[Environment]:
    """:func:`ensure_environment`, then keep it as it is until the block ends.

    A shared lock: a run from another checkout (another wheel) waits to reinstall
    netpol-lab until no classroom is using the environment any more.
    """
    while True:
        environment = ensure_environment(prefix, python)
        handle = (prefix / ".lock").open("a")
        fcntl.flock(handle, fcntl.LOCK_SH)
        stamp = environment.env / ".netpol-lab-tree"
        if stamp.is_file() and stamp.read_text() == _tree_digest(ROOT):
            break
        handle.close()  # another checkout reinstalled in between: install ours again
    try:
        yield environment
    finally:
        handle.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Classroom:
    """Unix users, their homes, the shared exchange and the instructor's course folder."""

    environment: Environment
    base: Path
    instructors: tuple[str, ...]
    learners: tuple[str, ...]
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def exchange(self) -> Path:
        return self.base / "exchange"

    @property
    def jupyter(self) -> Path:
        return self.base / "jupyter"

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def grade_script(self) -> Path:
        """deploy/grade.sh (``netpol-grade``), where every user can run it."""
        return self.base / "bin" / "netpol-grade"

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def course(self, instructor: str) -> Path:
        return self.home(instructor) / "course"

    def user_env(self, user: str) -> dict[str, str]:
        """The environment a user's commands run with (as their server has it)."""
        role = "instructor" if user in self.instructors else "learner"
        return {
            "HOME": str(self.home(user)),
            "USER": user,
            "LOGNAME": user,
            "LANG": "C.UTF-8",
            "PATH": f"{self.environment.bin}:/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_PATH": f"{self.jupyter / role}:{self.jupyter / 'common'}",
            "NBGRADER_EXCHANGE": str(self.exchange),
        }

    def run_as(
        self, user: str, argv: Sequence[str | Path], cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as ``user`` (their uid, gid and no other group), like their terminal."""
        entry = pwd.getpwnam(user)
        return subprocess.run(
            [str(a) for a in argv],
            cwd=cwd or self.home(user),
            env=self.user_env(user),
            user=entry.pw_uid,
            group=entry.pw_gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def nbgrader(self, user: str, *args: str, cwd: Path | None = None) -> str:
        """``nbgrader ARGS`` as ``user``; raises with nbgrader's output when it fails."""
        proc = self.run_as(user, [self.environment.bin / "nbgrader", *args], cwd=cwd)
        if proc.returncode != 0:
            why = proc.stderr[-3000:]
            raise RuntimeError(f"nbgrader {' '.join(args)} as {user} failed:\n{why}")
        return proc.stdout + proc.stderr


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _processes_of(uids: set[int]) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid in uids:
                pids.append(int(entry.name))
    return pids


def _kill_processes_of(uids: set[int]) -> None:
    """SIGKILL every process running as one of ``uids`` (users this tool created)."""
    for _ in range(20):
        pids = _processes_of(uids)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def remove_user(name: str) -> None:
    """Remove a user this tool created (refuses any other account)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return
    if entry.pw_gecos != USER_MARK:
        raise RuntimeError(f"user {name!r} exists and was not made by this tool; not touching it")
    _kill_processes_of({entry.pw_uid})
    _run(["userdel", "--remove", name], stderr=subprocess.DEVNULL)


def remove_stale_users() -> list[str]:
    """Remove users of earlier, interrupted runs: marked as ours, their home folder gone."""
    removed = []
    for entry in pwd.getpwall():
        if entry.pw_gecos == USER_MARK and not Path(entry.pw_dir).parent.parent.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                remove_user(entry.pw_name)
                removed.append(entry.pw_name)
    return removed


def create_classroom(
    environment: Environment,
    instructors: Sequence[str],
    learners: Sequence[str],
    base: Path | None = None,
) -> Classroom:
    """Create the users, the exchange and the instructors' course folders (all or nothing)."""
    if os.geteuid() != 0:
        raise RuntimeError("creating the classroom's Unix users needs root")
    if base is None:
        base = Path(tempfile.mkdtemp(prefix="netpol-classroom-", dir="/tmp"))
    base.chmod(0o755)
    room = Classroom(environment, base, tuple(instructors), tuple(learners))
    try:
        (base / "home").mkdir(exist_ok=True)
        (base / "home").chmod(0o755)  # explicit modes: root's umask may be 077
        room.state.mkdir(mode=0o700, exist_ok=True)
        room.exchange.mkdir(exist_ok=True)
        room.exchange.chmod(0o777)  # nbgrader: every user writes here; it sets the inner modes
        shutil.copytree(DEPLOY / "jupyter", room.jupyter, dirs_exist_ok=True)
        _world_readable(room.jupyter)
        room.grade_script.parent.mkdir(exist_ok=True)
        room.grade_script.parent.chmod(0o755)
        shutil.copy(DEPLOY / "grade.sh", room.grade_script)
        room.grade_script.chmod(0o755)
        for name in (*room.instructors, *room.learners):
            remove_user(name)  # a leftover of an interrupted run
            password = secrets.token_urlsafe(12)
            _run(
                [
                    "useradd",
                    "--comment",
                    USER_MARK,
                    "--home-dir",
                    room.home(name),
                    "--create-home",
                    "--shell",
                    "/bin/bash",
                    "--user-group",
                    name,
                ]
            )
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
            room.home(name).chmod(0o700)
            room.passwords[name] = password
        for name in room.instructors:
            course = room.course(name)
            course.mkdir()
            shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
            shutil.copytree(ROOT / "exercises" / "source", course / "source")
            entry = pwd.getpwnam(name)
            _run(["chown", "-R", f"{entry.pw_uid}:{entry.pw_gid}", course])
    except BaseException:
        remove_classroom(room)  # the users and folders made so far
        raise
    return room


def release(room: Classroom, instructor: str, assignments: Sequence[str]) -> None:
    """The instructor generates and releases ``assignments`` into the exchange."""
    course = room.course(instructor)
    for assignment in assignments:
        room.nbgrader(instructor, "generate_assignment", assignment, "--force", cwd=course)
        room.nbgrader(instructor, "release_assignment", assignment, "--force", cwd=course)


def remove_classroom(room: Classroom) -> None:
    """Remove the users (and their processes) and every file of the classroom."""
    for name in (*room.instructors, *room.learners):
        with contextlib.suppress(subprocess.CalledProcessError, RuntimeError):
            remove_user(name)  # RuntimeError: an account this tool did not make, left alone
    shutil.rmtree(room.base, ignore_errors=True)


class Hub:
    """``with Hub(room) as hub:`` JupyterHub running for the classroom on 127.0.0.1."""

    def __init__(self, room: Classroom, port: int | None = None, expose_app: bool = False) -> None:
        self.room = room
        self.port = port or free_port()
        self.expose_app = expose_app
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = room.state / "jupyterhub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def __enter__(self) -> Hub:
        env = self.room.environment
        variables = {
            "PATH": f"{env.proxy_bin.parent}:{env.bin}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(self.room.state),
            "NETPOL_CLASSROOM_ENV": str(env.env),
            "NETPOL_CLASSROOM_STATE": str(self.room.state),
            "NETPOL_CLASSROOM_JUPYTER": str(self.room.jupyter),
            "NBGRADER_EXCHANGE": str(self.room.exchange),
            "NETPOL_CLASSROOM_PORT": str(self.port),
            "NETPOL_CLASSROOM_PROXY_API_PORT": str(free_port()),
            "NETPOL_CLASSROOM_HUB_PORT": str(free_port()),
            "NETPOL_CLASSROOM_INSTRUCTORS": ",".join(self.room.instructors),
            "NETPOL_CLASSROOM_LEARNERS": ",".join(self.room.learners),
            "NETPOL_CLASSROOM_EXPOSE_APP": "1" if self.expose_app else "0",
        }
        config = self.room.state / "jupyterhub_config.py"
        shutil.copy(DEPLOY / "jupyterhub_config.py", config)
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [str(env.bin / "jupyterhub"), "-f", str(config)],
                cwd=self.room.state,
                env=variables,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyterhub did not answer in 60 s:\n{self.log()}")

    def stop(self) -> None:
        """Stop the hub (it stops the servers and the proxy), then anything left of them."""
        process = self.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # anything left in the hub's group
        # the proxy runs in a session of its own; the hub stops it unless it was killed
        with contextlib.suppress(OSError, ValueError):
            pid = int((self.room.state / "jupyterhub-proxy.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if str(self.room.environment.proxy_bin).encode() in cmdline:
                os.kill(pid, signal.SIGTERM)
        uids = set()
        for name in (*self.room.instructors, *self.room.learners):
            with contextlib.suppress(KeyError):
                uids.add(pwd.getpwnam(name).pw_uid)
        _kill_processes_of(uids)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tools/classroom_demo.py", description=(__doc__ or "").split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="build the classroom environment and the proxy, then exit")
    up = sub.add_parser("up", help="start the demo classroom until Ctrl-C")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--instructor", default="teacher")
    up.add_argument("--learner", action="append", dest="learners")
    args = parser.parse_args(argv)
    if args.command == "install":
        environment = ensure_environment()
        print(f"classroom environment: {environment.env}\nproxy: {environment.proxy_bin}")
        return 0
    learners = args.learners or ["learner1", "learner2"]

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C and `kill` both end in the cleanup below (also when started in the background,
    # where a shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    with environment_in_use() as environment:
        return _up(environment, args.instructor, learners, args.port)


def _up(environment: Environment, instructor: str, learners: list[str], port: int) -> int:
    remove_stale_users()
    room = create_classroom(environment, [instructor], learners)
    try:
        release(room, instructor, ASSIGNMENTS)
        with Hub(room, port=port) as hub:
            print(f"\nThe classroom is up: {hub.url}/  (Ctrl-C stops it and removes the users)")
            for name, password in room.passwords.items():
                role = "instructor" if name in room.instructors else "learner"
                print(f"  {role:10}  user {name:10}  password {password}")
            print(f"  exchange: {room.exchange}\n  course:   {room.course(instructor)}")
            print(f"  hub log:  {hub.log_path}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while hub.process is not None and hub.process.poll() is None:
                    time.sleep(1)
    finally:
        remove_classroom(room)
        print("classroom removed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
