"""Sample submissions built from the solution notebooks: one named scenario each.

A scenario replaces the source of chosen answer cells (by nbgrader grade_id) in a
copy of a solution notebook, so sample submissions never drift from the
solutions. Single notebooks are written as ``submitted-<scenario>.ipynb``; whole
sample submissions (for the instructor's demo and the tests) as folders.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Mapping
from pathlib import Path

import nbformat

from autograder.context import ASSIGNMENT, REPOSITORY, source_dir
from autograder.grade.core import NOTEBOOK_KINDS as PROBE_KINDS

SOURCE_DIR = source_dir()
RELEASE_DIR = REPOSITORY / "assignments" / ASSIGNMENT
EVALUATE_TRACKS_GRADIENTS = {
    "evaluate": """
def evaluate(model, loader, loss_fn, device):
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        outputs = model(images)
        total_loss += loss_fn(outputs, labels).item() * len(labels)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        count += len(labels)
    return total_loss / count, correct / count
""",
}


def build_submission(
    notebook_name: str,
    scenario: str,
    replacements: Mapping[str, str],
    folder: Path,
    *,
    base: Path = SOURCE_DIR,
) -> Path:
    """Copy ``base/<notebook_name>`` (the solutions, or the release) with cells replaced."""
    notebook = nbformat.read(Path(base) / notebook_name, as_version=4)
    remaining = dict(replacements)
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in remaining:
            cell.source = textwrap.dedent(remaining.pop(grade_id)).strip("\n")
    if remaining:
        raise ValueError(f"{notebook_name} has no cells {sorted(remaining)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"submitted-{scenario}.ipynb"
    nbformat.write(notebook, path)
    return path


def sample_submissions(folder: Path) -> dict[str, Path]:
    """Three whole submissions: the reference, the untouched release, and a typical mistake.

    The mistake (PyTorch ``evaluate`` without ``torch.no_grad()``, a common slip
    that changes no number the student sees) loses exactly the points of
    ``check_evaluate``.
    """
    samples = {}
    for name, source in (("reference", SOURCE_DIR), ("untouched-release", RELEASE_DIR)):
        target = Path(folder) / name
        target.mkdir(parents=True, exist_ok=True)
        for notebook in PROBE_KINDS:
            shutil.copyfile(source / notebook, target / notebook)
        samples[name] = target
    mistake = Path(folder) / "evaluate-tracks-gradients"
    mistake.mkdir(parents=True, exist_ok=True)
    for notebook in PROBE_KINDS:
        shutil.copyfile(SOURCE_DIR / notebook, mistake / notebook)
    built = build_submission(
        "03-pytorch-mlp.ipynb", "evaluate-tracks-gradients", EVALUATE_TRACKS_GRADIENTS, mistake
    )
    built.replace(mistake / "03-pytorch-mlp.ipynb")
    samples["evaluate-tracks-gradients"] = mistake
    return samples
