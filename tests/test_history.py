"""Tests of mlpkit.history: the one history type shared by Keras and PyTorch runs."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from mlpkit.history import METRIC_KEYS, TrainingHistory


def _three_epochs(**extra) -> TrainingHistory:
    history = TrainingHistory(framework="torch", config={"optimizer": "adam"}, **extra)
    history.append(loss=1.0, accuracy=0.6, val_loss=0.9, val_accuracy=0.65, seconds=2.0)
    history.append(loss=0.7, accuracy=0.75, val_loss=0.6, val_accuracy=0.80, seconds=1.5)
    history.append(loss=0.5, accuracy=0.82, val_loss=0.65, val_accuracy=0.79, seconds=1.4)
    return history


def test_append_records_every_curve_and_timing() -> None:
    history = _three_epochs()
    assert len(history) == 3
    assert history.loss == [1.0, 0.7, 0.5]
    assert history.val_accuracy == [0.65, 0.80, 0.79]
    assert history.epoch_seconds == [2.0, 1.5, 1.4]


def test_append_converts_numpy_scalars_to_floats() -> None:
    history = TrainingHistory()
    history.append(
        loss=np.float32(0.5), accuracy=np.float64(0.9), val_loss=0.4, val_accuracy=np.int64(1)
    )
    assert all(type(getattr(history, key)[0]) is float for key in METRIC_KEYS)
    json.dumps(history.to_dict())


def test_timing_must_be_given_for_all_epochs_or_none() -> None:
    history = TrainingHistory()
    history.append(loss=1.0, accuracy=0.5, val_loss=1.0, val_accuracy=0.5)
    with pytest.raises(ValueError, match="not timed"):
        history.append(loss=1.0, accuracy=0.5, val_loss=1.0, val_accuracy=0.5, seconds=1.0)
    timed = _three_epochs()
    with pytest.raises(ValueError, match="seconds="):
        timed.append(loss=1.0, accuracy=0.5, val_loss=1.0, val_accuracy=0.5)


def test_inconsistent_lengths_are_rejected() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        TrainingHistory(loss=[1.0, 0.5], accuracy=[0.5], val_loss=[1.0], val_accuracy=[0.5])
    with pytest.raises(ValueError, match="epoch_seconds"):
        TrainingHistory(
            loss=[1.0], accuracy=[0.5], val_loss=[1.0], val_accuracy=[0.5], epoch_seconds=[1, 2]
        )


def test_from_keras_reads_the_history_dict() -> None:
    fit_result = SimpleNamespace(
        history={
            "loss": [0.9, 0.6],
            "accuracy": [0.7, 0.8],
            "val_loss": [0.8, 0.7],
            "val_accuracy": [0.72, 0.76],
            "learning_rate": [0.001, 0.001],
        }
    )
    history = TrainingHistory.from_keras(fit_result, config={"batch_size": 64})
    assert history.framework == "keras"
    assert history.config == {"batch_size": 64}
    assert history.accuracy == [0.7, 0.8]
    assert history.epoch_seconds == []


def test_from_keras_names_missing_keys_and_the_likely_cause() -> None:
    fit_result = SimpleNamespace(history={"loss": [0.9], "val_loss": [0.8]})
    with pytest.raises(ValueError, match="accuracy, val_accuracy") as raised:
        TrainingHistory.from_keras(fit_result)
    assert "metrics=['accuracy']" in str(raised.value)
    no_validation = SimpleNamespace(history={"loss": [0.9], "accuracy": [0.8]})
    with pytest.raises(ValueError, match="validation_data"):
        TrainingHistory.from_keras(no_validation)
    with pytest.raises(TypeError, match="model.fit"):
        TrainingHistory.from_keras({"loss": [1.0]})


def test_dict_and_json_round_trip(tmp_path) -> None:
    history = _three_epochs()
    assert TrainingHistory.from_dict(history.to_dict()) == history
    path = history.save_json(tmp_path / "nested" / "history.json")
    assert path.is_file()
    assert TrainingHistory.load_json(path) == history


def test_load_json_accepts_a_run_record_holding_a_history(tmp_path) -> None:
    history = _three_epochs()
    path = tmp_path / "record.json"
    path.write_text(json.dumps({"name": "run", "history": history.to_dict(), "summary": {}}))
    assert TrainingHistory.load_json(path) == history


def test_from_dict_names_missing_curves() -> None:
    with pytest.raises(ValueError, match="val_accuracy"):
        TrainingHistory.from_dict({"loss": [], "accuracy": [], "val_loss": []})


def test_final_returns_the_last_epoch() -> None:
    assert _three_epochs().final() == {
        "loss": 0.5,
        "accuracy": 0.82,
        "val_loss": 0.65,
        "val_accuracy": 0.79,
    }
    with pytest.raises(ValueError, match="empty"):
        TrainingHistory().final()


def test_best_epoch_minimises_losses_and_maximises_accuracies() -> None:
    history = _three_epochs()  # epochs count from 1, as Keras prints them
    assert history.best_epoch() == 2
    assert history.best_epoch("val_accuracy") == 2
    assert history.best_epoch("loss") == 3
    assert history.best_epoch("accuracy") == 3
    assert history.val_loss[history.best_epoch() - 1] == min(history.val_loss)
    with pytest.raises(ValueError, match="Unknown metric"):
        history.best_epoch("precision")


def test_best_epoch_skips_nan_and_prefers_the_earliest_tie() -> None:
    history = TrainingHistory(
        loss=[math.nan, 0.5, 0.5],
        accuracy=[0.5, 0.7, 0.7],
        val_loss=[math.nan, 0.4, 0.4],
        val_accuracy=[math.nan, 0.8, 0.8],
    )
    assert history.best_epoch("val_loss") == 2
    assert history.best_epoch("val_accuracy") == 2
    with pytest.raises(ValueError, match="finite"):
        TrainingHistory(
            loss=[math.nan], accuracy=[0.1], val_loss=[math.nan], val_accuracy=[0.1]
        ).best_epoch()
