"""What the one-change-at-a-time accuracy studies share: seeds in, mean ± sd out.

``pytorch_init_study.py`` and ``keras_split_study.py`` each train a few variants of
a reference solution over the same seeds; this prints one line per variant and
parses their common command line. Run as scripts, they import it from this folder.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence


def report_variants(
    variants: Sequence[str], seeds: Sequence[int], train: Callable[[str, int], float]
) -> None:
    """Print mean ± sd and each seed's test accuracy of ``train(variant, seed)``."""
    width = max(len(variant) for variant in variants)
    for variant in variants:
        accuracies = [train(variant, seed) for seed in seeds]
        spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        runs = ", ".join(f"{accuracy:.4f}" for accuracy in accuracies)
        print(
            f"  {variant:{width}s}  {statistics.mean(accuracies):.4f} ± {spread:.4f}  ({runs})",
            flush=True,
        )


def parse_seeds_and_epochs(description: str) -> tuple[list[int], int]:
    """``--seeds 0,1,2`` and ``--epochs 19`` (the Adam best config's own)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument("--epochs", type=int, default=19)
    arguments = parser.parse_args()
    return [int(seed) for seed in arguments.seeds.split(",")], arguments.epochs
