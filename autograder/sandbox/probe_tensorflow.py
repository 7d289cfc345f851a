"""Probe of the TensorFlow notebook: run the student's functions, record what they do.

Runs inside the sandbox, one submission per process, with training data only. It
decides nothing: every part writes plain observations (layer manifests, optimizer
configs, loss values on fixed arrays, fit arguments, trained weights) that the
checks in ``autograder/checks/test_tensorflow.py`` judge in the trusted process.
Each part is isolated, so one broken function costs only the cells that need it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the log level, so TensorFlow starts quietly)

import mlpkit  # noqa: E402
from autograder.sandbox.probe_support import (  # noqa: E402
    StudentCodeError,
    describe_error,
    jsonable,
)
from mlpkit.notebook_code import load_cells  # noqa: E402

CELL_IDS = ["setup", "create_model", "compile_model", "train_model"]
ANSWER_FUNCTIONS = ("create_model", "compile_model", "train_model")
DENSE_KEYS = ("dense_1", "dense_2", "dense_3", "dense_4")

# Hidden-layer widths inside the original search ranges (256..512, 128..256,
# 128..256, 32..128), all different, so swapped or hard-coded widths show.
CREATE_PROBES = {
    "first": {"dense_1": 300, "dense_2": 200, "dense_3": 150, "dense_4": 50},
    "second": {"dense_1": 480, "dense_2": 130, "dense_3": 250, "dense_4": 100},
}
# Every hyperparameter differs from the Keras defaults, so an ignored one shows.
COMPILE_PROBES = {
    "sgd": {"optimizer": "sgd", "learning_rate": 0.0123, "momentum": 0.37},
    "adam": {"optimizer": "adam", "learning_rate": 0.00234, "beta_1": 0.81, "beta_2": 0.977},
    "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.00345, "rho": 0.83, "momentum": 0.29},
}
# 500 images at batch 20: 20 steps with a 20% split; no split, 10/15/25/30% and
# Keras's default batch of 32 all give other step counts.
TRAIN_IMAGES = 500
TRAIN_PROBE = {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 20, "epochs": 2}
TRAIN_PROBE.update(dense_1=64, dense_2=64, dense_3=64, dense_4=32)
FIDELITY_IMAGES = 256
FIT_ARGUMENTS = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split")


def probe_config(overrides: dict[str, Any]) -> dict[str, Any]:
    """A complete config (every key filled) built on the best Adam config."""
    return mlpkit.validate_config({**mlpkit.load_best_config("adam"), **overrides})


def load_student_functions(
    notebook: Path,
) -> tuple[dict[str, Callable], dict[str, BaseException], dict[str, Any]]:
    """Load the answer cells: ``(functions, load errors by function, record)``.

    If the cells fail to load together, each answer cell is loaded alone after
    setup, so a syntax error in one cell does not hide the other two.
    """
    failures: dict[str, BaseException] = {}
    try:
        module = load_cells(notebook, CELL_IDS, module_name="student_notebook")
        modules = dict.fromkeys(ANSWER_FUNCTIONS, module)
        record: dict[str, Any] = {"ok": True}
    except (Exception, SystemExit) as error:
        record = {**describe_error(error), "cells": {}}
        modules = {}
        for name in ANSWER_FUNCTIONS:
            try:
                modules[name] = load_cells(notebook, ["setup", name], module_name=f"student_{name}")
                record["cells"][name] = "loaded alone"
            except (Exception, SystemExit) as cell_error:
                failures[name] = cell_error
                record["cells"][name] = describe_error(cell_error)["error"]
    functions = {name: getattr(module, name, None) for name, module in modules.items()}
    functions = {name: function for name, function in functions.items() if callable(function)}
    for name in set(ANSWER_FUNCTIONS) - set(functions) - set(failures):
        failures[name] = NameError(f"the cell does not define a function named {name}")
    record["functions"] = sorted(functions)
    return functions, failures, record


def flat_layers(model: Any) -> list[Any]:
    """The model's layers (and functional ops) in order, nested models expanded."""
    operations = getattr(model, "operations", None)
    items = list(operations) if operations is not None else list(model.layers)
    layers: list[Any] = []
    for item in items:
        layers.extend(flat_layers(item) if isinstance(item, keras.Model) else [item])
    return layers


# The get_config() keys that fix each layer's inference behaviour (read by tensorflow_model).
LAYER_FIELDS = {
    "Dense": ("units", "use_bias"),
    "Rescaling": ("scale", "offset"),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "Softmax": ("axis",),
    "Reshape": ("target_shape",),
    "Dropout": ("rate",),
}


def layer_manifest(model: Any) -> list[dict[str, Any]]:
    """Describe each layer with the public Keras API, enough for a NumPy forward pass.

    Only exact Keras classes are described: a subclass may change ``call``.
    """
    manifest = []
    dense_count = 0
    for layer in flat_layers(model):
        kind = type(layer).__name__
        entry: dict[str, Any] = {"class": kind, "name": str(getattr(layer, "name", kind))}
        if getattr(keras.layers, kind, None) is type(layer):
            config = layer.get_config() if kind in LAYER_FIELDS else {}
            entry.update({key: jsonable(config.get(key)) for key in LAYER_FIELDS.get(kind, ())})
            if kind in ("Dense", "Activation"):
                entry["activation"] = str(getattr(layer.activation, "__name__", "unknown"))
            if kind == "Dense":
                entry["weights"] = f"dense{dense_count}"
                dense_count += 1
        manifest.append(entry)
    return manifest


def input_shape(model: Any) -> list[int | None] | None:
    """The model's declared input shape, batch axis included (``None`` if unknown)."""
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    return [None if dimension is None else int(dimension) for dimension in inputs[0].shape]


def first_dense_range(model: Any, pixel: int) -> list[float]:
    """[min, max] of what the first Dense layer receives for an image of one grey level.

    Behavioural, so Rescaling, a Lambda or a functional ``x / 255`` all count.
    """
    dense_layers = [layer for layer in flat_layers(model) if isinstance(layer, keras.layers.Dense)]
    if not dense_layers:
        raise ValueError("the model has no Dense layer")
    submodel = keras.Model(model.inputs[0], dense_layers[0].input)
    values = np.asarray(submodel(np.full((1, 28, 28), pixel, dtype="uint8"), training=False))
    return [float(values.min()), float(values.max())]


def grader_model(config: dict[str, Any]) -> Any:
    """A correct softmax model, used only when the student's create_model fails."""
    hidden = [keras.layers.Dense(config[key], activation="relu") for key in DENSE_KEYS]
    scaling = [keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
    return keras.Sequential([*scaling, *hidden, keras.layers.Dense(10, activation="softmax")])


def loss_arrays() -> dict[str, np.ndarray]:
    """Fixed labels, logits and their softmax probabilities: the loss is judged on these."""
    logits = np.random.default_rng(20240611).normal(0.0, 3.0, size=(8, 10)).astype("float32")
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return {"labels": np.arange(8), "logits": logits, "probabilities": probabilities}


def describe_loss(loss: Any) -> Any:
    """The loss given to ``compile``: a name, a Loss class with its config, or a function name."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, keras.losses.Loss):
        config = {key: value for key, value in loss.get_config().items() if key != "dtype"}
        return {"class": type(loss).__name__, "config": jsonable(config)}
    return {"function": str(getattr(loss, "__name__", type(loss).__name__))}


def describe_fit_call(arguments: tuple, keyword_arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments ``train_model`` gave ``fit`` (None: not given; images summarised)."""
    given = {**dict(zip(FIT_ARGUMENTS, arguments, strict=False)), **keyword_arguments}
    record = {key: jsonable(given.get(key)) for key in ("batch_size", "epochs", "validation_split")}
    record["validation_data_given"] = given.get("validation_data") is not None
    try:
        images = np.asarray(given["x"])
        record["x_range"] = [float(images.min()), float(images.max())]
    except Exception as error:
        record["x_range"] = describe_error(error)
    return record


def observe_compiled(
    model: Any, arrays: dict[str, np.ndarray], images: np.ndarray, labels: np.ndarray
) -> dict[str, Any]:
    """Optimizer settings, the loss on the fixed arrays, and what evaluate() reports."""
    optimizer = getattr(model, "optimizer", None)
    settings = optimizer.get_config() if optimizer is not None else {}
    record: dict[str, Any] = {
        "optimizer": optimizer
        and {"class": type(optimizer).__name__, "config": jsonable(settings)},
        "loss": describe_loss(getattr(model, "loss", None)),
        "outputs": jsonable(np.asarray(model(images[:4], training=False))),
    }
    try:
        record["loss_values"] = {
            kind: float(np.asarray(model.compute_loss(y=arrays["labels"], y_pred=arrays[kind])))
            for kind in ("probabilities", "logits")
        }
    except Exception as error:
        record["loss_values"] = describe_error(error)
    try:
        record["evaluate"] = jsonable(model.evaluate(images, labels, verbose=0, return_dict=True))
        predictions = np.asarray(model(images, training=False)).argmax(axis=1)
        record["argmax_accuracy"] = float(np.mean(predictions == labels))
    except Exception as error:
        record["evaluate"] = describe_error(error)
    return record


class Probe:
    """The answer functions of one submission, exercised part by part on training data."""

    def __init__(
        self, functions: dict[str, Callable], failures: dict[str, BaseException], output_dir: Path
    ) -> None:
        self.functions = functions
        self.failures = failures
        self.output_dir = output_dir
        self.x_train, self.y_train = mlpkit.load_training_data()

    def call(self, name: str, *arguments: Any) -> Any:
        """Call one student function; a failure is re-raised naming the function."""
        if name not in self.functions:
            raise StudentCodeError(name, self.failures[name], stage="load")
        try:
            return self.functions[name](*arguments)
        except (Exception, SystemExit) as error:
            raise StudentCodeError(name, error) from error

    def model_for(self, config: dict[str, Any]) -> tuple[Any, str]:
        """The student's model, or the grader's when create_model fails (to test the rest)."""
        try:
            return self.call("create_model", dict(config)), "student"
        except StudentCodeError:
            return grader_model(config), "grader (create_model failed)"

    def create_model(self) -> dict[str, Any]:
        """Build the model for two configs; record architecture, outputs and scaling."""
        records: dict[str, Any] = {}
        batch = np.random.default_rng(7).integers(0, 256, size=(2, 28, 28)).astype("uint8")
        for probe_name, units in CREATE_PROBES.items():
            try:
                config = probe_config(units)
                model = self.call("create_model", dict(config))
                outputs = np.asarray(model(batch, training=False))
                record: dict[str, Any] = {
                    "config": config,
                    "model_class": type(model).__name__,
                    "outputs": jsonable(outputs),
                    "output_shape": list(outputs.shape),
                    "parameter_count": int(model.count_params()),
                    "input_shape": input_shape(model),
                    "layers": layer_manifest(model),
                }
                try:
                    record["first_dense_input_range"] = {
                        "black_image": first_dense_range(model, 0),
                        "white_image": first_dense_range(model, 255),
                    }
                except Exception as error:
                    record["first_dense_input_range"] = describe_error(error)
                records[probe_name] = record
            except (Exception, SystemExit) as error:
                records[probe_name] = describe_error(error)
        return records

    def compile_model(self) -> dict[str, Any]:
        """Compile for each optimizer; record optimizer config, loss values and metrics."""
        arrays = loss_arrays()
        records: dict[str, Any] = {"loss_arrays": jsonable(arrays)}
        for probe_name, overrides in COMPILE_PROBES.items():
            try:
                config = probe_config({**CREATE_PROBES["first"], **overrides})
                model, model_source = self.model_for(config)
                self.call("compile_model", model, dict(config))
                record = observe_compiled(model, arrays, self.x_train[:64], self.y_train[:64])
                records[probe_name] = {"config": config, "model_source": model_source, **record}
            except (Exception, SystemExit) as error:
                records[probe_name] = describe_error(error)
        return records

    def train_model(self) -> dict[str, Any]:
        """Train on a small slice, ``fit`` wrapped; record the History and fit's arguments."""
        config = probe_config(TRAIN_PROBE)
        model, model_source = self.model_for(config)
        try:
            self.call("compile_model", model, dict(config))
            compile_source = "student"
        except StudentCodeError:
            model.compile(
                optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
            )
            compile_source = "grader (compile_model failed)"
        fit_calls: list[dict[str, Any]] = []
        original_fit = model.fit

        def recording_fit(*arguments: Any, **keyword_arguments: Any) -> Any:
            fit_calls.append(describe_fit_call(arguments, keyword_arguments))
            return original_fit(*arguments, **keyword_arguments)

        model.fit = recording_fit
        images, labels = self.x_train[:TRAIN_IMAGES], self.y_train[:TRAIN_IMAGES]
        history = self.call("train_model", model, images, labels, dict(config))
        record: dict[str, Any] = {
            "config": config,
            "images": TRAIN_IMAGES,
            "model_source": model_source,
            "compile_source": compile_source,
            "fit_calls": fit_calls,
            "history_class": type(history).__name__,
        }
        if isinstance(getattr(history, "history", None), dict) and hasattr(history, "params"):
            record["history_keys"] = sorted(history.history)
            record["params"] = jsonable(dict(history.params or {}))
            record["epochs_run"] = len(history.history.get("loss", []))
        return record

    def accuracy(self, train_epochs: int) -> dict[str, Any]:
        """Train the best Adam config under the grader's control; save the Dense weights."""
        config = mlpkit.load_best_config("adam")
        config["epochs"] = train_epochs
        started = time.perf_counter()
        model = self.call("create_model", dict(config))
        self.call("compile_model", model, dict(config))
        history = self.call("train_model", model, self.x_train, self.y_train, dict(config))
        seconds = time.perf_counter() - started
        arrays: dict[str, np.ndarray] = {}
        dense_layers = [layer for layer in flat_layers(model) if type(layer) is keras.layers.Dense]
        for index, layer in enumerate(dense_layers):
            values = layer.get_weights()
            arrays[f"dense{index}.kernel"] = np.asarray(values[0], dtype="float32")
            if layer.use_bias:
                arrays[f"dense{index}.bias"] = np.asarray(values[1], dtype="float32")
        np.savez(self.output_dir / "weights.npz", **arrays)
        outputs = model(self.x_train[:FIDELITY_IMAGES], training=False)
        final = {
            key: values[-1] for key, values in getattr(history, "history", {}).items() if values
        }
        return {
            "config": config,
            "seconds": round(seconds, 2),
            "device": mlpkit.device_description("tensorflow"),
            "layers": layer_manifest(model),
            "training_predictions": jsonable(np.asarray(outputs).argmax(axis=1)),
            "final_metrics": jsonable(final),
        }


def collect(notebook: Path, output_dir: Path, *, train_epochs: int, seed: int) -> None:
    """Run every probe part on ``notebook`` and write ``output_dir/observations.json``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    observations: dict[str, Any] = {
        "framework": "tensorflow",
        "keras_version": keras.__version__,
        "seed": seed,
        "train_epochs": train_epochs,
    }
    try:
        functions, failures, observations["load"] = load_student_functions(Path(notebook))
        probe = Probe(functions, failures, output_dir)
        parts: dict[str, Callable[[], Any]] = {
            "create_model": probe.create_model,
            "compile_model": probe.compile_model,
            "train_model": probe.train_model,
        }
        if train_epochs > 0:
            parts["accuracy"] = lambda: probe.accuracy(train_epochs)
        else:
            observations["accuracy"] = "skipped"
        observations["seconds"] = {}
        for name, part in parts.items():
            mlpkit.seed_everything(seed, framework="tensorflow")
            started = time.perf_counter()
            try:
                observations[name] = part()
            except (Exception, SystemExit) as error:
                observations[name] = describe_error(error)
            observations["seconds"][name] = round(time.perf_counter() - started, 2)
    except (Exception, SystemExit) as error:
        observations.setdefault("load", describe_error(error))
        observations["error"] = describe_error(error)["error"]
    finally:
        text = json.dumps(jsonable(observations), indent=1, allow_nan=False)
        (output_dir / "observations.json").write_text(text)
