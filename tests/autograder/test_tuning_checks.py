"""Hidden checks of the tuning notebook, through the grading core (sandboxed probe)."""

from __future__ import annotations

from autograder.grade.core import grade_notebook
from autograder.grade.samples import RELEASE_DIR, build_submission
from tests.conftest import SOLUTIONS_DIR

TUNING = "05-hyperparameter-tuning.ipynb"
SEARCH_SPACES = """
common = {
    "batch_size": {"values": [16, 32, 64, 128, 256]},
    "epochs": {"distribution": "int_uniform", "min": EPOCHS_MIN, "max": EPOCHS_MAX},
    "dense_1": {"min": 256, "max": 512},
    "dense_2": {"min": 128, "max": 256},
    "dense_3": {"min": 128, "max": 256},
    "dense_4": {"min": 32, "max": 128},
    "learning_rate": {"distribution": "LEARNING_RATE", "min": 0.0001, "max": 0.1},
}


def sweep(optimizer, **own):
    return {
        "method": "bayes",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"optimizer": {"value": optimizer}, **common, **own},
    }


sgd_sweep = sweep("sgd", momentum={"min": 0.0, "max": 0.9})
adam_sweep = sweep("adam", beta_1={"min": 0.9, "max": 0.999}, beta_2={"min": 0.99, "max": 0.9999})
rmsprop_sweep = sweep("rmsprop", momentum={"min": 0.0, "max": 0.9}, rho={"min": 0.8, "max": 0.999})
"""


def _spaces(epochs=(15, 50), learning_rate="uniform") -> dict[str, str]:
    source = SEARCH_SPACES.replace("EPOCHS_MIN", str(epochs[0])).replace(
        "EPOCHS_MAX", str(epochs[1])
    )
    return {"search_spaces": source.replace("LEARNING_RATE", learning_rate)}


def test_reference_scores_and_the_release_does_not() -> None:
    assert grade_notebook(SOLUTIONS_DIR / TUNING).points == 4
    release = grade_notebook(RELEASE_DIR / TUNING)
    assert release.points == 0
    assert "NotImplementedError" in release.cells[0].feedback[0]


def test_spaces_written_differently_but_right_score_full_marks(tmp_path) -> None:
    written = build_submission(
        TUNING, "log-uniform", _spaces(learning_rate="log_uniform_values"), tmp_path
    )
    assert grade_notebook(written, notebook_name=TUNING).points == 4


def test_a_wrong_range_and_a_fake_mapping_lose_the_points(tmp_path) -> None:
    # The seed project's earlier SGD-only sweep searched 20 to 200 epochs.
    earlier = build_submission(TUNING, "earlier-epochs", _spaces(epochs=(20, 200)), tmp_path)
    verdict = grade_notebook(earlier, notebook_name=TUNING)
    assert verdict.points == 0
    assert "range of epochs differs" in " ".join(verdict.cells[0].feedback)
    fake = {
        "search_spaces": (
            "class Anything(dict):\n    def __eq__(self, other):\n        return True\n\n"
            "sgd_sweep = adam_sweep = rmsprop_sweep = Anything()"
        )
    }
    verdict = grade_notebook(build_submission(TUNING, "fake", fake, tmp_path), notebook_name=TUNING)
    assert verdict.points == 0
