"""An example JupyterHub configuration for the course, on Kubernetes (KubeSpawner).

What it shows (the rest, such as the authenticator, TLS and the proxy, is your site's):

- the student image (Dockerfile, default target) for everyone, and the instructor
  image (`--target instructor`) for members of the `instructors` group only;
- resource limits per server: a CPU profile sized like the course's 2-core hub, and a
  GPU profile that asks Kubernetes for one NVIDIA GPU and runs the `full` profile;
- the nbgrader exchange: one shared ReadWriteMany volume mounted at the same path in
  every server (the path docker/nbgrader_config.py gives nbgrader), plus a read-only
  copy of Fashion-MNIST so that nobody downloads it;
- a distinct uid per user, which the exchange's privacy relies on (below).

For one machine without Kubernetes, see deploy/local/jupyterhub_config.py (system
users, LocalProcessSpawner), which tests/hub runs for real.

Load it with `jupyterhub -f deploy/jupyterhub_config.py` on a hub that has
`jupyterhub-kubespawner` installed; tests/test_packaging.py loads it with stub objects.
Every name in capitals below can be set from the environment.
"""

import os

c = get_config()  # noqa: F821  (JupyterHub injects get_config)

REGISTRY = os.environ.get("MLPKIT_REGISTRY", "registry.example.org/mlpkit")
IMAGE_TAG = os.environ.get("MLPKIT_IMAGE_TAG", "latest")
STUDENT_IMAGE = f"{REGISTRY}/student:{IMAGE_TAG}"
INSTRUCTOR_IMAGE = f"{REGISTRY}/instructor:{IMAGE_TAG}"
INSTRUCTORS = [name for name in os.environ.get("MLPKIT_INSTRUCTORS", "").split(",") if name]

# The exchange path must equal Exchange.root in docker/nbgrader_config.py.
EXCHANGE_ROOT = "/srv/nbgrader/exchange"
EXCHANGE_CLAIM = os.environ.get("MLPKIT_EXCHANGE_CLAIM", "nbgrader-exchange")  # ReadWriteMany
DATA_DIR = "/srv/data/fashion-mnist"
DATA_CLAIM = os.environ.get("MLPKIT_DATA_CLAIM", "fashion-mnist")  # the four IDX files

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.JupyterHub.load_groups = {"instructors": {"users": INSTRUCTORS}}
c.Spawner.default_url = "/lab"

c.KubeSpawner.image = STUDENT_IMAGE
# Every user gets a uid of their own. nbgrader's exchange keeps submissions apart by
# ownership: the instructor who releases owns inbound/ (mode 733, write-only for
# everyone else), so a student cannot list it. If every pod ran as the images' jovyan
# (uid 1000), every student would own inbound/ and could list and read every
# classmate's submission. The uid comes from the hub's user id: stable, unique.
FIRST_UID = int(os.environ.get("MLPKIT_FIRST_UID", "10000"))


def user_uid(spawner) -> int:
    """A uid per hub user (FIRST_UID + the user's id in the hub's database)."""
    return FIRST_UID + spawner.user.id


c.KubeSpawner.uid = user_uid
c.KubeSpawner.gid = 100  # the shared group owns the home volume (fs_gid), not the files
c.KubeSpawner.fs_gid = 100
ENVIRONMENT = {
    "HOME": "/home/jovyan",  # the images' home, whatever the uid
    "FASHION_MNIST_DIR": DATA_DIR,
    "MLPKIT_EXCHANGE_ROOT": EXCHANGE_ROOT,
    "MLPKIT_COURSE_ID": os.environ.get("MLPKIT_COURSE_ID", "mlpkit"),
}
c.KubeSpawner.environment = ENVIRONMENT

# Default limits: the class profile's budget (2 cores, every notebook in minutes).
c.KubeSpawner.cpu_guarantee = 0.5
c.KubeSpawner.cpu_limit = 2
c.KubeSpawner.mem_guarantee = "2G"
c.KubeSpawner.mem_limit = "4G"

# Storage: a home volume per user, the shared exchange, and the dataset (read-only).
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.pvc_name_template = "home-{username}"
c.KubeSpawner.storage_capacity = "2Gi"
c.KubeSpawner.volumes = [
    {"name": "home", "persistentVolumeClaim": {"claimName": "home-{username}"}},
    {"name": "exchange", "persistentVolumeClaim": {"claimName": EXCHANGE_CLAIM}},
    {"name": "data", "persistentVolumeClaim": {"claimName": DATA_CLAIM, "readOnly": True}},
]
c.KubeSpawner.volume_mounts = [
    {"name": "home", "mountPath": "/home/jovyan"},
    {"name": "exchange", "mountPath": EXCHANGE_ROOT},
    {"name": "data", "mountPath": DATA_DIR, "readOnly": True},
]
# nbgrader needs the exchange writable by every user, with the sticky bit, so that
# students submit but cannot touch each other's submissions.
c.KubeSpawner.init_containers = [
    {
        "name": "exchange-permissions",
        "image": "busybox:1.36",
        "command": ["sh", "-c", f"mkdir -p {EXCHANGE_ROOT} && chmod 1777 {EXCHANGE_ROOT}"],
        "securityContext": {"runAsUser": 0},
        "volumeMounts": [{"name": "exchange", "mountPath": EXCHANGE_ROOT}],
    }
]

CPU_PROFILE = {
    "display_name": "CPU: class profile (2 cores, 4 GB)",
    "slug": "cpu",
    "description": "Every notebook runs in minutes; the tuning uses the small class budget.",
    "default": True,
}
GPU_PROFILE = {
    "display_name": "GPU: full profile (1 NVIDIA GPU, 8 cores, 32 GB)",
    "slug": "gpu",
    "description": "The original budgets: full epochs and 50 search trials per optimizer.",
    "kubespawner_override": {
        "cpu_guarantee": 4,
        "cpu_limit": 8,
        "mem_guarantee": "16G",
        "mem_limit": "32G",
        "extra_resource_guarantees": {"nvidia.com/gpu": "1"},
        "extra_resource_limits": {"nvidia.com/gpu": "1"},
        "node_selector": {"nvidia.com/gpu.present": "true"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        # An override replaces the whole mapping: repeat the common variables.
        "environment": {**ENVIRONMENT, "MLPKIT_PROFILE": "full", "MLPKIT_TORCH_THREADS": "8"},
    },
}
INSTRUCTOR_PROFILE = {
    "display_name": "Instructor: formgrader and hidden checks (4 cores, 8 GB)",
    "slug": "instructor",
    "description": "nbgrader's formgrader and python -m autograder; mount the private repository.",
    "kubespawner_override": {
        "image": INSTRUCTOR_IMAGE,
        "cpu_guarantee": 2,
        "cpu_limit": 4,
        "mem_guarantee": "4G",
        "mem_limit": "8G",
    },
}


def profile_list(spawner) -> list[dict]:
    """The profiles a user may pick: instructors also get the instructor image.

    A callable, so the instructor image (which carries the hidden checks) is never
    offered to students.
    """
    groups = {group.name for group in spawner.user.groups}
    profiles = [CPU_PROFILE, GPU_PROFILE]
    if "instructors" in groups:
        profiles.append(INSTRUCTOR_PROFILE)
    return profiles


c.KubeSpawner.profile_list = profile_list
