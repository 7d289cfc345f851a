"""Figures of a hyperparameter search, readable at notebook width.

optuna's own matplotlib plots are made for a wide screen and one study: at the width
of a notebook their titles overlap, a parallel-coordinates plot of nine axes crowds
its tick labels into each other, and the axes use the range of the few trials run
rather than the range searched. These figures take plain data (trials as
``(number, value, params)``, importances as dicts), so they work for any study and
import neither optuna nor a training framework:

- :func:`plot_search_history`: one panel per optimizer, each trial's validation loss
  and the best so far;
- :func:`plot_parallel_coordinates`: one line per trial across the searched
  parameters, each axis spanning the range the sweep searched, labelled at both
  ends, the best trials drawn last and darkest;
- :func:`plot_importances`: one panel of bars per optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from mlpkit.plots import NotebookFigure

NOTEBOOK_WIDTH = 10.0
"""Figure width in inches that fills a notebook cell at 100 dpi without scaling down."""
LOG_SCALE_RATIO = 10
"""A positive range wider than this factor is drawn on a log scale (learning rate, batch size)."""


@dataclass(frozen=True)
class Trial:
    """One finished trial: its number, its metric value and the parameters it sampled."""

    number: int
    value: float
    params: dict[str, Any] = field(default_factory=dict)


def complete_trials(study: Any) -> list[Trial]:
    """The complete trials of an optuna study (pruned and failed ones have no final value)."""
    import optuna

    return [
        Trial(trial.number, float(trial.value), dict(trial.params))
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    ]


def sweep_ranges(sweep: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """``{parameter: (low, high)}`` of the parameters a W&B sweep dict searches.

    A ``distribution`` gives its ``min``/``max``, a ``values`` list its smallest and
    largest value; fixed ``value`` parameters (the optimizer) are not searched.
    """
    ranges = {}
    for name, spec in sweep.get("parameters", {}).items():
        if "values" in spec:
            numbers = [float(value) for value in spec["values"]]
            ranges[name] = (min(numbers), max(numbers))
        elif "min" in spec and "max" in spec:
            ranges[name] = (float(spec["min"]), float(spec["max"]))
    return ranges


def _format_value(value: float) -> str:
    """Short axis labels: 256, 0.9, 0.9999, 0.0123, 1e-04."""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.0e}"
    return f"{value:.4g}"


def _position(value: float, low: float, high: float) -> float:
    """Where ``value`` sits between ``low`` (0) and ``high`` (1); log scale for wide ranges."""
    if high <= low:
        return 0.5
    if low > 0 and high / low > LOG_SCALE_RATIO:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def plot_search_history(
    searches: Mapping[str, Sequence[Trial]], metric: str = "val_loss"
) -> Figure:
    """One panel per search: each complete trial's ``metric`` and the best value so far.

    The panels share a log-scaled y axis, so a diverged trial (a loss of 2.3) does
    not flatten the differences between the good ones. A best-so-far line that still
    drops at the last trial says the budget was too small.
    """
    if not searches:
        raise ValueError("Pass at least one search, e.g. {'adam': trials}.")
    figure = NotebookFigure(figsize=(NOTEBOOK_WIDTH, 3.4), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, len(searches), sharey=True, squeeze=False)[0])
    for axes, (name, trials) in zip(panels, searches.items(), strict=True):
        ordered = sorted(trials, key=lambda trial: trial.number)
        numbers = [trial.number for trial in ordered]
        values = [trial.value for trial in ordered]
        axes.scatter(numbers, values, color="C0", zorder=3, label="trial")
        if values:
            axes.step(
                numbers,
                np.minimum.accumulate(values),
                where="post",
                color="C3",
                label="best so far",
            )
        axes.set_title(name)
        axes.set_xlabel("trial")
        axes.set_yscale("log")
        axes.grid(True, alpha=0.3, which="both")
        if numbers:
            axes.set_xticks(numbers if len(numbers) <= 10 else numbers[:: len(numbers) // 10 + 1])
    every_value = [trial.value for trials in searches.values() for trial in trials]
    if every_value and min(every_value) > 0:
        ticks = np.geomspace(min(every_value), max(every_value), 5)
        panels[0].set_yticks(ticks, labels=[f"{tick:.2f}" for tick in ticks])
        panels[0].yaxis.set_minor_locator(NullLocator())
    panels[0].set_ylabel(metric)
    panels[0].legend(fontsize="small")
    return figure


def plot_parallel_coordinates(
    trials: Sequence[Trial],
    ranges: Mapping[str, tuple[float, float]],
    metric: str = "val_loss",
    title: str | None = None,
    lower_is_better: bool = True,
) -> Figure:
    """One line per trial across the searched parameters, coloured by ``metric``.

    Each vertical axis spans the range the sweep searched (``ranges``, e.g. from
    :func:`sweep_ranges`), labelled at both ends, so a line near the top of the
    learning-rate axis means a rate near the top of the search space. Wide positive
    ranges (learning rate, batch size) are drawn on a log scale. The best trials are drawn
    last, thickest and darkest. Where their lines bunch on an axis, that parameter
    matters; where they spread, it hardly does.
    """
    if not trials:
        raise ValueError("No complete trials to plot.")
    names = [name for name in ranges if any(name in trial.params for trial in trials)]
    figure = NotebookFigure(figsize=(NOTEBOOK_WIDTH, 4.2), layout="constrained")
    axes = figure.subplots()
    values = np.array([trial.value for trial in trials])
    smallest, largest = values.min(), max(values.max(), values.min() * 1.001 + 1e-12)
    # A log colour scale keeps the good trials apart when one trial diverged.
    log_colours = smallest > 0
    norm = (LogNorm if log_colours else Normalize)(vmin=smallest, vmax=largest)
    colormap = colormaps["viridis" if lower_is_better else "viridis_r"]  # the best: dark
    order = np.argsort(-values if lower_is_better else values)  # the best drawn last
    for rank, index in enumerate(order):
        trial = trials[index]
        heights = [_position(float(trial.params[name]), *ranges[name]) for name in names]
        best = rank >= len(order) - 3
        axes.plot(
            range(len(names)),
            heights,
            color=colormap(norm(trial.value)),
            linewidth=2.6 if best else 1.2,
            alpha=0.95 if best else 0.6,
            marker="o",
            markersize=4,
        )
    axes.vlines(range(len(names)), 0, 1, colors="0.4", linewidth=0.8, zorder=0)
    for position, name in enumerate(names):
        low, high = ranges[name]
        axes.text(position, 1.03, _format_value(high), ha="center", va="bottom", fontsize=8)
        axes.text(position, -0.03, _format_value(low), ha="center", va="top", fontsize=8)
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axes.tick_params(axis="x", pad=16)
    axes.set_yticks([])
    axes.set_ylim(-0.12, 1.12)
    axes.set_xlim(-0.3, len(names) - 0.7)
    for side in ("top", "right", "left", "bottom"):
        axes.spines[side].set_visible(False)
    colorbar = figure.colorbar(ScalarMappable(norm=norm, cmap=colormap), ax=axes, pad=0.01)
    ticks = (np.geomspace if log_colours else np.linspace)(smallest, largest, 5)
    colorbar.set_ticks(ticks, labels=[f"{tick:.3g}" for tick in ticks])
    colorbar.ax.minorticks_off()
    colorbar.set_label(metric)
    axes.set_title(title or f"{len(trials)} trials, each axis spanning the searched range")
    return figure


def plot_importances(importances: Mapping[str, Mapping[str, float]]) -> Figure:
    """One panel per search: each parameter's share of the variation in the metric.

    ``importances`` maps a search's name to ``{parameter: importance}`` (for example
    ``optuna.importance.get_param_importances(study)``); the largest bar is on top.
    """
    if not importances:
        raise ValueError("Pass at least one search's importances.")
    figure = NotebookFigure(figsize=(NOTEBOOK_WIDTH, 3.4), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, len(importances), sharex=True, squeeze=False)[0])
    for axes, (name, shares) in zip(panels, importances.items(), strict=True):
        ordered = sorted(shares.items(), key=lambda item: item[1])
        labels = [parameter for parameter, _ in ordered]
        widths = [share for _, share in ordered]
        axes.barh(labels, widths, color="C0")
        for row, width in enumerate(widths):
            axes.text(width + 0.01, row, f"{width:.2f}", va="center", fontsize=8)
        axes.set_title(name)
        axes.set_xlabel("importance")
        axes.tick_params(axis="y", labelsize=8)
        axes.grid(True, axis="x", alpha=0.3)
    largest = max(
        (share for shares in importances.values() for share in shares.values()), default=1
    )
    panels[0].set_xlim(0, min(1.0, largest * 1.3) or 1.0)
    return figure
