"""The ``mlpkit`` command: a thin layer over keyword-only ``main`` functions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlpkit.profiles import PROFILES

DEFAULT_NOTEBOOKS = Path("solutions") / "mlp-fashion-mnist"


def reproduce_main(*, notebooks_dir: Path, profile: str, results_dir: Path) -> int:
    """Run the solution notebooks in order and print the results beside the original's."""
    from mlpkit.execute import execute_notebooks
    from mlpkit.results import load_results, results_table

    notebooks = sorted(Path(notebooks_dir).glob("[0-9][0-9]-*.ipynb"))
    if not notebooks:
        print(f"error: no numbered notebooks (01-....ipynb) in {notebooks_dir}", file=sys.stderr)
        return 2
    runs = execute_notebooks(notebooks, profile=profile, results_dir=results_dir)
    print(f"\nNotebook run times ({profile} profile):")
    for run in runs:
        status = "ok" if run.ok else f"FAILED: {run.error}"
        print(f"  {run.notebook.name:32s} {run.seconds:6.1f} s  {status}")
    if not all(run.ok for run in runs) or len(runs) != len(notebooks):
        print(f"Executed copies, with the failing cell's output, are in {runs[-1].executed.parent}")
        return 1
    results = {name: load_results(name, profile, results_dir) for name in ("tensorflow", "pytorch")}
    print(
        f"\nResults ({profile} profile) beside the original exercise's (full budget, Tesla P100):"
    )
    print(results_table(results))
    return 0


def accuracy_study_main(
    *,
    framework: str,
    seeds: list[int],
    profile: str,
    notebooks_dir: Path,
    work_dir: Path,
    output: Path,
) -> int:
    """Train a reference notebook over several seeds and record mean ± sd test accuracy."""
    from mlpkit.reference import accuracy_study

    entry = accuracy_study(
        framework=framework,
        seeds=seeds,
        profile=profile,
        notebooks_dir=notebooks_dir,
        work_dir=work_dir,
        output=output,
    )
    print(
        f"{framework} ({profile}): test accuracy {entry['test_accuracy_mean']:.4f} "
        f"± {entry['test_accuracy_sd']:.4f} over seeds {seeds}; written to {output}"
    )
    return 0


def settings_main() -> int:
    """Print every setting, its environment variable, current value and description."""
    from mlpkit.settings import load_settings

    for name, variable, value, description in load_settings().describe():
        print(f"{name} ({variable}) = {value}\n    {description}")
    return 0


def _parse_seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated integers, got {text!r}.") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlpkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    reproduce = commands.add_parser("reproduce", help="run the solution notebooks, print results")
    reproduce.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS)
    reproduce.add_argument("--profile", choices=list(PROFILES), default="class")
    reproduce.add_argument("--results", type=Path, default=Path("results"))
    study = commands.add_parser("accuracy-study", help="train a reference notebook over seeds")
    study.add_argument("--framework", choices=["tensorflow", "pytorch"], required=True)
    study.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated, e.g. 0,1,2,3,4")
    study.add_argument("--profile", choices=list(PROFILES), default="full")
    study.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS)
    study.add_argument("--work", type=Path, default=Path("results") / "scratch" / "study")
    study.add_argument("--output", type=Path, default=Path("results") / "reference-accuracy.json")
    commands.add_parser("settings", help="list the settings and their environment variables")
    return parser


def run(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        if arguments.command == "reproduce":
            return reproduce_main(
                notebooks_dir=arguments.notebooks,
                profile=arguments.profile,
                results_dir=arguments.results,
            )
        if arguments.command == "accuracy-study":
            return accuracy_study_main(
                framework=arguments.framework,
                seeds=_parse_seeds(arguments.seeds),
                profile=arguments.profile,
                notebooks_dir=arguments.notebooks,
                work_dir=arguments.work,
                output=arguments.output,
            )
        return settings_main()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
