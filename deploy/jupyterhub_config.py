# JupyterHub configuration of the local demo classroom (`make classroom-demo`, tests/test_hub.py).
#
# One machine, real Unix users: PAM login, LocalProcessSpawner (each server runs as its
# user), configurable-http-proxy from npm, the nbgrader exchange on a shared folder.
# tools/classroom_demo.py starts the hub with these environment variables:
#
#   NETPOL_CLASSROOM_ENV          the classroom virtual environment (deploy/requirements.txt)
#   NETPOL_CLASSROOM_STATE        folder for the hub's database, cookie secret and pid files
#   NETPOL_CLASSROOM_JUPYTER      a copy of deploy/jupyter/ (role config of the servers)
#   NBGRADER_EXCHANGE             the shared exchange folder
#   NETPOL_CLASSROOM_PORT         the port of the hub (on 127.0.0.1 only)
#   NETPOL_CLASSROOM_HUB_PORT, NETPOL_CLASSROOM_PROXY_API_PORT  its internal ports
#   NETPOL_CLASSROOM_INSTRUCTORS  comma-separated Unix user names of instructors
#   NETPOL_CLASSROOM_LEARNERS     comma-separated Unix user names of learners
#   NETPOL_CLASSROOM_EXPOSE_APP   "1": expose JupyterLab's app object to the page (browser test)
import os

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

env = os.environ["NETPOL_CLASSROOM_ENV"]
state = os.environ["NETPOL_CLASSROOM_STATE"]
roles_dir = os.environ["NETPOL_CLASSROOM_JUPYTER"]
instructors = {u for u in os.environ.get("NETPOL_CLASSROOM_INSTRUCTORS", "").split(",") if u}
learners = {u for u in os.environ.get("NETPOL_CLASSROOM_LEARNERS", "").split(",") if u}

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("NETPOL_CLASSROOM_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("NETPOL_CLASSROOM_HUB_PORT", "8081"))
c.JupyterHub.db_url = f"sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{state}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = f"{state}/jupyterhub.pid"
c.ConfigurableHTTPProxy.pid_file = f"{state}/jupyterhub-proxy.pid"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:" + os.environ.get(
    "NETPOL_CLASSROOM_PROXY_API_PORT", str(c.JupyterHub.port + 1)
)

c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = instructors | learners
c.Authenticator.admin_users = set()
c.PAMAuthenticator.open_sessions = False

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [f"{env}/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.LocalProcessSpawner.shell_cmd = []


def role_environment(spawner):  # type: ignore[no-untyped-def]
    """Instructors get nbgrader's instructor tools, learners only the Assignments tab."""
    name = spawner.user.name
    role = "instructor" if name in instructors else "learner"
    spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [f"{roles_dir}/{role}", f"{roles_dir}/common"]
    )
    spawner.environment["NBGRADER_EXCHANGE"] = os.environ["NBGRADER_EXCHANGE"]
    spawner.environment["PATH"] = f"{env}/bin:/usr/local/bin:/usr/bin:/bin"
    expose = "--LabApp.expose_app_in_browser=True"
    if os.environ.get("NETPOL_CLASSROOM_EXPOSE_APP") == "1" and expose not in spawner.args:
        spawner.args = [*spawner.args, expose]


c.Spawner.pre_spawn_hook = role_environment
