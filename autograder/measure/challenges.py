"""Challenge inputs the driver draws fresh for every grading run, after the host has committed.

Widths, hyperparameters, images, labels and batch layouts come from a generator
seeded from the operating system's entropy (``fresh_generator``) unless a run is
replayed with its recorded seed, so no fixed value in the grader's code can be
memorised by a submission.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np

WIDTH_RANGES = {
    "dense_1": (256, 512),
    "dense_2": (128, 256),
    "dense_3": (128, 256),
    "dense_4": (32, 128),
}
HYPERPARAMETER_RANGES = {
    "momentum": (0.15, 0.85),
    "beta_1": (0.85, 0.97),
    "beta_2": (0.97, 0.995),
    "rho": (0.8, 0.97),
}


def fresh_seed() -> int:
    return secrets.randbits(63)


def random_widths(generator: np.random.Generator) -> dict[str, int]:
    """Four hidden widths inside the original ranges, all different (so shapes identify layers)."""
    while True:
        widths = {
            key: int(generator.integers(low, high + 1)) for key, (low, high) in WIDTH_RANGES.items()
        }
        values = list(widths.values())
        if len(set(values)) == 4 and 10 not in values and 784 not in values:
            return widths


def random_hyperparameters(generator: np.random.Generator, optimizer: str) -> dict[str, Any]:
    """A config's optimizer part with every value random and away from the frameworks' defaults."""
    values: dict[str, Any] = {
        "optimizer": optimizer,
        "learning_rate": float(10 ** generator.uniform(-3.7, -1.3)),
    }
    for key, (low, high) in HYPERPARAMETER_RANGES.items():
        values[key] = float(generator.uniform(low, high))
    return values


def pixel_images(generator: np.random.Generator, training: np.ndarray, count: int) -> np.ndarray:
    """uint8 images (count, 28, 28): half real training images, half random noise."""
    real = training[generator.choice(len(training), size=count - count // 2, replace=False)]
    noise = generator.integers(0, 256, size=(count // 2, 28, 28), dtype=np.uint8)
    images = np.concatenate([real, noise])
    return images[generator.permutation(count)]


def unit_images(generator: np.random.Generator, training: np.ndarray, count: int) -> np.ndarray:
    """The same as float32 in [0, 1] (what a PyTorch model receives)."""
    return (pixel_images(generator, training, count) / 255.0).astype(np.float32)


def logits(generator: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Confident random logits (count, 10) and labels; near-uniform outputs would hide mistakes."""
    values = generator.normal(0.0, 3.0, size=(count, 10)).astype(np.float32)
    return values, generator.integers(0, 10, size=count).astype(np.int64)


def glorot(generator: np.random.Generator, inputs: int, outputs: int) -> np.ndarray:
    """A Glorot-uniform weight matrix in PyTorch's (outputs, inputs) layout, float32."""
    limit = np.sqrt(6.0 / (inputs + outputs))
    return generator.uniform(-limit, limit, size=(outputs, inputs)).astype(np.float32)
