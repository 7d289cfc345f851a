"""Grade a whole class: N submissions at a time, resumable, on this machine or on Dask.

Each submission is one job (:mod:`autograder.grade.job`) graded by a fresh
grader process, which starts the usual sandboxed probes: the checks and the
isolation are those of a single ``grade_notebook`` call, only more of them run
at once. Locally a thread per worker slot waits on its grader process (the
work happens in the processes, so threads are enough); each slot keeps its
own device (:func:`autograder.grade.devices.worker_environments`). A grader
process that is killed is run again, up to ``max_attempts`` times.

Every finished submission is written at once, atomically, to
``OUTPUT/students/<student>.json``; that file is the resume marker. A re-run
skips a student whose file is complete and whose submitted notebooks are
unchanged (same fingerprint), unless ``force``. The CSV and the Gradescope
files are written from those JSON files at the end of every run.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from autograder.context import GradingOptions, dataset_dir
from autograder.export.gradescope import gradescope_results
from autograder.export.tables import (
    read_class_results,
    read_student_result,
    student_file,
    write_grades_csv,
    write_student_result,
)
from autograder.grade.devices import visible_gpus, worker_environments
from autograder.grade.job import (
    GraderError,
    GradingJob,
    WorkerLostError,
    grade_payload,
    write_atomically,
)
from autograder.grade.submissions import assignment_notebooks, discover_all
from autograder.sandbox.isolation import require_isolation
from autograder.sandbox.workers import WorkerProcesses

ResultCallback = Callable[[dict, "int | None"], None]
FailureCallback = Callable[[GradingJob, str], None]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
WAIT_SECONDS = 0.2  # how often the waiting loop looks for Ctrl-C


@contextlib.contextmanager
def stop_signals_set(event: threading.Event) -> Iterator[None]:
    """While the block runs, Ctrl-C and ``kill`` set ``event`` instead of raising.

    A ``KeyboardInterrupt`` raised wherever the main thread happens to be can land
    inside ``concurrent.futures``' waiting, which takes every future's lock in turn;
    a lock left held stops the pool from ever shutting down (CI saw an interrupted
    class run hang). The waiting loop checks the event between short waits instead,
    and raises ``KeyboardInterrupt`` from one known place. Outside the main thread
    signals cannot be handled, and nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, lambda signum, frame: event.set())
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


@dataclass
class ClassRun:
    """What one class run did; ``results`` holds every student of the class graded so far."""

    output: Path
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    results: list[dict] = field(default_factory=list)


def split_done(
    jobs: Sequence[GradingJob], output: Path, *, force: bool
) -> tuple[list[GradingJob], list[str]]:
    """Jobs still to grade, and the students already graded with the same submission."""
    if force:
        return list(jobs), []
    pending, done = [], []
    for job in jobs:
        result = read_student_result(student_file(output, job.student))
        if (
            result is not None
            and result["assignment"] == job.assignment
            and result["fingerprint"] == job.fingerprint
            and [notebook["notebook"] for notebook in result["notebooks"]] == list(job.notebooks)
        ):
            done.append(job.student)
        else:
            pending.append(job)
    return pending, done


def grade_locally(
    jobs: Sequence[GradingJob],
    *,
    environments: Sequence[dict[str, str]],
    on_result: ResultCallback,
    on_failure: FailureCallback,
    max_attempts: int = 3,
    processes: WorkerProcesses | None = None,
) -> None:
    """Grade the jobs with one worker slot per environment, results as they complete."""
    processes = processes or WorkerProcesses()
    slots: queue.SimpleQueue[dict[str, str]] = queue.SimpleQueue()
    for environment in environments:
        slots.put(environment)
    stopping = threading.Event()

    def grade(job: GradingJob) -> tuple[dict, int]:
        environment = slots.get()
        attempt = 1
        try:
            while True:
                try:
                    result = grade_payload(
                        job.payload(), environment=environment, processes=processes
                    )
                    return result, attempt
                except WorkerLostError:
                    if attempt >= max_attempts or stopping.is_set():
                        raise
                    attempt += 1
        finally:
            slots.put(environment)

    pool = ThreadPoolExecutor(max_workers=len(environments), thread_name_prefix="grading-slot")
    stop_requested = threading.Event()
    try:
        with stop_signals_set(stop_requested):
            futures = {pool.submit(grade, job): job for job in jobs}
            waiting = set(futures)
            while waiting:
                done, waiting = wait(waiting, timeout=WAIT_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures[future]
                    try:
                        result, attempts = future.result()
                    except (WorkerLostError, GraderError, OSError) as error:
                        on_failure(job, str(error))
                        continue
                    on_result(result, attempts)
                if stop_requested.is_set():
                    raise KeyboardInterrupt
    except BaseException:
        stopping.set()  # interrupted: start nothing new, stop what runs, keep what finished
        pool.shutdown(wait=False, cancel_futures=True)
        processes.kill_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def write_class_outputs(
    output: Path, results: Sequence[dict], *, gradescope_visibility: str = "visible"
) -> None:
    """The class CSV and one Gradescope ``results.json`` per submission."""
    write_grades_csv(output, results)
    for result in results:
        write_atomically(
            Path(output) / "gradescope" / result["student"] / "results.json",
            json.dumps(gradescope_results(result, visibility=gradescope_visibility), indent=1),
        )


def grade_class(
    folders: Sequence[Path],
    *,
    assignment: str,
    output: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    notebooks: Sequence[str] | None = None,
    options: GradingOptions | None = None,
    max_attempts: int = 3,
    progress: bool = True,
    gradescope_visibility: str = "visible",
) -> ClassRun:
    """Grade every submission found in ``folders``; see the module docstring."""
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}.")
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}.")
    options = options or GradingOptions()
    selected = assignment_notebooks(assignment, notebooks)
    jobs = discover_all(folders, assignment=assignment, notebooks=selected, options=options)
    if not scheduler:  # refuse before any grader starts (Dask workers check on their host)
        require_isolation(allow_weak=options.allow_weak_isolation)
        dataset_dir(dict(os.environ))
    output = Path(output)
    pending, skipped = split_done(jobs, output, force=force)
    run = ClassRun(output=output, skipped=skipped)
    bar = tqdm(total=len(pending), desc="grading", unit="submission", disable=not progress)

    def record(result: dict, attempts: int | None) -> None:
        write_student_result(output, {**result, "attempts": attempts})
        run.graded.append(result["student"])
        bar.set_postfix_str(f"{result['student']}: {result['points']:g}", refresh=False)
        bar.update()

    def fail(job: GradingJob, reason: str) -> None:
        run.failed[job.student] = reason
        bar.update()

    try:
        if scheduler:
            from autograder.grade.dask_backend import grade_on_cluster

            grade_on_cluster(
                pending,
                address=scheduler,
                on_result=record,
                on_failure=fail,
                retries=max_attempts - 1,
            )
        else:
            grade_locally(
                pending,
                environments=worker_environments(visible_gpus(), workers),
                on_result=record,
                on_failure=fail,
                max_attempts=max_attempts,
            )
    finally:
        bar.close()
        students = {job.student for job in jobs}
        run.results = [
            result for result in read_class_results(output) if result["student"] in students
        ]
        write_class_outputs(output, run.results, gradescope_visibility=gradescope_visibility)
    return run
