"""Probe of the tuning notebook (05): the three search spaces the student wrote.

Only the ``search_spaces`` cell runs (no search, no framework). Each sweep
definition is recorded as plain JSON: an object that merely claims to be a
mapping, or to equal anything, cannot survive ``json.dumps``, and the grader
parses and judges what was recorded in its own process.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlpkit.notebook_code import load_cells

SWEEP_NAMES = ("sgd_sweep", "adam_sweep", "rmsprop_sweep")
ERROR_LENGTH = 300


def _error(exception: BaseException) -> dict[str, str]:
    return {"error": f"{type(exception).__name__}: {str(exception)[:ERROR_LENGTH]}"}


def collect(notebook: Path, output_dir: Path, *, train_epochs: int, seed: int) -> None:
    """Record each of the three sweep definitions as JSON, or why it could not be read."""
    observations: dict[str, object] = {"kind": "tuning"}
    try:
        module = load_cells(notebook, ["search_spaces"], module_name="student_tuning")
    except BaseException as exception:  # noqa: BLE001 - student code may raise anything
        observations["load"] = _error(exception)
        module = None
    sweeps: dict[str, object] = {}
    for name in SWEEP_NAMES:
        if module is None:
            break
        try:
            sweeps[name] = {"value": json.loads(json.dumps(getattr(module, name)))}
        except BaseException as exception:  # noqa: BLE001
            sweeps[name] = _error(exception)
    observations["sweeps"] = sweeps
    (Path(output_dir) / "observations.json").write_text(json.dumps(observations))
