"""A model is judged by what it computes: the rebuild reproduces it, or names how it differs."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.measure.architecture import identify
from autograder.measure.maths import ACTIVATIONS, HEADS

WIDTHS = [784, 300, 200, 150, 50, 10]


def network(generator, widths=WIDTHS, *, orientation="torch", bias=True):
    params = []
    for inputs, outputs in zip(widths, widths[1:], strict=False):
        weight = generator.normal(0, 1 / np.sqrt(inputs), (outputs, inputs)).astype(np.float32)
        params.append(weight if orientation == "torch" else weight.T.copy())
        if bias:
            params.append(generator.normal(0, 0.1, outputs).astype(np.float32))
    return params


def outputs(params, images, *, activation="relu", head="logits", scale=1.0, orientation="torch"):
    matrices = [p for p in params if p.ndim == 2]
    vectors = [p for p in params if p.ndim == 1]
    values = images.reshape(len(images), -1).astype(np.float64) * scale
    for index, matrix in enumerate(matrices):
        values = values @ (matrix.T if orientation == "torch" else matrix)
        if vectors:
            values = values + vectors[index]
        if index < len(matrices) - 1:
            values = ACTIVATIONS[activation](values)
    return HEADS[head](values).astype(np.float32)


@pytest.fixture
def setting():
    generator = np.random.default_rng(0)
    return generator, generator.random((64, 28, 28)).astype(np.float32)


def judge(params, images, observed, **options):
    return identify(
        params,
        images,
        observed,
        expected_widths=WIDTHS,
        input_scales=(1.0, 1 / 255),
        allowed_heads=("logits", "log_softmax", "softmax"),
        **options,
    )


@pytest.mark.parametrize("head", ["logits", "log_softmax", "softmax"])
@pytest.mark.parametrize("orientation", ["torch", "keras"])
def test_the_task_mlp_matches_in_any_layout_and_head(setting, head, orientation) -> None:
    generator, images = setting
    params = network(generator, orientation=orientation)
    found = judge(params, images, outputs(params, images, head=head, orientation=orientation))
    assert found.matched and found.network.head == head, found.problems


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "sigmoid", "gelu"])
def test_another_activation_is_named(setting, activation) -> None:
    generator, images = setting
    params = network(generator)
    found = judge(params, images, outputs(params, images, activation=activation))
    assert not found.matched
    assert found.problems == [{"code": "activation", "found": activation}]


def test_weights_that_did_not_run_are_not_believed(setting) -> None:
    generator, images = setting
    shown, ran = network(generator), network(generator)
    found = judge(shown, images, outputs(ran, images))
    assert not found.matched and found.network is None
    assert {"code": "unexplained_outputs"} in found.problems


def test_widths_bias_and_extra_parameters_are_reported(setting) -> None:
    generator, images = setting
    other = [784, 256, 128, 128, 64, 10]
    params = network(generator, other)
    found = judge(params, images, outputs(params, images))
    assert found.problems[0] == {"code": "widths", "found": other[1:-1], "expected": WIDTHS[1:-1]}
    plain = network(generator, bias=False)
    assert {"code": "no_bias"} in judge(plain, images, outputs(plain, images)).problems
    extra = [*network(generator), np.zeros((3, 3), np.float32)]
    found = judge(extra, images, outputs(extra[:-1], images))
    assert {"code": "extra_parameters", "count": 9} in found.problems


def test_scaling_inside_the_model_is_read_off(setting) -> None:
    generator, images = setting
    pixels = (images * 255).astype(np.uint8)
    params = network(generator)
    found = identify(
        params,
        pixels,
        outputs(params, pixels, scale=1 / 255),
        expected_widths=WIDTHS,
        input_scales=(1 / 255, 1.0),
        allowed_heads=("logits", "softmax"),
    )
    assert found.matched
    found = identify(
        params,
        pixels,
        outputs(params, pixels),
        expected_widths=WIDTHS,
        input_scales=(1 / 255, 1.0),
        allowed_heads=("logits", "softmax"),
    )
    assert found.problems == [{"code": "input_scale", "found": 1.0}]
