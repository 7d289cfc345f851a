"""Judge a student's model by what it computes: rebuild it from its weights, compare outputs.

The host commits to a model's parameters first; then the driver sends fresh
challenge images and the host returns the model's outputs. Here, in the trusted
process, the parameters are assembled into the MLP the contract describes
(784 → dense_1..dense_4 → 10, found by shape, either orientation) and run with
the grader's own NumPy code under each allowed reading (hidden activation,
output head, input scaling). The model passes when one reading reproduces its
outputs: ``nn.ReLU``, ``F.relu`` and ``clamp(min=0)`` are the same, a layer
named ReLU that computes tanh is not, and returned weights that are not the
ones that ran do not match. A mismatch is explained by the closest wrong reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.measure.maths import ACTIVATIONS, Network, relative_error

OUTPUT_TOLERANCE = 2e-3
INPUTS, CLASSES = 784, 10


@dataclass
class Reading:
    """One way of reading the parameters, and how far its outputs are from the model's."""

    network: Network
    error: float


@dataclass
class Identification:
    """What the model computes, as far as the grader can tell."""

    matched: bool
    widths: list[int] | None = None
    network: Network | None = None
    error: float = float("inf")
    problems: list[dict[str, Any]] = field(default_factory=list)
    extra_parameters: int = 0
    bias: bool = True
    output_kind: str | None = None  # what the outputs look like, whatever the layers are

    def describe(self) -> dict[str, Any]:
        network = self.network
        return {
            "matched": self.matched,
            "widths": self.widths,
            "activation": network.activation if network else None,
            "head": network.head if network else None,
            "input_scale": network.input_scale if network else None,
            "error": self.error if np.isfinite(self.error) else None,
            "problems": self.problems,
            "extra_parameters": self.extra_parameters,
            "bias": self.bias,
            "output_kind": self.output_kind,
        }


def output_kind(outputs: np.ndarray) -> str:
    """``softmax``, ``log_softmax`` or ``logits``, judged from the output values alone."""
    values = np.asarray(outputs, dtype=np.float64)
    if values.min() >= -1e-6 and np.allclose(values.sum(axis=1), 1.0, atol=1e-4):
        return "softmax"
    if values.max() <= 1e-6 and np.allclose(np.exp(values).sum(axis=1), 1.0, atol=1e-4):
        return "log_softmax"
    return "logits"


def _orient(array: np.ndarray, inputs: int, outputs: int) -> np.ndarray | None:
    """``array`` as an (inputs, outputs) matrix, whichever way it was stored."""
    if array.ndim != 2:
        return None
    if array.shape == (inputs, outputs):
        return array
    if array.shape == (outputs, inputs):
        return array.T
    return None


def chain_widths(parameters: Sequence[np.ndarray]) -> list[int] | None:
    """The layer widths the 2-D parameters form from 784 inputs to 10 outputs, in their order."""
    widths, current = [INPUTS], INPUTS
    for array in parameters:
        if array.ndim != 2 or current not in array.shape:
            continue
        current = array.shape[1] if array.shape[0] == current else array.shape[0]
        widths.append(current)
        if current == CLASSES:
            return widths
    return None


def assemble(
    parameters: Sequence[np.ndarray], widths: Sequence[int]
) -> tuple[list[np.ndarray], list[np.ndarray | None], int] | None:
    """Weights (inputs, outputs) and biases of an MLP of ``widths``; None if absent.

    Returns ``(weights, biases, leftover parameter count)``.
    """
    remaining = list(parameters)
    weights: list[np.ndarray] = []
    biases: list[np.ndarray | None] = []
    for inputs, outputs in zip(widths, widths[1:], strict=False):
        found = next(
            (
                index
                for index, array in enumerate(remaining)
                if _orient(array, inputs, outputs) is not None
            ),
            None,
        )
        if found is None:
            return None
        weights.append(_orient(remaining.pop(found), inputs, outputs).astype(np.float64))
        bias = next(
            (index for index, array in enumerate(remaining) if array.shape == (outputs,)), None
        )
        biases.append(None if bias is None else remaining.pop(bias).astype(np.float64))
    return weights, biases, int(sum(array.size for array in remaining))


def readings(
    weights: list[np.ndarray],
    biases: list[np.ndarray | None],
    images: np.ndarray,
    outputs: np.ndarray,
    *,
    input_scales: Sequence[float],
    heads: Sequence[str],
    activations: Sequence[str] = tuple(ACTIVATIONS),
) -> list[Reading]:
    """Every (scale, activation, head) reading, best first."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return _readings(weights, biases, images, outputs, input_scales, heads, activations)


def _readings(weights, biases, images, outputs, input_scales, heads, activations) -> list[Reading]:
    found = []
    for scale in input_scales:
        for activation in activations:
            base = Network(weights, biases, activation, "logits", scale)
            hidden = base.forward(images)
            for head in heads:
                network = Network(weights, biases, activation, head, scale)
                predicted = hidden if head == "logits" else network.forward(images)
                found.append(Reading(network, relative_error(outputs, predicted)))
    return sorted(found, key=lambda reading: reading.error)


def identify(
    parameters: Sequence[np.ndarray],
    images: np.ndarray,
    outputs: np.ndarray,
    *,
    expected_widths: Sequence[int] | None,
    input_scales: Sequence[float],
    allowed_heads: Sequence[str],
    diagnostic_heads: Sequence[str] = ("relu",),
) -> Identification:
    """Identify the MLP behind ``outputs`` (the model's answer for ``images``).

    ``matched`` holds when a reading with ReLU hidden layers, one of
    ``allowed_heads`` and the first of ``input_scales`` reproduces the outputs,
    with the widths the config asked for and no parameters beyond the MLP's.
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape != (len(images), CLASSES):
        return Identification(
            False, problems=[{"code": "output_shape", "shape": list(outputs.shape)}]
        )
    kind = output_kind(outputs) if np.all(np.isfinite(outputs)) else None
    widths = list(expected_widths) if expected_widths else None
    assembled = assemble(parameters, widths) if widths else None
    problems: list[dict[str, Any]] = []
    if assembled is None:
        actual = chain_widths(parameters)
        if actual is None:
            return Identification(False, problems=[{"code": "no_chain"}], output_kind=kind)
        if widths:
            problems.append(
                {"code": "widths", "found": actual[1:-1], "expected": list(widths[1:-1])}
            )
        widths = actual
        assembled = assemble(parameters, widths)
        if assembled is None:
            return Identification(
                False, widths[1:-1], problems=[{"code": "no_chain"}], output_kind=kind
            )
    weights, biases, leftover = assembled
    if len(weights) != 5:
        problems.append({"code": "depth", "hidden": len(weights) - 1})
    if any(bias is None for bias in biases):
        problems.append({"code": "no_bias"})
    if leftover:
        problems.append({"code": "extra_parameters", "count": leftover})
    ranked = readings(
        weights,
        biases,
        images,
        outputs,
        input_scales=input_scales[:1],
        heads=allowed_heads,
        activations=("relu",),
    )
    if ranked[0].error > OUTPUT_TOLERANCE:  # only a wrong model pays for the diagnosis
        ranked = readings(
            weights,
            biases,
            images,
            outputs,
            input_scales=input_scales,
            heads=[*allowed_heads, *diagnostic_heads],
        )
    best = ranked[0]
    if best.error > OUTPUT_TOLERANCE:
        problems.append({"code": "unexplained_outputs"})
    else:
        if best.network.activation != "relu":
            problems.append({"code": "activation", "found": best.network.activation})
        if best.network.head not in allowed_heads:
            problems.append({"code": "head", "found": best.network.head})
        if best.network.input_scale != input_scales[0]:
            problems.append({"code": "input_scale", "found": best.network.input_scale})
    return Identification(
        matched=not problems,
        widths=widths[1:-1],
        network=best.network if best.error <= OUTPUT_TOLERANCE else None,
        error=best.error,
        problems=problems,
        extra_parameters=leftover,
        bias=all(bias is not None for bias in biases),
        output_kind=kind,
    )
