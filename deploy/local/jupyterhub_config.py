"""An example JupyterHub configuration for one machine: system users, local processes.

What it shows (the authenticator, TLS and the public address are your site's; the
default authenticator, PAM, logs the machine's users in with their passwords):

- every hub user is a system user with a uid of their own. nbgrader's exchange
  relies on it: the inbound folder is write-only for everyone but the instructor who
  released the assignment, so a student cannot list classmates' submissions. One
  shared uid for everyone would let any student list and read them all;
- LocalProcessSpawner starts each server as its user: the students' from the student
  environment, the members of `instructors` (`MLPKIT_INSTRUCTORS`) from the instructor
  environment, each set up by `docker/install.sh packages` and then `student` or
  `instructor` in a prefix of its own (`MLPKIT_STUDENT_PREFIX`,
  `MLPKIT_INSTRUCTOR_PREFIX`);
- the exchange: one folder every user can write, with the sticky bit (mode 1777),
  at the path the environments' nbgrader configuration reads (`MLPKIT_EXCHANGE_ROOT`);
- Fashion-MNIST read from one shared folder (`FASHION_MNIST_DIR`).

Homes must be private (mode 0700): Debian's useradd makes them 0755 by default, and
then every student can read the course folder in the instructor's home, solutions
and gradebook included. docs/jupyterhub.md has the commands. tests/hub runs this file
unchanged, with a test authenticator on top, on 127.0.0.1.

Load it with `jupyterhub -f deploy/local/jupyterhub_config.py`, as root.
"""

import os
import stat

c = get_config()  # noqa: F821  (JupyterHub injects get_config)

STUDENT_PREFIX = os.environ.get("MLPKIT_STUDENT_PREFIX", "/opt/mlpkit/student")
INSTRUCTOR_PREFIX = os.environ.get("MLPKIT_INSTRUCTOR_PREFIX", "/opt/mlpkit/instructor")
INSTRUCTORS = [name for name in os.environ.get("MLPKIT_INSTRUCTORS", "").split(",") if name]
EXCHANGE_ROOT = os.environ.get("MLPKIT_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/srv/data/fashion-mnist")

c.JupyterHub.spawner_class = "localprocess"  # each server runs as its system user
c.JupyterHub.load_groups = {"instructors": {"users": INSTRUCTORS}}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "FASHION_MNIST_DIR": DATA_DIR,
    "MLPKIT_EXCHANGE_ROOT": EXCHANGE_ROOT,
    "MLPKIT_COURSE_ID": os.environ.get("MLPKIT_COURSE_ID", "mlpkit"),
    "MLPKIT_PROFILE": "class",
    "MLPKIT_TORCH_THREADS": "1",
}
# A server imports JupyterLab, nbgrader and (instructors) the grader: slow on 2 cores.
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300


def choose_environment(spawner) -> None:
    """Start instructors from the instructor environment and everyone else as students.

    The instructor environment holds the formgrader; students never get it, whatever
    they ask for, because the choice is made here from the hub's groups.
    """
    groups = {group.name for group in spawner.user.groups}
    prefix = INSTRUCTOR_PREFIX if "instructors" in groups else STUDENT_PREFIX
    spawner.cmd = [os.path.join(prefix, "bin", "jupyterhub-singleuser")]
    spawner.environment = {
        **spawner.environment,
        "PATH": f"{os.path.join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin",
    }


c.Spawner.pre_spawn_hook = choose_environment

# The exchange: writable by everyone, sticky, so a user removes only their own files.
os.makedirs(EXCHANGE_ROOT, exist_ok=True)
if os.geteuid() == 0:
    os.chmod(EXCHANGE_ROOT, 0o1777)
if stat.S_IMODE(os.stat(EXCHANGE_ROOT).st_mode) != 0o1777:
    raise SystemExit(f"{EXCHANGE_ROOT} must have mode 1777 (chmod 1777 {EXCHANGE_ROOT})")
