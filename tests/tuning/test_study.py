"""Studies: results, W&B runs, resume, the worker's protocol and storage errors."""

from __future__ import annotations

import csv
import json
import shutil

import optuna
import pytest

from mlpkit.config import load_best_config, validate_config
from mlpkit.tuning import (
    TrainingWorker,
    WorkerError,
    open_study,
    parse_sweep,
    run_study,
    write_best_config,
)
from tests.conftest import DATA_DIR, REPO_ROOT, SOLUTIONS_DIR
from tests.tuning.conftest import TINY_SWEEP, TRAIN_EXAMPLES

TINY_CONFIG = validate_config(
    {
        "optimizer": "adam",
        "learning_rate": 0.003,
        "batch_size": 128,
        "epochs": 3,
        "dense_1": 16,
        "dense_2": 16,
        "dense_3": 16,
        "dense_4": 8,
    }
)


def test_study_logs_every_trial_and_resumes_without_repeating(tmp_path) -> None:
    definition = parse_sweep(TINY_SWEEP)
    options = {
        "framework": "torch",
        "results_dir": tmp_path,
        "notebooks_dir": SOLUTIONS_DIR,
        "train_examples": TRAIN_EXAMPLES,
        "max_epochs": 1,
        "seed": 0,
        "show_progress": False,
    }
    first = run_study(definition, trials=3, **options)
    assert first.finished_trials == 3 and first.this_process_trials == [0, 1, 2]
    assert first.study_name == "tiny-pytorch" and first.storage.startswith("sqlite:///")
    assert first.best_config["epochs"] == 1, "max_epochs caps every trial"
    validate_config(first.best_config)
    with TrainingWorker(
        framework="pytorch", notebooks_dir=SOLUTIONS_DIR, train_examples=TRAIN_EXAMPLES, seed=0
    ) as shared:
        second = run_study(definition, trials=5, worker=shared, **options)
        assert shared.process is not None, "a shared worker outlives the study"
    assert second.this_process_trials == [3, 4], "a resumed study runs only what is missing"
    rows = list(csv.DictReader(first.table.open()))
    assert [row["number"] for row in rows] == ["0", "1", "2", "3", "4"]
    assert {row["state"] for row in rows} == {"COMPLETE"}
    for row in rows:
        record = json.loads((tmp_path / "runs" / row["run_name"] / "history.json").read_text())
        assert record["mode"] == "offline" and record["status"] == "finished"
        assert len(record["history"]["val_loss"]) == 1
        assert float(row["value"]) == pytest.approx(record["history"]["val_loss"][-1])
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 5, "one W&B run per trial"
    report = json.loads(first.table.with_suffix(".json").read_text())
    assert report["finished_trials"] == 5 and report["best_config"] == second.best_config


def test_worker_loads_data_once_and_stops_a_pruned_trial(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(copy))
    seen: list[int] = []
    with TrainingWorker(
        framework="pytorch", notebooks_dir=SOLUTIONS_DIR, train_examples=TRAIN_EXAMPLES, seed=0
    ) as worker:
        shutil.rmtree(copy)  # trials must not read the files again
        assert worker.train(TINY_CONFIG, lambda epoch, metrics: seen.append(epoch) or False) == 3
        epochs = worker.train(TINY_CONFIG, lambda epoch, metrics: epoch == 1)
        assert epochs == 1, "answering 'prune' after epoch 1 stops the trial there"
        bad = {**TINY_CONFIG, "dense_1": "wide"}
        with pytest.raises(WorkerError, match="Training failed in the pytorch worker"):
            worker.train(bad, lambda epoch, metrics: False)
        assert worker.train(TINY_CONFIG, lambda epoch, metrics: False) == 3, "still usable"

        def failing_report(epoch: int, metrics: dict) -> bool:
            raise ValueError("the driver could not log this epoch")

        with pytest.raises(ValueError, match="could not log"):
            worker.train(TINY_CONFIG, failing_report)
        assert worker.train(TINY_CONFIG, lambda epoch, metrics: False) == 3, "still in step"
    assert seen == [1, 2, 3]


def test_worker_reports_a_broken_notebook(tmp_path) -> None:
    (tmp_path / "03-pytorch-mlp.ipynb").write_text("{ not json")
    with pytest.raises(WorkerError, match="could not start"):
        TrainingWorker(
            framework="pytorch", notebooks_dir=tmp_path, train_examples=None, seed=0
        ).start()


@pytest.mark.parametrize(
    "storage",
    [
        "sqlite:////nonexistent-folder/studies.db",
        "postgresql://student:secret@127.0.0.1:9/studies",
        "results/studies.db",
    ],
)
def test_unreachable_storage_is_one_clear_error(storage) -> None:
    with pytest.raises(ValueError, match="storage|database URL") as caught:
        open_study(parse_sweep(TINY_SWEEP), storage=storage, study_name="s", seed=0)
    assert "secret" not in str(caught.value)


def test_a_changed_sweep_file_cannot_resume_a_study(tmp_path) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    open_study(parse_sweep(TINY_SWEEP), storage=storage, study_name="s", seed=0)
    changed = {**TINY_SWEEP, "parameters": {**TINY_SWEEP["parameters"], "epochs": {"value": 3}}}
    with pytest.raises(ValueError, match="different sweep definition"):
        open_study(parse_sweep(changed), storage=storage, study_name="s", seed=0)
    assert optuna.load_study(study_name="s", storage=storage).user_attrs["sweep"]["name"] == "tiny"


def test_write_best_config_keeps_the_other_optimizers(tmp_path) -> None:
    best = tmp_path / "best.yaml"
    shutil.copy(REPO_ROOT / "sweeps" / "best.yaml", best)
    write_best_config(best, optimizer="adam", config=TINY_CONFIG, source="test study")
    assert load_best_config("adam", best) == TINY_CONFIG
    assert load_best_config("sgd", best) == load_best_config("sgd")
    assert best.read_text().startswith("# The best config per optimizer.")
    with pytest.raises(ValueError, match="not 'sgd'"):
        write_best_config(best, optimizer="sgd", config=TINY_CONFIG, source="x")
