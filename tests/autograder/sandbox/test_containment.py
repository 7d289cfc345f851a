# ruff: noqa: E501  (hostile code samples keep their own lines)
"""The sandbox holds a hostile submission, as root and as an ordinary user.

Each test runs hostile code as notebook 01's ``class_counts`` cell in the real
student host, through the grader's own driver (``containment_probe.py``), once
with the grader running as root and once as ``nobody`` (with its own venv and
a copy of the code it can read). The hostile code reports what it could see or
do as the string it returns; the tests assert containment, the time bound, and
that nothing is left behind.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.autograder.sandbox.users import (
    Grader,
    leftover_processes,
    new_home,
    ordinary_grader,
    root_grader,
)
from tests.conftest import DATA_DIR, REPO_ROOT, SOLUTIONS_DIR

EXPLORATION = "01-data-exploration.ipynb"


@pytest.fixture(scope="module", params=["root", "nobody"])
def grader(request) -> Grader:
    home = new_home()
    user = root_grader(home) if request.param == "root" else ordinary_grader(home)
    yield user
    shutil.rmtree(home, ignore_errors=True)


def test_the_sandbox_sees_only_the_runtime_and_the_training_files(grader: Grader) -> None:
    secrets = [
        REPO_ROOT / "autograder",
        REPO_ROOT / "solutions",
        REPO_ROOT / "tests",
        REPO_ROOT / "nbgrader_config.py",
        grader.code / "autograder",
        grader.code / "solutions",
        DATA_DIR / "t10k-images-idx3-ubyte.gz",
        DATA_DIR,
        grader.home / "cache",
        grader.code / "tests",
        Path("/etc/shadow"),
        Path("/var"),
        Path("/srv"),
        Path("/work/shared"),
    ]
    code = f"""
import os
def class_counts(labels):
    seen = [path for path in {[str(path) for path in secrets]!r} if os.path.exists(path)]
    for folder in ("/", "/root", {str(REPO_ROOT)!r}, {str(grader.home)!r}, {str(grader.code)!r}):
        if os.path.isdir(folder):
            seen.append(folder + "=" + ",".join(sorted(os.listdir(folder))))
    seen.append("data=" + ",".join(sorted(os.listdir(os.environ["FASHION_MNIST_DIR"]))))
    seen.append("pids=" + str(len([p for p in os.listdir("/proc") if p.isdigit()])))
    seen.append("uid=" + str(os.getuid()))
    return "|".join(seen)
"""
    report = grader.probe(code)
    assert report["load"] == "ok", report
    seen = report["value"].split("|")
    visible = [item for item in seen if "=" not in item]
    assert visible == [], f"the sandbox saw {visible} ({report['mode']})"
    listings = dict(item.split("=", 1) for item in seen if "=" in item)
    for folder in {str(REPO_ROOT), str(grader.home), str(grader.code)}:
        if folder in listings:  # a mount point's parent: it holds the runtime, nothing else
            assert set(listings[folder].split(",")) <= {".venv", "mlpkit", "venv", "code"}, listings
    # The runtime is mounted at its own path, so the top-level folders of the
    # checkout, the grader's home and its interpreter appear (as empty parents).
    runtime_roots = {
        path.resolve().parts[1] for path in (REPO_ROOT, grader.home, grader.code, grader.python)
    }
    system = {"bin", "dev", "etc", "grader", "data", "home", "lib", "lib64", "proc", "root"}
    system |= {"sbin", "tmp", "usr"}
    assert set(listings["/"].split(",")) <= system | runtime_roots, listings["/"]
    assert listings["data"] == "train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz"
    assert int(listings["pids"]) <= 3, f"{listings['pids']} processes visible"
    assert listings["uid"] != "0"


def test_no_network_and_no_way_back_to_the_grader(grader: Grader) -> None:
    code = """
import os, socket
def class_counts(labels):
    found = []
    try:
        socket.create_connection(("127.0.0.1", 22), timeout=2)
        found.append("loopback")
    except OSError:
        pass
    try:
        socket.create_connection(("8.8.8.8", 53), timeout=2)
        found.append("internet")
    except OSError:
        pass
    for pid in (os.getppid(), 1):
        try:
            found.append(os.readlink(f"/proc/{pid}/cwd") + " of " + str(pid))
        except OSError:
            pass
    return ";".join(found)
"""
    report = grader.probe(code)
    parts = [item for item in report["value"].split(";") if item]
    assert "loopback" not in parts and "internet" not in parts
    assert all(item.startswith("/home/student") or item.startswith("/ of") for item in parts), parts


def test_writes_stay_private_bounded_and_disappear(grader: Grader) -> None:
    write = """
import os
def class_counts(labels):
    open("/tmp/left-behind", "w").write("x")
    open(os.path.expanduser("~/left-behind"), "w").write("x")
    try:
        with open("/tmp/big", "wb") as stream:
            for _ in range(2048):
                stream.write(b"0" * 2**20)
        return "wrote 2 GiB"
    except OSError as error:
        return type(error).__name__ + " " + str(error.errno)
"""
    report = grader.probe(write)
    assert report["value"].startswith("OSError"), report
    look = """
import os
def class_counts(labels):
    home = os.path.expanduser("~/left-behind")
    return str(os.path.exists("/tmp/left-behind") or os.path.exists(home))
"""
    assert grader.probe(look)["value"] == "False"
    assert not Path("/tmp/left-behind").exists()


def test_detached_children_and_orphans_die_with_the_sandbox(grader: Grader) -> None:
    code = """
import os
def class_counts(labels):
    for _ in range(20):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "4242"])
            os._exit(0)
    return "forked"
"""
    started = time.monotonic()
    report = grader.probe(code)
    assert report["value"] == "forked"
    assert time.monotonic() - started < 60
    time.sleep(0.5)
    assert leftover_processes("sleep 4242") == []


def test_a_function_that_never_returns_is_stopped_at_the_wall_limit(grader: Grader) -> None:
    code = """
import signal, time
def class_counts(labels):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # the host's own alarm cannot stop it
    while True:
        time.sleep(0.1)
"""
    started = time.monotonic()
    report = grader.probe(code, "--wall", "15")
    elapsed = time.monotonic() - started
    assert report.get("cause") == "timeout", report
    assert elapsed < 15 + 10 + 10, f"took {elapsed:.0f} s (start-up included)"


def test_memory_hogs_are_killed_and_reported(grader: Grader) -> None:
    code = """
def class_counts(labels):
    blocks = []
    while True:
        blocks.append(bytearray(64 * 2**20))
"""
    report = grader.probe(code, "--memory-gb", "0.5")
    assert report.get("cause") == "memory", report
    assert "memory" in report["stopped"]


def test_a_fork_bomb_is_contained(grader: Grader) -> None:
    code = """
import os, time
def class_counts(labels):
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)
"""
    started = time.monotonic()
    report = grader.probe(code, "--wall", "20")
    assert "stopped" in report, report
    assert time.monotonic() - started < 60
    time.sleep(0.5)
    assert leftover_processes("containment_probe") == []
    after = grader.probe("def class_counts(labels):\n    return 'fine'\n")
    assert after["value"] == "fine", "the next sandbox was harmed by the last one"


def test_exiting_is_reported_as_exiting(grader: Grader) -> None:
    report = grader.probe("import os\ndef class_counts(labels):\n    os._exit(0)\n")
    assert report.get("cause") == "exited", report
    assert "exited" in report["stopped"]


FLOODS = {
    "stdout": "import os\ndef class_counts(labels):\n    block = b'x' * 2**20\n    for _ in range(1024):\n        os.write(1, block)\n    return 'flooded'\n",
    "channel-header": (
        "import os\n"
        "def class_counts(labels):\n"
        "    fd = int(open('/proc/self/cmdline').read().split('\\0')[-2])\n"
        "    os.write(fd, (2**62).to_bytes(8, 'big'))\n"
        "    return 'sent'\n"
    ),
    "channel-array": (
        "import json, os\n"
        "def class_counts(labels):\n"
        "    fd = int(open('/proc/self/cmdline').read().split('\\0')[-2])\n"
        "    header = json.dumps({'id': 2, 'ok': True, 'value': {}, 'arrays': [{'dtype': 'uint8', 'shape': [2**40]}]}).encode()\n"
        "    os.write(fd, len(header).to_bytes(8, 'big') + header)\n"
        "    return 'sent'\n"
    ),
}


@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_the_grader_memory_stays_bounded_under_any_output(grader: Grader, flood: str) -> None:
    baseline = grader.probe("def class_counts(labels):\n    return 'quiet'\n")["grader_max_rss_kib"]
    report = grader.probe(FLOODS[flood])
    assert report["grader_max_rss_kib"] <= 2 * baseline, (flood, baseline, report)


DAEMON = """
import os, time
def class_counts(labels):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:  # waits for the next student's notebook, to replace it
                for folder in ("/tmp", "/home/student", "/data", "/grader"):
                    try:
                        for name in os.listdir(folder):
                            open(os.path.join(folder, name), "w").write("{}")
                    except OSError:
                        pass
                time.sleep(0.1)
        os._exit(0)
    return np.bincount(np.asarray(labels), minlength=10)
"""


def test_the_next_student_is_graded_as_if_alone(grader: Grader) -> None:
    from autograder.grade.samples import build_submission

    classroom = grader.home / "classroom"
    for student, code in (("a-leaves-a-daemon", DAEMON), ("b-honest", None)):
        folder = classroom / student
        folder.mkdir(parents=True, exist_ok=True)
        if code is None:
            shutil.copyfile(SOLUTIONS_DIR / EXPLORATION, folder / EXPLORATION)
        else:
            build_submission(EXPLORATION, student, {"class_counts": code}, folder).replace(
                folder / EXPLORATION
            )
    for path in [classroom, *classroom.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o644)
    output = grader.home / "class-graded"
    completed = grader.run(
        "-m",
        "autograder",
        "grade",
        str(classroom),
        "--notebook",
        EXPLORATION,
        "--workers",
        "1",
        "--output",
        str(output),
        "--force",
        "--no-progress",
    )
    assert completed.returncode == 0, completed.stderr
    grades = {
        row.split(",")[0]: row.split(",")[1]
        for row in (output / "grades.csv").read_text().splitlines()[1:]
    }
    assert grades == {"a-leaves-a-daemon": "2.0", "b-honest": "2.0"}
    assert (SOLUTIONS_DIR / EXPLORATION).read_bytes() == (
        classroom / "b-honest" / EXPLORATION
    ).read_bytes()
    assert leftover_processes("autograder.sandbox.host") == []
