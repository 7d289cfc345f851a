"""Why the original PyTorch model trailed Keras: change one framework default at a time.

Trains the reference PyTorch solution (its own cells, loaded from the solution
notebook) with the Adam best config, in three variants, over several seeds, and
prints mean ± sd test accuracy:

- ``pytorch-default-init``: PyTorch's own ``nn.Linear`` initialisation
  (``reset_parameters``), as in the original port;
- ``adam-eps-1e-7``: the same, with Keras' Adam epsilon instead of PyTorch's 1e-8;
- ``glorot-init``: the reference solution (Glorot-uniform weights, zero biases).

Loss averaging needs no run: both frameworks average the loss over the batch.

    python benchmarks/pytorch_init_study.py [--seeds 0,1,2] [--epochs 19]
"""

from __future__ import annotations

from pathlib import Path

import torch
from seed_variants import parse_seeds_and_epochs, report_variants
from torch import nn

import mlpkit
from mlpkit.notebook_code import load_cells

SOLUTION = (
    Path(__file__).resolve().parents[1] / "solutions" / "mlp-fashion-mnist" / "03-pytorch-mlp.ipynb"
)
VARIANTS = ("pytorch-default-init", "adam-eps-1e-7", "glorot-init")


def train_variant(reference, variant: str, seed: int, epochs: int, data) -> float:
    """Train one variant for ``epochs`` and return its test accuracy."""
    config = mlpkit.load_best_config("adam")
    device = mlpkit.choose_device(threads=mlpkit.load_settings().torch_threads)
    mlpkit.seed_everything(seed, framework="pytorch")
    images, labels = mlpkit.to_tensors(data.x_train, data.y_train)
    train_set, _ = reference.split_data(
        torch.utils.data.TensorDataset(images, labels), 0.2, seed=seed
    )
    options = {"batch_size": config["batch_size"], "device": device}
    train_loader = mlpkit.TensorBatches.from_dataset(train_set, shuffle=True, seed=seed, **options)
    test_loader = mlpkit.TensorBatches.from_numpy(data.x_test, data.y_test, **options)
    model = reference.create_model(config)
    if variant != "glorot-init":
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()  # PyTorch's default initialisation
    model = model.to(device)
    optimizer = reference.make_optimizer(model, config)
    if variant == "adam-eps-1e-7":
        for group in optimizer.param_groups:
            group["eps"] = 1e-7
    for _ in range(epochs):
        reference.train_epoch(model, train_loader, reference.loss_fn, optimizer, device)
    return reference.evaluate(model, test_loader, reference.loss_fn, device)[1]


def main(*, seeds: list[int], epochs: int) -> None:
    reference = load_cells(
        SOLUTION,
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
    data = mlpkit.load_fashion_mnist()
    print(f"Adam best config, {epochs} epochs, seeds {seeds}; test accuracy:")
    report_variants(
        VARIANTS, seeds, lambda variant, seed: train_variant(reference, variant, seed, epochs, data)
    )


if __name__ == "__main__":
    seeds, epochs = parse_seeds_and_epochs(__doc__)
    main(seeds=seeds, epochs=epochs)
