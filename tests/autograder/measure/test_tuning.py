"""Sweep definitions are parsed in the trusted process with bounds: an alias bomb is refused."""

from __future__ import annotations

import resource
import time

import pytest
import yaml

from autograder.measure.tuning import bounded_yaml, read_definition
from tests.conftest import REPO_ROOT

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + level)}: &{chr(98 + level)} [" + ", ".join([f"*{chr(97 + level)}"] * 9) + "]\n"
    for level in range(9)
)


def test_an_alias_bomb_is_refused_fast_and_small() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(ValueError, match="aliases"):
        bounded_yaml(BOMB)
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB


def test_a_few_aliases_are_fine_and_expansion_is_bounded() -> None:
    assert bounded_yaml("base: &b {min: 1, max: 2}\nother: *b\n") == {
        "base": {"min": 1, "max": 2},
        "other": {"min": 1, "max": 2},
    }
    wide = "a: &a [" + ", ".join(["x"] * 1000) + "]\n" + "b: [" + ", ".join(["*a"] * 25) + "]\n"
    with pytest.raises(ValueError, match="nodes"):
        bounded_yaml(wide)


def test_definitions_are_read_by_the_sweep_reader() -> None:
    record = read_definition(
        {"value": yaml.safe_load((REPO_ROOT / "sweeps" / "adam.yaml").read_text())}, "adam_sweep"
    )
    assert record["state"] == "ok" and record["optimizer"] == "adam"
    assert read_definition({"value": "a: [1"}, "x")["state"] == "invalid"
    assert read_definition({"missing": True}, "x") == {"state": "missing"}
