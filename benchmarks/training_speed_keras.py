"""Keras half of benchmarks/training_speed.py: one process, one thread count, epochs interleaved.

Three things train in turn, epoch by epoch, in this one process: the seed's
recipe exactly as it was written (``Sequential([Rescaling(1/255), Flatten(),
Dense... relu, Dense(10, softmax)])``, ``fit(x, y, validation_split=0.2)``), the
kit's notebook 02 code (its ``create_model``, ``compile_model`` with
``steps_per_execution=32``, and ``train_model``), and the GEMM-bound limit: the epoch's
matrix products alone, as TensorFlow computes them. Each ``fit`` runs whole, in a
thread of its own, and a callback hands a baton on at every epoch boundary, so the
three alternate without splitting any ``fit`` into pieces (a fresh ``fit`` per epoch
would re-pay its set-up).
An epoch is timed from ``on_epoch_begin`` to ``on_epoch_end``: the 375 training
steps and the validation pass over 12,000 images.

    python benchmarks/training_speed_keras.py --threads 1 --epochs 5 --output keras-1.json
"""

from __future__ import annotations

import os
import threading
import time
import traceback

from tqdm.auto import tqdm
from training_speed import KIT, LIMIT, SEED, SOLUTIONS, batch_counts, layer_sizes, worker_main

NOTEBOOK_02 = SOLUTIONS / "02-tensorflow-mlp.ipynb"


class Baton:
    """Let named runners take turns, one epoch each, in a fixed order."""

    def __init__(self, names: list[str], progress) -> None:
        self.names = names
        self.turn = 0
        self.condition = threading.Condition()
        self.progress = progress

    def wait_for(self, name: str) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.names[self.turn % len(self.names)] == name)

    def pass_on(self) -> None:
        self.progress.update(1)
        with self.condition:
            self.turn += 1
            self.condition.notify_all()


def timed_turns(baton: Baton, name: str, record: dict[str, list[float]]):
    """A Keras callback: wait for this runner's turn, time the epoch, pass the baton on."""
    import keras

    class TimedTurns(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            baton.wait_for(name)
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            record["wall"].append(time.perf_counter() - self.wall)
            record["cpu"].append(time.process_time() - self.cpu)
            baton.pass_on()

    return TimedTurns()


def seed_recipe(config: dict, x_train, y_train, epochs: int, callback) -> None:
    """The seed's TensorFlow notebook: softmax + sparse cross-entropy, fit with validation_split."""
    import keras

    model = keras.Sequential(
        [
            keras.layers.Rescaling(1.0 / 255),
            keras.layers.Flatten(),
            keras.layers.Dense(config["dense_1"], activation="relu"),
            keras.layers.Dense(config["dense_2"], activation="relu"),
            keras.layers.Dense(config["dense_3"], activation="relu"),
            keras.layers.Dense(config["dense_4"], activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate=config["learning_rate"], beta_1=config["beta_1"], beta_2=config["beta_2"]
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        batch_size=config["batch_size"],
        epochs=epochs,
        validation_split=0.2,
        verbose=0,
        callbacks=[callback],
    )


def kit_recipe(config: dict, x_train, y_train, epochs: int, callback) -> None:
    """Notebook 02's create_model, compile_model and train_model, as the solution holds them."""
    import contextlib
    import io

    import keras
    import numpy as np

    import mlpkit
    from mlpkit.notebook_code import load_cells

    notebook = load_cells(
        NOTEBOOK_02,
        ["create_model", "compile_model", "train_model"],
        namespace={"keras": keras, "np": np, "mlpkit": mlpkit},
    )
    model = notebook.compile_model(notebook.create_model(config), config)
    with contextlib.redirect_stdout(io.StringIO()):  # verbose=2 prints one line per epoch
        notebook.train_model(model, x_train, y_train, {**config, "epochs": epochs}, [callback])


def limit_runner(units: list[int], batch_size: int):
    """One epoch's matrix products alone (forward, both gradients, validation), in TensorFlow."""
    import tensorflow as tf

    shapes = list(zip(units, units[1:], strict=False))
    kernels = [tf.random.normal((fan_in, fan_out)) for fan_in, fan_out in shapes]

    def products(batch: int, train: bool):
        inputs = [tf.random.normal((batch, fan_in)) for fan_in, _ in shapes]
        gradients = [tf.random.normal((batch, fan_out)) for _, fan_out in shapes]

        @tf.function
        def step():
            outputs = [tf.matmul(x, w) for x, w in zip(inputs, kernels, strict=True)]
            if train:  # kernel gradients x^T g; input gradients g W^T except the first layer
                outputs += [
                    tf.matmul(x, g, transpose_a=True)
                    for x, g in zip(inputs, gradients, strict=True)
                ]
                outputs += [
                    tf.matmul(g, w, transpose_b=True)
                    for g, w in zip(gradients[1:], kernels[1:], strict=True)
                ]
            return outputs

        step()  # trace once, outside the timing
        return step

    steps = {}
    for part, examples, train in (("train", 48_000, True), ("val", 12_000, False)):
        for batch, count in batch_counts(examples, batch_size).items():
            steps[(part, batch)] = (products(batch, train), count)

    def run_epoch() -> None:
        for step, count in steps.values():
            for _ in range(count):
                step()

    return run_epoch


def limit_recipe(run_epoch, epochs: int, record: dict[str, list[float]], baton: Baton) -> None:
    for _ in range(epochs):
        baton.wait_for(LIMIT)
        wall, cpu = time.perf_counter(), time.process_time()
        run_epoch()
        record["wall"].append(time.perf_counter() - wall)
        record["cpu"].append(time.process_time() - cpu)
        baton.pass_on()


def measure(*, threads: int, epochs: int) -> dict:
    """Train the seed's recipe and the kit's, and run the limit, ``epochs`` + 1 epochs each."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    import mlpkit

    keras.utils.set_random_seed(0)
    config = mlpkit.load_best_config("adam")
    data = mlpkit.load_fashion_mnist()
    x_train, y_train = data.x_train, data.y_train
    names = [SEED, KIT, LIMIT]
    records = {name: {"wall": [], "cpu": []} for name in names}
    total = epochs + 1  # the first epoch of each traces its graphs: a warm-up, dropped below
    run_limit_epoch = limit_runner(layer_sizes(config), config["batch_size"])
    progress = tqdm(total=total * len(names), desc=f"keras, {threads} thread(s)", unit="epoch")
    baton = Baton(names, progress)
    runners = {
        SEED: lambda: seed_recipe(
            config, x_train, y_train, total, timed_turns(baton, SEED, records[SEED])
        ),
        KIT: lambda: kit_recipe(
            config, x_train, y_train, total, timed_turns(baton, KIT, records[KIT])
        ),
        LIMIT: lambda: limit_recipe(run_limit_epoch, total, records[LIMIT], baton),
    }

    def guarded(run) -> None:
        try:
            run()
        except BaseException:
            traceback.print_exc()
            os._exit(1)  # the other threads would wait for the baton forever

    workers = [threading.Thread(target=guarded, args=(run,)) for run in runners.values()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    progress.close()
    return {
        "framework": "keras",
        "threads": threads,
        "variants": {
            name: {kind: values[1:] for kind, values in record.items()}
            for name, record in records.items()
        },
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


if __name__ == "__main__":
    worker_main(measure, __doc__.splitlines()[0])
