"""Start-up overhead of one sandboxed student host, before (no bubblewrap) and after.

Each start launches a fresh student host, which imports the host code, answers one
``ping`` on the channel and ends completely. Medians of ``--repeats`` starts, the
variants interleaved so that load on the shared cores hits them alike:

- ``weak`` (before, no root): a plain subprocess, the old runner's only isolation without root;
- ``unshare`` (before, root): the old runner's wrapper, ``unshare --mount --net``;
- ``bwrap-root`` (after, root): bubblewrap, then ``setpriv`` to a fresh uid;
- ``bwrap-userns`` (after, ordinary user): the grader run as ``nobody``, user namespaces.

    python benchmarks/sandbox_overhead.py --repeats 15
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from autograder.sandbox.driver import HostSettings, StudentHost  # noqa: E402
from autograder.sandbox.isolation import Isolation, SandboxLimits, detect_isolation  # noqa: E402
from autograder.sandbox.protocol import read_message, write_message  # noqa: E402
from autograder.sandbox.staging import staged_code_dir  # noqa: E402

# (The old runner also switched to nobody with setpriv; here the interpreter lives under
# /root, which nobody cannot read, so the namespaces alone are timed: a lower bound.)
OLD_WRAPPER = ["unshare", "--mount", "--net", "--"]


def host_start(isolation: Isolation, data_dir: Path) -> float:
    """Seconds to start a host through the grader's driver, ping it, and end it."""
    started = time.perf_counter()
    settings = HostSettings(isolation=isolation, limits=SandboxLimits(), data_dir=data_dir)
    with StudentHost("exploration", settings) as host:
        host.start()
        host.request("ping", {}, seconds=60)
    return time.perf_counter() - started


def old_unshare_start(data_dir: Path) -> float:
    """Seconds for the old root wrapper to start the same host and get its answer."""
    started = time.perf_counter()
    request, answer = os.pipe(), os.pipe()
    command = [*OLD_WRAPPER, sys.executable, "-m", "autograder.sandbox.host", "exploration"]
    command += ["--request-fd", str(request[0]), "--answer-fd", str(answer[1])]
    environment = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(staged_code_dir(data_dir)),
        "HOME": "/tmp",
    }
    process = subprocess.Popen(command, pass_fds=[request[0], answer[1]], env=environment)
    os.close(request[0])
    os.close(answer[1])
    write_message(request[1], {"id": 1, "op": "ping", "args": {}})
    read_message(answer[0], deadline=time.monotonic() + 60)
    os.close(request[1])
    os.close(answer[0])
    process.wait()
    return time.perf_counter() - started


def measure(mode: str, repeats: int) -> list[float]:
    """Inner mode: ``repeats`` starts of one variant in this process."""
    data_dir = Path(os.environ["FASHION_MNIST_DIR"])
    staged_code_dir(data_dir)  # staged once per grader process: not part of a start
    if mode == "unshare":
        return [old_unshare_start(data_dir) for _ in range(repeats)]
    isolation = Isolation("weak") if mode == "weak" else detect_isolation()
    return [host_start(isolation, data_dir) for _ in range(repeats)]


def ordinary_user_command() -> list[str]:
    """How to run this script as ``nobody``: its own venv and a readable copy of the code."""
    from tests.autograder.sandbox.users import new_home, ordinary_grader

    grader = ordinary_grader(new_home())
    shutil.copytree(REPOSITORY / "benchmarks", grader.code / "benchmarks")
    environment = [f"{key}={value}" for key, value in grader.environment().items()]
    return [
        *grader.prefix,
        "env",
        *environment,
        str(grader.python),
        str(grader.code / "benchmarks" / "sandbox_overhead.py"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--measure", choices=["weak", "unshare", "bwrap"], help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.measure:
        print(json.dumps(measure(arguments.measure, arguments.repeats)))
        return 0
    if os.geteuid() != 0:
        parser.error("run as root: the old wrapper and the root mode need it")
    nobody = ordinary_user_command()
    commands = {
        "weak": [sys.executable, __file__, "--measure", "weak"],
        "unshare": [sys.executable, __file__, "--measure", "unshare"],
        "bwrap-root": [sys.executable, __file__, "--measure", "bwrap"],
        "bwrap-userns": [*nobody, "--measure", "bwrap"],
    }
    times: dict[str, list[float]] = {variant: [] for variant in commands}
    for _ in range(arguments.repeats):
        for variant, command in commands.items():
            completed = subprocess.run(
                [*command, "--repeats", "1"],
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
            times[variant] += json.loads(completed.stdout.strip().splitlines()[-1])
    base = statistics.median(times["weak"])
    print(
        f"one host start + ping + end, median of {arguments.repeats} "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    for variant, values in times.items():
        median = statistics.median(values)
        print(
            f"  {variant:13s} {median * 1000:7.0f} ms   "
            f"over a plain subprocess: {1000 * (median - base):+6.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
