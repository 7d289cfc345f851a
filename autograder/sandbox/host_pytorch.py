"""Host operations of the PyTorch notebook (03): build, call, step, and return raw results.

Each operation sets up what the driver asked for (a dataset of ids, a model
from the driver's weights, batches, a loss, an optimizer), calls one student
function, and returns the raw outcome: ids, weights, outputs, the tagged return
value. Nothing is judged here. The loop operations use the grader's own small
model with a mode-dependent layer (identity while training, halving while
evaluating), so training and evaluation mode change the numbers the driver
recomputes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import mlpkit
from autograder.sandbox.host_support import (
    _ISINSTANCE,
    _TYPE,
    StudentError,
    call_student,
    encode_value,
    error_record,
)

MODULE = nn.Module
OPTIMIZER = torch.optim.Optimizer
HISTORY = mlpkit.TrainingHistory
HISTORY_TO_DICT = mlpkit.TrainingHistory.to_dict
CPU = torch.device("cpu")
CALL_SECONDS = 60
torch.set_num_threads(mlpkit.load_settings().torch_threads)


class ModeProbe(nn.Module):
    """Identity in training mode, times 0.5 in evaluation mode (the grader's mode detector)."""

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        return values if self.training else values * 0.5


def probe_model(arrays: list[np.ndarray]) -> nn.Module:
    """The grader's loop model, Flatten → Linear → ModeProbe → ReLU → Linear, from its weights."""
    first, first_bias, second, second_bias = (torch.from_numpy(array.copy()) for array in arrays)
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(first.shape[1], first.shape[0]),
        ModeProbe(),
        nn.ReLU(),
        nn.Linear(second.shape[1], second.shape[0]),
    )
    with torch.no_grad():
        for parameter, value in zip(
            model.parameters(), (first, first_bias, second, second_bias), strict=True
        ):
            parameter.copy_(value)
    return model


def parameters_of(model: nn.Module) -> list[np.ndarray]:
    return [parameter.detach().cpu().numpy().astype(np.float32) for parameter in model.parameters()]


def loader(kind: str, images: np.ndarray, labels: np.ndarray, batch_size: int) -> Any:
    """A fixed-order loader of the driver's batches: a DataLoader or mlpkit.TensorBatches."""
    images_tensor, labels_tensor = torch.from_numpy(images.copy()), torch.from_numpy(labels.copy())
    if kind == "dataloader":
        return DataLoader(
            TensorDataset(images_tensor, labels_tensor), batch_size=batch_size, shuffle=False
        )
    return mlpkit.TensorBatches(images_tensor, labels_tensor, batch_size=batch_size, shuffle=False)


def reference_train_epoch(model, batches, loss_fn, optimizer, device):
    """The contract's train_epoch, used while ``fit`` is judged on its own."""
    model.train()
    total, correct, count = 0.0, 0, 0
    for images, labels in batches:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(images)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(labels)
        correct += int((outputs.argmax(dim=1) == labels).sum())
        count += len(labels)
    return total / count, correct / count


def reference_evaluate(model, batches, loss_fn, device):
    """The contract's evaluate, used while ``fit`` is judged on its own."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            outputs = model(images)
            total += float(loss_fn(outputs, labels)) * len(labels)
            correct += int((outputs.argmax(dim=1) == labels).sum())
            count += len(labels)
    return total / count, correct / count


def handlers(state: Any, kind: str) -> dict[str, Any]:
    namespace = state.namespace

    def split_data(args: dict, arrays: list) -> tuple[dict, list]:
        dataset = TensorDataset(torch.arange(int(args["examples"])))
        result = call_student(
            namespace,
            "split_data",
            dataset,
            float(args["val_fraction"]),
            int(args["seed"]),
            seconds=CALL_SECONDS,
        )
        if not _ISINSTANCE(result, (tuple, list)) or len(result) != 2:
            return {"returned": encode_value(result, [])}, []
        parts = []
        for part in result:
            try:
                parts.append(
                    np.array([int(part[index][0]) for index in range(len(part))], dtype=np.int64)
                )
            except Exception as error:  # noqa: BLE001 - what the student returned decides
                return {"unreadable": f"{_TYPE(error).__name__}: {error}"[:300]}, []
        return {"train": 0, "val": 1}, parts

    def create_model(args: dict, arrays: list) -> tuple[dict, list]:
        torch.manual_seed(int(args["seed"]))
        model = call_student(namespace, "create_model", dict(args["config"]), seconds=CALL_SECONDS)
        if not _ISINSTANCE(model, MODULE):
            return {"returned": encode_value(model, [])}, []
        state.objects[args["handle"]] = model
        parameters = list(model.parameters())
        return {
            "parameters": list(range(len(parameters))),
            "buffers": sum(buffer.numel() for buffer in model.buffers()),
        }, [parameter.detach().cpu().numpy() for parameter in parameters]

    def forward(args: dict, arrays: list) -> tuple[dict, list]:
        model = state.objects[args["handle"]]
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else CPU
        model.eval()
        try:
            with torch.no_grad():
                outputs = model(torch.from_numpy(arrays[0].copy()).to(device))
        except BaseException as error:  # noqa: BLE001
            raise StudentError(error_record(error, function="create_model")) from None
        if not _ISINSTANCE(outputs, torch.Tensor):
            return {"returned": encode_value(outputs, [])}, []
        return {"outputs": 0}, [outputs.detach().cpu().numpy()]

    def loss(args: dict, arrays: list) -> tuple[dict, list]:
        outputs = torch.from_numpy(arrays[0].copy()).requires_grad_(True)
        labels = torch.from_numpy(arrays[1].copy())
        value = call_student(namespace, "loss_fn", outputs, labels, seconds=CALL_SECONDS)
        returned: list[np.ndarray] = []
        tensor = _ISINSTANCE(value, torch.Tensor)
        answer: dict[str, Any] = {
            "value": encode_value(value.detach() if tensor else value, returned)
        }
        if tensor and value.requires_grad and value.numel() == 1:
            value.backward()
            if outputs.grad is not None:
                answer["gradient"] = len(returned)
                returned.append(outputs.grad.numpy())
        return answer, returned

    def optimizer_steps(args: dict, arrays: list) -> tuple[dict, list]:
        count = int(args["parameters"])
        model = nn.Sequential(
            nn.Linear(args["sizes"][0], args["sizes"][1]),
            nn.ReLU(),
            nn.Linear(args["sizes"][1], args["sizes"][2]),
        )
        with torch.no_grad():
            for parameter, value in zip(model.parameters(), arrays[:count], strict=True):
                parameter.copy_(torch.from_numpy(value.copy()))
        optimizer = call_student(
            namespace, "make_optimizer", model, dict(args["config"]), seconds=CALL_SECONDS
        )
        if not _ISINSTANCE(optimizer, OPTIMIZER) and not hasattr(optimizer, "step"):
            return {"returned": encode_value(optimizer, [])}, []
        snapshots: list[np.ndarray] = []
        gradients = arrays[count:]
        try:
            for step in range(len(gradients) // count):
                optimizer.zero_grad()
                for parameter, gradient in zip(
                    model.parameters(), gradients[step * count : (step + 1) * count], strict=True
                ):
                    parameter.grad = torch.from_numpy(gradient.copy())
                optimizer.step()
                snapshots.extend(parameters_of(model))
        except BaseException as error:  # noqa: BLE001
            raise StudentError(error_record(error, function="make_optimizer")) from None
        return {
            "steps": len(gradients) // count,
            "class": _TYPE(optimizer).__name__[:100],
        }, snapshots

    def loop_setup(args: dict, arrays: list) -> tuple[nn.Module, Any]:
        model = probe_model(arrays[:4])
        batches = loader(args["loader"], arrays[4], arrays[5], int(args["batch_size"]))
        return model, batches

    def train_epoch(args: dict, arrays: list) -> tuple[dict, list]:
        model, batches = loop_setup(args, arrays)
        optimizer = torch.optim.SGD(model.parameters(), lr=float(args["learning_rate"]))
        model.eval()  # train_epoch must switch to training mode itself
        returned: list[np.ndarray] = []
        result = call_student(
            namespace,
            "train_epoch",
            model,
            batches,
            nn.CrossEntropyLoss(),
            optimizer,
            CPU,
            seconds=CALL_SECONDS,
        )
        value = encode_value(result, returned)
        return {"returned": value, "parameters": len(returned)}, [*returned, *parameters_of(model)]

    def evaluate(args: dict, arrays: list) -> tuple[dict, list]:
        model, batches = loop_setup(args, arrays)
        model.train()  # evaluate must switch to evaluation mode itself
        returned: list[np.ndarray] = []
        result = call_student(
            namespace, "evaluate", model, batches, nn.CrossEntropyLoss(), CPU, seconds=CALL_SECONDS
        )
        value = encode_value(result, returned)
        gradients = any(parameter.grad is not None for parameter in model.parameters())
        return {"returned": value, "parameters": len(returned), "gradients": gradients}, [
            *returned,
            *parameters_of(model),
        ]

    def fit(args: dict, arrays: list) -> tuple[dict, list]:
        model = probe_model(arrays[:4])
        train = loader(args["loader"], arrays[4], arrays[5], int(args["batch_size"]))
        val = loader(args["loader"], arrays[6], arrays[7], int(args["batch_size"]))
        optimizer = torch.optim.SGD(model.parameters(), lr=float(args["learning_rate"]))
        saved = {name: namespace.get(name) for name in ("train_epoch", "evaluate")}
        namespace.update(train_epoch=reference_train_epoch, evaluate=reference_evaluate)
        try:
            history = call_student(
                namespace,
                "fit",
                model,
                train,
                val,
                nn.CrossEntropyLoss(),
                optimizer,
                int(args["epochs"]),
                CPU,
                seconds=CALL_SECONDS,
            )
        finally:
            namespace.update(saved)
        answer: dict[str, Any] = {"type": _TYPE(history).__name__[:100]}
        if _TYPE(history) is HISTORY:
            answer["history"] = HISTORY_TO_DICT(history)
        return answer, parameters_of(model)

    return {
        "split_data": split_data,
        "create_model": create_model,
        "forward": forward,
        "loss": loss,
        "optimizer_steps": optimizer_steps,
        "train_epoch": train_epoch,
        "evaluate": evaluate,
        "fit": fit,
    }
