"""The grader's subprocess code closes each pipe end it owns exactly once.

Two students are graded on two threads of one grader process. A pipe end closed
twice closes, the second time, whatever file the kernel handed that number to in
the meantime: another thread's file. That once broke the hidden checks' output
redirect (``OSError: [Errno 9] Bad file descriptor``) while a trainer was failing
on the other thread.
"""

from __future__ import annotations

import gc
import os

import pytest

from autograder.sandbox.trainer import TrainerError, TrainerRun
from tests.conftest import DATA_DIR


def _still_open(files: list) -> list[int]:
    closed = []
    for stream in files:
        try:
            os.fstat(stream.fileno())
        except OSError:
            closed.append(stream.fileno())
    return closed


def test_a_failing_trainer_closes_only_its_own_descriptors(tmp_path) -> None:
    run = TrainerRun("pytorch", {"not": "a spec"}, data_dir=DATA_DIR, device="cpu")
    with pytest.raises(TrainerError, match="trainer failed"):
        run.result()
    run.errors.join(timeout=10)
    # The numbers the trainer's pipes had are free again: files opened now reuse them.
    files = [open(tmp_path / f"bystander-{index}", "w") for index in range(8)]  # noqa: SIM115
    try:
        run.cancel()  # a second ending must not close anything either
        del run
        gc.collect()
        assert _still_open(files) == [], "the trainer closed a descriptor it no longer owned"
    finally:
        for stream in files:
            stream.close()
