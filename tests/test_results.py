import json

import pytest

from mlpkit.results import ORIGINAL_RESULTS, load_results, results_table, save_results
from mlpkit.settings import load_settings

HISTORY = {
    "loss": [0.6, 0.4],
    "accuracy": [0.8, 0.86],
    "val_loss": [0.5, 0.45],
    "val_accuracy": [0.82, 0.84],
}


def _save(tmp_path, framework: str) -> None:
    settings = load_settings({"MLPKIT_RESULTS_DIR": str(tmp_path), "MLPKIT_PROFILE": "class"})
    save_results(
        framework,
        history=HISTORY,
        test_loss=0.47,
        y_true=[0, 1, 2, 3],
        y_pred=[0, 1, 2, 2],
        config={"optimizer": "adam"},
        device="cpu",
        seed=3,
        settings=settings,
    )


def test_round_trip_recomputes_accuracy_from_predictions(tmp_path) -> None:
    _save(tmp_path, "pytorch")
    result = load_results("pytorch", "class", tmp_path)
    assert result["metrics"]["test_accuracy"] == 0.75
    assert result["metrics"]["val_accuracy"] == 0.84
    assert result["seed"] == 3 and "python" in result["versions"]
    assert json.loads((tmp_path / "class" / "pytorch.json").read_text())["framework"] == "pytorch"


def test_table_sets_each_framework_beside_the_original(tmp_path) -> None:
    _save(tmp_path, "tensorflow")
    _save(tmp_path, "pytorch")
    results = {name: load_results(name, "class", tmp_path) for name in ("tensorflow", "pytorch")}
    table = results_table(results)
    assert "TensorFlow (original)" in table and "PyTorch (kit)" in table
    assert f"{ORIGINAL_RESULTS['tensorflow']['test_accuracy']:.4f}" in table
    assert "0.7500" in table


def test_missing_or_bad_results_say_which_notebook_to_run(tmp_path) -> None:
    with pytest.raises(ValueError, match="Run 02-tensorflow-mlp.ipynb"):
        load_results("tensorflow", "class", tmp_path)
    with pytest.raises(ValueError, match="Unknown framework 'jax'"):
        load_results("jax", "class", tmp_path)
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "pytorch.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_results("pytorch", "class", tmp_path)


def test_incomplete_history_is_refused(tmp_path) -> None:
    settings = load_settings({"MLPKIT_RESULTS_DIR": str(tmp_path)})
    with pytest.raises(ValueError, match="no val_loss, val_accuracy"):
        save_results(
            "pytorch",
            history={"loss": [1.0], "accuracy": [0.5]},
            test_loss=1.0,
            y_true=[0],
            y_pred=[0],
            config={},
            device="cpu",
            seed=0,
            settings=settings,
        )
