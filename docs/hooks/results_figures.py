"""The results page's figures, drawn at build time from the seed study's JSON.

Kept apart from the hook (``course_site.py``), which maps each figure's site path
to one of these functions in :data:`FIGURES`.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Mapping, Sequence

from matplotlib.figure import Figure

from mlpkit.results import FRAMEWORK_LABELS, METRIC_LABELS, ORIGINAL_RESULTS

FRAMEWORKS = ("tensorflow", "pytorch")


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation, as the seed study reports them."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def plot_test_accuracy_by_seed(results: Mapping[str, dict]) -> bytes:
    """Each seed's test accuracy, the mean ± sd, and the original's reported figure."""
    figure = Figure(figsize=(6.4, 3.8))
    axes = figure.subplots()
    for position, framework in enumerate(FRAMEWORKS):
        accuracies = [run["test_accuracy"] for run in results[framework]["runs"]]
        mean, sd = mean_sd(accuracies)
        offsets = [position - 0.08 + 0.04 * index for index in range(len(accuracies))]
        first = position == 0
        axes.scatter(
            offsets,
            accuracies,
            color="tab:blue",
            s=18,
            zorder=3,
            label="kit, one seed" if first else None,
        )
        axes.errorbar(
            position + 0.25,
            mean,
            yerr=sd,
            fmt="o",
            color="navy",
            capsize=5,
            zorder=3,
            label="kit, mean ± sd" if first else None,
        )
        axes.scatter(
            position + 0.4,
            ORIGINAL_RESULTS[framework]["test_accuracy"],
            marker="D",
            color="tab:red",
            zorder=3,
            label="original (reported)" if first else None,
        )
    axes.set_xticks(range(len(FRAMEWORKS)), [FRAMEWORK_LABELS[name] for name in FRAMEWORKS])
    axes.set_xlim(-0.5, len(FRAMEWORKS) - 0.3)
    axes.set_ylabel("test accuracy")
    axes.set_title("Final Adam models: test accuracy over seeds vs the original")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", fontsize="small")
    return _png(figure)


def plot_final_metrics(results: Mapping[str, dict]) -> bytes:
    """Train/validation/test accuracy and train/validation loss, kit mean vs original."""
    figure = Figure(figsize=(8.8, 3.6))
    accuracy_axes, loss_axes = figure.subplots(1, 2)
    panels = (
        (accuracy_axes, ("train_accuracy", "val_accuracy", "test_accuracy"), "accuracy"),
        (loss_axes, ("train_loss", "val_loss"), "loss"),
    )
    width = 0.2
    for axes, keys, label in panels:
        for index, framework in enumerate(FRAMEWORKS):
            kit = [mean_sd([run[key] for run in results[framework]["runs"]]) for key in keys]
            original = [ORIGINAL_RESULTS[framework][key] for key in keys]
            positions = [key_index + (index * 2 - 1.5) * width for key_index in range(len(keys))]
            axes.bar(
                positions,
                [mean for mean, _ in kit],
                width,
                yerr=[sd for _, sd in kit],
                label=f"{FRAMEWORK_LABELS[framework]} kit",
            )
            axes.bar(
                [position + width for position in positions],
                original,
                width,
                hatch="//",
                alpha=0.6,
                label=f"{FRAMEWORK_LABELS[framework]} original",
            )
        axes.set_xticks(range(len(keys)), [METRIC_LABELS[key].split()[0] for key in keys])
        axes.set_ylabel(label)
        if label == "accuracy":
            axes.set_ylim(0.85, 0.93)
        axes.grid(axis="y", alpha=0.3)
    handles, labels = accuracy_axes.get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="lower center", ncols=4, fontsize="small", bbox_to_anchor=(0.5, -0.1)
    )
    figure.suptitle("Final metrics: kit (mean ± sd over 5 seeds) vs the original")
    return _png(figure)


FIGURES: dict[str, Callable[[Mapping[str, dict]], bytes]] = {
    "figures/test-accuracy-by-seed.png": plot_test_accuracy_by_seed,
    "figures/final-metrics.png": plot_final_metrics,
}
