"""One submission's grading job: what travels to a worker, and the grader process that runs it.

A job carries the submitted notebooks' bytes, not their paths, so the same job
runs on this machine or on a Dask worker that shares no filesystem with it.
:func:`grade_payload` is the one function both the local pool and Dask call;
it starts a fresh grader process (:mod:`autograder.sandbox.workers`) that runs
``python -m autograder.grade.job JOB RESULT``: the unchanged
:func:`~autograder.grade.core.grade_notebook` for every notebook of the job.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from autograder.context import DEFAULT_LIMITS, REPOSITORY, GradingContext, GradingOptions
from autograder.grade.core import NOTEBOOK_KINDS, grade_notebook
from autograder.grade.devices import visible_gpus, worker_environments
from autograder.sandbox.workers import WorkerProcesses

RESULT_SCHEMA = 2
# Seconds a grader process may need per notebook beyond its sandbox's wall limit:
# imports, the checks, and the grader's own accuracy retrain (framework notebooks).
GRADER_MARGIN_SECONDS = 180
RETRAIN_SECONDS = {"pytorch": 900, "tensorflow": 900}


class WorkerLostError(RuntimeError):
    """The grader process was killed from outside; running the job again is safe."""


class GraderError(RuntimeError):
    """The grader itself failed (not the student's code); the output names the cause."""


@cache
def grader_fingerprint() -> str:
    """A hash of what decides a verdict: checks, probes, thresholds, points per cell."""
    digest = hashlib.sha256()
    grader = REPOSITORY / "autograder"
    files = [
        *sorted((grader / "checks").glob("*.py")),
        *sorted((grader / "measure").glob("*.py")),
        *sorted((grader / "sandbox").glob("host*.py")),
        grader / "thresholds.yaml",
        *sorted((REPOSITORY / "solutions" / "mlp-fashion-mnist").glob("*.ipynb")),
    ]
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class GradingJob:
    """One student's submission of one assignment, as found on disk."""

    student: str
    assignment: str
    notebooks: dict[str, Path | None]  # assignment notebook -> submitted file (None: missing)
    options: GradingOptions | None = None

    @cached_property
    def fingerprint(self) -> str:
        """A hash of what was submitted and of the grader: either changed, resume regrades."""
        digest = hashlib.sha256(self.assignment.encode())
        digest.update(grader_fingerprint().encode())
        for name, path in sorted(self.notebooks.items()):
            digest.update(name.encode())
            digest.update(path.read_bytes() if path is not None else b"<missing>")
        return digest.hexdigest()

    def payload(self) -> dict:
        """The job as plain data (picklable, JSON-able apart from the bytes)."""
        return {
            "student": self.student,
            "assignment": self.assignment,
            "fingerprint": self.fingerprint,
            "notebooks": {
                name: (path.read_bytes() if path is not None else None)
                for name, path in self.notebooks.items()
            },
            "options": (self.options or GradingOptions()).to_dict(),
        }


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def job_timeout_seconds(notebooks: list[str], options: dict | None) -> float:
    """The whole grader process's limit: each notebook's sandbox limit, retrain and margin."""
    wall = (options or {}).get("wall_seconds")
    total = 0.0
    for name in notebooks:
        kind = NOTEBOOK_KINDS[name]
        total += wall or DEFAULT_LIMITS[kind].wall_seconds
        total += RETRAIN_SECONDS.get(kind, 0) + GRADER_MARGIN_SECONDS
    return total


def grade_payload(
    payload: dict,
    *,
    environment: dict[str, str] | None = None,
    processes: WorkerProcesses | None = None,
) -> dict:
    """Grade one job in a fresh grader process and return its result (the Dask task too).

    Raises :class:`WorkerLostError` when that process is killed (the caller
    retries) and :class:`GraderError` when it fails on its own.
    """
    if environment is None:  # on a Dask worker: the GPU it was started with, if any
        environment = worker_environments(visible_gpus(), 1)[0]
    folder = Path(tempfile.mkdtemp(prefix="autograder-job-"))
    try:
        notebooks = {}
        for name, content in payload["notebooks"].items():
            notebooks[name] = None
            if content is not None:
                (folder / "submission").mkdir(exist_ok=True)
                (folder / "submission" / name).write_bytes(content)
                notebooks[name] = str(folder / "submission" / name)
        job_file, result_file = folder / "job.json", folder / "result.json"
        job_file.write_text(json.dumps({**payload, "notebooks": notebooks}))
        ended = (processes or WorkerProcesses()).run(
            job_file,
            result_file,
            environment=environment,
            timeout_seconds=job_timeout_seconds(list(notebooks), payload["options"]),
        )
        student = payload["student"]
        if ended.lost:
            raise WorkerLostError(f"the grader of {student} was killed ({ended.returncode})")
        if not ended.ok or not result_file.is_file():
            reason = "timed out" if ended.timed_out else f"exited with {ended.returncode}"
            raise GraderError(f"the grader of {student} {reason}: {ended.stderr[-1500:]}")
        result = json.loads(result_file.read_text())
        result["host"] = socket.gethostname()
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def grade_job_file(job_file: Path, result_file: Path) -> None:
    """Inside the grader process: grade every notebook of the job, write the result."""
    job = json.loads(Path(job_file).read_text())
    context = GradingContext.from_environment(GradingOptions(**job["options"]))
    started = time.perf_counter()
    missing_dir = Path(job_file).parent / "not-submitted"
    verdicts = [
        grade_notebook(
            Path(path) if path else missing_dir / name, notebook_name=name, context=context
        )
        for name, path in job["notebooks"].items()
    ]
    result = {
        "schema": RESULT_SCHEMA,
        "student": job["student"],
        "assignment": job["assignment"],
        "fingerprint": job["fingerprint"],
        "device_class": context.device,
        "isolation": context.isolation.level,
        "points": sum(verdict.points for verdict in verdicts),
        "max_points": sum(cell.max_points for verdict in verdicts for cell in verdict.cells),
        "seconds": time.perf_counter() - started,
        "notebooks": [
            {**verdict.to_dict(), "submitted": path is not None}
            for verdict, path in zip(verdicts, job["notebooks"].values(), strict=True)
        ],
    }
    write_atomically(Path(result_file), json.dumps(result, indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Grade one prepared job (started by a worker).")
    parser.add_argument("job_file", type=Path)
    parser.add_argument("result_file", type=Path)
    arguments = parser.parse_args(argv)
    grade_job_file(arguments.job_file, arguments.result_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
