"""Hidden checks of notebook 04 (framework comparison): ``generalisation_gap`` on fresh results."""

import pytest

from autograder.checks.feedback import part, require


@pytest.mark.cell("check_generalisation_gap")
def test_generalisation_gap_is_train_minus_validation(measurements) -> None:
    record = part(measurements, "generalisation_gap")
    cases = record["cases"]
    require(
        len(cases) == record["expected_cases"],
        "generalisation_gap could not be called on every saved result.",
    )
    for case in cases:
        require(
            case["is_float"],
            f"generalisation_gap returned {case['returned']}: return one number, a float.",
        )
        require(
            case["correct"],
            "generalisation_gap must return the final training accuracy minus the final "
            "validation accuracy of the saved result it is given (it can be negative).",
        )
