"""Which device each grading worker gets: one worker per visible GPU, else CPU workers.

The parent never imports a framework to look for GPUs (that would pin memory
on every GPU and slow the start): it reads ``CUDA_VISIBLE_DEVICES`` or the
list ``nvidia-smi -L`` prints. Each worker is then pinned to one GPU with
``CUDA_VISIBLE_DEVICES=<id>`` and told its device class, so the hidden checks
use the GPU thresholds of ``thresholds.yaml`` there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

_GPU_LINE = re.compile(r"^GPU (\d+):", re.MULTILINE)


def parse_nvidia_smi(listing: str) -> list[str]:
    """GPU indices from ``nvidia-smi -L`` output (``GPU 0: NVIDIA H100 (UUID: ...)``)."""
    return _GPU_LINE.findall(listing)


def visible_gpus(
    environment: Mapping[str, str] | None = None, nvidia_smi_listing: str | None = None
) -> list[str]:
    """The GPU ids this machine lets the grader use, in order.

    ``AUTOGRADER_DEVICE_CLASS=cpu`` or an empty / ``-1`` ``CUDA_VISIBLE_DEVICES``
    means none; a set ``CUDA_VISIBLE_DEVICES`` is taken as it is (indices or
    UUIDs); otherwise ``nvidia-smi -L`` is asked, when it is installed.
    """
    environment = os.environ if environment is None else environment
    if environment.get("AUTOGRADER_DEVICE_CLASS") == "cpu":
        return []
    if "CUDA_VISIBLE_DEVICES" in environment:
        value = environment["CUDA_VISIBLE_DEVICES"].strip()
        if value in ("", "-1"):
            return []
        return [item.strip() for item in value.split(",") if item.strip()]
    if nvidia_smi_listing is None:
        if not shutil.which("nvidia-smi"):
            return []
        completed = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, check=False, timeout=30
        )
        nvidia_smi_listing = completed.stdout if completed.returncode == 0 else ""
    return parse_nvidia_smi(nvidia_smi_listing)


def worker_environments(gpus: Sequence[str], requested_workers: int | None) -> list[dict[str, str]]:
    """The environment of each grading worker: the pool has one worker per entry.

    With GPUs: one worker per GPU by default; more workers than GPUs share them
    round-robin, fewer use the first ones. Without: ``requested_workers`` CPU
    workers (1 by default), each hiding any GPU. PyTorch keeps its one thread
    per process (``MLPKIT_TORCH_THREADS``), as in the calibration.
    """
    if requested_workers is not None and requested_workers < 1:
        raise ValueError(f"--workers must be at least 1, got {requested_workers}.")
    if gpus:
        count = requested_workers or len(gpus)
        return [
            {"CUDA_VISIBLE_DEVICES": gpus[index % len(gpus)], "AUTOGRADER_DEVICE_CLASS": "gpu"}
            for index in range(count)
        ]
    return [
        {"CUDA_VISIBLE_DEVICES": "", "AUTOGRADER_DEVICE_CLASS": "cpu"}
        for _ in range(requested_workers or 1)
    ]
