"""Grade one submitted notebook: measure it through a sandboxed host, judge the facts, score.

1. The notebook is read here (size-capped) and its answer cells are picked by
   nbgrader ``grade_id``; their sources go to a student host in the sandbox.
2. The kind's pipeline (``autograder/measure/pipelines.py``) measures every part
   by challenge and recomputation in this process (``autograder/measure``).
3. The hidden checks (pytest, ``autograder/checks``) judge those measurements.
4. Points come from the trusted source notebook in ``solutions/``, never from the
   submission; a cell scores its points when every check of it passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.context import GradingContext
from autograder.measure.accuracy import speculate
from autograder.measure.challenges import fresh_seed
from autograder.measure.pipelines import CELLS, PIPELINES
from autograder.measure.session import Session
from autograder.sandbox.driver import HostSettings, StudentHost

NOTEBOOK_KINDS = {
    "01-data-exploration.ipynb": "exploration",
    "02-tensorflow-mlp.ipynb": "tensorflow",
    "03-pytorch-mlp.ipynb": "pytorch",
    "04-framework-comparison.ipynb": "comparison",
    "05-hyperparameter-tuning.ipynb": "tuning",
}
PROBE_KINDS = NOTEBOOK_KINDS  # the name earlier code and tests use
CHECK_MODULES = {
    "exploration": ("test_exploration.py",),
    "tensorflow": ("test_tensorflow.py",),
    "pytorch": ("test_pytorch.py", "test_pytorch_training.py"),
    "comparison": ("test_comparison.py",),
    "tuning": ("test_tuning.py",),
}
NOTEBOOK_BYTES = 64 * 2**20


@dataclass
class CellVerdict:
    """The automatic grade of one nbgrader test cell, with feedback for the student."""

    grade_id: str
    points: float
    max_points: float
    feedback: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.points == self.max_points


@dataclass
class NotebookVerdict:
    notebook: str
    cells: list[CellVerdict]
    seconds: float
    problem: str | None = None
    isolation: tuple[str, ...] = ()
    isolation_level: str = "full"
    challenge_seed: int | None = None
    parts: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> float:
        return sum(cell.points for cell in self.cells)

    def to_dict(self) -> dict:
        return {**asdict(self), "points": self.points}


def read_notebook(path: Path) -> dict[str, Any]:
    """A notebook's JSON (nbformat 4). Plain ``json``: importing nbformat costs seconds."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise ValueError("not a notebook: no list of cells")
    if document.get("nbformat") != 4:
        raise ValueError(f"nbformat {document.get('nbformat')!r}, not 4")
    return document


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def graded_cell_points(source_notebook: Path) -> dict[str, float]:
    """Points of each autograded test cell, read from the trusted source notebook."""
    points = {}
    for cell in read_notebook(source_notebook)["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and grading.get("grade") and not grading.get("solution"):
            points[grading["grade_id"]] = float(grading["points"])
    return points


def _code_cells(document: Any) -> dict[str, tuple[str, dict]]:
    """``{grade_id: (source, nbgrader metadata)}`` of a notebook's code cells (first wins)."""
    found: dict[str, tuple[str, dict]] = {}
    for cell in document["cells"]:
        if not isinstance(cell, dict):
            continue
        metadata = cell.get("metadata")
        grading = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
        grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
        if cell.get("cell_type") == "code" and isinstance(grade_id, str) and grade_id not in found:
            found[grade_id] = (_text(cell.get("source", "")), grading)
    return found


def answer_cells(
    notebook: Path, grade_ids: tuple[str, ...], *, source: Path
) -> tuple[list[tuple[str, str]], str | None]:
    """``[(grade_id, source)]`` of the cells to load, or a problem sentence.

    A locked cell that is no answer (the set-up cell) is taken from the trusted
    source notebook, as nbgrader's own OverwriteCells does: it is the
    instructor's code, so a student's edit of it counts for nothing.
    """
    if not notebook.is_file():
        return [], f"{notebook.name} was not submitted."
    if notebook.stat().st_size > NOTEBOOK_BYTES:
        return [], f"{notebook.name} is larger than {NOTEBOOK_BYTES >> 20} MB; clear its outputs."
    try:
        submitted = _code_cells(read_notebook(notebook))
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as error:
        kind = type(error).__name__
        return [], f"{notebook.name} is not a valid notebook ({kind}); re-save it in Jupyter."
    trusted = _code_cells(read_notebook(source))
    cells = []
    for grade_id in grade_ids:
        text, grading = trusted.get(grade_id, ("", {}))
        if grading.get("locked") and not grading.get("solution"):
            cells.append((grade_id, text))
        elif grade_id in submitted:
            cells.append((grade_id, submitted[grade_id][0]))
    return cells, None


def measure_notebook(
    notebook: Path,
    *,
    kind: str,
    context: GradingContext,
    challenge_seed: int,
    source_name: str | None = None,
) -> dict[str, Any]:
    """The driver's measurements of one notebook (``{part: measurement}``)."""
    source_name = source_name or next(
        name for name, value in NOTEBOOK_KINDS.items() if value == kind
    )
    cells, problem = answer_cells(notebook, CELLS[kind], source=context.source_dir / source_name)
    if problem:
        return {"unreadable": {"status": "stopped", "reason": problem}}
    limits = context.limits(kind)
    settings = HostSettings(
        isolation=context.isolation,
        limits=limits,
        data_dir=context.data_dir,
        gpu=context.device == "gpu",
        torch_threads=context.torch_threads,
        visible_devices=context.visible_devices,
    )
    host = StudentHost(kind, settings)
    session = Session(
        kind,
        host,
        cells,
        np.random.default_rng(challenge_seed),
        deadline=time.monotonic() + limits.wall_seconds,
        context=context,
    )
    if kind in ("pytorch", "tensorflow"):
        session.shared["speculation"] = speculate(kind, context)
    try:
        return session.run(PIPELINES[kind])
    finally:
        host.close()
        running = session.shared.pop("speculation", None)
        if running is not None:
            running.cancel()


class _Outcomes:
    """A pytest plugin: the measurements as a fixture, and per-cell failure messages."""

    def __init__(self, measurements: dict[str, Any], context: GradingContext) -> None:
        self.measurements, self.context = measurements, context
        self.by_cell: dict[str, list[str]] = {}
        self.collection_errors: list[str] = []

    @pytest.fixture(name="measurements")
    def measurements_fixture(self) -> dict[str, Any]:
        return self.measurements

    @pytest.fixture(name="grading_context")
    def context_fixture(self) -> GradingContext:
        return self.context

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        marker = item.get_closest_marker("cell")
        if marker is None or report.when not in ("setup", "call"):
            return
        messages = self.by_cell.setdefault(marker.args[0], [])
        if report.failed and call.excinfo is not None:
            message = _student_message(call.excinfo.value)
            if message not in messages:  # a raising function fails every test of its cell alike
                messages.append(message)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr)[-500:])


def _student_message(error: BaseException) -> str:
    """The check's own message, without pytest's rewritten expression (hidden code)."""
    text = str(error).split("\nassert ")[0].split("\n+ ")[0].strip()
    if isinstance(error, AssertionError) and text:
        return text
    if type(error).__name__ in ("Failed", "AssertionError"):
        return text or "a hidden check failed"
    return f"the grader could not check this part ({type(error).__name__})"


# pytest.main and sys.stdout belong to the whole process: one check run at a time,
# while other threads' sandboxed hosts go on in parallel.
_CHECKS_LOCK = threading.Lock()


def run_checks(kind: str, measurements: dict[str, Any], *, context: GradingContext) -> _Outcomes:
    """Run a kind's check modules in this process on its measurements (thread-safe)."""
    outcomes = _Outcomes(measurements, context)
    arguments = [
        *(str(context.checks_dir / module) for module in CHECK_MODULES[kind]),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(context.checks_dir),
        "-o",
        "addopts=",
        "-W",
        "ignore",
    ]
    with _CHECKS_LOCK, open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        pytest.main(arguments, plugins=[outcomes])
    return outcomes


def _problem(measurements: dict[str, Any]) -> str | None:
    for name in ("unreadable", "load"):
        record = measurements.get(name, {})
        if record.get("status") == "stopped":
            return record["reason"]
    return None


def grade_notebook(
    notebook: Path,
    *,
    context: GradingContext,
    notebook_name: str | None = None,
    challenge_seed: int | None = None,
) -> NotebookVerdict:
    """Grade one submitted notebook; every failure becomes feedback, never an exception."""
    notebook = Path(notebook)
    name = notebook_name or notebook.name
    if name not in NOTEBOOK_KINDS:
        raise ValueError(f"{name} is not part of the assignment ({', '.join(NOTEBOOK_KINDS)}).")
    kind = NOTEBOOK_KINDS[name]
    points = graded_cell_points(context.source_dir / name)
    started = time.perf_counter()
    seed = challenge_seed if challenge_seed is not None else context.options.challenge_seed
    seed = fresh_seed() if seed is None else seed
    measurements = measure_notebook(
        notebook, kind=kind, context=context, challenge_seed=seed, source_name=name
    )
    problem = _problem(measurements)
    outcomes = (
        None if "unreadable" in measurements else run_checks(kind, measurements, context=context)
    )
    cells = []
    for grade_id, max_points in points.items():
        messages = None if outcomes is None else outcomes.by_cell.get(grade_id)
        if messages is None:
            messages = [problem or "the hidden checks of this cell could not run"]
        cells.append(CellVerdict(grade_id, 0.0 if messages else max_points, max_points, messages))
    return NotebookVerdict(
        name,
        cells,
        time.perf_counter() - started,
        problem,
        context.isolation.layers,
        context.isolation.level,
        seed,
        {
            part: {
                key: value
                for key, value in record.items()
                if key in ("status", "seconds", "reason")
            }
            for part, record in measurements.items()
        },
    )


def grade_submission(folder: Path, *, context: GradingContext) -> list[NotebookVerdict]:
    """Grade every notebook of the assignment found in ``folder`` (missing ones score 0)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submitted notebooks.")
    return [grade_notebook(folder / name, context=context) for name in NOTEBOOK_KINDS]


def verdict_json(verdicts: list[NotebookVerdict]) -> str:
    return json.dumps([verdict.to_dict() for verdict in verdicts], indent=1)
