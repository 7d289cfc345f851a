"""Probes behind the notebooks' quick checks: observe what a student's function does.

The visible checks in the notebooks must catch the usual mistakes in seconds and say
where to look, without showing a reference answer. Most of those mistakes do not
change a shape or raise an error (a softmax fed to a loss that expects logits, a
missing ``zero_grad``, an ``evaluate`` that tracks gradients), so the checks watch
the student's code run instead: which pixel scale the Dense layers receive, what
the compiled loss computes on known outputs, which mode and gradient setting the
forward passes ran in, what gradients each optimizer step saw. The notebook cell
asserts on these observations with its own message; this module only measures.

Neither TensorFlow nor PyTorch is imported at module import (one framework per
process): each probe imports the framework of the model it is given.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PROBABILITY_TOLERANCE = 1e-3
"""How far a row may be from summing to 1 and still count as probabilities."""


def output_kind(outputs: Any) -> str:
    """Say what a batch of classifier outputs is: 'probabilities', 'log-probabilities' or 'logits'.

    Rows of probabilities are non-negative and sum to 1; rows of log-probabilities
    are non-positive and their exponentials sum to 1; anything else is logits. This
    is exact where a sign test (``outputs.min() < 0``) is a guess: fresh logits can
    all be positive, and log-probabilities are never positive.
    """
    values = np.asarray(_to_numpy(outputs), dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"Expected outputs of shape (batch, classes), got {values.shape}.")
    if values.min() >= 0 and np.allclose(values.sum(axis=1), 1, atol=PROBABILITY_TOLERANCE):
        return "probabilities"
    if values.max() <= 0 and np.allclose(np.exp(values).sum(axis=1), 1, atol=PROBABILITY_TOLERANCE):
        return "log-probabilities"
    return "logits"


def as_probabilities(outputs: Any) -> np.ndarray:
    """Class probabilities from a model's outputs, whichever of the three kinds they are."""
    values = np.asarray(_to_numpy(outputs), dtype=np.float64)
    kind = output_kind(values)
    if kind == "probabilities":
        return values
    if kind == "log-probabilities":
        return np.exp(values)
    shifted = np.exp(values - values.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _to_numpy(values: Any) -> np.ndarray:
    """NumPy copy of a NumPy array, a Keras/TF tensor or a (detached) PyTorch tensor."""
    if hasattr(values, "detach"):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def example_outputs(
    kind: str, count: int = 64, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, float]:
    """Confident made-up outputs of ``kind`` with integer labels, and their cross-entropy.

    Returns ``(outputs, labels, cross_entropy)`` where ``cross_entropy`` is the mean
    of -log p(true class): what every correct output/loss pairing computes. The
    outputs are confident on purpose: near-uniform outputs (a fresh model's) give
    about ln 10 under most wrong pairings too, so they cannot tell them apart.
    """
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(count, 10)).astype(np.float32)
    labels = rng.integers(0, 10, size=count)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cross_entropy = float(-log_probabilities[np.arange(count), labels].mean())
    outputs = {
        "logits": logits,
        "log-probabilities": log_probabilities,
        "probabilities": np.exp(log_probabilities),
    }[kind].astype(np.float32)
    return outputs, labels, cross_entropy


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Hide what the block prints (a check's training progress), keeping its errors."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# ---------------------------------------------------------------------------------------
# Keras


def keras_kernel_shapes(model: Any) -> list[tuple[int, ...]]:
    """The shapes of the model's trainable weight matrices, from the input onwards.

    Works for any Keras style (Sequential, functional, a Model subclass), because it
    reads the weights rather than the layer classes. A subclass tracks its layers in
    the order it created them, so the matrices are chained by size from the 784
    inputs; shapes that do not chain are listed after, as tracked.
    """
    shapes = [tuple(int(size) for size in weight.shape) for weight in _keras_matrices(model)]
    chained, remaining, width = [], list(shapes), 28 * 28
    while any(shape[0] == width for shape in remaining):
        shape = next(shape for shape in remaining if shape[0] == width)
        remaining.remove(shape)
        chained.append(shape)
        width = shape[1]
    return chained + remaining


def _keras_matrices(model: Any) -> list[Any]:
    return [weight for weight in model.trainable_weights if len(weight.shape) == 2]


def keras_pixel_scale(model: Any, images: np.ndarray) -> float:
    """How many times larger than [0, 1] the pixels are when they reach the Dense layers.

    About 1 when the model scales its uint8 input to [0, 1], about 255 when it feeds
    the raw pixels on. The probe sets every weight of ``model`` (a throw-away copy
    built for the check) to a known value: each hidden unit then equals the mean of
    the previous layer, so every hidden unit carries the mean pixel the first Dense
    layer received, and output class ``j`` scores ``0.01 * j`` times that mean.
    Comparing the measured mean with the images' own mean scaled to [0, 1] gives
    the factor, whether the output is a softmax or logits.
    """
    matrices = _keras_matrices(model)
    if not matrices:
        raise ValueError("The model has no Dense weights to probe.")
    output_matrix = [weight for weight in matrices if int(weight.shape[1]) == 10][-1:] or matrices[
        -1:
    ]
    for weight in model.trainable_weights:
        shape = tuple(int(size) for size in weight.shape)
        if len(shape) == 2 and weight is output_matrix[0]:
            # The output layer: class j scores 0.01 * j * (mean of the last hidden layer).
            value = np.tile(0.01 * np.arange(shape[1]) / shape[0], (shape[0], 1))
        elif len(shape) == 2:
            value = np.full(shape, 1.0 / shape[0])
        else:
            value = np.zeros(shape)
        weight.assign(value.astype(np.float32))
    outputs = np.asarray(_to_numpy(model(images)), dtype=np.float64)
    if output_kind(outputs) == "probabilities":
        outputs = np.log(np.clip(outputs, 1e-300, None))
    steps = (outputs[:, -1] - outputs[:, 0]) / (0.01 * (outputs.shape[1] - 1))
    expected = np.asarray(images, dtype=np.float64).reshape(len(images), -1).mean(axis=1) / 255
    return float(np.median(steps / expected))


def keras_loss_on(model: Any, kind: str) -> tuple[float, float]:
    """``(compiled loss, cross-entropy)`` of a compiled model on made-up outputs of ``kind``.

    A loss that matches the model's output (``kind``) returns the cross-entropy; a
    loss that reads probabilities as logits, or logits as probabilities, does not.
    """
    outputs, labels, cross_entropy = example_outputs(kind)
    loss = model.compute_loss(y=labels, y_pred=outputs)
    return float(_to_numpy(loss)), cross_entropy


@contextlib.contextmanager
def watching_keras_fit(model: Any) -> Iterator[list[dict[str, Any]]]:
    """Record the arguments of every ``model.fit`` call made inside the block.

    The recorded ``x`` tells whether the images reached ``fit`` as the uint8 pixels
    the model scales itself, or already scaled a second time.
    """
    calls: list[dict[str, Any]] = []
    original = model.fit

    def recording_fit(x=None, y=None, *args: Any, **kwargs: Any) -> Any:
        calls.append({"x": x, "y": y, **kwargs})
        return original(x, y, *args, **kwargs)

    model.fit = recording_fit
    try:
        yield calls
    finally:
        del model.fit


# ---------------------------------------------------------------------------------------
# PyTorch


@dataclass
class ForwardCalls:
    """The mode and gradient setting of every forward pass of a model."""

    training: list[bool] = field(default_factory=list)
    grad_enabled: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.training)


@contextlib.contextmanager
def watching_forward(model: Any) -> Iterator[ForwardCalls]:
    """Record, for each ``model(...)`` call inside the block, ``model.training`` and
    whether autograd was recording (``torch.is_grad_enabled()``; False under
    ``torch.no_grad()`` and ``torch.inference_mode()``)."""
    import torch

    calls = ForwardCalls()

    def record(module: Any, inputs: Any) -> None:
        calls.training.append(bool(module.training))
        calls.grad_enabled.append(torch.is_grad_enabled())

    handle = model.register_forward_pre_hook(record)
    try:
        yield calls
    finally:
        handle.remove()


def linear_input_minima(model: Any, images: Any) -> list[float]:
    """The smallest input value each ``nn.Linear`` of ``model`` receives, in call order.

    After the first Linear every input should be a ReLU's output, so never negative:
    a negative minimum means a hidden layer has no ReLU after it. Works for any style
    (``nn.Sequential``, a module with ``F.relu`` in its ``forward``), because it
    watches the Linear layers rather than looking for ReLU modules.
    """
    import torch
    from torch import nn

    minima: list[float] = []

    def record(module: Any, inputs: Any) -> None:
        minima.append(float(inputs[0].min()))

    handles = [
        module.register_forward_pre_hook(record)
        for module in model.modules()
        if isinstance(module, nn.Linear)
    ]
    try:
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    return minima


def recording_optimizer(parameters: Any) -> Any:
    """An SGD optimizer with learning rate 0 that keeps a copy of the gradients at each step.

    With a learning rate of 0 the weights never move, so every batch of identical
    data has the same gradient: the gradients recorded at successive steps are
    equal when they are zeroed between batches, and grow (1x, 2x, 3x) when the new
    gradients are added to the old ones.
    """
    import torch

    class RecordingSGD(torch.optim.SGD):
        """SGD(lr=0) that appends a copy of every parameter's gradient to ``.seen``."""

        def __init__(self, parameters: Any) -> None:
            super().__init__(parameters, lr=0.0)
            self.seen: list[list[Any]] = []

        def step(self, closure: Any = None) -> Any:
            self.seen.append(
                [
                    None if parameter.grad is None else parameter.grad.detach().clone()
                    for group in self.param_groups
                    for parameter in group["params"]
                ]
            )
            return super().step(closure)

    return RecordingSGD(parameters)


def gradient_growth(seen: Sequence[Sequence[Any]]) -> list[float]:
    """For each recorded step, the gradients' norm relative to the first step's.

    ``[1.0, 1.0, 1.0]`` for three identical batches with gradients zeroed in
    between; ``[1.0, 2.0, 3.0]`` when they accumulate.
    """
    import torch

    def norm(gradients: Sequence[Any]) -> float:
        present = [gradient for gradient in gradients if gradient is not None]
        if not present:
            return 0.0
        return float(torch.sqrt(sum((gradient.double() ** 2).sum() for gradient in present)))

    norms = [norm(gradients) for gradients in seen]
    if not norms or norms[0] == 0:
        return norms
    return [value / norms[0] for value in norms]


def mean_loss_and_accuracy(
    model: Any, images: Any, labels: Any, loss_fn: Any
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on one batch holding all of ``images``, computed
    in evaluation mode without gradients: what a per-example mean over any batching
    of the same examples must equal."""
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            outputs = model(images)
            loss = float(loss_fn(outputs, labels))
            accuracy = float((outputs.argmax(dim=1) == labels).double().mean())
    finally:
        model.train(was_training)
    return loss, accuracy


class EpochLog:
    """A stand-in for ``mlpkit.RunTracker`` that only remembers which epochs were logged."""

    def __init__(self) -> None:
        self.epochs: list[int] = []

    def log_epoch(self, epoch: int, **metrics: Any) -> None:
        """Record ``epoch`` (the metrics are not needed by the check)."""
        self.epochs.append(int(epoch))
