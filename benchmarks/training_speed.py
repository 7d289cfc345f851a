"""Seconds per epoch: the kit's reference training against the original exercise's recipe.

Targets (issue 2, on the 2-core CPU): PyTorch at least 2x faster than the
original's per-sample ``ToTensor`` DataLoader pipeline, Keras no slower than the
original's ``Sequential`` + ``fit(validation_split=0.2)``. Also measures PyTorch
with 1 and 2 threads, on an idle machine and with the other core kept busy, which
is how ``Settings.torch_threads`` got its default.

Each framework runs in its own subprocess (never both in one process). An epoch
is one pass over the 48,000 training images plus the validation pass; the
figure is the median over the measured epochs, after one warm-up epoch. Original
and kit are trained alternately (PyTorch epoch by epoch, Keras twice each), because
the shared 2-core machine's speed drifts by 20% or more from one epoch to the next.

    python benchmarks/training_speed.py [--epochs 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions" / "mlp-fashion-mnist"


def _busy_loop(stop_event) -> None:
    while not stop_event.is_set():
        sum(range(10_000))


class BusyCore:
    """Keep one core busy, as a neighbour's training would on a shared hub."""

    def __enter__(self):
        self.stop_event = multiprocessing.Event()
        self.process = multiprocessing.Process(target=_busy_loop, args=(self.stop_event,))
        self.process.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_event.set()
        self.process.join()


def _median_epoch(run_epoch, epochs: int) -> float:
    run_epoch()  # warm-up: allocations, kernel selection, graph tracing
    durations = []
    for _ in range(epochs):
        started = time.perf_counter()
        run_epoch()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def _alternate_epochs(runners: list, epochs: int) -> list[float]:
    """Median epoch time of each runner, their epochs interleaved so drift hits all alike."""
    for run_epoch in runners:
        run_epoch()  # warm-up
    durations: list[list[float]] = [[] for _ in runners]
    for _ in range(epochs):
        for run_epoch, measured in zip(runners, durations, strict=True):
            started = time.perf_counter()
            run_epoch()
            measured.append(time.perf_counter() - started)
    return [statistics.median(measured) for measured in durations]


def pytorch_part(epochs: int) -> dict[str, float]:
    import numpy as np
    import torch
    from PIL import Image
    from torch import nn
    from torch.utils.data import DataLoader, Dataset

    import mlpkit
    from mlpkit.notebook_code import load_cells

    config = mlpkit.load_best_config("adam")
    data = mlpkit.load_fashion_mnist()
    reference = load_cells(
        SOLUTIONS / "03-pytorch-mlp.ipynb",
        [
            "setup",
            "split_data",
            "create_model",
            "loss_fn",
            "make_optimizer",
            "train_epoch",
            "evaluate",
        ],
    )
    device = torch.device("cpu")

    class PerSampleFashionMNIST(Dataset):
        """torchvision's FashionMNIST + ToTensor(), step for step, on the kit's reader.

        As torchvision does: uint8 tensors in memory, a PIL image per sample, then
        ToTensor's copy, view, permute, contiguous, float and divide.
        """

        def __init__(self, images, labels):
            self.data, self.targets = (
                torch.from_numpy(images.copy()),
                torch.from_numpy(labels.copy()),
            )

        def __len__(self):
            return len(self.targets)

        def __getitem__(self, index):
            picture = Image.fromarray(self.data[index].numpy(), mode="L")
            pixels = torch.from_numpy(np.array(picture, np.uint8, copy=True))
            pixels = (
                pixels.view(picture.size[1], picture.size[0], 1).permute((2, 0, 1)).contiguous()
            )
            return pixels.to(dtype=torch.float32).div(255), int(self.targets[index])

    def original_model():
        units = [784, config["dense_1"], config["dense_2"], config["dense_3"], config["dense_4"]]
        layers = [nn.Flatten()]
        for fan_in, fan_out in zip(units, units[1:], strict=False):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers, nn.Linear(units[-1], 10), nn.LogSoftmax(dim=1))

    full = PerSampleFashionMNIST(data.x_train, data.y_train)
    original_train, original_val = torch.utils.data.random_split(
        full, [48_000, 12_000], generator=torch.Generator().manual_seed(0)
    )

    def original_epoch_runner():
        model = original_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
        loss_function = nn.NLLLoss()
        train_loader = DataLoader(original_train, batch_size=config["batch_size"], shuffle=True)
        val_loader = DataLoader(original_val, batch_size=config["batch_size"])

        def run_epoch():
            model.train()
            running_loss = 0.0
            for images, labels in train_loader:
                optimizer.zero_grad()
                loss = loss_function(model(images), labels)
                loss.backward()
                optimizer.step()
                running_loss += loss.item()
            model.eval()
            with torch.no_grad():
                for images, labels in val_loader:
                    running_loss += loss_function(model(images), labels).item()

        return run_epoch

    images, labels = mlpkit.to_tensors(data.x_train, data.y_train)
    train_set, val_set = reference.split_data(
        torch.utils.data.TensorDataset(images, labels), 0.2, seed=0
    )

    def reference_epoch_runner():
        model = reference.create_model(config)
        optimizer = reference.make_optimizer(model, config)
        options = {"batch_size": config["batch_size"], "device": device}
        train_loader = mlpkit.TensorBatches.from_dataset(train_set, shuffle=True, seed=0, **options)
        val_loader = mlpkit.TensorBatches.from_dataset(val_set, **options)

        def run_epoch():
            reference.train_epoch(model, train_loader, reference.loss_fn, optimizer, device)
            reference.evaluate(model, val_loader, reference.loss_fn, device)

        return run_epoch

    figures = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        original, kit = _alternate_epochs(
            [original_epoch_runner(), reference_epoch_runner()], epochs
        )
        figures[f"pytorch original, {threads} thread(s)"] = original
        figures[f"pytorch kit, {threads} thread(s)"] = kit
        with BusyCore():
            figures[f"pytorch kit, {threads} thread(s), other core busy"] = _median_epoch(
                reference_epoch_runner(), epochs
            )
    return figures


def keras_part(epochs: int) -> dict[str, float]:
    import keras

    import mlpkit
    from mlpkit.notebook_code import load_cells

    config = {**mlpkit.load_best_config("adam"), "epochs": epochs + 1}
    data = mlpkit.load_fashion_mnist()
    reference = load_cells(
        SOLUTIONS / "02-tensorflow-mlp.ipynb",
        ["setup", "create_model", "compile_model", "train_model"],
    )

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            durations.append(time.perf_counter() - self.started)

    def original_model():
        layers = [keras.layers.Rescaling(1.0 / 255), keras.layers.Flatten()]
        layers += [
            keras.layers.Dense(config[f"dense_{index}"], activation="relu") for index in range(1, 5)
        ]
        model = keras.Sequential(
            [keras.Input(shape=(28, 28)), *layers, keras.layers.Dense(10, activation="softmax")]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=config["learning_rate"]),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=["accuracy"],
        )
        return model

    def train_original():
        original_model().fit(
            data.x_train,
            data.y_train,
            batch_size=config["batch_size"],
            epochs=config["epochs"],
            validation_split=0.2,
            verbose=0,
            callbacks=[EpochTimer()],
        )

    def train_kit():
        model = reference.compile_model(reference.create_model(config), config)
        reference.train_model(model, data.x_train, data.y_train, config, callbacks=[EpochTimer()])

    # Alternate the recipes so that a busy moment of the shared machine hits both alike.
    pooled: dict[str, list[float]] = {"keras original": [], "keras kit": []}
    for _ in range(2):
        for name, train in (("keras original", train_original), ("keras kit", train_kit)):
            durations: list[float] = []
            train()
            pooled[name] += durations[1:]  # the first epoch traces and compiles the graph
    return {name: statistics.median(values) for name, values in pooled.items()}


def _run_part(part: str, epochs: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--part", part, "--epochs", str(epochs)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{part} part failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(*, epochs: int) -> None:
    figures = {**_run_part("pytorch", epochs), **_run_part("keras", epochs)}
    print(f"\nSeconds per epoch (train 48,000 + validate 12,000), median of {epochs} epochs:")
    for name, seconds in figures.items():
        print(f"  {name:48s} {seconds:7.2f} s")
    print("\nRatios (original / kit; above 1 means the kit is faster):")
    for threads in (1, 2):
        ratio = (
            figures[f"pytorch original, {threads} thread(s)"]
            / figures[f"pytorch kit, {threads} thread(s)"]
        )
        print(f"  PyTorch, {threads} thread(s): {ratio:.2f}x   (target: at least 2x)")
    print(
        f"  Keras: {figures['keras original'] / figures['keras kit']:.2f}x   (target: at least 1x)"
    )
    for threads in (1, 2):
        slowdown = (
            figures[f"pytorch kit, {threads} thread(s), other core busy"]
            / figures[f"pytorch kit, {threads} thread(s)"]
        )
        print(
            f"  PyTorch kit, {threads} thread(s): {slowdown:.2f}x slower with the other core busy"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--part", choices=["pytorch", "keras"])
    arguments = parser.parse_args()
    if arguments.part == "pytorch":
        print(json.dumps(pytorch_part(arguments.epochs)))
    elif arguments.part == "keras":
        print(json.dumps(keras_part(arguments.epochs)))
    else:
        main(epochs=arguments.epochs)
