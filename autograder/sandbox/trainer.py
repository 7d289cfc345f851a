"""Start the grader's own trainer process (trusted code, one framework), with a result cache.

The accuracy check trains an identified spec with ``autograder.measure.train_<framework>``
in a fresh interpreter (so the grader never imports a framework, and never two).
No student code runs there: its input is a spec of plain values the grader
measured. Results are cached by the spec, the trainer's code and the framework
versions, in a folder only the grader writes (never visible to a sandbox), so a
class of correct submissions trains the same spec once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from autograder.sandbox.process import CappedReader
from autograder.sandbox.protocol import Checked, read_message

MEASURE_DIR = Path(__file__).resolve().parents[1] / "measure"
PACKAGES = {"pytorch": ("torch",), "tensorflow": ("tensorflow-cpu", "tensorflow", "keras")}


class TrainerError(RuntimeError):
    """The grader's own trainer failed (a grader problem, reported as such)."""


def _versions(framework: str) -> list[str]:
    found = []
    for package in PACKAGES[framework]:
        try:
            found.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def cache_key(framework: str, spec: dict[str, Any], device: str) -> str:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    digest.update((MEASURE_DIR / f"train_{framework}.py").read_bytes())
    digest.update(" ".join([device, *_versions(framework)]).encode())
    return digest.hexdigest()[:32]


def _load(path: Path) -> tuple[list[np.ndarray], dict[str, Any]] | None:
    try:
        with np.load(path, allow_pickle=False) as archive:
            weights = [archive[f"w{index}"] for index in range(len(archive.files))]
        info = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError, KeyError):
        return None
    return weights, {**info, "cached": True}


def _save(path: Path, weights: list[np.ndarray], info: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix, write in (
        (".npz", lambda target: np.savez(target, **{f"w{i}": w for i, w in enumerate(weights)})),
        (".json", lambda target: target.write_text(json.dumps(info))),
    ):
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=suffix)
        os.close(handle)
        write(Path(temporary))
        os.replace(temporary, path.with_suffix(suffix))


class TrainerRun:
    """One trainer process, started now and waited for later (it may run beside a host)."""

    def __init__(
        self,
        framework: str,
        spec: dict[str, Any],
        *,
        data_dir: Path,
        device: str,
        torch_threads: int = 1,
        timeout_seconds: float = 1800,
    ) -> None:
        self.framework, self.spec = framework, spec
        self.started = time.monotonic()
        self.deadline = self.started + timeout_seconds
        # Raw pipe ends, each closed exactly once: a second close of a number the
        # kernel has since handed to another thread's file would close that file.
        self.read_end, write_end = os.pipe()
        errors_read, errors_write = os.pipe()
        environment = {
            **{name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ},
            "PYTHONPATH": str(MEASURE_DIR.parents[1]),
            "FASHION_MNIST_DIR": str(data_dir),
            "MLPKIT_TORCH_THREADS": str(torch_threads),
            "OPENBLAS_NUM_THREADS": str(torch_threads),
            "TF_NUM_INTRAOP_THREADS": str(torch_threads),
            "TF_NUM_INTEROP_THREADS": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "WANDB_MODE": "disabled",
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")
            if device == "gpu"
            else "",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                f"autograder.measure.train_{framework}",
                "--output-fd",
                str(write_end),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors_write,
            pass_fds=[write_end],
            env=environment,
        )
        os.close(write_end)
        os.close(errors_write)
        self.errors = CappedReader(errors_read, 64 * 1024)  # the reader closes its end
        self.errors.start()
        self.process.stdin.write(json.dumps({**spec, "threads": torch_threads}).encode())
        self.process.stdin.close()

    def result(self) -> tuple[list[np.ndarray], dict[str, Any]]:
        """Wait for the weights (raises :class:`TrainerError` when the trainer fails)."""
        try:
            message = read_message(self.read_end, deadline=self.deadline)
        except (TimeoutError, EOFError, ValueError) as error:
            self.cancel()
            raise TrainerError(
                f"the grader's {self.framework} trainer failed ({error}): "
                f"{self.errors.text()[-1500:]}"
            ) from None
        finally:
            self._close_read_end()
        self.process.wait(timeout=60)
        self.errors.join(timeout=5)
        info = Checked(message.header.get("info", {}), where="trainer").value
        return message.arrays, {**info, "seconds": round(time.monotonic() - self.started, 1)}

    def cancel(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        self._close_read_end()

    def _close_read_end(self) -> None:
        if self.read_end is not None:
            read_end, self.read_end = self.read_end, None
            with contextlib.suppress(OSError):
                os.close(read_end)


def cache_path(
    framework: str, spec: dict[str, Any], *, device: str, cache_dir: Path | None
) -> Path | None:
    if cache_dir is None:
        return None
    return Path(cache_dir) / "trainer" / f"{framework}-{cache_key(framework, spec, device)}.npz"


def cached(framework: str, spec: dict[str, Any], *, device: str, cache_dir: Path | None):
    """The cached weights and info of ``spec``, or None."""
    path = cache_path(framework, spec, device=device, cache_dir=cache_dir)
    return _load(path) if path is not None and path.is_file() else None


def train(
    framework: str,
    spec: dict[str, Any],
    *,
    data_dir: Path,
    device: str,
    cache_dir: Path | None,
    torch_threads: int = 1,
    running: TrainerRun | None = None,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Weights of ``spec``: from the cache, from ``running`` (started earlier), or trained now."""
    found = cached(framework, spec, device=device, cache_dir=cache_dir)
    if found is not None:
        if running is not None:
            running.cancel()
        return found
    if running is None or running.spec != spec:
        if running is not None:
            running.cancel()
        running = TrainerRun(
            framework, spec, data_dir=data_dir, device=device, torch_threads=torch_threads
        )
    weights, info = running.result()
    info = {**info, "cached": False}
    path = cache_path(framework, spec, device=device, cache_dir=cache_dir)
    if path is not None:
        _save(path, weights, info)
    return weights, info
