"""The grader's own NumPy maths: activations, output heads, losses, a rebuilt MLP.

Everything here runs in the trusted grader process, in float64, from arrays the
student host returned and inputs the driver chose. It is the reference every
answer is compared with, so it imports no training framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

BATCH_ROWS = 4096


def log_softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.asarray(values, dtype=np.float64)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(values: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(values))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of logits: what every correct loss pairing computes."""
    return float(-np.mean(log_softmax(logits)[np.arange(len(labels)), labels]))


def cross_entropy_gradient(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d(mean cross-entropy) / d(logits)."""
    gradient = softmax(logits)
    gradient[np.arange(len(labels)), labels] -= 1.0
    return gradient / len(labels)


def keras_probability_loss(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Keras' sparse categorical cross-entropy with ``from_logits=False`` on ``outputs``.

    Keras clips to [1e-7, 1 - 1e-7] and renormalises each row; the same formula
    says what Keras makes of logits mistaken for probabilities.
    """
    clipped = np.clip(np.asarray(outputs, dtype=np.float64), 1e-7, 1 - 1e-7)
    normalised = clipped / clipped.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(normalised[np.arange(len(labels)), labels])))


def _gelu(values: np.ndarray) -> np.ndarray:
    return 0.5 * values * (1.0 + erf(values / np.sqrt(2.0)))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda values: np.maximum(values, 0.0),
    "leaky_relu": lambda values: np.where(values >= 0, values, 0.01 * values),
    "leaky_relu_0.2": lambda values: np.where(values >= 0, values, 0.2 * values),
    "relu6": lambda values: np.clip(values, 0.0, 6.0),
    "tanh": np.tanh,
    "sigmoid": lambda values: 1.0 / (1.0 + np.exp(-values)),
    "elu": lambda values: np.where(values > 0, values, np.expm1(np.minimum(values, 0.0))),
    "gelu": _gelu,
    "silu": lambda values: values / (1.0 + np.exp(-values)),
    "linear": lambda values: values,
}
HEADS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "logits": lambda values: values,
    "log_softmax": log_softmax,
    "softmax": softmax,
    "relu": lambda values: np.maximum(values, 0.0),
}


@dataclass
class Network:
    """An MLP rebuilt from returned weights: the grader's forward pass of a student model.

    ``weights[k]`` has shape (inputs, outputs); ``biases[k]`` may be ``None``.
    Inputs are flattened and multiplied by ``input_scale`` (Keras models scale
    uint8 pixels themselves; PyTorch models receive [0, 1] floats).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray | None]
    activation: str = "relu"
    head: str = "logits"
    input_scale: float = 1.0

    @property
    def widths(self) -> list[int]:
        return [int(weight.shape[1]) for weight in self.weights[:-1]]

    def forward(self, images: np.ndarray) -> np.ndarray:
        act, head = ACTIVATIONS[self.activation], HEADS[self.head]
        outputs = []
        for start in range(0, len(images), BATCH_ROWS):
            values = np.asarray(images[start : start + BATCH_ROWS], dtype=np.float64)
            values = values.reshape(len(values), -1) * self.input_scale
            for index, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
                values = values @ weight
                if bias is not None:
                    values = values + bias
                if index < len(self.weights) - 1:
                    values = act(values)
            outputs.append(head(values))
        return np.concatenate(outputs) if outputs else np.zeros((0, 10))

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.forward(images).argmax(axis=1)


def relative_error(observed: np.ndarray, expected: np.ndarray) -> float:
    """Largest absolute difference, relative to the expected values' scale (inf: shapes differ)."""
    observed, expected = np.asarray(observed, np.float64), np.asarray(expected, np.float64)
    if observed.shape != expected.shape:
        return float("inf")
    if not np.all(np.isfinite(observed)):
        return float("inf")
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-3)
    return float(np.max(np.abs(observed - expected))) / scale if expected.size else 0.0
