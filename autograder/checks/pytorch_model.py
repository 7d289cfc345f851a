"""NumPy side of the PyTorch checks: the forward pass from a layer manifest, and the maths.

Test accuracy is computed here, in the trusted grader process, from the weights the
sandbox returned: the student's code never sees the test set and nothing it defines
runs here. The manifest lists the layers in the order the forward pass called them
(recorded with hooks in the sandbox); a layer this module cannot reproduce is a
``ValueError``, which the accuracy check reports instead of guessing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BATCH_SIZE = 2048


def log_softmax(values: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64, stable for large logits."""
    shifted = np.asarray(values, dtype=np.float64)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(values: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(values))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of logits: the loss every correct pairing computes."""
    return float(-np.mean(log_softmax(logits)[np.arange(len(labels)), labels]))


def output_kind(outputs: np.ndarray) -> str:
    """``probabilities``, ``log-probabilities`` or ``logits``, judged from the values alone."""
    values = np.asarray(outputs, dtype=np.float64)
    if values.min() >= -1e-6 and np.allclose(values.sum(axis=1), 1.0, atol=1e-4):
        return "probabilities"
    if values.max() <= 1e-6 and np.allclose(np.exp(values).sum(axis=1), 1.0, atol=1e-4):
        return "log-probabilities"
    return "logits"


def _check_dim(layer: dict[str, Any]) -> None:
    if layer.get("dim") not in (1, -1):
        raise ValueError(
            f"{layer['type']} over dim={layer.get('dim')!r}: only the class dimension (1) "
            "of a (batch, classes) output can be reproduced."
        )


def _linear(layer: dict[str, Any], weights: dict[str, np.ndarray], values: np.ndarray):
    name = layer.get("parameters")
    weight = weights.get(f"{name}.weight")
    if weight is None:
        raise ValueError(f"The weights of Linear layer {name!r} were not returned.")
    expected = (layer.get("out_features"), layer.get("in_features"))
    if weight.shape != expected or weight.shape[1] != values.shape[1]:
        raise ValueError(
            f"Linear layer {name!r} has weights of shape {weight.shape}, its manifest says "
            f"{expected}, and it receives {values.shape[1]} inputs."
        )
    result = values @ weight.T.astype(np.float64)
    if layer.get("bias", True):
        bias = weights.get(f"{name}.bias")
        if bias is None or bias.shape != (weight.shape[0],):
            raise ValueError(f"The bias of Linear layer {name!r} is missing or mis-shaped.")
        result += bias
    return result


def _apply(layer: dict[str, Any], weights: dict[str, np.ndarray], values: np.ndarray):
    kind = layer.get("type")
    if kind == "Linear":
        return _linear(layer, weights, values)
    if kind in ("Flatten", "Identity", "Dropout"):  # inputs are flat; dropout is off at inference
        return values.reshape(len(values), -1)
    if kind == "ReLU":
        return np.maximum(values, 0.0)
    if kind == "LeakyReLU":
        return np.where(values >= 0, values, values * float(layer.get("negative_slope", 0.01)))
    if kind == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-values))
    if kind == "Tanh":
        return np.tanh(values)
    if kind in ("Softmax", "LogSoftmax"):
        _check_dim(layer)
        return log_softmax(values) if kind == "LogSoftmax" else softmax(values)
    raise ValueError(f"A {kind!r} layer cannot be reproduced outside PyTorch.")


def forward(
    manifest: dict[str, Any], weights: dict[str, np.ndarray], images_uint8: np.ndarray
) -> np.ndarray:
    """The model's outputs (N, 10) for uint8 images (N, 28, 28): pixels / 255, then each layer."""
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    if not layers:
        raise ValueError("The manifest lists no layers: the trained model was not recorded.")
    images = np.asarray(images_uint8)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"Expected images of shape (N, 28, 28), got {images.shape}.")
    outputs = []
    for start in range(0, len(images), BATCH_SIZE):
        values = images[start : start + BATCH_SIZE].reshape(-1, 28 * 28).astype(np.float64) / 255.0
        for layer in layers:
            values = _apply(layer, weights, values)
        outputs.append(values)
    result = np.concatenate(outputs)
    if result.shape != (len(images), 10):
        raise ValueError(
            f"The reproduced model gives outputs of shape {result.shape}, not (N, 10)."
        )
    return result


def predict(
    manifest: dict[str, Any], weights: dict[str, np.ndarray], images_uint8: np.ndarray
) -> np.ndarray:
    """Predicted labels (N,) of uint8 images: the arg-max of :func:`forward`."""
    return forward(manifest, weights, images_uint8).argmax(axis=1)
