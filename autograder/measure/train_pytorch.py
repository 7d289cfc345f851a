"""The grader's own PyTorch training of an identified student spec (trusted; no student code).

``python -m autograder.measure.train_pytorch`` reads a spec (JSON on stdin, see
``accuracy.py``), trains it on the training set with the grader's split,
batches, Glorot initialisation and seed, and writes the weights as one
``protocol`` message on stdout. The spec carries what the student's code was
measured to do (widths, activation, output, loss formula, optimizer and its
hyperparameters, the loop's known mistakes), so the accuracy it reaches is the
accuracy of the student's code, from training the grader controls.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional

import mlpkit
from autograder.sandbox.protocol import write_message

ACTIVATIONS = {
    "relu": functional.relu,
    "leaky_relu": lambda values: functional.leaky_relu(values, 0.01),
    "leaky_relu_0.2": lambda values: functional.leaky_relu(values, 0.2),
    "relu6": functional.relu6,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "elu": functional.elu,
    "gelu": functional.gelu,
    "silu": functional.silu,
    "linear": lambda values: values,
}
HEADS = {
    "logits": lambda values: values,
    "log_softmax": lambda values: functional.log_softmax(values, dim=1),
    "softmax": lambda values: functional.softmax(values, dim=1),
    "relu": functional.relu,
}


class SpecNetwork(nn.Module):
    """The identified MLP: Linear layers of the spec's widths, its activation and output."""

    def __init__(self, widths: list[int], activation: str, head: str) -> None:
        super().__init__()
        sizes = [784, *widths, 10]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:], strict=False))
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.activation, self.head = ACTIVATIONS[activation], HEADS[head]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        values = images.flatten(1)
        for layer in self.layers[:-1]:
            values = self.activation(layer(values))
        return self.head(self.layers[-1](values))


def loss_function(kind: str):
    reduction = "sum" if kind.endswith("_sum") else "mean"
    base = kind.removesuffix("_sum")
    if base == "cross_entropy":
        return lambda outputs, labels: functional.cross_entropy(
            outputs, labels, reduction=reduction
        )
    if base == "nll":
        return lambda outputs, labels: functional.nll_loss(outputs, labels, reduction=reduction)
    if base == "log_nll":
        return lambda outputs, labels: functional.nll_loss(
            torch.log(outputs), labels, reduction=reduction
        )
    raise ValueError(f"unknown loss kind {kind!r}")


def optimizer_for(model: nn.Module, reading: dict) -> torch.optim.Optimizer:
    hyper, kind = reading["hyperparameters"], reading["kind"]
    rate = hyper["learning_rate"]
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=rate, momentum=hyper["momentum"])
    if kind == "adam":
        return torch.optim.Adam(
            model.parameters(), lr=rate, betas=(hyper["beta_1"], hyper["beta_2"])
        )
    if kind == "rmsprop":
        return torch.optim.RMSprop(
            model.parameters(), lr=rate, alpha=hyper["rho"], momentum=hyper["momentum"]
        )
    raise ValueError(f"unknown optimizer {kind!r}")


def train(spec: dict) -> tuple[list[np.ndarray], dict]:
    seed = int(spec["seed"])
    mlpkit.seed_everything(seed, framework="pytorch")
    device = mlpkit.choose_device(threads=int(spec.get("threads", 1)))
    images, labels = mlpkit.load_training_data()
    order = np.random.default_rng(seed).permutation(len(images))
    validation = round(0.2 * len(images))
    options = {"batch_size": int(spec["batch_size"]), "device": device}
    train_rows = order[validation:]
    loader = mlpkit.TensorBatches.from_numpy(
        images[train_rows], labels[train_rows], shuffle=True, seed=seed, **options
    )
    model = SpecNetwork(spec["widths"], spec["activation"], spec["head"]).to(device)
    optimizer = optimizer_for(model, spec["optimizer"])
    loss_fn, loop = loss_function(spec["loss"]), spec["loop"]
    started = time.perf_counter()
    for _ in range(int(spec["epochs"])):
        model.train()
        for batch_images, batch_labels in loader:
            if loop != "no_zero_grad":
                optimizer.zero_grad()
            loss = loss_fn(model(batch_images), batch_labels)
            loss.backward()
            if loop != "no_step":
                optimizer.step()
    weights = []
    for layer in model.layers:
        weights += [layer.weight.detach().cpu().numpy().T.copy(), layer.bias.detach().cpu().numpy()]
    return weights, {"seconds": round(time.perf_counter() - started, 2), "device": str(device)}


def main(argv: list[str] | None = None) -> int:
    """Read the spec on stdin; write the weights to ``--output-fd`` (stdout may carry noise)."""
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 2 or arguments[0] != "--output-fd":
        print(f"usage: python -m {__name__} --output-fd N  < spec.json", file=sys.stderr)
        return 2
    spec = json.loads(sys.stdin.read())
    weights, info = train(spec)
    write_message(
        int(arguments[1]), {"info": info}, [array.astype(np.float32) for array in weights]
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
