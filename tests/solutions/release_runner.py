"""Run release notebooks with their stubs filled in, one framework per process.

``python -m tests.solutions.release_runner`` reads a JSON list of scenarios on stdin
and prints one JSON line per scenario. A scenario names a release notebook, the
answer cells to change (``replacements``: grade_id -> [old, new] text pairs applied to
the solution's answer) and where to stop (``until``: a grade_id) or which cells alone
to run (``only``); ``checks`` (when given) lists the earlier check cells the target
builds on, and every other check cell before it is skipped. Every stub gets the
solution's answer first, so a scenario is the release exactly as a student who wrote
the reference answers would run it, plus one mistake. The code cells run top to
bottom in a fresh namespace, as Jupyter would run them; the first cell that raises
ends the scenario and is reported with its message.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[2]
RELEASE_DIR = REPO_ROOT / "assignments" / "mlp-fashion-mnist"
SOLUTIONS_DIR = REPO_ROOT / "solutions" / "mlp-fashion-mnist"
SOLUTION_REGION = re.compile(r"^( *)### BEGIN SOLUTION\n(.*?)^\1### END SOLUTION\n?", re.M | re.S)
STUB = re.compile(r"^( *)# YOUR CODE HERE\n\1raise NotImplementedError\(\)\n?", re.M)


def _grade_id(cell: Any) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_answers(notebook_name: str) -> dict[str, list[str]]:
    """grade_id -> the solution regions' code of that answer cell, in order."""
    notebook = nbformat.read(SOLUTIONS_DIR / notebook_name, as_version=4)
    return {
        _grade_id(cell): [region for _, region in SOLUTION_REGION.findall(cell.source)]
        for cell in notebook.cells
        if cell.cell_type == "code" and SOLUTION_REGION.search(cell.source)
    }


def _fill_stubs(source: str, regions: list[str], where: str) -> str:
    """Replace each stub of ``source``, in order, by the solution region it stands for."""
    stubs = list(STUB.finditer(source))
    if len(stubs) != len(regions):
        raise ValueError(f"{where}: {len(stubs)} stubs for {len(regions)} solution regions")
    for stub, region in zip(reversed(stubs), reversed(regions), strict=True):
        source = source[: stub.start()] + region + source[stub.end() :]
    return source


def filled_release(notebook_name: str, replacements: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The release's code cells as ``(label, source)``, stubs filled, mistakes applied.

    A label is the cell's grade_id, or ``cell <n>`` for an ungraded cell.
    """
    answers = solution_answers(notebook_name)
    pending = dict(replacements)
    cells = []
    release = nbformat.read(RELEASE_DIR / notebook_name, as_version=4)
    for index, cell in enumerate(release.cells):
        if cell.cell_type != "code":
            continue
        grade_id = _grade_id(cell)
        source = cell.source
        if grade_id in answers:
            source = _fill_stubs(source, answers[grade_id], f"{notebook_name}:{grade_id}")
        if grade_id in pending:
            old, new = pending.pop(grade_id)
            if old not in source:
                raise ValueError(f"{notebook_name}:{grade_id} does not contain {old!r}")
            source = source.replace(old, new)
        cells.append((grade_id or f"cell {index}", source))
    if pending:
        raise ValueError(f"{notebook_name} has no answer cells {sorted(pending)}")
    return cells


def run_scenario(scenario: dict[str, Any]) -> dict[str, Any]:
    """Execute one scenario; report the first failing cell (or none) and its message."""
    started = time.perf_counter()
    cells = filled_release(scenario["notebook"], scenario.get("replacements", {}))
    only = scenario.get("only")
    if only:
        cells = [cell for cell in cells if cell[0] in only]
    elif scenario.get("until"):
        labels = [label for label, _ in cells]
        cells = cells[: labels.index(scenario["until"]) + 1]
    if scenario.get("checks") is not None and not only:
        # Only the check cells the scenario needs: its target and the ones it builds on.
        wanted = {*scenario["checks"], scenario.get("until")}
        cells = [cell for cell in cells if not cell[0].startswith("check_") or cell[0] in wanted]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(scenario.get("preamble", ""), namespace)
    report = {"name": scenario["name"], "failed_cell": None, "error": None, "message": ""}
    ran = []
    for label, source in cells:
        ran.append(label)
        try:
            # The cells' own prints go to stderr: stdout carries the JSON reports only.
            with contextlib.redirect_stdout(sys.stderr):
                exec(compile(source, f"{scenario['notebook']}:{label}", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - any failure is the scenario's outcome
            report.update(
                failed_cell=label,
                error=type(error).__name__,
                message=str(error),
                traceback=traceback.format_exc()[-3000:],
            )
            break
    report["ran"] = ran
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def main() -> int:
    for scenario in json.loads(sys.stdin.read()):
        report = run_scenario(scenario)
        print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
