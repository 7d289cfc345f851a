"""Load the definitions of chosen notebook cells as a module, without running the rest.

Tests, benchmarks and the grader need a notebook's functions (``create_model``,
``fit``...) but not its training cells. Cells are picked by their nbgrader
``grade_id``, which nbgrader keeps stable between the source, the release and
every submission, so the same call works on all three.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from pathlib import Path

import nbformat


def cell_sources(notebook_path: Path, grade_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Return ``(grade_id, source)`` of the requested code cells, in the order asked."""
    notebook_path = Path(notebook_path)
    if not notebook_path.is_file():
        raise ValueError(f"Notebook {notebook_path} does not exist.")
    try:
        notebook = nbformat.read(notebook_path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON
        raise ValueError(
            f"{notebook_path} is not a readable notebook ({type(error).__name__}: {error}). "
            "Open it in Jupyter and save it again, or restore it from the release."
        ) from None
    by_id: dict[str, str] = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id:
            by_id[grade_id] = cell.source
    missing = [grade_id for grade_id in grade_ids if grade_id not in by_id]
    if missing:
        raise ValueError(
            f"{notebook_path.name} has no code cell with grade_id {', '.join(missing)}. "
            "Do not delete or copy-paste the graded cells; restore them from the release."
        )
    return [(grade_id, by_id[grade_id]) for grade_id in grade_ids]


def load_cells(
    notebook_path: Path,
    grade_ids: Sequence[str],
    *,
    module_name: str | None = None,
    namespace: Mapping[str, object] | None = None,
) -> types.ModuleType:
    """Execute the chosen cells, in order, in a fresh module and return it.

    ``namespace`` pre-fills the module (for example ``{"np": numpy}`` when a
    notebook's set-up cell is not wanted). Lines that are IPython magics or
    shell escapes (``%...``, ``!...``) are not Python and are skipped.
    """
    notebook_path = Path(notebook_path)
    module_name = module_name or f"notebook_{notebook_path.stem.replace('-', '_')}"
    module = types.ModuleType(module_name)
    module.__file__ = str(notebook_path)
    module.__dict__.update(namespace or {})
    sys.modules[module_name] = module
    for grade_id, source in cell_sources(notebook_path, grade_ids):
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        code = compile("\n".join(lines), f"{notebook_path.name}:{grade_id}", "exec")
        exec(code, module.__dict__)
    return module
