"""Tests of mlpkit.tracking with the real wandb package, offline, in a temporary folder.

No test reaches the network or a login prompt: credentials are only ever
placed in an ``environ`` mapping given to :func:`tracking_mode`, and real runs
use offline mode with wandb's own folders redirected under ``tmp_path``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from mlpkit.history import TrainingHistory
from mlpkit.settings import Settings, load_settings
from mlpkit.tracking import (
    RunTracker,
    TrackingWarning,
    has_wandb_credentials,
    tracking_mode,
)

pytest.importorskip("wandb")

REPO_ROOT = Path(__file__).resolve().parents[1]
WANDB_VARIABLES = ("WANDB_API_KEY", "WANDB_MODE", "WANDB_DISABLED", "WANDB_BASE_URL", "WANDB_DIR")


@pytest.fixture
def offline_environment(tmp_path, monkeypatch) -> Path:
    """Isolate wandb from the user's account and folders; return a results folder."""
    for name in WANDB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    for name, folder in (
        ("WANDB_CONFIG_DIR", "wandb-config"),
        ("WANDB_CACHE_DIR", "wandb-cache"),
        ("WANDB_DATA_DIR", "wandb-data"),
        ("WANDB_ARTIFACT_DIR", "wandb-artifacts"),
    ):
        monkeypatch.setenv(name, str(tmp_path / folder))
    return tmp_path / "results"


def _epochs(tracker: RunTracker, count: int = 2) -> None:
    for epoch in range(1, count + 1):
        tracker.log_epoch(
            epoch,
            seconds=0.5,
            loss=1.0 / epoch,
            accuracy=0.5 + 0.1 * epoch,
            val_loss=1.1 / epoch,
            val_accuracy=0.45 + 0.1 * epoch,
            learning_rate=0.01,
        )


def _no_key(tmp_path: Path) -> dict[str, str]:
    return {"NETRC": str(tmp_path / "missing-netrc")}


def test_grading_profile_always_disables_tracking(tmp_path) -> None:
    grading = load_settings({"NBGRADER_EXECUTION": "autograde"})
    environ = {"WANDB_MODE": "online", "WANDB_API_KEY": "x" * 40}
    assert tracking_mode(grading, environ) == "disabled"


def test_explicit_wandb_mode_is_respected(tmp_path) -> None:
    settings = Settings()
    for mode in ("online", "offline", "disabled"):
        assert tracking_mode(settings, {**_no_key(tmp_path), "WANDB_MODE": mode}) == mode
    keyed = {"WANDB_API_KEY": "x" * 40, "WANDB_MODE": "offline"}
    assert tracking_mode(settings, keyed) == "offline"
    assert tracking_mode(settings, {**_no_key(tmp_path), "WANDB_DISABLED": "true"}) == "disabled"
    with pytest.warns(TrackingWarning, match="Ignoring WANDB_MODE"):
        assert tracking_mode(settings, {**_no_key(tmp_path), "WANDB_MODE": "loud"}) == "offline"


def test_api_key_means_online_and_nothing_means_offline(tmp_path) -> None:
    settings = Settings()
    assert tracking_mode(settings, {"WANDB_API_KEY": "x" * 40}) == "online"
    assert tracking_mode(settings, {**_no_key(tmp_path), "WANDB_API_KEY": " "}) == "offline"
    assert tracking_mode(settings, _no_key(tmp_path)) == "offline"


def test_netrc_entry_means_online_and_a_broken_netrc_is_tolerated(tmp_path) -> None:
    settings = Settings()
    good = tmp_path / "good-netrc"
    good.write_text("machine api.wandb.ai\n  login user\n  password " + "k" * 40 + "\n")
    good.chmod(0o600)
    assert has_wandb_credentials({"NETRC": str(good)})
    assert tracking_mode(settings, {"NETRC": str(good)}) == "online"
    other_host = {"NETRC": str(good), "WANDB_BASE_URL": "https://wandb.example.org"}
    assert tracking_mode(settings, other_host) == "offline"
    broken = tmp_path / "broken-netrc"
    broken.write_text("machine api.wandb.ai login\n  password 'unterminated\n macdef\n")
    broken.chmod(0o600)
    assert tracking_mode(settings, {"NETRC": str(broken)}) == "offline"


def test_offline_run_writes_wandb_folder_and_history(offline_environment) -> None:
    results_dir = offline_environment
    settings = replace(Settings(), results_dir=results_dir)
    config = {"optimizer": "adam", "learning_rate": 0.001}
    with RunTracker("keras adam/1", config, framework="keras", settings=settings) as tracker:
        assert tracker.mode == "offline"
        assert tracker.run is not None
        _epochs(tracker)
        tracker.log_summary(test_accuracy=0.81)
    assert tracker.run is None
    assert list((results_dir / "wandb").glob("offline-run-*/run-*.wandb"))
    record = json.loads((results_dir / "runs" / "keras_adam_1" / "history.json").read_text())
    assert record["mode"] == "offline"
    assert record["status"] == "finished"
    assert record["framework"] == "keras"
    assert record["config"] == config
    assert record["summary"] == {"test_accuracy": 0.81}
    assert record["extra_metrics"] == [
        {"epoch": 1, "learning_rate": 0.01},
        {"epoch": 2, "learning_rate": 0.01},
    ]
    history = TrainingHistory.load_json(tracker.history_path)
    assert len(history) == 2
    assert history.epoch_seconds == [0.5, 0.5]
    assert history == tracker.history


def test_grading_profile_creates_no_wandb_folder(offline_environment) -> None:
    results_dir = offline_environment
    settings = load_settings({"MLPKIT_PROFILE": "grading", "MLPKIT_RESULTS_DIR": str(results_dir)})
    with RunTracker("graded", {}, framework="torch", settings=settings) as tracker:
        assert tracker.mode == "disabled"
        _epochs(tracker, 1)
    assert not (results_dir / "wandb").exists()
    record = json.loads(tracker.history_path.read_text())
    assert record["mode"] == "disabled"
    assert record["history"]["loss"] == [1.0]


def test_a_failing_body_still_writes_history(offline_environment) -> None:
    settings = replace(Settings(), results_dir=offline_environment)
    tracker = RunTracker("crash", {}, framework="torch", settings=settings)
    with pytest.raises(RuntimeError, match="diverged"), tracker:
        _epochs(tracker, 1)
        raise RuntimeError("loss diverged")
    record = json.loads(tracker.history_path.read_text())
    assert record["status"] == "failed"
    assert "diverged" in record["error"]
    assert len(record["history"]["loss"]) == 1


def test_a_wandb_init_error_becomes_a_warning(offline_environment, tmp_path) -> None:
    # A real wandb.init error: '/' is not allowed in a project name.
    settings = replace(Settings(), results_dir=offline_environment, wandb_project="bad/project")
    tracker = RunTracker(
        "bad", {}, framework="keras", results_dir=tmp_path / "elsewhere", settings=settings
    )
    with pytest.warns(TrackingWarning, match="init failed"):
        tracker.start()
    assert tracker.mode == "disabled"
    _epochs(tracker)
    tracker.close()
    record = json.loads((tmp_path / "elsewhere" / "runs" / "bad" / "history.json").read_text())
    assert record["mode"] == "disabled"
    assert len(record["history"]["val_accuracy"]) == 2


def test_log_epoch_requires_the_four_curves(offline_environment) -> None:
    settings = replace(Settings(), results_dir=offline_environment, profile="grading")
    tracker = RunTracker("missing", {}, framework="keras", settings=settings)
    with pytest.raises(ValueError, match="val_accuracy"):
        tracker.log_epoch(1, loss=1.0, accuracy=0.5, val_loss=1.0)
    with pytest.raises(ValueError, match="epochs count from 1"):
        tracker.log_epoch(0, loss=1.0, accuracy=0.5, val_loss=1.0, val_accuracy=0.5)
    assert len(tracker.history) == 0, "a refused epoch is not recorded"
    with pytest.raises(ValueError, match="no usable characters"):
        RunTracker("///", {}, framework="keras", settings=settings)


def _run_script(script: str, environment: dict[str, str], timeout: float) -> str:
    """Run ``script`` in a fresh interpreter with stdin closed: a prompt would fail, not hang."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def _child_environment(results_dir: Path) -> dict[str, str]:
    import os

    environment = {key: value for key, value in os.environ.items() if key not in WANDB_VARIABLES}
    environment["MLPKIT_RESULTS_DIR"] = str(results_dir)
    environment["MLPKIT_PROFILE"] = "class"
    environment.pop("NBGRADER_EXECUTION", None)
    return environment


def test_offline_run_never_prompts_with_stdin_closed(offline_environment) -> None:
    script = """
        from mlpkit.tracking import RunTracker
        with RunTracker("closed-stdin", {"epochs": 1}, framework="torch") as tracker:
            tracker.log_epoch(1, loss=1.0, accuracy=0.5, val_loss=1.0, val_accuracy=0.5)
        print(tracker.mode)
    """
    output = _run_script(script, _child_environment(offline_environment), timeout=60)
    assert output.strip().splitlines()[-1] == "offline"
    assert (offline_environment / "runs" / "closed-stdin" / "history.json").is_file()


def test_explicit_online_without_a_key_falls_back_to_offline(offline_environment) -> None:
    environment = _child_environment(offline_environment)
    environment["WANDB_MODE"] = "online"
    script = """
        import warnings
        from mlpkit.tracking import RunTracker
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with RunTracker("no-key", {}, framework="torch") as tracker:
                pass
        print(any("no W&B API key" in str(item.message) for item in caught))
        print(tracker.mode)
    """
    output = _run_script(script, environment, timeout=60)
    assert output.strip().splitlines()[-2:] == ["True", "offline"]


def test_keras_callback_logs_each_epoch(offline_environment) -> None:
    pytest.importorskip("keras")
    environment = _child_environment(offline_environment)
    environment["KERAS_BACKEND"] = "tensorflow"
    environment["TF_CPP_MIN_LOG_LEVEL"] = "3"
    # Keras runs in its own interpreter: one framework per process.
    script = """
        import numpy as np
        import keras
        from mlpkit.tracking import RunTracker, keras_callback
        features = np.random.default_rng(0).random((64, 4)).astype("float32")
        labels = (features[:, 0] > 0.5).astype("int64")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
        model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        with RunTracker("keras-callback", {}, framework="keras") as tracker:
            model.fit(features, labels, epochs=2, batch_size=16, validation_split=0.25,
                      verbose=0, callbacks=[keras_callback(tracker)])
        print(len(tracker.history), len(tracker.history.epoch_seconds))
    """
    output = _run_script(script, environment, timeout=240)
    assert output.strip().splitlines()[-1] == "2 2"
    history = TrainingHistory.load_json(
        offline_environment / "runs" / "keras-callback" / "history.json"
    )
    assert len(history.val_accuracy) == 2
