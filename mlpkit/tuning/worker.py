"""The training worker: a child process that holds one framework and the data.

Why a separate process: the study driver runs optuna, whose Bayesian sampler
(``GPSampler``) imports PyTorch, and TensorFlow must never share a process with
PyTorch (the kit's one-framework-per-process rule; the CPU builds crash
together). So the driver imports no training framework; a worker, started as
``python -m mlpkit.tuning.serve`` (a clean interpreter: no fork of the driver,
no re-import of the caller's script as ``spawn`` would do), imports one, reads
the data and loads the notebook's functions once, then trains trial after trial.
Per-trial overhead is one message per epoch.

Protocol, one JSON object per line. Driver to worker (stdin): ``["train",
config]`` or ``["stop"]``. Worker to driver (its original stdout; anything
printed by the framework or the notebook code goes to stderr instead):
``["ready", info]`` once, then per trial ``["epoch", epoch, metrics]``, each
answered by ``true`` (prune) or ``false``, and finally ``["done", epochs]`` or
``["error", text]``. The worker ignores SIGINT: Ctrl-C is the driver's to
handle, and the driver then stops the worker.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

STOP_SECONDS = 10.0


class WorkerError(RuntimeError):
    """The training code raised inside the worker; the message carries its traceback tail."""


def send_message(stream: IO[str], message: Any) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def receive_message(stream: IO[str]) -> Any:
    line = stream.readline()
    if not line:
        raise EOFError
    return json.loads(line)


class TrainingWorker:
    """The driver's handle on one worker process; use it as a context manager."""

    def __init__(
        self,
        *,
        framework: str,
        notebooks_dir: Path,
        train_examples: int | None,
        seed: int,
    ) -> None:
        self.framework = framework
        self.notebooks_dir = Path(notebooks_dir).resolve()
        self.train_examples = train_examples
        self.seed = seed
        self.process: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    def start(self) -> Self:
        """Start the process and wait until its framework, data and notebook are loaded."""
        command = [
            sys.executable,
            "-m",
            "mlpkit.tuning.serve",
            self.framework,
            str(self.notebooks_dir),
            "--seed",
            str(self.seed),
        ]
        if self.train_examples is not None:
            command += ["--train-examples", str(self.train_examples)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        try:
            kind, *payload = self._receive()
        except BaseException:  # Ctrl-C while it loads, or it died: never leave it behind
            self.close(immediately=True)
            raise
        if kind != "ready":
            self.close(immediately=True)
            raise WorkerError(f"The {self.framework} worker could not start:\n{payload[0]}")
        self.startup_seconds = float(payload[0]["startup_seconds"])
        return self

    def _receive(self) -> list:
        try:
            return receive_message(self.process.stdout)
        except EOFError:
            code = self.process.wait(STOP_SECONDS)
            raise WorkerError(
                f"The {self.framework} worker died (exit code {code}); see its messages above. "
                "It may have run out of memory."
            ) from None

    def train(
        self, config: dict[str, Any], on_epoch: Callable[[int, dict[str, float]], bool]
    ) -> int:
        """Train ``config`` in the worker; ``on_epoch`` answers "prune?" after each epoch."""
        if self.process is None:
            raise WorkerError("The worker is not running; use it inside a with block.")
        send_message(self.process.stdin, ["train", config])
        failure: Exception | None = None
        while True:
            kind, *payload = self._receive()
            if kind == "epoch":
                epoch, metrics = payload
                try:
                    stop = failure is not None or bool(on_epoch(epoch, metrics))
                except Exception as error:  # noqa: BLE001 - re-raised once the worker is idle
                    failure, stop = error, True
                send_message(self.process.stdin, stop)
            elif kind == "done":
                if failure is not None:
                    raise failure
                return int(payload[0])
            else:
                raise WorkerError(f"Training failed in the {self.framework} worker:\n{payload[0]}")

    def close(self, *, immediately: bool = False) -> None:
        """Ask the worker to stop; terminate it at once if ``immediately`` (Ctrl-C, an error)."""
        process, self.process = self.process, None
        if process is None:
            return
        if immediately:
            process.terminate()
        else:
            try:
                send_message(process.stdin, ["stop"])
            except (OSError, ValueError):
                process.terminate()
        try:
            process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            stream.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback_: TracebackType | None,
    ) -> None:
        self.close(immediately=exception is not None)
