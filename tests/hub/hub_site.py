"""A real JupyterHub on 127.0.0.1 for the course's end-to-end test.

The site is deploy/local/jupyterhub_config.py, unchanged, plus a test authenticator
(JupyterHub's DummyAuthenticator, limited to the test's users), loopback ports and an
admin service token for the test. Its parts are the ones a local site runs:

- configurable-http-proxy from npm (tests/hub/package.json);
- three system users made here (an instructor and two students), homes mode 0700;
- the student and instructor environments, set up by docker/install.sh in prefixes of
  their own (tests/environments.py, the same ones tests/test_packaging.py checks),
  which LocalProcessSpawner starts the servers from;
- the course repository copied into the instructor's home, and
  `docker/install.sh course ~/mlpkit` run as the instructor, as the docs tell them.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import DATA_DIR, REPO_ROOT
from tests.environments import (
    INSTALL_SCRIPT,
    VENV,
    base_python,
    public_folder,
    readable_by_everyone,
)
from tests.hub.prerequisites import PROXY

INSTRUCTOR = "mlpkit-teacher"
STUDENTS = ("mlpkit-alice", "mlpkit-bob")
USER_COMMENT = "mlpkit hub test user"  # marks the accounts this test may delete
COURSE_ID = "mlpkit"
COURSE_FOLDER = "mlpkit"  # the repository's folder in the instructor's home


@dataclass
class Hub:
    """The running hub: where it answers, and how to act as each user."""

    url: str
    service_token: str
    site_root: Path
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def exchange(self) -> Path:
        return self.site_root / "exchange"

    def home(self, user: str) -> Path:
        return Path(pwd.getpwnam(user).pw_dir)

    @property
    def course(self) -> Path:
        return self.home(INSTRUCTOR) / COURSE_FOLDER

    def hub_api(self, method: str, path: str, **arguments) -> requests.Response:
        headers = {"Authorization": f"token {self.service_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, **arguments)

    def server(
        self, user: str, method: str, path: str, *, token_of: str | None = None, **arguments
    ):
        """A request to USER's server through the proxy, with the token of TOKEN_OF (USER)."""
        headers = {"Authorization": f"token {self.tokens[token_of or user]}"}
        return requests.request(
            method, f"{self.url}/user/{user}{path}", headers=headers, timeout=900, **arguments
        )

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_as(user: str, command: list[str], **arguments) -> subprocess.CompletedProcess:
    """Run a command as USER (their uid, gid and groups, their HOME), as a login would."""
    entry = pwd.getpwnam(user)
    environment = {
        "HOME": entry.pw_dir,
        "USER": user,
        "LOGNAME": user,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **arguments.pop("env", {}),
    }
    return subprocess.run(
        command,
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
        cwd=entry.pw_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=arguments.pop("timeout", 300),
        check=False,
        **arguments,
    )


def _user_processes(uids: set[int]) -> list[int]:
    """The processes still running as the test's users (started through the hub)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid in uids:
                    found.append(int(entry.name))
    return found


def _delete_users(names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            for process in _user_processes({entry.pw_uid}):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process, signal.SIGKILL)
            subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)


@contextlib.contextmanager
def system_users(names: list[str]) -> Iterator[None]:
    """Create the users (private homes), delete them afterwards, homes included."""
    for name in names:
        try:
            existing = pwd.getpwnam(name)
        except KeyError:
            continue
        if existing.pw_gecos != USER_COMMENT:
            raise RuntimeError(f"user {name} exists and is not this test's; remove or rename it")
        _delete_users([name])  # left over by an interrupted run
    try:
        for name in names:
            subprocess.run(
                [
                    "useradd",
                    "--create-home",
                    "--shell",
                    "/bin/bash",
                    "--comment",
                    USER_COMMENT,
                    name,
                ],
                check=True,
                capture_output=True,
            )
            Path(pwd.getpwnam(name).pw_dir).chmod(0o700)  # the docs' guidance for local sites
        yield
    finally:
        _delete_users(names)


def _copy_course(destination: Path, owner: str) -> None:
    """The repository as the instructor clones it: its files, without .venv or .git."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    subprocess.run(["chown", "-R", f"{owner}:", str(destination)], check=True)


def _hub_config(site_root: Path, state: Path, port: int, service_token: str) -> Path:
    config = state / "jupyterhub_config.py"
    config.write_text(
        f"""
load_subconfig({str(REPO_ROOT / "deploy" / "local" / "jupyterhub_config.py")!r})
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {sorted([INSTRUCTOR, *STUDENTS])!r}
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.JupyterHub.db_url = "sqlite:///{state / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(state / "cookie_secret")!r}
c.JupyterHub.pid_file = {str(state / "jupyterhub.pid")!r}
c.JupyterHub.services = [{{"name": "course-test", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["course-test"]}}]
"""
    )
    return config


def hub_command(config: Path, state: Path) -> list[str]:
    """jupyterhub -f CONFIG, in a mount namespace when .venv's interpreter is private.

    The servers run .venv's interpreter (tests/environments.py), which may sit in a
    private home (pyenv in /root, mode 0700). The hub and every process it starts
    then share a mount namespace where that home is an empty tmpfs holding only the
    interpreter's folder (bind-mounted): nothing else of it becomes visible, and the
    machine's own mounts are untouched.
    """
    command = [str(VENV / "bin" / "jupyterhub"), "-f", str(config)]
    interpreter = base_python()
    private = readable_by_everyone(interpreter)
    if private is None:
        return command
    exposed = private / interpreter.relative_to(private).parts[0]
    stash = state / "interpreter"
    stash.mkdir()
    script = (
        f"mount --bind {exposed} {stash} && "
        f"mount -t tmpfs -o mode=0755,size=1m tmpfs {private} && "
        f'mkdir {exposed} && mount --bind {stash} {exposed} && exec "$@"'
    )
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "hub",
        *command,
    ]


def _wait_for_hub(hub: Hub, process: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with {process.returncode}:\n{hub.log_tail()}")
        with contextlib.suppress(requests.ConnectionError):
            if hub.hub_api("GET", "/", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"jupyterhub did not answer within {timeout:.0f} s:\n{hub.log_tail()}")


def start_servers(hub: Hub, users: list[str], timeout: float = 420) -> None:
    """Give each user a token and start their server; wait until every one is ready."""
    for user in users:
        created = hub.hub_api("POST", f"/users/{user}/tokens", json={"note": "course test"})
        created.raise_for_status()
        hub.tokens[user] = created.json()["token"]
        hub.hub_api("POST", f"/users/{user}/server").raise_for_status()
    deadline = time.monotonic() + timeout
    waiting = set(users)
    while waiting and time.monotonic() < deadline:
        for user in sorted(waiting):
            model = hub.hub_api("GET", f"/users/{user}").json()
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                waiting.discard(user)
            elif not server.get("pending") and not server:
                raise RuntimeError(f"the server of {user} stopped:\n{hub.log_tail()}")
        time.sleep(2)
    if waiting:
        raise RuntimeError(f"servers not ready in {timeout:.0f} s: {waiting}\n{hub.log_tail()}")


@contextlib.contextmanager
def running_hub(student_prefix: Path, instructor_prefix: Path) -> Iterator[Hub]:
    """The site from nothing but the two environments: users, course, hub; removed after."""
    users = [INSTRUCTOR, *STUDENTS]
    with (
        public_folder("hub") as site_root,
        tempfile.TemporaryDirectory(prefix="mlpkit-hub-state-") as state_folder,
        system_users(users),
    ):
        state = Path(state_folder)
        course = Path(pwd.getpwnam(INSTRUCTOR).pw_dir) / COURSE_FOLDER
        _copy_course(course, INSTRUCTOR)
        linked = run_as(INSTRUCTOR, ["bash", str(INSTALL_SCRIPT), "course", str(course)])
        if linked.returncode != 0:
            raise RuntimeError(f"docker/install.sh course failed: {linked.stderr}")
        port = free_port()
        hub = Hub(
            url=f"http://127.0.0.1:{port}",
            service_token=secrets.token_hex(32),
            site_root=site_root,
            log=state / "jupyterhub.log",
        )
        environment = {
            "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "HOME": str(state),
            "LANG": "C.UTF-8",
            "MLPKIT_STUDENT_PREFIX": str(student_prefix),
            "MLPKIT_INSTRUCTOR_PREFIX": str(instructor_prefix),
            "MLPKIT_INSTRUCTORS": INSTRUCTOR,
            "MLPKIT_EXCHANGE_ROOT": str(hub.exchange),
            "MLPKIT_COURSE_ID": COURSE_ID,
            "FASHION_MNIST_DIR": str(DATA_DIR),
        }
        config = _hub_config(site_root, state, port, hub.service_token)
        with hub.log.open("w") as log:
            process = subprocess.Popen(
                hub_command(config, state),
                cwd=state,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_for_hub(hub, process)
            yield hub
        finally:
            process.send_signal(signal.SIGTERM)  # the hub stops the servers and the proxy
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
