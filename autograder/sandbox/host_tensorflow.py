"""Host operations of the TensorFlow notebook (02): build, compile, step, train; raw results.

``create_model`` builds the student's model and returns every weight;
``forward`` runs it on the driver's images. ``compile``/``loss``/
``optimizer_steps``/``evaluate`` exercise what ``compile_model`` attached (the
optimizer itself, never its ``get_config``). ``train_model`` hands the student's
function the grader's own linear model, compiled with plain SGD and a loss whose
gradient does not depend on the weights, so the weights it ends with say exactly
which images were trained on, in how many epochs of which batch size.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from autograder.sandbox.host_support import (  # noqa: E402
    _ISINSTANCE,
    _TYPE,
    StudentError,
    call_student,
    encode_value,
    error_record,
)

MODEL = keras.Model
CALL_SECONDS = 120


def _weights(model: Any) -> list[np.ndarray]:
    return [np.asarray(variable.numpy()) for variable in model.weights]


def linear_loss(classes: int):
    """Per example, the output of its own label's unit: its gradient is the same for any weights."""
    identity = keras.ops.eye(classes)

    def loss(y_true, y_pred):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return keras.ops.sum(y_pred * keras.ops.take(identity, labels, axis=0), axis=-1)

    return loss


def handlers(state: Any, kind: str) -> dict[str, Any]:
    namespace = state.namespace

    def student_step(function: str, action):
        try:
            return action()
        except BaseException as error:  # noqa: BLE001 - the student's model raised
            raise StudentError(error_record(error, function=function)) from None

    def create_model(args: dict, arrays: list) -> tuple[dict, list]:
        keras.utils.set_random_seed(int(args["seed"]))
        model = call_student(namespace, "create_model", dict(args["config"]), seconds=CALL_SECONDS)
        if not _ISINSTANCE(model, MODEL):
            return {"returned": encode_value(model, [])}, []
        student_step("create_model", lambda: model(np.zeros((1, 28, 28), "uint8"), training=False))
        state.objects[args["handle"]] = model
        weights = _weights(model)
        return {"parameters": list(range(len(weights)))}, weights

    def reference_model(args: dict, arrays: list) -> tuple[dict, list]:
        """A correct model of the grader's: compile_model is judged even if create_model fails."""
        keras.utils.set_random_seed(int(args["seed"]))
        config = args["config"]
        layers = [keras.Input((28, 28)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten()]
        layers += [
            keras.layers.Dense(config[f"dense_{index}"], activation="relu") for index in range(1, 5)
        ]
        layers.append(
            keras.layers.Dense(10, activation="softmax" if args["head"] == "softmax" else None)
        )
        model = keras.Sequential(layers)
        state.objects[args["handle"]] = model
        return {"parameters": list(range(len(model.weights)))}, _weights(model)

    def forward(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        outputs = student_step("create_model", lambda: model(arrays[0], training=False))
        return {"outputs": 0}, [np.asarray(outputs)]

    def compile_model(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        result = call_student(
            namespace, "compile_model", model, dict(args["config"]), seconds=CALL_SECONDS
        )
        return {
            "returned_model": result is model,
            "optimizer": _TYPE(model.optimizer).__name__[:100],
        }, []

    def loss(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        value = student_step(
            "compile_model",
            lambda: model.compute_loss(y=arrays[1], y_pred=arrays[0], training=False),
        )
        return {"value": encode_value(float(np.asarray(value)), [])}, []

    def optimizer_steps(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        count = int(args["parameters"])
        variables = [keras.Variable(array, dtype="float32") for array in arrays[:count]]
        gradients = arrays[count:]
        optimizer = model.optimizer
        snapshots: list[np.ndarray] = []

        def run() -> None:
            for step in range(len(gradients) // count):
                chunk = gradients[step * count : (step + 1) * count]
                optimizer.apply_gradients(
                    zip([keras.ops.convert_to_tensor(g) for g in chunk], variables, strict=True)
                )
                snapshots.extend(np.asarray(variable.numpy()) for variable in variables)

        student_step("compile_model", run)
        return {"steps": len(gradients) // count}, snapshots

    def evaluate(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        returned: list[np.ndarray] = []
        result = student_step(
            "compile_model",
            lambda: model.evaluate(arrays[0], arrays[1], verbose=0, return_dict=True),
        )
        return {"metrics": encode_value(result, returned)}, returned

    def train_model(args: dict, arrays: list) -> tuple[dict, list]:
        images, labels = arrays[0], arrays[1]
        model = keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(10, use_bias=False, kernel_initializer="zeros"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(float(args["learning_rate"])), loss=linear_loss(10)
        )
        history = call_student(
            namespace,
            "train_model",
            model,
            images,
            labels,
            dict(args["config"]),
            seconds=CALL_SECONDS,
        )
        answer: dict[str, Any] = {"type": _TYPE(history).__name__[:100]}
        record = getattr(history, "history", None)
        if _ISINSTANCE(record, dict):
            answer["keys"] = sorted(str(key)[:50] for key in record)[:50]
        return answer, [np.asarray(model.weights[0].numpy())]

    return {
        "create_model": create_model,
        "reference_model": reference_model,
        "forward": forward,
        "compile": compile_model,
        "loss": loss,
        "optimizer_steps": optimizer_steps,
        "evaluate": evaluate,
        "train_model": train_model,
    }
