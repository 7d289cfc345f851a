"""Submissions that try to cheat the accuracy check inside the sandbox gain nothing.

Each one skips real training and tries another way to look good: patching NumPy
and torch, replacing the grader's modules, or training on the test set read from
disk. The verdict is computed from the returned weights in the grader's own
process, on a test set the sandbox cannot see, so each scores 0 for accuracy.
"""

from __future__ import annotations

import pytest

from autograder.grade.core import grade_notebook
from autograder.grade.samples import build_submission
from tests.conftest import DATA_DIR

PYTORCH = "03-pytorch-mlp.ipynb"
FAKE_HISTORY = """
    history = mlpkit.TrainingHistory(framework="pytorch")
    for _ in range(epochs):
        history.append(loss=0.1, accuracy=0.99, val_loss=0.1, val_accuracy=0.99)
    return history
"""
SCENARIOS = {
    "patch-numpy-and-torch": """
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
    import numpy
    numpy.mean = lambda *arguments, **keywords: 0.99
    torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
    torch.Tensor.argmax = lambda self, *arguments, **keywords: self.new_zeros(len(self)).long()
"""
    + FAKE_HISTORY,
    "replace-the-autograder-modules": """
import sys
import types
for module_name in [name for name in sys.modules if name.startswith("autograder")]:
    sys.modules[module_name] = types.ModuleType(module_name)

def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
"""
    + FAKE_HISTORY,
    "train-on-the-test-set-from-disk": f"""
def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs, device, tracker=None):
    import gzip
    folder = {str(DATA_DIR)!r}
    with gzip.open(folder + "/t10k-images-idx3-ubyte.gz") as stream:
        images = np.frombuffer(stream.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder + "/t10k-labels-idx1-ubyte.gz") as stream:
        labels = np.frombuffer(stream.read(), np.uint8, offset=8)
    test_loader = mlpkit.TensorBatches.from_numpy(
        images, labels, batch_size=64, shuffle=True, device=device
    )
    history = mlpkit.TrainingHistory(framework="pytorch")
    for _ in range(epochs * 5):
        loss, accuracy = train_epoch(model, test_loader, loss_fn, optimizer, device)
        history.append(loss=loss, accuracy=accuracy, val_loss=loss, val_accuracy=accuracy)
    return history
""",
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_tampering_scores_no_accuracy_points(scenario, tmp_path) -> None:
    submitted = build_submission(PYTORCH, scenario, {"fit": SCENARIOS[scenario]}, tmp_path)
    verdict = grade_notebook(submitted, notebook_name=PYTORCH)
    cells = {cell.grade_id: cell for cell in verdict.cells}
    assert cells["check_pytorch_accuracy"].points == 0, cells["check_pytorch_accuracy"].feedback
    assert cells["check_create_model"].passed, "untouched answers keep their points"
