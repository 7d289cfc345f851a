"""Train one config with the notebooks' own graded functions, one framework per process.

The solution notebooks are the reference implementation, so a trial does not keep
a second copy of the model code: the Keras trainer loads ``create_model``,
``compile_model`` and ``train_model`` from notebook 02 and the PyTorch trainer
``split_data``, ``create_model``, ``loss_fn``, ``make_optimizer``, ``train_epoch``
and ``evaluate`` from notebook 03 (by nbgrader ``grade_id``, so a student's own
notebooks work the same). A trainer imports its framework and reads the data
once, when it is built, and then trains any number of configs.

Only :mod:`mlpkit.tuning.worker` builds trainers, inside a process that holds
exactly one framework.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import mlpkit
from mlpkit.notebook_code import load_cells

FRAMEWORK_NOTEBOOKS = {"tensorflow": "02-tensorflow-mlp.ipynb", "pytorch": "03-pytorch-mlp.ipynb"}
KERAS_CELLS = ("setup", "create_model", "compile_model", "train_model")
PYTORCH_CELLS = ("setup", "split_data", "create_model", "loss_fn", "make_optimizer")
PYTORCH_CELLS += ("train_epoch", "evaluate")
VALIDATION_FRACTION = 0.2

EpochReport = Callable[[int, dict[str, float]], bool]
"""Called after each epoch with (epoch, metrics); returns True to stop (prune) the trial."""


def _training_subset(train_examples: int | None) -> tuple[np.ndarray, np.ndarray]:
    images, labels = mlpkit.load_training_data()
    if train_examples is None:
        return images, labels
    if not 10 <= train_examples <= len(images):
        raise ValueError(f"train_examples must lie in 10..{len(images)}, got {train_examples}.")
    return images[:train_examples], labels[:train_examples]


def _load_notebook(framework: str, notebooks_dir: Path, grade_ids: tuple[str, ...]) -> Any:
    notebook = Path(notebooks_dir) / FRAMEWORK_NOTEBOOKS[framework]
    # The set-up cells print versions; a sweep's progress bar is what should show.
    with contextlib.redirect_stdout(io.StringIO()):
        return load_cells(notebook, grade_ids, module_name=f"tuning_{framework}_notebook")


class KerasTrainer:
    """Notebook 02's functions over the training images (validation: the last 20%)."""

    framework = "tensorflow"

    def __init__(self, *, notebooks_dir: Path, train_examples: int | None, seed: int) -> None:
        self.code = _load_notebook(self.framework, notebooks_dir, KERAS_CELLS)
        self.images, self.labels = _training_subset(train_examples)
        self.seed = seed

    def train(self, config: dict[str, Any], report: EpochReport) -> int:
        """Train ``config``; report every epoch; return the number of epochs trained."""
        import keras

        keras.backend.clear_session()  # one graph per trial, not a growing one
        mlpkit.seed_everything(self.seed, framework="tensorflow")
        trained = 0

        class _Report(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                nonlocal trained
                trained = epoch + 1
                metrics = {key: float(value) for key, value in (logs or {}).items()}
                if report(trained, metrics):
                    self.model.stop_training = True

        model = self.code.compile_model(self.code.create_model(config), config)
        with contextlib.redirect_stdout(io.StringIO()):  # fit(verbose=2) prints every epoch
            self.code.train_model(model, self.images, self.labels, config, callbacks=[_Report()])
        return trained


class PyTorchTrainer:
    """Notebook 03's functions: its own split, train_epoch and evaluate, per epoch."""

    framework = "pytorch"

    def __init__(self, *, notebooks_dir: Path, train_examples: int | None, seed: int) -> None:
        from torch.utils.data import TensorDataset

        self.code = _load_notebook(self.framework, notebooks_dir, PYTORCH_CELLS)
        settings = mlpkit.load_settings()
        self.device = mlpkit.choose_device(threads=settings.torch_threads)
        images, labels = mlpkit.to_tensors(*_training_subset(train_examples))
        train_set, val_set = self.code.split_data(
            TensorDataset(images, labels), VALIDATION_FRACTION, seed=seed
        )
        # Indexed once: a trial only re-batches these tensors.
        self.train_tensors = self._stack(train_set)
        self.val_tensors = self._stack(val_set)
        self.seed = seed

    def _stack(self, subset: Any) -> tuple[Any, Any]:
        batches = mlpkit.TensorBatches.from_dataset(subset, batch_size=1, device=self.device)
        return batches.images, batches.labels

    def train(self, config: dict[str, Any], report: EpochReport) -> int:
        """Train ``config`` with the notebook's loop; report every epoch; return epochs trained."""
        mlpkit.seed_everything(self.seed, framework="pytorch")
        options = {"batch_size": config["batch_size"], "seed": self.seed}
        train_loader = mlpkit.TensorBatches(*self.train_tensors, shuffle=True, **options)
        val_loader = mlpkit.TensorBatches(*self.val_tensors, **options)
        model = self.code.create_model(config).to(self.device)
        optimizer = self.code.make_optimizer(model, config)
        loss_fn = self.code.loss_fn
        for epoch in range(1, config["epochs"] + 1):
            started = time.perf_counter()
            loss, accuracy = self.code.train_epoch(
                model, train_loader, loss_fn, optimizer, self.device
            )
            val_loss, val_accuracy = self.code.evaluate(model, val_loader, loss_fn, self.device)
            metrics = {
                "loss": float(loss),
                "accuracy": float(accuracy),
                "val_loss": float(val_loss),
                "val_accuracy": float(val_accuracy),
                "epoch_seconds": time.perf_counter() - started,
            }
            if report(epoch, metrics):
                return epoch
        return int(config["epochs"])


TRAINERS = {"tensorflow": KerasTrainer, "pytorch": PyTorchTrainer}


def build_trainer(
    framework: str, *, notebooks_dir: Path, train_examples: int | None, seed: int
) -> KerasTrainer | PyTorchTrainer:
    """Import ``framework``, load its notebook's functions and the data, once."""
    if framework not in TRAINERS:
        raise ValueError(f"Unknown framework {framework!r}: use tensorflow or pytorch.")
    return TRAINERS[framework](
        notebooks_dir=notebooks_dir, train_examples=train_examples, seed=seed
    )
