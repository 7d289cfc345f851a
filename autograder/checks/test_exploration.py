"""Hidden checks of notebook 01 (data exploration): ``class_counts`` on fresh label arrays."""

import pytest

from autograder.checks.feedback import fail, part, require


@pytest.mark.cell("check_class_counts")
def test_class_counts_counts_every_label(measurements) -> None:
    record = part(measurements, "class_counts")
    cases = record["cases"]
    require(
        len(cases) == record["expected_cases"], "class_counts could not be called on every input."
    )
    for case in cases:
        if case["length"] is None:
            fail(
                f"class_counts returned {case['returned']}: return a sequence of 10 whole "
                "numbers (a NumPy array or a list), one count per label 0..9."
            )
        require(
            case["length"] == 10,
            f"class_counts returned {case['length']} counts for {case['labels']} labels; return "
            "one count per class, 10 in all, zeros included for labels that do not occur.",
        )
        require(
            case["correct"],
            f"For {case['labels']} labels, class_counts returned counts that differ from how "
            "often each label 0..9 occurs. Check labels that do not occur and the label dtype "
            "(the dataset's labels are uint8).",
        )
