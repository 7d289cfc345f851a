"""The same grading jobs on a Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

Each job is one task, :func:`autograder.grade.job.grade_payload` (a top-level
function, so Dask ships it by reference): the task carries the notebooks'
bytes, and the worker runs it exactly as the local pool does, in a fresh
grader process with the sandbox. Dask reschedules the task of a worker that
dies (the scheduler's ``allowed-failures``); a grader process killed on a live
worker raises ``WorkerLostError`` and is retried through ``retries``.

Workers need this repository on ``PYTHONPATH``, the same pinned environment,
and ``FASHION_MNIST_DIR``; a GPU worker is started with
``CUDA_VISIBLE_DEVICES=<id>`` (one worker per GPU), which the task reads.
Only a few jobs per worker thread are in flight at a time, so the client
never holds a whole class's notebooks in memory at once.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from autograder.grade.job import GradingJob, grade_payload

CONNECT_TIMEOUT_SECONDS = 15
JOBS_PER_THREAD_IN_FLIGHT = 2


def _refuse_fast(address: str, timeout: float) -> None:
    """A closed TCP port fails at once (Dask itself keeps retrying until its timeout)."""
    parts = urlsplit(address)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            pass


def grade_on_cluster(
    jobs: Sequence[GradingJob],
    *,
    address: str,
    on_result: Callable[[dict, int | None], None],
    on_failure: Callable[[GradingJob, str], None],
    retries: int = 2,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
) -> None:
    """Submit every job to the scheduler at ``address``; report results as they complete."""
    from distributed import Client, as_completed

    try:
        _refuse_fast(address, connect_timeout)
        client = Client(address, timeout=connect_timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ValueError(
            f"Cannot reach the Dask scheduler at {address} ({type(error).__name__}). "
            "Start one with `dask scheduler` and workers with `dask worker ADDRESS`."
        ) from None
    with client:
        remaining = iter(jobs)
        owners: dict[str, GradingJob] = {}

        def submit_next() -> list:
            job = next(remaining, None)
            if job is None:
                return []
            future = client.submit(
                grade_payload,
                job.payload(),
                key=f"grade-{job.student}-{uuid.uuid4().hex[:8]}",
                retries=retries,
                pure=False,
            )
            owners[future.key] = job
            return [future]

        window = max(4, JOBS_PER_THREAD_IN_FLIGHT * (sum(client.nthreads().values()) or 1))
        first = [future for _ in range(window) for future in submit_next()]
        completed = as_completed(first, loop=client.loop)
        for future in completed:
            job = owners.pop(future.key)
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - a task may fail in many ways
                on_failure(job, f"{type(error).__name__}: {error}")
            else:
                on_result(result, None)
            future.release()
            for following in submit_next():
                completed.add(following)
