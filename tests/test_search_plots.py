"""Tests of mlpkit.search_plots: the tuning figures fit a notebook and show the searched ranges."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest
from PIL import Image

from mlpkit.plots import save_figure
from mlpkit.search_plots import (
    NOTEBOOK_WIDTH,
    Trial,
    plot_importances,
    plot_parallel_coordinates,
    plot_search_history,
    sweep_ranges,
)

SWEEP = {
    "method": "bayes",
    "parameters": {
        "optimizer": {"value": "adam"},
        "batch_size": {"values": [16, 32, 64, 128, 256]},
        "learning_rate": {"distribution": "uniform", "min": 0.0001, "max": 0.1},
        "dense_1": {"distribution": "int_uniform", "min": 256, "max": 512},
        "beta_2": {"distribution": "uniform", "min": 0.99, "max": 0.9999},
    },
}


def _trials(count: int = 5) -> list[Trial]:
    rng = np.random.default_rng(0)
    return [
        Trial(
            number,
            float(0.5 + rng.random()) if number != 2 else 2.3,  # trial 2 diverged
            {
                "batch_size": int(rng.choice([16, 32, 64, 128, 256])),
                "learning_rate": float(10 ** rng.uniform(-4, -1)),
                "dense_1": int(rng.integers(256, 513)),
                "beta_2": float(rng.uniform(0.99, 0.9999)),
            },
        )
        for number in range(count)
    ]


def _texts(figure) -> list[str]:
    return [text.get_text() for axes in figure.axes for text in axes.texts]


def test_sweep_ranges_are_the_searched_parameters_only() -> None:
    assert sweep_ranges(SWEEP) == {
        "batch_size": (16.0, 256.0),
        "learning_rate": (0.0001, 0.1),
        "dense_1": (256.0, 512.0),
        "beta_2": (0.99, 0.9999),
    }


def test_parallel_coordinates_label_each_axis_with_the_searched_range(tmp_path) -> None:
    figure = plot_parallel_coordinates(_trials(), sweep_ranges(SWEEP), title="adam")
    assert figure.get_size_inches()[0] == NOTEBOOK_WIDTH
    axes = figure.axes[0]
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        "batch_size",
        "learning_rate",
        "dense_1",
        "beta_2",
    ]
    for label in ("16", "256", "1e-04", "0.1", "512", "0.99", "0.9999"):
        assert label in _texts(figure), label
    assert len(axes.lines) == 5, "one line per trial"
    # The best trial is drawn last (on top) and thickest.
    widths = [line.get_linewidth() for line in axes.lines]
    assert widths[-1] == max(widths)
    assert axes.get_title() == "adam"
    path = save_figure(figure, tmp_path / "parallel.png", dpi=100)
    with Image.open(path) as image:
        assert image.width <= NOTEBOOK_WIDTH * 100 + 40


def test_parallel_coordinates_put_wide_ranges_on_a_log_scale() -> None:
    trial = Trial(0, 0.5, {"learning_rate": 0.001, "dense_1": 384})
    figure = plot_parallel_coordinates(
        [trial], {"learning_rate": (0.0001, 0.1), "dense_1": (256, 512)}
    )
    heights = figure.axes[0].lines[0].get_ydata()
    assert heights[0] == pytest.approx(1 / 3), "0.001 is a third of the way from 1e-4 to 0.1"
    assert heights[1] == pytest.approx(0.5)


def test_search_history_has_one_titled_panel_per_optimizer() -> None:
    searches = {"sgd": _trials(4), "adam": _trials(3), "rmsprop": _trials(2)}
    figure = plot_search_history(searches)
    assert [axes.get_title() for axes in figure.axes] == ["sgd", "adam", "rmsprop"]
    assert not figure.texts and not figure.get_suptitle(), "no title above the panels' titles"
    best_so_far = figure.axes[0].lines[0].get_ydata()
    assert list(best_so_far) == sorted(best_so_far, reverse=True), "the best value never rises"


def test_importances_one_panel_each_largest_on_top() -> None:
    figure = plot_importances({"adam": {"learning_rate": 0.6, "dense_1": 0.3, "beta_2": 0.1}})
    [axes] = figure.axes
    assert [label.get_text() for label in axes.get_yticklabels()] == [
        "beta_2",
        "dense_1",
        "learning_rate",
    ]
    with pytest.raises(ValueError, match="at least one"):
        plot_importances({})
    with pytest.raises(ValueError, match="No complete trials"):
        plot_parallel_coordinates([], sweep_ranges(SWEEP))
