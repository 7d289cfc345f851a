"""Does the split explain why Keras trailed PyTorch? Which 20% ``validation_split`` holds out.

``fit(validation_split=0.2)`` holds out the *last* 20% of the arrays, so every seed
of a Keras study trains on the same 48,000 images, while the PyTorch notebook draws
a random split per seed. This trains the reference Keras solution (its own cells,
loaded from the solution notebook) with the Adam best config in four variants, over
several seeds, and prints mean ± sd test accuracy:

- ``last-20-percent``: the arrays as stored (the original recipe);
- ``first-20-percent``: another fixed split (the first 12,000 images held out);
- ``adam-eps-1e-8``: the last 20%, with PyTorch's Adam epsilon instead of Keras' 1e-7;
- ``shuffled``: one seeded shuffle before ``fit``, as notebook 02 now does.

    python benchmarks/keras_split_study.py [--seeds 0,1,2] [--epochs 19]
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from seed_variants import parse_seeds_and_epochs, report_variants

import mlpkit
from mlpkit.notebook_code import load_cells

SOLUTION = (
    Path(__file__).resolve().parents[1]
    / "solutions"
    / "mlp-fashion-mnist"
    / "02-tensorflow-mlp.ipynb"
)
VARIANTS = ("last-20-percent", "first-20-percent", "adam-eps-1e-8", "shuffled")


def ordered_training_set(variant: str, seed: int, data) -> tuple[np.ndarray, np.ndarray]:
    """The training arrays in the order ``fit`` sees them: its last 20% are held out."""
    images, labels = data.x_train, data.y_train
    if variant == "first-20-percent":
        order = np.roll(np.arange(len(labels)), -len(labels) // 5)
    elif variant == "shuffled":
        order = np.random.default_rng(seed).permutation(len(labels))
    else:
        return images, labels
    return images[order], labels[order]


def train_variant(reference, variant: str, seed: int, epochs: int, data) -> float:
    """Train one variant for ``epochs`` and return its test accuracy."""
    config = {**mlpkit.load_best_config("adam"), "epochs": epochs}
    keras.backend.clear_session()
    mlpkit.seed_everything(seed, framework="tensorflow")
    model = reference.compile_model(reference.create_model(config), config)
    if variant == "adam-eps-1e-8":
        optimizer = keras.optimizers.Adam(
            learning_rate=config["learning_rate"],
            beta_1=config["beta_1"],
            beta_2=config["beta_2"],
            epsilon=1e-8,
        )
        model.compile(optimizer=optimizer, loss=model.loss, metrics=["accuracy"])
    images, labels = ordered_training_set(variant, seed, data)
    model.fit(
        images,
        labels,
        batch_size=config["batch_size"],
        epochs=epochs,
        validation_split=0.2,
        verbose=0,
    )
    return model.evaluate(data.x_test, data.y_test, verbose=0)[1]


def main(*, seeds: list[int], epochs: int) -> None:
    reference = load_cells(SOLUTION, ["create_model", "compile_model"], namespace={"keras": keras})
    data = mlpkit.load_fashion_mnist()
    print(f"Adam best config, {epochs} epochs, seeds {seeds}; test accuracy:")
    report_variants(
        VARIANTS, seeds, lambda variant, seed: train_variant(reference, variant, seed, epochs, data)
    )


if __name__ == "__main__":
    seeds, epochs = parse_seeds_and_epochs(__doc__)
    main(seeds=seeds, epochs=epochs)
