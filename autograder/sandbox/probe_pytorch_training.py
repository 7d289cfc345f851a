"""Probes of the PyTorch training code: train_epoch, evaluate, fit, and the accuracy run.

They run on the grader's own small model, data and loss, so each loop function is
judged apart from create_model and loss_fn. The loss records, at every call, its
value, the correct count and the fresh gradient of that very batch; a recording
optimizer compares what it is asked to step on with that gradient, which shows a
missing ``zero_grad`` without guessing from accuracy. Hooks record the mode and
whether gradients were tracked during each forward pass. The accuracy run trains
the best Adam config with the student's functions under the grader's control.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import mlpkit
from autograder.sandbox.probe_pytorch import (
    as_float,
    build_model,
    call_student,
    probe_images,
    student_value,
    trace_layers,
)

LOOP_BATCH, LOOP_TRAIN_BATCHES, LOOP_VAL_BATCHES, FIT_EPOCHS = 8, 5, 3, 3


def loop_setup(seed: int, batches: int) -> tuple[Any, Any, dict[str, list], Callable]:
    """A small probe model, a loader of ``batches`` full batches and a recording loss.

    The model and loss are the grader's own, so train_epoch, evaluate and fit are
    judged apart from create_model and loss_fn. Each loss call records its value,
    correct count, mode and the fresh gradient of that very batch.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 12), nn.ReLU(), nn.Linear(12, 10))
    images = torch.from_numpy(probe_images(LOOP_BATCH * batches).astype(np.float32) / 255.0)
    labels = torch.randint(0, 10, (len(images),), generator=torch.Generator().manual_seed(seed))
    loader = mlpkit.TensorBatches(images, labels, batch_size=LOOP_BATCH, shuffle=True, seed=seed)
    log: dict[str, list] = {"forward_modes": [], "forward_grad_enabled": [], "losses": []}

    def record_forward(module: Any, args: Any) -> None:
        log["forward_modes"].append(module.training)
        log["forward_grad_enabled"].append(torch.is_grad_enabled())

    model.register_forward_pre_hook(record_forward)

    def recording_loss(outputs: Any, targets: Any) -> Any:
        loss = nn.functional.cross_entropy(outputs, targets)
        fresh = None
        if loss.requires_grad:
            fresh = torch.autograd.grad(loss, list(model.parameters()), retain_graph=True)
        correct = int((outputs.detach().argmax(dim=1) == targets).sum())
        log["losses"].append((float(loss.detach()), len(targets), correct, fresh))
        return loss

    return model, loader, log, recording_loss


def returned_pair(result: Any) -> dict[str, Any]:
    """Types and values of what a (loss, accuracy) function returned."""
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    values = []
    for item in items:
        try:
            values.append(as_float(item))
        except (TypeError, ValueError, RuntimeError):
            values.append(None)
    return {"types": [type(item).__name__ for item in items], "values": values}


def epoch_reference(losses: list[tuple]) -> dict[str, float]:
    count = sum(size for _, size, _, _ in losses)
    return {
        "loss": sum(value * size for value, size, _, _ in losses) / max(count, 1),
        "accuracy": sum(correct for _, _, correct, _ in losses) / max(count, 1),
    }


def probe_train_epoch(student: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    model, loader, log, loss = loop_setup(seed, LOOP_TRAIN_BATCHES)
    steps: list[dict[str, Any]] = []

    class RecordingSGD(torch.optim.SGD):
        """SGD that compares, at every step, the gradients with the last batch's own."""

        def step(self, closure: Any = None) -> Any:
            history = [entry[3] for entry in log["losses"] if entry[3] is not None]
            fresh = history[-1] if history else None
            accumulated = [sum(group) for group in zip(*history, strict=True)] if history else None
            errors = (gradient_error(self, fresh), gradient_error(self, accumulated))
            steps.append({"gradient_error": errors[0], "accumulated_error": errors[1]})
            return super().step(closure)

    optimizer = RecordingSGD(model.parameters(), lr=0.05)
    model.eval()  # train_epoch must switch to training mode itself
    result = call_student(
        student, "train_epoch", model, loader, loss, optimizer, torch.device("cpu")
    )
    return {
        "batches": len(loader),
        "steps": steps,
        "forward_modes": log["forward_modes"],
        "returned": returned_pair(result),
        "reference": epoch_reference([entry for entry in log["losses"] if entry[3] is not None]),
    }


def gradient_error(optimizer: Any, expected: Any) -> float | None:
    """Largest gap between the gradients a step sees and ``expected``, relative; None if absent."""
    parameters = [parameter for group in optimizer.param_groups for parameter in group["params"]]
    if expected is None or any(parameter.grad is None for parameter in parameters):
        return None
    gaps = [
        (parameter.grad - wanted).abs().max()
        for parameter, wanted in zip(parameters, expected, strict=True)
    ]
    scale = max(float(wanted.abs().max()) for wanted in expected) + 1e-12
    return max(float(gap) for gap in gaps) / scale


def unchanged(before: list[Any], model: Any) -> bool:
    """Whether every parameter of ``model`` still equals its copy in ``before``, bit for bit."""
    import torch

    after = list(model.parameters())
    return len(before) == len(after) and all(map(torch.equal, before, after))


def probe_evaluate(student: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    model, loader, log, loss = loop_setup(seed, LOOP_VAL_BATCHES)
    with torch.no_grad():
        outputs = model(loader.images)
        reference = {
            "loss": float(torch.nn.functional.cross_entropy(outputs, loader.labels)),
            "accuracy": float((outputs.argmax(dim=1) == loader.labels).float().mean()),
        }
    log["forward_modes"].clear()
    log["forward_grad_enabled"].clear()
    before = [parameter.detach().clone() for parameter in model.parameters()]
    model.train()  # evaluate must switch to evaluation mode itself
    result = call_student(student, "evaluate", model, loader, loss, torch.device("cpu"))
    return {
        "weights_unchanged": unchanged(before, model),
        "gradients_after": any(parameter.grad is not None for parameter in model.parameters()),
        "forward_modes": log["forward_modes"],
        "forward_grad_enabled": log["forward_grad_enabled"],
        "returned": returned_pair(result),
        "reference": reference,
    }


def probe_fit(student: dict[str, Any], seed: int) -> dict[str, Any]:
    import torch

    model, train_loader, _, loss = loop_setup(seed, LOOP_TRAIN_BATCHES)
    _, val_loader, _, _ = loop_setup(seed + 1, LOOP_VAL_BATCHES)
    before = [parameter.detach().clone() for parameter in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    arguments = (model, train_loader, val_loader, loss, optimizer, FIT_EPOCHS, torch.device("cpu"))
    history = call_student(student, "fit", *arguments)
    curves = {
        key: list(getattr(history, key, None) or [])
        for key in ("loss", "accuracy", "val_loss", "val_accuracy")
    }
    return {
        "epochs": FIT_EPOCHS,
        "type": type(history).__name__,
        "is_training_history": isinstance(history, mlpkit.TrainingHistory),
        "length": len(history) if hasattr(history, "__len__") else None,
        "curves": {key: [as_float(value) for value in values] for key, values in curves.items()},
        "weights_changed": not unchanged(before, model),
    }


def probe_accuracy(
    student: dict[str, Any], output_dir: Path, train_epochs: int, seed: int
) -> dict[str, Any]:
    """Train the best Adam config under the grader's control; save the weights it reached.

    The grader's own seeded 48,000/12,000 split and batches, not the student's
    split_data, so that only create_model, loss_fn, make_optimizer and fit decide.
    """
    import torch

    if train_epochs <= 0:
        return {"skipped": "not trained: the grader ran the probe with --train-epochs 0"}
    started = time.perf_counter()
    mlpkit.seed_everything(seed, framework="pytorch")
    device = mlpkit.choose_device(threads=mlpkit.load_settings().torch_threads)
    config = {**mlpkit.load_best_config("adam"), "epochs": train_epochs}
    images, labels = mlpkit.load_training_data()
    order = np.random.default_rng(seed).permutation(len(images))
    val_size = round(0.2 * len(images))
    options = {"batch_size": config["batch_size"], "device": device}
    train_rows, val_rows = order[val_size:], order[:val_size]
    train_loader = mlpkit.TensorBatches.from_numpy(
        images[train_rows], labels[train_rows], shuffle=True, seed=seed, **options
    )
    val_loader = mlpkit.TensorBatches.from_numpy(images[val_rows], labels[val_rows], **options)
    model = build_model(student, {}, seed).to(device)
    optimizer = call_student(student, "make_optimizer", model, dict(config))
    steps = [0]
    if hasattr(optimizer, "register_step_post_hook"):
        optimizer.register_step_post_hook(lambda *_: steps.__setitem__(0, steps[0] + 1))
    loss = student_value(student, "loss_fn")
    arguments = (model, train_loader, val_loader, loss, optimizer, train_epochs, device)
    history = call_student(student, "fit", *arguments)
    is_history = isinstance(history, mlpkit.TrainingHistory)
    model.eval()
    fidelity = torch.from_numpy(probe_images().astype(np.float32) / 255.0).to(device)
    with torch.no_grad():
        manifest, _, holders = trace_layers(model, fidelity[:2])
        fidelity_outputs = model(fidelity).double().cpu().numpy()
    arrays = {
        f"{name}.{parameter_name}": parameter.detach().cpu().numpy()
        for name, module in holders
        for parameter_name, parameter in module.named_parameters(recurse=False)
    }
    np.savez(output_dir / "weights.npz", **arrays)
    return {
        "epochs": train_epochs,
        "device": str(device),
        "seconds": time.perf_counter() - started,
        "optimizer_steps": steps[0],
        "expected_steps": train_epochs * len(train_loader),
        "history": history.to_dict() if is_history else type(history).__name__,
        "manifest": {"input": "pixels / 255, shape (N, 28, 28)", "layers": manifest},
        "fidelity_outputs": fidelity_outputs,
    }
