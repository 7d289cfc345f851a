"""Measurements of the PyTorch notebook's building blocks: split, model, loss, optimizer.

Each one poses the host a challenge drawn fresh for this run and recomputes
the expected answer here (``architecture``, ``maths``, ``optimizers``). The
records they return are plain facts for the checks in ``autograder/checks``;
``session.shared`` keeps what later parts build on (the model's output head,
the identified network, loss and optimizer for the accuracy retrain).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.measure import challenges
from autograder.measure.architecture import identify
from autograder.measure.maths import HEADS, cross_entropy, cross_entropy_gradient, relative_error
from autograder.measure.optimizers import identify_optimizer
from autograder.measure.session import Session, StudentRaised
from autograder.measure.values import describe, number_value
from autograder.sandbox.protocol import ProtocolError

MODEL_PROBES = 2
LOSS_TOLERANCE = 1e-4
OPTIMIZER_SIZES = (7, 5, 3)
OPTIMIZER_STEPS = 3


def base_config(session: Session) -> dict[str, Any]:
    return dict(session.context.best_config("adam"))


def split_data(session: Session) -> dict[str, Any]:
    """Sizes, overlap, randomness and seeding of ``split_data``, from the ids it returns."""
    generator = session.generator
    examples = 60_000
    small = int(generator.integers(600, 2400))
    fraction = float(generator.choice([0.1, 0.15, 0.25, 0.3]))
    seeds = [int(value) for value in generator.choice(10_000, size=2, replace=False)]
    calls = [(examples, 0.2, seeds[0]), (examples, 0.2, seeds[0]), (examples, 0.2, seeds[1])]
    calls.append((small, fraction, seeds[0]))
    parts = []
    for count, share, seed in calls:
        answer = session.ask("split_data", {"examples": count, "val_fraction": share, "seed": seed})
        if answer.value.has("returned"):
            return {"returned": describe(answer.value.raw("returned"))}
        if answer.value.has("unreadable"):
            return {"unreadable": answer.value.text("unreadable")}
        train = answer.value.array("train", dtype="int64", shape=(None,))
        val = answer.value.array("val", dtype="int64", shape=(None,))
        parts.append((train, val))
    (train, val), (_, repeat), (_, other), (small_train, small_val) = parts
    gaps = np.unique(np.diff(np.sort(val)))
    return {
        "sizes": [len(train), len(val)],
        "overlap": int(len(np.intersect1d(train, val))),
        "distinct": int(len(np.union1d(train, val))),
        "in_range": bool(
            np.all((train >= 0) & (train < examples)) and np.all((val >= 0) & (val < examples))
        ),
        "same_seed_same_split": bool(np.array_equal(repeat, val)),
        "other_seed_other_split": not np.array_equal(np.sort(other), np.sort(val)),
        "val_is_last_part": bool(
            np.array_equal(np.sort(val), np.arange(examples - len(val), examples))
        ),
        "val_is_first_part": bool(np.array_equal(np.sort(val), np.arange(len(val)))),
        "val_is_evenly_spaced": len(gaps) <= 1,
        "small": {
            "examples": small,
            "val_fraction": fraction,
            "sizes": [len(small_train), len(small_val)],
            "expected_val": round(small * fraction),
        },
    }


def _probe_model(
    session: Session, config: dict[str, Any], handle: str, seed: int
) -> dict[str, Any]:
    answer = session.ask("create_model", {"config": config, "seed": seed, "handle": handle})
    if answer.value.has("returned"):
        return {"returned": describe(answer.value.raw("returned"))}
    parameters = list(answer.arrays)
    images = challenges.unit_images(session.generator, session.context.training_images(), 64)
    outputs = session.ask("forward", {"handle": handle}, [images])
    if outputs.value.has("returned"):
        return {"returned_outputs": describe(outputs.value.raw("returned"))}
    values = outputs.value.array("outputs", dtype=("float32", "float64"))
    widths = [784, *(config[key] for key in ("dense_1", "dense_2", "dense_3", "dense_4")), 10]
    found = identify(
        parameters,
        images,
        values,
        expected_widths=widths,
        input_scales=(1.0, 1 / 255),
        allowed_heads=("logits", "log_softmax", "softmax"),
    )
    return {
        "config_widths": widths[1:-1],
        "output_shape": list(values.shape),
        "parameters": int(sum(array.size for array in parameters)),
        **found.describe(),
        "_network": found.network,
    }


def create_model(session: Session) -> dict[str, Any]:
    """Two random configs for the check, and the accuracy config for the retrain."""
    records = {}
    configs = [
        {**base_config(session), **challenges.random_widths(session.generator)}
        for _ in range(MODEL_PROBES)
    ]
    for index, config in enumerate(configs):
        records[f"probe{index}"] = _probe_model(session, config, f"model{index}", seed=index)
    accuracy = _probe_model(session, base_config(session), "accuracy", seed=0)
    session.shared["network"] = accuracy.pop("_network", None)
    session.shared["network_record"] = accuracy
    for record in records.values():
        network = record.pop("_network", None)
        if network is not None and "head" not in session.shared:
            session.shared["head"] = network.head
    if "head" not in session.shared:  # unidentified layers: judge the loss on the output's form
        kinds = {record.get("output_kind") for record in records.values()} - {None}
        if len(kinds) == 1:
            session.shared["head"] = kinds.pop()
    return {"probes": records, "accuracy_model": accuracy}


LOSS_KINDS = {
    "cross_entropy": lambda outputs, labels: cross_entropy(outputs, labels),
    "nll": lambda outputs, labels: float(-np.mean(outputs[np.arange(len(labels)), labels])),
    "log_nll": lambda outputs, labels: float(
        -np.mean(np.log(np.clip(outputs[np.arange(len(labels)), labels], 1e-300, None)))
    ),
}


def loss_kind(outputs: np.ndarray, labels: np.ndarray, value: float) -> str | None:
    """Which formula the loss computed on ``outputs`` (means and sums over the batch)."""
    outputs = outputs.astype(np.float64)
    for name, formula in LOSS_KINDS.items():
        expected = formula(outputs, labels)
        if np.isfinite(expected) and abs(value - expected) <= LOSS_TOLERANCE * max(
            1.0, abs(expected)
        ):
            return name
        if np.isfinite(expected) and abs(value - expected * len(labels)) <= LOSS_TOLERANCE * max(
            1.0, abs(expected * len(labels))
        ):
            return f"{name}_sum"
    return None


def loss_fn(session: Session) -> dict[str, Any]:
    """The loss on challenge outputs in the form the model emits, with its gradient."""
    head = session.shared.get("head")
    heads = [head] if head else ["logits", "log_softmax"]
    cases = []
    for form in heads:
        for count in (
            int(session.generator.integers(12, 40)),
            int(session.generator.integers(41, 90)),
        ):
            logits, labels = challenges.logits(session.generator, count)
            outputs = HEADS[form](logits).astype(np.float32)
            answer = session.ask("loss", {}, [outputs, labels])
            value = number_value(
                answer.value.raw("value"), answer.arrays, kinds=("tensor", "float")
            )
            case: dict[str, Any] = {
                "form": form,
                "returned": describe(answer.value.raw("value")),
                "value": value,
                "expected": cross_entropy(logits, labels),
                "kind": None if value is None else loss_kind(outputs, labels, value),
                "gradient": None,
            }
            if answer.value.has("gradient"):
                gradient = answer.value.array(
                    "gradient", dtype=("float32", "float64"), shape=outputs.shape
                )
                wanted = [cross_entropy_gradient(logits, labels)]
                if form == "log_softmax":
                    onehot = np.zeros_like(logits, dtype=np.float64)
                    onehot[np.arange(count), labels] = 1.0
                    wanted.append(-onehot / count)
                if form == "softmax":
                    onehot = np.zeros_like(logits, dtype=np.float64)
                    onehot[np.arange(count), labels] = -1.0 / (
                        count * HEADS["softmax"](logits)[np.arange(count), labels]
                    )
                    wanted = [onehot]
                case["gradient"] = min(relative_error(gradient, want) for want in wanted)
            cases.append(case)
    kinds = {case["kind"] for case in cases}
    session.shared["loss_kind"] = kinds.pop() if len(kinds) == 1 else None
    return {"head": head, "cases": cases}


def _optimizer_case(session: Session, config: dict[str, Any]) -> dict[str, Any]:
    generator = session.generator
    inputs, hidden, outputs = OPTIMIZER_SIZES
    parameters = [
        challenges.glorot(generator, inputs, hidden),
        generator.normal(0, 0.1, hidden).astype(np.float32),
        challenges.glorot(generator, hidden, outputs),
        generator.normal(0, 0.1, outputs).astype(np.float32),
    ]
    gradients = [
        [generator.normal(0, 0.5, array.shape).astype(np.float32) for array in parameters]
        for _ in range(OPTIMIZER_STEPS)
    ]
    answer = session.ask(
        "optimizer_steps",
        {"config": config, "sizes": list(OPTIMIZER_SIZES), "parameters": len(parameters)},
        [*parameters, *(array for step in gradients for array in step)],
    )
    if answer.value.has("returned"):
        return {"returned": describe(answer.value.raw("returned"))}
    snapshots = answer.arrays
    if len(snapshots) != OPTIMIZER_STEPS * len(parameters):
        raise ProtocolError("the optimizer answer holds the wrong number of arrays")
    observed = [snapshots[step * 4 : (step + 1) * 4] for step in range(OPTIMIZER_STEPS)]
    reading, error = identify_optimizer("pytorch", config, parameters, gradients, observed)
    unchanged = [bool(np.array_equal(observed[-1][index], parameters[index])) for index in range(4)]
    return {
        "config": {
            key: config[key]
            for key in ("optimizer", "learning_rate", "momentum", "beta_1", "beta_2", "rho")
        },
        "class": answer.value.text("class", limit=100) if answer.value.has("class") else None,
        "reading": reading.to_dict() if reading else None,
        "defaults": list(reading.defaults) if reading else None,
        "matched": bool(reading and reading.kind == config["optimizer"] and not reading.defaults),
        "error": error if np.isfinite(error) else None,
        "unchanged_parameters": unchanged,
        "_reading": reading,
    }


def make_optimizer(session: Session) -> dict[str, Any]:
    records = {}
    for name in ("sgd", "adam", "rmsprop"):
        config = {
            **base_config(session),
            **challenges.random_hyperparameters(session.generator, name),
        }
        try:
            records[name] = _optimizer_case(session, config)
        except StudentRaised as raised:
            records[name] = {"raised": raised.record}
        records[name].pop("_reading", None)
    accuracy = _optimizer_case(session, base_config(session))
    session.shared["optimizer"] = accuracy.pop("_reading")
    return {"optimizers": records, "accuracy_config": accuracy}
