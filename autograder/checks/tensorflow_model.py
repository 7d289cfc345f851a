"""NumPy forward pass of a student's Keras MLP, from the probe's layer manifest and weights.

The trusted grader computes test accuracy itself: the sandbox returns only the
layer manifest (``observations["accuracy"]["layers"]``) and the Dense weights
(``weights.npz``), never predictions on the test set, which it does not have.
Only layers whose inference behaviour is fully described by their recorded
config are reproduced; anything else raises ``ValueError`` so that the check
fails with a clear message instead of scoring a model it cannot reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _elu(values: np.ndarray) -> np.ndarray:
    return np.where(values > 0, values, np.expm1(np.minimum(values, 0)))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda values: values,
    "relu": lambda values: np.maximum(values, 0),
    "sigmoid": lambda values: 1 / (1 + np.exp(-values)),
    "tanh": np.tanh,
    "softmax": _softmax,
    "elu": _elu,
    "selu": lambda values: (
        1.0507009873554805
        * np.where(values > 0, values, 1.6732632423543772 * np.expm1(np.minimum(values, 0)))
    ),
    "softplus": lambda values: np.logaddexp(values, 0),
    "silu": lambda values: values / (1 + np.exp(-values)),
    "swish": lambda values: values / (1 + np.exp(-values)),
}
IDENTITY_LAYERS = ("InputLayer", "Dropout")


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The NumPy version of a Keras activation, by its recorded name."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"activation {name!r} cannot be reproduced by the grader; use a built-in "
            f"Keras activation ({', '.join(sorted(ACTIVATIONS))})."
        )
    return ACTIVATIONS[name]


def _dense(entry: dict, weights: dict[str, np.ndarray], values: np.ndarray) -> np.ndarray:
    prefix = entry.get("weights")
    kernel = weights.get(f"{prefix}.kernel")
    if kernel is None:
        raise ValueError(f"no kernel was returned for Dense layer {entry.get('name')!r}.")
    if values.ndim != 2 or values.shape[1] != kernel.shape[0]:
        raise ValueError(
            f"Dense layer {entry.get('name')!r} expects {kernel.shape[0]} inputs but receives "
            f"an array of shape {values.shape}."
        )
    values = values @ kernel
    if entry.get("use_bias", True):
        bias = weights.get(f"{prefix}.bias")
        if bias is None:
            raise ValueError(f"no bias was returned for Dense layer {entry.get('name')!r}.")
        values = values + bias
    return activation(str(entry.get("activation", "linear")))(values)


def _relu_layer(entry: dict, values: np.ndarray) -> np.ndarray:
    if entry.get("max_value") is not None or float(entry.get("threshold", 0.0)) != 0.0:
        raise ValueError("a ReLU layer with max_value or threshold cannot be reproduced.")
    slope = float(entry.get("negative_slope", 0.0))
    return np.where(values > 0, values, slope * values)


def forward(
    manifest: Sequence[dict], weights: dict[str, np.ndarray], images: np.ndarray
) -> np.ndarray:
    """The model's outputs (float64) for ``images``, layer by layer as recorded."""
    values = np.asarray(images, dtype=np.float64)
    for entry in manifest:
        kind = entry.get("class")
        if kind in IDENTITY_LAYERS:
            continue
        if kind == "Rescaling":
            scale = np.asarray(entry["scale"], dtype=np.float64)
            offset = np.asarray(entry["offset"], dtype=np.float64)
            values = values * scale + offset
        elif kind == "Flatten":
            values = values.reshape(len(values), -1)
        elif kind == "Reshape":
            values = values.reshape(len(values), *entry["target_shape"])
        elif kind == "Dense":
            values = _dense(entry, weights, values)
        elif kind == "Activation":
            values = activation(str(entry.get("activation")))(values)
        elif kind == "ReLU":
            values = _relu_layer(entry, values)
        elif kind == "Softmax":
            if entry.get("axis", -1) not in (-1, 1, [-1], [1]):
                raise ValueError("a Softmax layer over an axis other than the last one.")
            values = _softmax(values)
        else:
            raise ValueError(
                f"layer {entry.get('name')!r} of type {kind} cannot be reproduced by the grader; "
                "build the model from Keras layers (Input, Rescaling, Flatten, Dense)."
            )
    if values.ndim != 2 or values.shape[1] != 10:
        raise ValueError(f"the model's outputs have shape {values.shape}, not (images, 10).")
    return values


def predict(
    manifest: Sequence[dict], weights: dict[str, np.ndarray], images_uint8: np.ndarray
) -> np.ndarray:
    """Predicted labels for uint8 images of shape (n, 28, 28), in batches to bound memory.

    A model without a scaling layer is fed raw pixels, as the student's own
    ``train_model`` fed it; the data-handling check reports the missing scaling.
    """
    if not isinstance(manifest, Sequence) or not manifest:
        raise ValueError("no layer manifest was recorded for the trained model.")
    if len(images_uint8) == 0:
        return np.zeros(0, dtype=np.int64)
    labels = [
        forward(manifest, weights, images_uint8[start : start + 2000]).argmax(axis=1)
        for start in range(0, len(images_uint8), 2000)
    ]
    return np.concatenate(labels)


def _layer_activation_name(entry: dict) -> str:
    """The activation an Activation/ReLU/Softmax layer applies, named like Keras does."""
    kind = entry.get("class")
    if kind == "Softmax":
        return "softmax"
    if kind == "ReLU":
        plain = entry.get("max_value") is None and float(entry.get("negative_slope", 0.0)) == 0.0
        return "relu" if plain and float(entry.get("threshold", 0.0)) == 0.0 else "modified relu"
    return str(entry.get("activation"))


def dense_blocks(manifest: Sequence[dict]) -> list[tuple[int, str]]:
    """``(units, effective activation)`` per Dense layer.

    A linear Dense followed by an Activation/ReLU/Softmax layer counts as a Dense
    with that activation, so both ways of writing a layer are judged alike.
    """
    blocks: list[tuple[int, str]] = []
    for entry in manifest:
        kind = entry.get("class")
        if kind == "Dense":
            blocks.append((int(entry["units"]), str(entry.get("activation", "linear"))))
        elif blocks and blocks[-1][1] == "linear" and kind in ("Activation", "ReLU", "Softmax"):
            blocks[-1] = (blocks[-1][0], _layer_activation_name(entry))
    return blocks
