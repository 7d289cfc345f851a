"""A class run's waiting loop: Ctrl-C and kill become an event, never a stray exception."""

from __future__ import annotations

import signal
import threading

import pytest

from autograder.grade.classroom import stop_signals_set


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stop_signal_sets_the_event_instead_of_raising(number: int) -> None:
    before = signal.getsignal(number)
    event = threading.Event()
    with stop_signals_set(event):
        signal.raise_signal(number)  # would raise KeyboardInterrupt (or end the process)
        assert event.is_set()
    assert signal.getsignal(number) is before


def test_outside_the_main_thread_nothing_changes() -> None:
    event, seen = threading.Event(), []
    before = signal.getsignal(signal.SIGINT)  # earlier tests' libraries may have set their own

    def in_a_thread() -> None:
        with stop_signals_set(event):
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen == [before] and not event.is_set()
