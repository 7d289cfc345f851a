"""Build sample submissions from the solution notebooks: one named scenario each.

A scenario replaces the source of chosen answer cells (by nbgrader grade_id) in a
copy of a solution notebook, so sample submissions never drift from the
solutions. Files are written as ``submitted-<scenario>.ipynb``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import nbformat

from tests.conftest import SOLUTIONS_DIR


def build_submission(
    notebook_name: str, scenario: str, replacements: Mapping[str, str], folder: Path
) -> Path:
    """Copy ``solutions/mlp-fashion-mnist/<notebook_name>`` with cells replaced; return its path."""
    notebook = nbformat.read(SOLUTIONS_DIR / notebook_name, as_version=4)
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
