"""PyTorch half of benchmarks/training_speed.py: one process, one thread count, epochs interleaved.

Three epoch runners take turns, round after round: the seed's real pipeline
(torchvision's ``FashionMNIST`` + ``ToTensor`` + ``DataLoader``, ``LogSoftmax`` +
``NLLLoss``, the default Adam, a hand-written loop), the kit (notebook 03's graded
cells on ``mlpkit.TensorBatches``: the whole split on the device as one float
tensor), and the limit (the epoch's matrix products alone, as torch computes them
in ``Linear``'s forward and backward, into preallocated outputs).

    python benchmarks/training_speed_torch.py --threads 1 --epochs 5 --output torch-1.json
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tqdm.auto import tqdm
from training_speed import KIT, LIMIT, SEED, SOLUTIONS, batch_counts, layer_sizes, worker_main

NOTEBOOK_03 = SOLUTIONS / "03-pytorch-mlp.ipynb"
GRADED_CELLS = [
    "split_data",
    "create_model",
    "loss_fn",
    "make_optimizer",
    "train_epoch",
    "evaluate",
]


def seed_runner(root: Path, config: dict, *, seed: int):
    """The seed's PyTorch notebook: torchvision data, a split by hand, its loop."""
    import torch
    import torchvision
    from torch import nn
    from torch.utils.data import DataLoader, random_split
    from torchvision.transforms import ToTensor

    dataset = torchvision.datasets.FashionMNIST(
        root, train=True, download=False, transform=ToTensor()
    )
    train_set, val_set = random_split(
        dataset, [48_000, 12_000], generator=torch.Generator().manual_seed(seed)
    )
    train_loader = DataLoader(train_set, batch_size=config["batch_size"], shuffle=True)
    val_loader = DataLoader(val_set, batch_size=config["batch_size"])
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, config["dense_1"]),
        nn.ReLU(),
        nn.Linear(config["dense_1"], config["dense_2"]),
        nn.ReLU(),
        nn.Linear(config["dense_2"], config["dense_3"]),
        nn.ReLU(),
        nn.Linear(config["dense_3"], config["dense_4"]),
        nn.ReLU(),
        nn.Linear(config["dense_4"], 10),
        nn.LogSoftmax(dim=1),
    )
    loss_function = nn.NLLLoss()
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config["learning_rate"], betas=(config["beta_1"], config["beta_2"])
    )

    def run_epoch() -> None:
        model.train()
        running_loss, correct = 0.0, 0
        for images, labels in train_loader:
            optimizer.zero_grad()
            outputs = model(images)
            loss = loss_function(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(labels)
            correct += (outputs.argmax(dim=1) == labels).sum().item()
        model.eval()
        val_loss, val_correct = 0.0, 0
        with torch.no_grad():
            for images, labels in val_loader:
                outputs = model(images)
                val_loss += loss_function(outputs, labels).item() * len(labels)
                val_correct += (outputs.argmax(dim=1) == labels).sum().item()

    return run_epoch


def kit_runner(notebook, data, config: dict, *, device, seed: int):
    """Notebook 03's graded cells on device-resident batches, as its training cells use them."""
    import torch
    from torch.utils.data import TensorDataset

    import mlpkit

    # Notebook 03's data and loaders cells.
    train_images, train_labels = mlpkit.to_tensors(data.x_train, data.y_train)
    full_train_set = TensorDataset(train_images, train_labels)
    train_set, val_set = notebook.split_data(full_train_set, 0.2, seed=seed)
    batch_options = {"batch_size": config["batch_size"], "device": device}
    train_loader = mlpkit.TensorBatches.from_dataset(
        train_set, shuffle=True, seed=seed, **batch_options
    )
    val_loader = mlpkit.TensorBatches.from_dataset(val_set, **batch_options)
    # Its training cell (fit's loop body, without the tracker and the progress bar).
    torch.manual_seed(seed)
    model = notebook.create_model(config).to(device)
    optimizer = notebook.make_optimizer(model, config)

    def run_epoch() -> None:
        notebook.train_epoch(model, train_loader, notebook.loss_fn, optimizer, device)
        notebook.evaluate(model, val_loader, notebook.loss_fn, device)

    return run_epoch


def limit_runner(units: list[int], batch_size: int):
    """One epoch's matrix products alone, with the operand layouts ``Linear`` uses.

    Forward ``addmm(bias, x, W.t())``; backward ``g.t() @ x`` (weight gradient) and
    ``g @ W`` (input gradient, not for the first layer), as autograd computes them.
    """
    import torch

    shapes = list(zip(units, units[1:], strict=False))
    weights = [torch.randn(fan_out, fan_in) for fan_in, fan_out in shapes]
    biases = [torch.randn(fan_out) for _, fan_out in shapes]
    weight_gradients = [torch.empty(fan_out, fan_in) for fan_in, fan_out in shapes]

    def buffers(batch: int) -> dict:
        return {
            "inputs": [torch.randn(batch, fan_in) for fan_in, _ in shapes],
            "outputs": [torch.empty(batch, fan_out) for _, fan_out in shapes],
            "gradients": [torch.randn(batch, fan_out) for _, fan_out in shapes],
            "input_gradients": [torch.empty(batch, fan_in) for fan_in, _ in shapes],
        }

    passes = []
    for examples, train in ((48_000, True), (12_000, False)):
        for batch, count in batch_counts(examples, batch_size).items():
            passes.append((buffers(batch), count, train))

    def run_epoch() -> None:
        for tensors, count, train in passes:
            layers = list(
                zip(tensors["inputs"], tensors["outputs"], tensors["gradients"], strict=True)
            )
            for _ in range(count):
                for index, (x, out, _) in enumerate(layers):
                    torch.addmm(biases[index], x, weights[index].t(), out=out)
                if not train:
                    continue
                for index in reversed(range(len(layers))):
                    x, out, gradient = layers[index]
                    torch.mm(gradient.t(), x, out=weight_gradients[index])
                    if index > 0:
                        torch.mm(gradient, weights[index], out=tensors["input_gradients"][index])

    return run_epoch


def measure(*, threads: int, epochs: int, seed: int = 0) -> dict:
    """Run seed, kit and limit in turns for ``epochs`` rounds after one warm-up round."""
    import numpy as np
    import torch
    import torchvision
    from torch import nn

    import mlpkit
    from mlpkit.notebook_code import load_cells

    notebook = load_cells(
        NOTEBOOK_03,
        GRADED_CELLS,
        namespace={"torch": torch, "nn": nn, "np": np, "mlpkit": mlpkit},
    )
    device = mlpkit.choose_device("cpu", threads=threads)
    config = mlpkit.load_best_config("adam")
    data = mlpkit.load_fashion_mnist()
    with tempfile.TemporaryDirectory() as root:
        runners = {
            SEED: seed_runner(mlpkit.prepare_torchvision_root(root), config, seed=seed),
            KIT: kit_runner(notebook, data, config, device=device, seed=seed),
            LIMIT: limit_runner(layer_sizes(config), config["batch_size"]),
        }
        records = {name: {"wall": [], "cpu": []} for name in runners}
        progress = tqdm(
            total=(epochs + 1) * len(runners), desc=f"pytorch, {threads} thread(s)", unit="epoch"
        )
        for round_index in range(epochs + 1):
            for name, run_epoch in runners.items():
                wall, cpu = time.perf_counter(), time.process_time()
                run_epoch()
                if round_index > 0:  # round 0 warms up allocations and kernels
                    records[name]["wall"].append(time.perf_counter() - wall)
                    records[name]["cpu"].append(time.process_time() - cpu)
                progress.update(1)
        progress.close()
    return {
        "framework": "pytorch",
        "threads": threads,
        "variants": records,
        "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__},
    }


if __name__ == "__main__":
    worker_main(measure, __doc__.splitlines()[0])
