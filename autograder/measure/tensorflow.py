"""Measurements of the TensorFlow notebook (02): model, compile, and the accuracy spec.

``create_model`` is judged by what the model computes on fresh uint8 images
(``architecture.identify``: scaling inside the model, four ReLU layers of the
config's widths, a softmax or logit output). ``compile_model`` is judged on
what it attached: the optimizer itself stepped on challenge gradients (never its
``get_config``), the loss on challenge outputs of the model's own form, and the
accuracy metric against predictions the grader computes. When create_model
fails, compile_model is judged on a correct model of the grader's, so one
broken function costs only its own cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.measure import challenges
from autograder.measure.architecture import identify
from autograder.measure.maths import HEADS, cross_entropy, keras_probability_loss
from autograder.measure.optimizers import identify_optimizer
from autograder.measure.session import Session, StudentRaised
from autograder.measure.values import describe, number_value
from autograder.sandbox.protocol import ProtocolError

DENSE_KEYS = ("dense_1", "dense_2", "dense_3", "dense_4")
LOSS_TOLERANCE = 1e-3
METRIC_TOLERANCE = 1e-4
OPTIMIZER_STEPS = 3


def base_config(session: Session) -> dict[str, Any]:
    return dict(session.context.best_config("adam"))


def _model(session: Session, config: dict[str, Any], handle: str, seed: int, count: int = 64):
    """Build the student's model, commit its weights, then answer fresh images; identify it."""
    answer = session.ask("create_model", {"config": config, "seed": seed, "handle": handle})
    if answer.value.has("returned"):
        return {"returned": describe(answer.value.raw("returned"))}, None, None
    weights = list(answer.arrays)
    images = challenges.pixel_images(session.generator, session.context.training_images(), count)
    outputs = session.ask("forward", {"handle": handle}, [images]).value.array(
        "outputs", dtype=("float32", "float64")
    )
    found = identify(
        weights,
        images,
        outputs,
        expected_widths=[784, *(config[key] for key in DENSE_KEYS), 10],
        input_scales=(1 / 255, 1.0),
        allowed_heads=("logits", "softmax"),
        diagnostic_heads=("log_softmax", "relu"),
    )
    record = {
        "config_widths": [config[key] for key in DENSE_KEYS],
        "output_shape": list(outputs.shape),
        "parameters": int(sum(array.size for array in weights)),
        **found.describe(),
    }
    return record, found.network, found.output_kind


def create_model(session: Session) -> dict[str, Any]:
    probes = {}
    for index in range(2):
        config = {**base_config(session), **challenges.random_widths(session.generator)}
        record, network, _ = _model(session, config, f"model{index}", seed=index)
        probes[f"probe{index}"] = record
        if network is not None and "head" not in session.shared:
            session.shared["head"] = network.head
    record, network, _ = _model(session, base_config(session), "accuracy", seed=0)
    session.shared["network"] = network
    return {"probes": probes, "accuracy_model": record}


def _compiled(session: Session, config: dict[str, Any], handle: str) -> tuple[str | None, str]:
    """A model compiled by compile_model: the student's if create_model works, else the grader's."""
    kind = None
    try:
        _, network, kind = _model(session, config, handle, seed=7, count=32)
        if network is None:
            raise StudentRaised({"type": "Unidentified", "message": "create_model's model"})
        head, source = network.head, "student"
    except StudentRaised:
        # The grader's own model, with the output the student's model gives (when it ran at
        # all): compile_model's loss must match that output.
        head = None if kind is None else ("softmax" if kind == "softmax" else "logits")
        source = "grader (create_model failed)"
        session.ask(
            "reference_model",
            {"config": config, "seed": 7, "head": head or "softmax", "handle": handle},
        )
    session.ask("compile", {"handle": handle, "config": config})
    return head, source


def _optimizer(session: Session, config: dict[str, Any], handle: str) -> dict[str, Any]:
    generator = session.generator
    parameters = [
        challenges.glorot(generator, 6, 5).T.copy(),
        generator.normal(0, 0.1, 5).astype(np.float32),
        challenges.glorot(generator, 5, 3).T.copy(),
        generator.normal(0, 0.1, 3).astype(np.float32),
    ]
    gradients = [
        [generator.normal(0, 0.5, array.shape).astype(np.float32) for array in parameters]
        for _ in range(OPTIMIZER_STEPS)
    ]
    answer = session.ask(
        "optimizer_steps",
        {"handle": handle, "parameters": len(parameters)},
        [*parameters, *(array for step in gradients for array in step)],
    )
    if len(answer.arrays) != OPTIMIZER_STEPS * len(parameters):
        raise ProtocolError("the optimizer answer holds the wrong number of arrays")
    observed = [answer.arrays[step * 4 : (step + 1) * 4] for step in range(OPTIMIZER_STEPS)]
    reading, error = identify_optimizer("tensorflow", config, parameters, gradients, observed)
    return {
        "config": {
            key: config[key]
            for key in ("optimizer", "learning_rate", "momentum", "beta_1", "beta_2", "rho")
        },
        "reading": reading.to_dict() if reading else None,
        "defaults": list(reading.defaults) if reading else None,
        "matched": bool(reading and reading.kind == config["optimizer"] and not reading.defaults),
        "error": error if np.isfinite(error) else None,
        "_reading": reading,
    }


def _loss(session: Session, handle: str, head: str | None) -> dict[str, Any]:
    """The compiled loss on outputs in the model's form (both forms when it is unknown)."""
    cases = []
    for form in [head] if head else ["softmax", "logits"]:
        for count in (
            int(session.generator.integers(12, 40)),
            int(session.generator.integers(41, 90)),
        ):
            logits, labels = challenges.logits(session.generator, count)
            outputs = HEADS[form](logits).astype(np.float32)
            answer = session.ask("loss", {"handle": handle}, [outputs, labels])
            value = number_value(answer.value.raw("value"), answer.arrays, kinds=("float",))
            kinds = {
                "from_logits": cross_entropy(outputs, labels),
                "probabilities": keras_probability_loss(outputs, labels),
            }
            kind = None
            if value is not None:
                kind = next(
                    (
                        name
                        for name, expected in kinds.items()
                        if abs(value - expected) <= LOSS_TOLERANCE * max(1.0, expected)
                    ),
                    None,
                )
            correct = "probabilities" if form == "softmax" else "from_logits"
            cases.append(
                {
                    "form": form,
                    "value": value,
                    "expected": kinds[correct],
                    "kind": kind,
                    "correct_kind": correct,
                }
            )
    return {"head": head, "cases": cases}


def _metric(session: Session, handle: str) -> dict[str, Any]:
    training = session.context.training_images()
    rows = session.generator.choice(len(training), size=96, replace=False)
    images = training[rows]
    labels = session.context.training_labels()[rows].astype(np.int64)
    outputs = session.ask("forward", {"handle": handle}, [images]).value.array(
        "outputs", dtype=("float32", "float64")
    )
    answer = session.ask("evaluate", {"handle": handle}, [images, labels])
    reported = answer.value.raw("metrics")
    accuracy = float(np.mean(np.asarray(outputs).argmax(axis=1) == labels))
    metrics = {}
    if isinstance(reported, dict) and reported.get("t") == "dict":
        for key, value in reported.get("v", []):
            number = number_value(value, answer.arrays, kinds=("float", "int"))
            if isinstance(key, str) and number is not None:
                metrics[key[:50]] = number
    matching = [
        key
        for key, value in metrics.items()
        if "acc" in key.lower() and abs(value - accuracy) <= METRIC_TOLERANCE
    ]
    return {"reported": metrics, "expected_accuracy": accuracy, "matching": matching}


def compile_model(session: Session) -> dict[str, Any]:
    """One model, compiled by compile_model for each optimizer: its steps, the loss, the metric."""
    widths = challenges.random_widths(session.generator)
    configs = {
        name: {
            **base_config(session),
            **widths,
            **challenges.random_hyperparameters(session.generator, name),
        }
        for name in ("sgd", "adam", "rmsprop")
    }
    head, source = _compiled(session, configs["sgd"], "compiled")
    optimizers: dict[str, Any] = {}
    for name, config in configs.items():
        try:
            if name != "sgd":
                session.ask("compile", {"handle": "compiled", "config": config})
            optimizers[name] = _optimizer(session, config, "compiled")
            optimizers[name].pop("_reading")
        except StudentRaised as raised:
            optimizers[name] = {"raised": raised.record}
    loss, metric = _loss(session, "compiled", head), _metric(session, "compiled")
    best = base_config(session)
    session.ask("compile", {"handle": "compiled", "config": best})
    accuracy = _optimizer(session, best, "compiled")
    session.shared["optimizer"] = accuracy.pop("_reading")
    kinds = {case["kind"] for case in loss["cases"] if case["form"] == (head or case["form"])}
    session.shared["loss_kind"] = kinds.pop() if len(kinds) == 1 and head else None
    return {
        "model": source,
        "optimizers": optimizers,
        "loss": loss,
        "metric": metric,
        "accuracy_config": {"optimizer": accuracy},
    }
