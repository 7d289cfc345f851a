"""Ctrl-C during a study stops the running trial, never optuna's own bookkeeping.

After the objective returns, optuna records the trial's end in its storage (SQLite
writes, in ``_run_trial``). A ``KeyboardInterrupt`` that lands there escapes as
optuna's own ``UnboundLocalError`` and the command exits 1 with a traceback instead
of 130 with every finished trial kept (CI saw it once in a few hundred runs). While
:meth:`InterruptGuard.installed` holds, Ctrl-C raises ``KeyboardInterrupt`` only
inside a trial's objective, where optuna handles it (it marks that trial failed and
re-raises); anywhere else it is remembered and raised when the next trial starts.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


class InterruptGuard:
    """Where a Ctrl-C may interrupt a study: inside an objective, or at its next start."""

    def __init__(self) -> None:
        self.requested = False
        self._inside = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[InterruptGuard]:
        """Hold Python's SIGINT handler for the block (main thread, default handler only).

        Elsewhere (a worker thread, a handler someone else installed) nothing changes
        and Ctrl-C behaves as it did.
        """
        replace = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if not replace:
            yield self
            return
        signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def guarded(self, objective: Callable[[Any], float]) -> Callable[[Any], float]:
        """``objective`` as a study runs it: interruptible only while it runs."""

        def run(trial: Any) -> float:
            if self.requested:
                raise KeyboardInterrupt
            self._inside = True
            try:
                return objective(trial)
            finally:
                self._inside = False

        return run

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        if self._inside:
            raise KeyboardInterrupt
