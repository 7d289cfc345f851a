"""The worker process's side of :mod:`mlpkit.tuning.worker` (``python -m mlpkit.tuning.serve``).

It imports one framework, reads the data and loads the notebook's functions once
(:func:`mlpkit.tuning.trainers.build_trainer`), then trains the configs the
driver sends, one JSON line each way per epoch (protocol: ``worker.py``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from mlpkit.tuning.worker import receive_message, send_message


def serve(*, framework: str, notebooks_dir: Path, train_examples: int | None, seed: int) -> None:
    """The worker's main loop (runs in the child process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break the protocol
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mlpkit.tuning.trainers import build_trainer

    started = time.perf_counter()
    try:
        trainer = build_trainer(
            framework, notebooks_dir=notebooks_dir, train_examples=train_examples, seed=seed
        )
    except BaseException as error:  # noqa: BLE001 - reported to the driver, which raises it
        send_message(protocol, ["error", _describe(error)])
        return
    send_message(protocol, ["ready", {"startup_seconds": time.perf_counter() - started}])
    while True:
        try:
            message = receive_message(sys.stdin)
        except EOFError:  # the driver went away
            return
        if message[0] == "stop":
            return
        config = message[1]

        def report(epoch: int, metrics: dict[str, float]) -> bool:
            send_message(protocol, ["epoch", epoch, metrics])
            return bool(receive_message(sys.stdin))

        try:
            epochs = trainer.train(config, report)
        except BaseException as error:  # noqa: BLE001
            send_message(protocol, ["error", _describe(error)])
            continue
        send_message(protocol, ["done", epochs])


def _describe(error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return "".join(lines[-6:]).strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Training worker of mlpkit's tuning engine.")
    parser.add_argument("framework", choices=["tensorflow", "pytorch"])
    parser.add_argument("notebooks_dir", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--train-examples", type=int, default=None)
    arguments = parser.parse_args(argv)
    serve(
        framework=arguments.framework,
        notebooks_dir=arguments.notebooks_dir,
        train_examples=arguments.train_examples,
        seed=arguments.seed,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
