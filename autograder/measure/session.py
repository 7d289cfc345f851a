"""One notebook's measuring session: the ordered parts, each with its own verdict and budget.

A kind's pipeline is an explicit list of :class:`Part` (``pipelines.py``); the
session runs them in order against one student host. Each part asks the host
for answers, checks them against what it computes itself, and returns plain
facts (a *measurement*). A part whose host stops (exit, crash, time, memory,
a broken channel) is recorded as stopped with the reason; the next part gets a
fresh host with the same cells loaded. So one part's fault costs only the cells
that depend on it.

Cells are loaded one request each, so a cell whose top-level code kills the
host is known by name: it is left out of every later host, and its functions
report that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.sandbox.driver import Answer, HostFailure, StudentHost
from autograder.sandbox.protocol import ProtocolError

MAX_STARTS = 6
LOAD_SECONDS = 180.0


class StudentRaised(Exception):
    """A student function raised (or returned something unusable) during a part."""

    def __init__(self, record: dict[str, str]) -> None:
        super().__init__(record.get("message", ""))
        self.record = record


@dataclass(frozen=True)
class Part:
    """One step of a pipeline: a name (the measurement's key), a budget, and the measuring code."""

    name: str
    seconds: float
    measure: Callable[[Session], dict[str, Any]]
    cells: tuple[str, ...] = ()  # answer cells it needs loaded
    uses_host: bool = True  # False: it only reads what earlier parts measured


@dataclass
class Session:
    """The state a kind's parts share: the host, the challenge generator, the measurements."""

    kind: str
    host: StudentHost
    cells: Sequence[tuple[str, str]]
    generator: np.random.Generator
    deadline: float
    context: Any = None
    measurements: dict[str, dict[str, Any]] = field(default_factory=dict)
    cell_status: dict[str, Any] = field(default_factory=dict)
    culprits: dict[str, str] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    part_deadline: float = 0.0

    # ------------------------------------------------------------ host life

    def _load_cells(self) -> None:
        """Start a host and load every cell not known to kill it, one request per cell."""
        for grade_id, source in self.cells:
            if grade_id in self.culprits:
                self.cell_status[grade_id] = {"type": "Stopped", "message": self.culprits[grade_id]}
                continue
            if not self.host.alive:
                if self.host.starts >= MAX_STARTS:
                    raise HostFailure("the grader stopped restarting your code", cause="exited")
                self.host.start(deadline=self.deadline)
            try:
                status = self.host.load(
                    [(grade_id, source)], seconds=min(LOAD_SECONDS, self.left())
                )
                self.cell_status.update(status)
            except HostFailure as failure:
                self.culprits[grade_id] = failure.reason
                self.cell_status[grade_id] = {"type": "Stopped", "message": failure.reason}

    def ensure_host(self) -> None:
        if not self.host.alive:
            if self.host.starts >= MAX_STARTS:
                raise HostFailure("the grader stopped restarting your code", cause="exited")
            self.host.close()
            self.host.start(deadline=self.deadline)
            self._load_cells()

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 1.0)

    # ------------------------------------------------------------ requests

    def ask(
        self,
        op: str,
        args: dict[str, Any],
        arrays: Sequence[np.ndarray] = (),
        *,
        seconds: float | None = None,
    ) -> Answer:
        """One request within the part's budget; a student error becomes :class:`StudentRaised`."""
        budget = max(self.part_deadline - time.monotonic(), 1.0)
        budget = min(budget, seconds or budget, self.left())
        answer = self.host.request(op, args, arrays, seconds=budget)
        if answer.raised is not None:
            raise StudentRaised(answer.raised)
        return answer

    def cell_problem(self, grade_id: str) -> dict[str, str] | None:
        """The error record of an answer cell that did not load (None: it loaded)."""
        status = self.cell_status.get(grade_id)
        if status == "ok":
            return None
        if status is None:
            return {"type": "NameError", "message": f"the notebook has no cell {grade_id}"}
        return {**status, "function": grade_id, "stage": "load"}

    # ------------------------------------------------------------ running

    def run(self, parts: Sequence[Part]) -> dict[str, dict[str, Any]]:
        """Run every part in order; return ``{part name: measurement}``."""
        try:
            self.ensure_host()
        except HostFailure as failure:
            self.measurements["load"] = {"status": "stopped", "reason": failure.reason}
        self.measurements.setdefault("load", {"status": "ok", "cells": dict(self.cell_status)})
        for part in parts:
            self.measurements[part.name] = self._run_part(part)
        self.host.close()
        return self.measurements

    def _run_part(self, part: Part) -> dict[str, Any]:
        started = time.monotonic()
        for grade_id in part.cells:
            problem = self.cell_problem(grade_id)
            if problem is not None:
                return {"status": "raised", "error": problem}
        if part.uses_host and time.monotonic() >= self.deadline:
            return {
                "status": "stopped",
                "reason": "the notebook's time limit was used up before this part",
            }
        self.part_deadline = started + part.seconds
        try:
            if part.uses_host:
                self.ensure_host()
            else:
                self.host.close()  # its memory and CPU go to the grader's own work
            self.part_deadline = time.monotonic() + part.seconds
            measurement = {"status": "ok", **part.measure(self)}
        except StudentRaised as raised:
            measurement = {"status": "raised", "error": raised.record}
        except HostFailure as failure:
            measurement = {"status": "stopped", "reason": failure.reason, "cause": failure.cause}
        except ProtocolError as error:
            self.host.close()
            measurement = {
                "status": "stopped",
                "reason": f"your code sent the grader an answer it cannot read ({error})",
                "cause": "channel",
            }
        measurement["seconds"] = round(time.monotonic() - started, 2)
        return measurement
