"""Probe of the PyTorch notebook: run the student's functions, record what they do.

Runs inside the sandbox, one submission per process, with training data only. It
decides nothing: each part records plain numbers (split sizes, layer manifests,
loss values on fixed arrays, optimizer hyperparameters, gradients seen at every
optimizer step, trained weights) that ``autograder/checks/test_pytorch.py`` judges
in the trusted process. Parts are isolated, so one broken function costs only the
cells that need it, and observations are written after every part, so a run
killed for time still leaves what it saw. PyTorch is imported inside the functions
so that the checks can import the constants below without it.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import mlpkit
from autograder.sandbox.probe_support import StudentCodeError, describe_error, jsonable
from mlpkit.notebook_code import load_cells

CELL_IDS = ("setup", "split_data", "create_model", "loss_fn", "make_optimizer")
CELL_IDS += ("train_epoch", "evaluate", "fit")
PART_SECONDS = 120
SPLIT_EXAMPLES = 60_000
# Widths inside the original ranges (256..512, 128..256, 128..256, 32..128), all
# different and not monotone in the second, so swapped or hard-coded widths show.
MODEL_PROBES = {
    "first": {"dense_1": 300, "dense_2": 200, "dense_3": 150, "dense_4": 50},
    "second": {"dense_1": 457, "dense_2": 131, "dense_3": 229, "dense_4": 97},
}
# Every hyperparameter differs from PyTorch's defaults, so an ignored one shows.
OPTIMIZER_PROBES = {
    "sgd": {"optimizer": "sgd", "learning_rate": 0.0371, "momentum": 0.437},
    "adam": {"optimizer": "adam", "learning_rate": 0.000731, "beta_1": 0.953, "beta_2": 0.9917},
    "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.00217, "momentum": 0.283, "rho": 0.871},
}
OPTIMIZER_KEYS = ("lr", "momentum", "betas", "alpha", "eps", "weight_decay", "nesterov")
MODULE_ATTRIBUTES = ("in_features", "out_features", "start_dim", "end_dim", "dim", "negative_slope")
MODULE_ATTRIBUTES += ("p",)
PROBE_SEED = 1234


def probe_images(count: int = 16) -> np.ndarray:
    """Fixed noise images (uint8, N×28×28): the same in the sandbox and in the checks."""
    return np.random.default_rng(PROBE_SEED).integers(0, 256, (count, 28, 28), dtype=np.uint8)


def loss_probe_inputs() -> tuple[np.ndarray, np.ndarray]:
    """Fixed confident logits and labels; near-uniform outputs would hide a double softmax."""
    generator = np.random.default_rng(PROBE_SEED + 1)
    logits = generator.normal(0.0, 3.0, (16, 10)).astype(np.float32)
    return logits, generator.integers(0, 10, 16).astype(np.int64)


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Stop a part that loops forever, so the parts after it still run."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_student_code(notebook: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load the answer cells together; if that fails, one at a time on what loaded before.

    The release's ``loss_fn`` stub raises at top level: loaded together, it would
    hide every later function. One at a time, each cell still sees the earlier ones.
    """
    try:
        module = load_cells(notebook, CELL_IDS, module_name="student_notebook")
        return dict(module.__dict__), {"ok": True}
    except (Exception, SystemExit) as error:
        record: dict[str, Any] = {**describe_error(error), "cells": {}}
    namespace: dict[str, Any] = {}
    for index, grade_id in enumerate(CELL_IDS):
        try:
            inherited = {key: item for key, item in namespace.items() if not key.startswith("__")}
            module = load_cells(
                notebook, [grade_id], module_name=f"student_{index}", namespace=inherited
            )
            namespace = dict(module.__dict__)
            record["cells"][grade_id] = "ok"
        except (Exception, SystemExit) as cell_error:
            record["cells"][grade_id] = describe_error(cell_error)["error"]
    return namespace, record


def student_value(student: dict[str, Any], name: str) -> Any:
    """What the student's cells bound to ``name``; if nothing, say which cell failed to load."""
    if name not in student:
        cause = student.get("__load_errors__", {}).get(name)
        reason = f"its cell raised {cause}" if cause else "its cell does not define it"
        raise StudentCodeError(name, NameError(f"{name} is not defined ({reason})"))
    return student[name]


def call_student(student: dict[str, Any], name: str, *arguments: Any) -> Any:
    """Call one student function (or the loss object); a failure names the culprit."""
    function = student_value(student, name)
    try:
        return function(*arguments)
    except (Exception, SystemExit) as error:
        raise StudentCodeError(name, error) from error


def as_float(value: Any) -> float:
    """A loss or metric as a float (tensors included); raises for anything else."""
    return float(value.item() if hasattr(value, "item") else value)


def probe_config(overrides: dict[str, Any]) -> dict[str, Any]:
    """A complete config (every key filled) built on the best Adam config."""
    return mlpkit.validate_config({**mlpkit.load_best_config("adam"), **overrides})


def example_ids(part: Any) -> list[int]:
    """The example ids (the dataset holds ``arange``) of a split part, in its order."""
    return [int(part[index][0]) for index in range(len(part))]


def probe_split_data(student: dict[str, Any]) -> dict[str, Any]:
    import torch
    from torch.utils.data import TensorDataset

    dataset = TensorDataset(torch.arange(SPLIT_EXAMPLES))
    train, val = call_student(student, "split_data", dataset, 0.2, 1)
    train_ids, val_ids = example_ids(train), example_ids(val)
    repeat_val = example_ids(call_student(student, "split_data", dataset, 0.2, 1)[1])
    other_val = example_ids(call_student(student, "split_data", dataset, 0.2, 2)[1])
    small = TensorDataset(torch.arange(1000))
    small_train, small_val = call_student(student, "split_data", small, 0.25, 1)
    gaps = set(np.diff(sorted(val_ids)).tolist())
    last_part = list(range(SPLIT_EXAMPLES - len(val_ids), SPLIT_EXAMPLES))
    return {
        "sizes": [len(train_ids), len(val_ids)],
        "overlap": len(set(train_ids) & set(val_ids)),
        "distinct": len(set(train_ids) | set(val_ids)),
        "same_seed_same_split": repeat_val == val_ids,
        "other_seed_other_split": other_val != val_ids,
        "val_is_last_part": sorted(val_ids) == last_part,
        "val_is_evenly_spaced": len(gaps) <= 1,
        "sizes_at_quarter_of_1000": [len(small_train), len(small_val)],
    }


def describe_module(module: Any) -> dict[str, Any]:
    """One manifest entry: the class and whatever the NumPy forward pass needs to redo it."""
    entry: dict[str, Any] = {"type": type(module).__name__}
    for attribute in MODULE_ATTRIBUTES:
        if hasattr(module, attribute):
            entry[attribute] = getattr(module, attribute)
    if entry["type"] == "Linear":
        entry["bias"] = module.bias is not None
    return entry


def leaf_modules(model: Any) -> list[Any]:
    """Modules without children: the layers that compute (a Sequential only groups them)."""
    return [module for module in model.modules() if not list(module.children())]


def trace_layers(model: Any, inputs: Any) -> tuple[list[dict], Any, list[tuple[str, Any]]]:
    """Run ``model`` once with hooks on its leaf modules; return the layers in call order.

    Call order, not registration order, is what the forward pass does; a module
    called twice (one shared ReLU) appears twice. Returns (manifest, output,
    [(weights name, module)] of the modules holding parameters).
    """
    calls: list[Any] = []
    hooks = [
        leaf.register_forward_hook(lambda *call: calls.append(call[0]))
        for leaf in leaf_modules(model)
    ]
    try:
        output = model(inputs)
    finally:
        for hook in hooks:
            hook.remove()
    names: dict[int, str] = {}
    holders: list[tuple[str, Any]] = []
    manifest = []
    for module in calls:
        entry = describe_module(module)
        if list(module.parameters(recurse=False)):
            if id(module) not in names:
                names[id(module)] = f"layer{len(names)}"
                holders.append((names[id(module)], module))
            entry["parameters"] = names[id(module)]
        manifest.append(entry)
    return manifest, output, holders


def build_model(student: dict[str, Any], units: dict[str, int], seed: int) -> Any:
    import torch

    torch.manual_seed(seed)
    model = call_student(student, "create_model", probe_config(units))
    if not isinstance(model, torch.nn.Module):
        problem = TypeError(f"returned a {type(model).__name__}, not an nn.Module")
        raise StudentCodeError("create_model", problem)
    return model


def probe_create_model(student: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    records = {}
    images = torch.from_numpy(probe_images().astype(np.float32) / 255.0)
    for label, units in MODEL_PROBES.items():
        model = build_model(student, units, seed).eval()
        parameter = next(model.parameters(), None)  # create_model may move it to `device`
        inputs = images if parameter is None else images.to(parameter.device)
        try:
            with torch.no_grad():
                manifest, two_outputs, _ = trace_layers(model, inputs[:2])
                outputs = model(inputs).cpu()
        except Exception as error:
            raise StudentCodeError("create_model", error) from error
        records[label] = {
            "units": units,
            "modules": [type(module).__name__ for module in leaf_modules(model)],
            "layers": manifest,
            "parameter_count": sum(parameter.numel() for parameter in model.parameters()),
            "output_shape": list(two_outputs.shape),
            "outputs": outputs.double().numpy(),
        }
    return records


def probe_loss_fn(student: dict[str, Any]) -> dict[str, Any]:
    """The loss of fixed logits given as logits, log-probabilities and probabilities."""
    import torch

    logits, labels = (torch.from_numpy(array) for array in loss_probe_inputs())
    forms = {"logits": logits, "log_probabilities": logits.log_softmax(dim=1)}
    values: dict[str, Any] = {"type": type(student_value(student, "loss_fn")).__name__}
    for form, outputs in {**forms, "probabilities": logits.softmax(dim=1)}.items():
        try:
            values[form] = as_float(call_student(student, "loss_fn", outputs, labels.clone()))
        except (Exception, SystemExit) as error:
            values[form] = describe_error(error)
    return values


def describe_optimizer(optimizer: Any, model: Any) -> dict[str, Any]:
    """Class, hyperparameters of each parameter group, and whether all of ``model`` is covered."""
    groups = list(getattr(optimizer, "param_groups", []))
    covered = {id(parameter) for group in groups for parameter in group.get("params", [])}
    classes = [kind.__name__ for kind in type(optimizer).__mro__]
    return {
        "classes": classes[: classes.index("Optimizer") + 1] if "Optimizer" in classes else classes,
        "groups": [{key: group[key] for key in OPTIMIZER_KEYS if key in group} for group in groups],
        "covers_all_parameters": all(id(parameter) in covered for parameter in model.parameters()),
    }


def probe_make_optimizer(student: dict[str, Any]) -> dict[str, Any]:
    from torch import nn

    records: dict[str, Any] = {}
    for name, hyperparameters in OPTIMIZER_PROBES.items():
        model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
        try:
            config = probe_config(hyperparameters)
            records[name] = describe_optimizer(
                call_student(student, "make_optimizer", model, config), model
            )
        except (Exception, SystemExit) as error:
            records[name] = describe_error(error)
    return records


def collect(notebook: Path, output_dir: Path, *, train_epochs: int, seed: int) -> None:
    """Run every part on the submission and write ``observations.json`` (and ``weights.npz``)."""
    import torch

    # Imported here because it imports this module's helpers.
    from autograder.sandbox import probe_pytorch_training as training

    # torch's first optimizer imports for seconds; that is not the student's time.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

    output_dir.mkdir(parents=True, exist_ok=True)
    observations: dict[str, Any] = {"framework": "pytorch", "seed": seed}
    try:
        student, observations["load"] = load_student_code(notebook)
        student["__load_errors__"] = observations["load"].get("cells", {})
    except (Exception, SystemExit) as error:
        student, observations["load"] = {}, describe_error(error)
    mlpkit.choose_device(threads=mlpkit.load_settings().torch_threads)
    parts: dict[str, Callable[[], Any]] = {
        "split_data": lambda: probe_split_data(student),
        "create_model": lambda: probe_create_model(student, seed),
        "loss_fn": lambda: probe_loss_fn(student),
        "make_optimizer": lambda: probe_make_optimizer(student),
        "train_epoch": lambda: training.probe_train_epoch(student, seed),
        "evaluate": lambda: training.probe_evaluate(student, seed),
        "fit": lambda: training.probe_fit(student, seed),
        "accuracy": lambda: training.probe_accuracy(student, output_dir, train_epochs, seed),
    }
    for name, probe in parts.items():
        torch.set_grad_enabled(True)  # a part that switched it off globally must not leak
        try:
            with time_limit(None if name == "accuracy" else PART_SECONDS):
                observations[name] = probe()
        except (Exception, SystemExit) as error:
            observations[name] = describe_error(error)
        (output_dir / "observations.json").write_text(json.dumps(observations, default=jsonable))
