"""A tiny sweep (small layers, two epochs, PyTorch on a few thousand images) for fast trials."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TINY_SWEEP = {
    "name": "tiny",
    "method": "bayes",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"value": "adam"},
        "learning_rate": {"distribution": "log_uniform_values", "min": 0.001, "max": 0.01},
        "batch_size": {"values": [64, 128]},
        "epochs": {"value": 2},
        "dense_1": {"min": 16, "max": 32},
        "dense_2": {"min": 16, "max": 32},
        "dense_3": {"min": 16, "max": 32},
        "dense_4": {"min": 8, "max": 16},
    },
}
TRAIN_EXAMPLES = 2000


@pytest.fixture
def tiny_sweep_file(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY_SWEEP, sort_keys=False))
    return path
