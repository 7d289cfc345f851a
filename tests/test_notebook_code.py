import nbformat
import pytest

from mlpkit.notebook_code import cell_sources, load_cells
from tests.conftest import SOLUTIONS_DIR

PYTORCH = SOLUTIONS_DIR / "03-pytorch-mlp.ipynb"


def test_chosen_cells_become_a_module_without_running_the_rest() -> None:
    module = load_cells(PYTORCH, ["setup", "split_data", "create_model"])
    config = {"dense_1": 8, "dense_2": 7, "dense_3": 6, "dense_4": 5}
    model = module.create_model(config)
    linear_shapes = [tuple(layer.weight.shape) for layer in model if hasattr(layer, "weight")]
    assert linear_shapes == [(8, 784), (7, 8), (6, 7), (5, 6), (10, 5)]
    assert not hasattr(module, "history"), "training cells were not executed"


def test_cells_come_back_in_the_order_asked() -> None:
    sources = cell_sources(PYTORCH, ["evaluate", "train_epoch"])
    assert [grade_id for grade_id, _ in sources] == ["evaluate", "train_epoch"]
    assert "def evaluate" in sources[0][1]


def test_missing_cell_and_broken_notebook_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="no code cell with grade_id make_coffee"):
        cell_sources(PYTORCH, ["setup", "make_coffee"])
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(ValueError, match="is not a readable notebook"):
        cell_sources(broken, ["setup"])
    with pytest.raises(ValueError, match="does not exist"):
        cell_sources(tmp_path / "absent.ipynb", ["setup"])


def test_magics_are_skipped(tmp_path) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%matplotlib inline\n!ls\nanswer = 42")
    cell.metadata["nbgrader"] = {"grade_id": "answer"}
    notebook.cells.append(cell)
    path = tmp_path / "magic.ipynb"
    nbformat.write(notebook, path)
    assert load_cells(path, ["answer"]).answer == 42


def test_namespace_prefills_the_module(tmp_path) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("doubled = base * 2")
    cell.metadata["nbgrader"] = {"grade_id": "double"}
    notebook.cells.append(cell)
    path = tmp_path / "prefill.ipynb"
    nbformat.write(notebook, path)
    assert load_cells(path, ["double"], namespace={"base": 21}).doubled == 42
