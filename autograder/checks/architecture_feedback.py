"""Feedback sentences for what ``measure/architecture.py`` found wrong with a model.

Shared by the PyTorch and TensorFlow checks: each problem code becomes one
sentence that says what the model computes differently from the contract, in
that framework's words, never how to write it.
"""

from __future__ import annotations

from typing import Any

WORDS = {
    "pytorch": {
        "layer": "Linear",
        "units": "out_features",
        "scale_hint": (
            "The model rescales its inputs itself; in PyTorch the images already arrive in [0, 1]."
        ),
    },
    "tensorflow": {
        "layer": "Dense",
        "units": "units",
        "scale_hint": (
            "A white image (all pixels 255) reaches the first Dense layer unscaled: create_model "
            "must scale the uint8 pixels to [0, 1] inside the model, because the test images and "
            "predict() feed it raw pictures."
        ),
    },
}


def problem_sentence(problem: dict[str, Any], framework: str) -> str:
    words = WORDS[framework]
    layer = words["layer"]
    code = problem.get("code")
    if code == "output_shape":
        return (
            f"create_model's model turns the grader's images into outputs of shape "
            f"{tuple(problem.get('shape', ()))}; each image needs 10 outputs (one per class)."
        )
    if code == "no_chain":
        return (
            f"create_model's weights do not form a chain of {layer} layers from 784 inputs to 10 "
            "outputs. Check the flattening, the first layer's input size and the output layer."
        )
    if code == "widths":
        return (
            f"create_model's hidden {layer} layers have {problem['found']} units, where "
            f"config['dense_1'] .. config['dense_4'] ask for {problem['expected']}."
        )
    if code == "depth":
        return (
            f"create_model's model has {problem['hidden']} hidden {layer} layers; the MLP has four."
        )
    if code == "no_bias":
        return f"Some {layer} layers of create_model's model have no bias."
    if code == "extra_parameters":
        return (
            f"create_model's model holds {problem['count']:,} parameters beyond the four hidden "
            f"{layer} layers and the output layer. Look for extra layers or parameters."
        )
    if code == "unexplained_outputs":
        return (
            "create_model's model computes something its weights do not explain as the MLP of the "
            f"task (Flatten, four {layer} + ReLU layers, a {layer}(10) output): on the grader's "
            "images its outputs differ. Check the order of the layers and the activations."
        )
    if code == "activation":
        return f"The hidden layers of create_model's model compute {problem['found']}, not ReLU."
    if code == "head":
        return (
            f"The output layer of create_model's model is followed by {problem['found']}; it must "
            "output logits or (log-)probabilities over the 10 classes."
        )
    if code == "input_scale":
        return words["scale_hint"]
    return f"create_model's model differs from the task's MLP ({code})."
