"""Each notebook kind's measuring pipeline: the answer cells it loads and its ordered parts.

The lists are the pipelines (tests assert them): a part runs after the parts
before it, and reads what they found from ``session.shared``. Budgets are the
wall-clock seconds each part may take; a part that overruns is stopped and the
next one gets a fresh host.
"""

from __future__ import annotations

from autograder.measure import accuracy, functions, pytorch, pytorch_loop, tensorflow, tuning
from autograder.measure.session import Part
from autograder.measure.tensorflow_training import train_model

CELLS = {
    "exploration": ("setup", "class_counts"),
    "comparison": ("setup", "generalisation_gap"),
    "tuning": ("search_spaces",),
    "pytorch": (
        "setup",
        "split_data",
        "create_model",
        "loss_fn",
        "make_optimizer",
        "train_epoch",
        "evaluate",
        "fit",
    ),
    "tensorflow": ("setup", "create_model", "compile_model", "train_model"),
}
PIPELINES: dict[str, list[Part]] = {
    "exploration": [Part("class_counts", 30, functions.class_counts, ("class_counts",))],
    "comparison": [
        Part("generalisation_gap", 30, functions.generalisation_gap, ("generalisation_gap",))
    ],
    "tuning": [Part("search_spaces", 30, tuning.search_spaces, ("search_spaces",))],
    "pytorch": [
        Part("split_data", 60, pytorch.split_data, ("split_data",)),
        Part("create_model", 60, pytorch.create_model, ("create_model",)),
        Part("loss_fn", 30, pytorch.loss_fn, ("loss_fn",)),
        Part("make_optimizer", 30, pytorch.make_optimizer, ("make_optimizer",)),
        Part("train_epoch", 60, pytorch_loop.train_epoch, ("train_epoch",)),
        Part("evaluate", 60, pytorch_loop.evaluate, ("evaluate",)),
        Part("fit", 60, pytorch_loop.fit, ("fit",)),
        Part("accuracy", 900, accuracy.pytorch, uses_host=False),
    ],
    "tensorflow": [
        Part("create_model", 90, tensorflow.create_model, ("create_model",)),
        Part("compile_model", 120, tensorflow.compile_model, ("compile_model",)),
        Part("train_model", 120, train_model, ("train_model",)),
        Part("accuracy", 900, accuracy.tensorflow, uses_host=False),
    ],
}
