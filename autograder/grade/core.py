"""Grade one submitted notebook: sandboxed probe, then the hidden checks, then points.

Runs in-process (tests and the nbgrader preprocessor call it directly). The
points of every test cell come from the trusted source notebook in
``solutions/``, never from the submission's own metadata.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.sandbox.runner import SandboxLimits, SandboxResult, prepare_workdir, run_sandboxed

AUTOGRADER_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = AUTOGRADER_DIR.parent
CHECKS_DIR = AUTOGRADER_DIR / "checks"
SOURCE_DIR = REPO_ROOT / "solutions" / "mlp-fashion-mnist"
THRESHOLDS_FILE = AUTOGRADER_DIR / "thresholds.yaml"
PROBE_KINDS = {
    "01-data-exploration.ipynb": "exploration",
    "02-tensorflow-mlp.ipynb": "tensorflow",
    "03-pytorch-mlp.ipynb": "pytorch",
    "04-framework-comparison.ipynb": "comparison",
    "05-hyperparameter-tuning.ipynb": "tuning",
}
# Wall-clock budgets per probe: the small functions of notebooks 01 and 04 need
# seconds; a framework probe imports its framework and retrains a model.
DEFAULT_LIMITS = {
    "exploration": SandboxLimits(wall_seconds=120),
    "comparison": SandboxLimits(wall_seconds=120),
    "tensorflow": SandboxLimits(wall_seconds=900),
    "pytorch": SandboxLimits(wall_seconds=900),
    "tuning": SandboxLimits(wall_seconds=120),
}
# Probe kind → the check modules that judge its observations (a tuple, even for one).
CHECK_MODULES = {
    "exploration": ("test_exploration.py",),
    "tensorflow": ("test_tensorflow.py",),
    "pytorch": ("test_pytorch.py", "test_pytorch_training.py"),
    "comparison": ("test_comparison.py",),
    "tuning": ("test_tuning.py",),
}


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

    @property
    def points(self) -> float:
        return sum(cell.points for cell in self.cells)

    def to_dict(self) -> dict:
        return {**asdict(self), "points": self.points}


def graded_cell_points(source_notebook: Path) -> dict[str, float]:
    """Points of each autograded test cell, read from the trusted source notebook."""
    notebook = nbformat.read(source_notebook, as_version=4)
    points = {}
    for cell in notebook.cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            points[grading["grade_id"]] = float(grading["points"])
    return points


def device_class() -> str:
    """``gpu`` when the grader is told so or an NVIDIA GPU is visible, else ``cpu``."""
    value = os.environ.get("AUTOGRADER_DEVICE_CLASS")
    if value:
        if value not in ("cpu", "gpu"):
            raise ValueError(f"AUTOGRADER_DEVICE_CLASS must be cpu or gpu, got {value!r}.")
        return value
    if os.environ.get("CUDA_VISIBLE_DEVICES") in ("", "-1") or not shutil.which("nvidia-smi"):
        return "cpu"
    listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return "gpu" if "GPU" in listing.stdout else "cpu"


def training_epochs(kind: str, device: str) -> int:
    """Epochs the accuracy retrain gets on this device class (thresholds.yaml)."""
    if kind not in ("tensorflow", "pytorch"):
        return 0
    return int(yaml.safe_load(THRESHOLDS_FILE.read_text())[device][kind]["epochs"])


class _Outcomes:
    """A pytest plugin that keeps, per cell marker, the messages of failed checks."""

    def __init__(self) -> None:
        self.by_cell: dict[str, list[str]] = {}
        self.collection_errors: list[str] = []

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
    """The assertion's own message, without pytest's rewritten expression (hidden code)."""
    text = str(error).split("\nassert ")[0].split("\n+ ")[0].strip()
    if isinstance(error, AssertionError) and text:
        return text
    if type(error).__name__ in ("Failed", "AssertionError"):
        return text or "a hidden check failed"
    return f"the grader could not check this part ({type(error).__name__})"


# pytest.main, the environment and sys.stdout belong to the whole process: one check
# run at a time, while the sandboxed probes of other threads go on in parallel.
_CHECKS_LOCK = threading.Lock()


def run_checks(kind: str, observations_dir: Path, *, device: str) -> _Outcomes:
    """Run one check module in this process on a probe's observations (thread-safe)."""
    with _CHECKS_LOCK:
        return _run_checks_unlocked(kind, observations_dir, device=device)


def _run_checks_unlocked(kind: str, observations_dir: Path, *, device: str) -> _Outcomes:
    outcomes = _Outcomes()
    saved = {
        name: os.environ.get(name)
        for name in ("AUTOGRADER_OBSERVATIONS", "AUTOGRADER_DEVICE_CLASS")
    }
    os.environ["AUTOGRADER_OBSERVATIONS"] = str(observations_dir)
    os.environ["AUTOGRADER_DEVICE_CLASS"] = device
    try:
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            pytest.main(
                [
                    *(str(CHECKS_DIR / module) for module in CHECK_MODULES[kind]),
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--rootdir",
                    str(CHECKS_DIR),
                    "-o",
                    "addopts=",
                    "-W",
                    "ignore",
                ],
                plugins=[outcomes],
            )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return outcomes


@contextlib.contextmanager
def _workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="autograder-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _data_dir() -> Path:
    value = os.environ.get("FASHION_MNIST_DIR")
    if not value:
        raise ValueError("Set FASHION_MNIST_DIR to the Fashion-MNIST folder before grading.")
    return Path(value).expanduser().resolve()


def grade_notebook(
    notebook: Path,
    *,
    notebook_name: str | None = None,
    limits: SandboxLimits | None = None,
    seed: int = 0,
) -> NotebookVerdict:
    """Grade one submitted notebook; every failure becomes feedback, never an exception."""
    notebook = Path(notebook)
    name = notebook_name or notebook.name
    if name not in PROBE_KINDS:
        raise ValueError(f"{name} is not part of the assignment ({', '.join(PROBE_KINDS)}).")
    kind = PROBE_KINDS[name]
    points = graded_cell_points(SOURCE_DIR / name)
    started = time.perf_counter()
    problem = _unreadable(notebook)
    isolation: tuple[str, ...] = ()
    device = device_class()
    outcomes = None
    if problem is None:
        with _workdir() as workdir:
            data_dir = _data_dir()
            notebook_copy, sandbox_data = prepare_workdir(
                workdir, notebook=notebook, data_dir=data_dir, code_dir=AUTOGRADER_DIR / "sandbox"
            )
            output = workdir / "output"
            result = run_sandboxed(
                [
                    sys.executable,
                    "-m",
                    "autograder.sandbox.probe",
                    kind,
                    str(notebook_copy),
                    str(output),
                    "--train-epochs",
                    str(training_epochs(kind, device)),
                    "--seed",
                    str(seed),
                ],
                workdir=workdir,
                data_dir=sandbox_data,
                limits=limits or DEFAULT_LIMITS[kind],
                hidden_paths=_hidden_paths(data_dir),
            )
            isolation = result.isolation
            problem = _sandbox_problem(result)
            outcomes = run_checks(kind, output, device=device)
    cells = []
    for grade_id, max_points in points.items():
        messages = [] if outcomes is None else outcomes.by_cell.get(grade_id)
        if outcomes is None or messages is None:
            messages = [problem or "the hidden checks of this cell could not run"]
        if problem and messages:
            messages = [problem, *messages]
        cells.append(CellVerdict(grade_id, 0.0 if messages else max_points, max_points, messages))
    return NotebookVerdict(name, cells, time.perf_counter() - started, problem, isolation)


def _unreadable(notebook: Path) -> str | None:
    if not notebook.is_file():
        return f"{notebook.name} was not submitted."
    try:
        nbformat.read(notebook, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises several types
        kind = type(error).__name__
        return f"{notebook.name} is not a valid notebook ({kind}); re-save it in Jupyter."
    return None


def _sandbox_problem(result: SandboxResult) -> str | None:
    if result.failure:
        return f"Your code {result.failure}; the checks below saw only what ran before that."
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1][:300]
        return f"Running your code stopped with an error: {last_line}"
    return None


def _hidden_paths(data_dir: Path) -> list[Path]:
    """What the sandbox must not see: the full dataset, the solutions and the checks."""
    return [
        data_dir,
        SOURCE_DIR.parent,
        AUTOGRADER_DIR,
        REPO_ROOT / "tests",
        Path.home() / ".keras",
    ]


def grade_submission(folder: Path, *, limits: SandboxLimits | None = None) -> list[NotebookVerdict]:
    """Grade every notebook of the assignment found in ``folder`` (missing ones score 0)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submitted notebooks.")
    return [grade_notebook(folder / name, limits=limits) for name in PROBE_KINDS]


def verdict_json(verdicts: list[NotebookVerdict]) -> str:
    return json.dumps([verdict.to_dict() for verdict in verdicts], indent=1)
