"""Hidden checks of notebook 01 (data exploration)."""

import pytest


def _results(observations: dict) -> list[dict]:
    if "load" in observations:
        pytest.fail(f"class_counts could not be loaded: {observations['load']['error']}")
    return observations.get("results", [])


@pytest.mark.cell("check_class_counts")
def test_class_counts_counts_every_label(observations) -> None:
    expected = ([1, 0, 0, 2, 0, 0, 0, 0, 0, 1], [1, 1, 0, 0, 0, 0, 0, 3, 0, 0])
    results = _results(observations)
    assert len(results) == len(expected), "class_counts could not be called on every example input."
    for result, counts in zip(results, expected, strict=True):
        assert "error" not in result, f"class_counts raised {result.get('error')}"
        assert result["value"] == counts, (
            "class_counts must return 10 numbers, the count of each label 0..9, "
            "including zeros for labels that do not occur."
        )
