"""The files a sandbox is given, staged once per grader process in a private folder.

Only the host side of the grader (``host*.py`` and ``protocol.py``, which decide
nothing) and copies of the two *training* files go in; the checks, the measuring
code, the solutions and the test set never do. The folder is readable by the
sandbox's unprivileged uid (root mode) and is removed when the process exits.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from autograder.sandbox.isolation import SANDBOX_CODE, SANDBOX_DATA, Mounts, gpu_devices
from mlpkit.data import FILE_NAMES, dataset_file

HOST_MODULES = (
    "protocol.py",
    "host.py",
    "host_support.py",
    "host_functions.py",
    "host_pytorch.py",
    "host_tensorflow.py",
)
TRAINING_FILES = (FILE_NAMES["train_images"], FILE_NAMES["train_labels"])  # never the test set
SANDBOX_DIR = Path(__file__).resolve().parent


def _training_file(data_dir: Path, stem: str) -> Path:
    found = dataset_file(data_dir, stem)
    if found is None:
        raise ValueError(
            f"{data_dir} lacks {stem}(.gz); point FASHION_MNIST_DIR at the Fashion-MNIST folder."
        )
    return found


@functools.cache
def staged_folder(data_dir: Path) -> Path:
    """Create (once per process and data folder) the staged code and data; return its root."""
    root = Path(tempfile.mkdtemp(prefix="mlpkit-sandbox-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    package = root / "code" / "autograder" / "sandbox"
    package.mkdir(parents=True)
    (root / "code" / "autograder" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    for name in HOST_MODULES:
        shutil.copyfile(SANDBOX_DIR / name, package / name)
    (root / "data").mkdir()
    for stem in TRAINING_FILES:
        source = _training_file(data_dir, stem)
        shutil.copyfile(source, root / "data" / source.name)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text(
        "student:x:65534:65534:student:/home/student:/usr/sbin/nologin\n"
    )
    (root / "etc" / "group").write_text("student:x:65534:\n")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def host_mounts(data_dir: Path, *, gpu: bool) -> Mounts:
    """The read-only mounts of a student host: its code, the training files, passwd."""
    root = staged_folder(Path(data_dir).resolve())
    read_only = {SANDBOX_CODE: root / "code", SANDBOX_DATA: root / "data"}
    read_only.update({"/etc/passwd": root / "etc" / "passwd", "/etc/group": root / "etc" / "group"})
    return Mounts(read_only=read_only, gpu_devices=gpu_devices() if gpu else ())


def staged_data_dir(data_dir: Path) -> Path:
    """The staged copy of the training files (weak isolation points the host at it)."""
    return staged_folder(Path(data_dir).resolve()) / "data"


def staged_code_dir(data_dir: Path) -> Path:
    return staged_folder(Path(data_dir).resolve()) / "code"
