"""Ctrl-C lands inside a trial or waits for the next one, never inside optuna's bookkeeping."""

from __future__ import annotations

import signal

import optuna
import pytest

from mlpkit.tuning.interrupt import InterruptGuard

optuna.logging.set_verbosity(optuna.logging.ERROR)


@pytest.fixture(autouse=True)
def terminal_ctrl_c():
    """Python's own Ctrl-C handler, as in a terminal (earlier tests' libraries may set theirs)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class CtrlCWhileRecording(optuna.storages.InMemoryStorage):
    """A storage that receives Ctrl-C while it records the first finished trial."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def set_trial_state_values(self, trial_id, state, values=None) -> bool:
        if state == optuna.trial.TrialState.COMPLETE and not self.pressed:
            self.pressed = True
            signal.raise_signal(signal.SIGINT)
        return super().set_trial_state_values(trial_id, state, values)


def test_ctrl_c_while_optuna_records_a_trial_keeps_it_and_stops_at_the_next() -> None:
    storage = CtrlCWhileRecording()
    study = optuna.create_study(storage=storage)
    calls: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        calls.append(trial.number)
        return trial.suggest_float("x", 0.0, 1.0)

    guard = InterruptGuard()
    with pytest.raises(KeyboardInterrupt), guard.installed():
        study.optimize(guard.guarded(objective), n_trials=5)
    states = [trial.state for trial in study.get_trials(deepcopy=False)]
    assert storage.pressed and guard.requested
    assert calls == [0], "the next trial must not run after Ctrl-C"
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_inside_a_trial_stops_it_at_once() -> None:
    study = optuna.create_study()

    def objective(trial: optuna.Trial) -> float:
        signal.raise_signal(signal.SIGINT)
        raise AssertionError("Ctrl-C did not interrupt the running trial")

    guard = InterruptGuard()
    with pytest.raises(KeyboardInterrupt), guard.installed():
        study.optimize(guard.guarded(objective), n_trials=3)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.FAIL]


def test_ctrl_c_after_the_last_trial_is_remembered() -> None:
    guard = InterruptGuard()
    with guard.installed():
        signal.raise_signal(signal.SIGINT)  # outside any trial: no exception here
    assert guard.requested
    with pytest.raises(KeyboardInterrupt):
        guard.guarded(lambda trial: 1.0)(None)


def test_a_handler_someone_else_installed_is_left_alone() -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with InterruptGuard().installed():
            signal.raise_signal(signal.SIGINT)
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)
