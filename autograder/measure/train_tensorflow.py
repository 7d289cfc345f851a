"""The grader's own Keras training of an identified student spec (trusted; no student code).

``python -m autograder.measure.train_tensorflow`` reads a spec (JSON on stdin),
builds the identified model with Keras layers (its scaling, widths, activation
and output), compiles it with the identified optimizer and loss, and fits it as
``train_model`` was measured to (epochs, batch size, share held out, any
rescaling of the images), on the training set shuffled once with the seed as
notebook 02 does. The weights go to stdout as one ``protocol`` message.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import mlpkit  # noqa: E402
from autograder.sandbox.protocol import write_message  # noqa: E402

ACTIVATIONS = {
    "relu": "relu",
    "leaky_relu": lambda values: keras.ops.leaky_relu(values, negative_slope=0.01),
    "leaky_relu_0.2": lambda values: keras.ops.leaky_relu(values, negative_slope=0.2),
    "relu6": "relu6",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "elu": "elu",
    "gelu": lambda values: keras.ops.gelu(values, approximate=False),
    "silu": "silu",
    "linear": None,
}
HEADS = {"logits": None, "softmax": "softmax", "log_softmax": "log_softmax", "relu": "relu"}
OPTIMIZERS = {
    "sgd": lambda hyper: keras.optimizers.SGD(hyper["learning_rate"], momentum=hyper["momentum"]),
    "adam": lambda hyper: keras.optimizers.Adam(
        hyper["learning_rate"], beta_1=hyper["beta_1"], beta_2=hyper["beta_2"]
    ),
    "rmsprop": lambda hyper: keras.optimizers.RMSprop(
        hyper["learning_rate"], rho=hyper["rho"], momentum=hyper["momentum"]
    ),
}


def build(spec: dict) -> keras.Model:
    layers = [keras.Input((28, 28))]
    if spec["input_scale"] != 1.0:
        layers.append(keras.layers.Rescaling(spec["input_scale"]))
    layers.append(keras.layers.Flatten())
    layers += [
        keras.layers.Dense(width, activation=ACTIVATIONS[spec["activation"]])
        for width in spec["widths"]
    ]
    layers.append(keras.layers.Dense(10, activation=HEADS[spec["head"]]))
    return keras.Sequential(layers)


def train(spec: dict) -> tuple[list[np.ndarray], dict]:
    seed = int(spec["seed"])
    keras.utils.set_random_seed(seed)
    images, labels = mlpkit.load_training_data()
    order = np.random.default_rng(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    if spec["train_input_scale"] != 1.0:
        images = images.astype("float32") * spec["train_input_scale"]
    model = build(spec)
    model.compile(
        optimizer=OPTIMIZERS[spec["optimizer"]["kind"]](spec["optimizer"]["hyperparameters"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=spec["loss"] == "from_logits"),
        steps_per_execution=32,  # the same steps and weights as 1, with less Python per step
    )
    started = time.perf_counter()
    model.fit(
        images,
        labels,
        batch_size=int(spec["batch_size"]),
        epochs=int(spec["epochs"]),
        validation_split=round(1.0 - float(spec["train_fraction"]), 6),
        verbose=0,
    )
    weights = [np.asarray(variable.numpy(), dtype=np.float32) for variable in model.weights]
    return weights, {"seconds": round(time.perf_counter() - started, 2), "device": "cpu"}


def main(argv: list[str] | None = None) -> int:
    """Read the spec on stdin; write the weights to ``--output-fd`` (stdout may carry noise)."""
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 2 or arguments[0] != "--output-fd":
        print(f"usage: python -m {__name__} --output-fd N  < spec.json", file=sys.stderr)
        return 2
    spec = json.loads(sys.stdin.read())
    weights, info = train(spec)
    write_message(int(arguments[1]), {"info": info}, weights)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
