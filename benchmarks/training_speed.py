"""Seconds per epoch: the kit against the seed's real pipelines, beside the GEMM-bound limit.

What is compared (issue 15), per framework, at 1 and 2 threads:

- **seed**: the original exercise's own code. PyTorch: torchvision's
  ``FashionMNIST(root, download=False, transform=ToTensor())`` (the kit's offline
  files laid out by ``mlpkit.prepare_torchvision_root``), ``random_split``,
  ``DataLoader(batch_size=128, shuffle=True)``, ``Sequential(... LogSoftmax)`` +
  ``NLLLoss`` and a hand-written loop. Keras: ``Sequential([Rescaling(1/255),
  Flatten(), Dense... relu, Dense(10, softmax)])`` + ``fit(validation_split=0.2)``.
- **kit**: the code the notebooks should hold: notebook 03's graded cells as they are,
  on device-resident batches (``mlpkit.TensorBatches``); notebook 02's, whose
  ``compile_model`` sets ``steps_per_execution=32``.
- **limit**: the epoch's matrix products alone, timed on the spot in the same
  framework with the model's shapes (Adam's best config, batch 128): forward and
  both gradients over 48,000 training images, forward over 12,000 validation
  images. Every other operation (activations, the loss, Adam's update, batching,
  Python) comes on top, so no training epoch can beat it.

An epoch is the 375 training steps plus the validation pass. Each framework runs in
a process of its own (never both in one); inside it, seed, kit and limit take turns
epoch by epoch, so the shared machine's drift hits all three alike; the first epoch
of each (warm-up: graph tracing, allocations) is dropped. Ratios are medians of the
per-round ratios. CPU seconds (``time.process_time``, all of the process's threads)
sit beside wall seconds: on the shared 2-core machine other jobs take turns on the
cores, and at one thread the CPU time shows what the process itself spent. The
verdicts go by wall time; the CPU-time figure beside each says how much of it is load.

    python benchmarks/training_speed.py [--epochs 5] [--threads 1,2] [--frameworks pytorch,keras]

Targets, one thread (issue 15): PyTorch kit at least 2.6x the seed and within 1.25x
of the limit; Keras kit at least 1.4x the seed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
SOLUTIONS = BENCHMARKS.parent / "solutions" / "mlp-fashion-mnist"
SEED, KIT, LIMIT = "seed", "kit", "limit"
TRAIN_EXAMPLES, VAL_EXAMPLES = 48_000, 12_000
WORKERS = {"pytorch": "training_speed_torch.py", "keras": "training_speed_keras.py"}
TARGETS = {  # framework -> (least seed/kit ratio, most kit/limit ratio), one thread
    "pytorch": (2.6, 1.25),
    "keras": (1.4, None),
}


def layer_sizes(config: dict) -> list[int]:
    """784 inputs, the config's four hidden layers, 10 outputs."""
    return [784, *(int(config[f"dense_{index}"]) for index in range(1, 5)), 10]


def batch_counts(examples: int, batch_size: int) -> dict[int, int]:
    """Batch size -> how many batches of it one pass over ``examples`` takes."""
    full, remainder = divmod(examples, batch_size)
    return {batch_size: full, remainder: 1} if remainder else {batch_size: full}


def epoch_gflop(units: list[int]) -> float:
    """Matrix-product GFLOP of one epoch: the figure the limit's matmuls compute.

    Training, per image and layer: the forward product and the weight gradient
    (2 * fan_in * fan_out each), and the input gradient for every layer but the
    first (nothing needs the gradient of the images). Validation: forward only.
    """
    shapes = list(zip(units, units[1:], strict=False))
    forward = sum(2 * fan_in * fan_out for fan_in, fan_out in shapes)
    input_gradients = sum(2 * fan_in * fan_out for fan_in, fan_out in shapes[1:])
    return (TRAIN_EXAMPLES * (2 * forward + input_gradients) + VAL_EXAMPLES * forward) / 1e9


def run_worker(framework: str, *, threads: int, epochs: int) -> dict:
    """One framework at one thread count, in a fresh interpreter; its JSON result."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "result.json"
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [
            sys.executable,
            str(BENCHMARKS / WORKERS[framework]),
            "--threads",
            str(threads),
            "--epochs",
            str(epochs),
            "--output",
            str(output),
        ]
        # stderr (progress bars, errors) goes to the terminal; stdout is the frameworks' chatter.
        completed = subprocess.run(
            command, cwd=BENCHMARKS.parent, env=environment, stdout=subprocess.DEVNULL, check=False
        )
        if completed.returncode != 0:
            raise SystemExit(
                f"{framework} at {threads} thread(s) failed (exit {completed.returncode})"
            )
        return json.loads(output.read_text())


def worker_main(measure, description: str) -> None:
    """The two workers' command line: ``--threads N --epochs N --output FILE`` (JSON)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    arguments = parser.parse_args()
    result = measure(threads=arguments.threads, epochs=arguments.epochs)
    arguments.output.write_text(json.dumps(result))


def summarise(result: dict) -> dict:
    """Medians of each variant's epochs, and the per-round ratios against seed and limit."""
    variants = result["variants"]
    summary = {}
    for name, record in variants.items():
        rounds = range(len(record["wall"]))
        summary[name] = {
            "wall": statistics.median(record["wall"]),
            "cpu": statistics.median(record["cpu"]),
            "seed_over": statistics.median(
                variants[SEED]["wall"][index] / record["wall"][index] for index in rounds
            ),
            "seed_over_cpu": statistics.median(
                variants[SEED]["cpu"][index] / record["cpu"][index] for index in rounds
            ),
            "limit_fraction": statistics.median(
                variants[LIMIT]["wall"][index] / record["wall"][index] for index in rounds
            ),
            "limit_fraction_cpu": statistics.median(
                variants[LIMIT]["cpu"][index] / record["cpu"][index] for index in rounds
            ),
        }
    return summary


def report(results: list[dict], *, gflop: float, epochs: int) -> list[str]:
    """The table and the target lines, as printed."""
    lines = [
        f"Seconds per epoch (375 steps of 128 + validation of 12,000), median of {epochs} "
        f"interleaved epochs; limit = {gflop:.1f} GFLOP of matrix products per epoch.",
        "",
        f"{'framework':9s} {'threads':>7s} {'variant':7s} {'wall s':>7s} {'CPU s':>7s} "
        f"{'seed/this':>9s} {'(CPU)':>6s} {'limit/this':>10s} {'(CPU)':>6s} {'GFLOP/s':>8s}",
    ]
    for result in results:
        summary = summarise(result)
        for name in (SEED, KIT, LIMIT):
            figures = summary[name]
            lines.append(
                f"{result['framework']:9s} {result['threads']:7d} {name:7s} "
                f"{figures['wall']:7.2f} {figures['cpu']:7.2f} {figures['seed_over']:8.2f}x "
                f"{figures['seed_over_cpu']:5.2f}x {figures['limit_fraction']:10.2f} "
                f"{figures['limit_fraction_cpu']:6.2f} "
                f"{gflop / figures['wall']:8.1f}"
            )
    lines.append("")
    for result in results:
        if result["threads"] != 1:
            continue
        summary = summarise(result)[KIT]
        least_ratio, most_over_limit = TARGETS[result["framework"]]
        verdict = "met" if summary["seed_over"] >= least_ratio else "NOT met"
        lines.append(
            f"target {result['framework']}, 1 thread: kit >= {least_ratio}x the seed: "
            f"{summary['seed_over']:.2f}x (CPU time: {summary['seed_over_cpu']:.2f}x), {verdict}"
        )
        if most_over_limit is not None:
            over_limit = 1 / summary["limit_fraction"]
            verdict = "met" if over_limit <= most_over_limit else "NOT met"
            lines.append(
                f"target {result['framework']}, 1 thread: kit within {most_over_limit}x of the "
                f"limit: {over_limit:.2f}x (CPU time: {1 / summary['limit_fraction_cpu']:.2f}x), "
                f"{verdict}"
            )
    return lines


def main(*, epochs: int, threads: list[int], frameworks: list[str]) -> None:
    sys.path.insert(0, str(BENCHMARKS.parent))
    import mlpkit

    gflop = epoch_gflop(layer_sizes(mlpkit.load_best_config("adam")))
    results = [
        run_worker(framework, threads=count, epochs=epochs)
        for framework in frameworks
        for count in threads
    ]
    load = os.getloadavg()
    print("\n".join(report(results, gflop=gflop, epochs=epochs)))
    print(f"\nload average at the end: {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} (2 cores)")
    for result in results:
        print(f"{result['framework']} {result['threads']} thread(s): {result['versions']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=5, help="measured epochs per variant")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--frameworks", default="pytorch,keras", help="pytorch, keras or both")
    arguments = parser.parse_args()
    main(
        epochs=arguments.epochs,
        threads=[int(count) for count in arguments.threads.split(",")],
        frameworks=[name.strip() for name in arguments.frameworks.split(",")],
    )
