"""Hidden checks of notebook 04 (framework comparison)."""

import pytest


@pytest.mark.cell("check_generalisation_gap")
def test_generalisation_gap_is_train_minus_validation(observations) -> None:
    if "load" in observations:
        pytest.fail(f"generalisation_gap could not be loaded: {observations['load']['error']}")
    results = observations.get("results", [])
    assert len(results) == 2, "generalisation_gap could not be called on the example results."
    for result, expected in zip(results, (0.04, -0.05), strict=True):
        assert "error" not in result, f"generalisation_gap raised {result.get('error')}"
        assert isinstance(result["value"], float) and abs(result["value"] - expected) < 1e-9, (
            "generalisation_gap must return final training accuracy minus final validation "
            "accuracy, as one number (it can be negative)."
        )
