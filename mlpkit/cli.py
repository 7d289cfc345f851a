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


def sweep_main(
    *,
    sweep_file: Path,
    framework: str,
    trials: int | None,
    profile: str,
    results_dir: Path | None,
    storage: str | None,
    study_name: str | None,
    notebooks_dir: Path,
    train_examples: int | None,
    seed: int | None,
    write_best: Path | None,
) -> int:
    """Run one sweep file as an optuna study under a profile; optionally record its best config."""
    import optuna

    from mlpkit.profiles import get_profile
    from mlpkit.tuning import WorkerError, load_sweep, run_study, write_best_config

    budget = get_profile(profile)
    definition = load_sweep(sweep_file)
    requested = budget.sweep_trials if trials is None else trials
    allowed = requested if budget.name == "full" else min(requested, budget.sweep_trials)
    if allowed < requested:
        print(f"The {budget.name} profile caps a study at {allowed} trials.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says it all
    try:
        report = run_study(
            definition,
            framework=framework,
            trials=allowed,
            results_dir=results_dir,
            storage=storage,
            study_name=study_name,
            notebooks_dir=notebooks_dir,
            max_epochs=budget.max_epochs,
            train_examples=train_examples,
            seed=seed,
        )
    except WorkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    ran = report.this_process_trials
    print(
        f"study {report.study_name} ({report.storage}): {report.finished_trials}/"
        f"{report.target_trials} trials finished; this process ran {len(ran)}: {ran}"
    )
    if report.seconds_per_trial is not None:
        print(
            f"seconds per trial {report.seconds_per_trial:.1f} "
            f"(worker start-up {report.worker_startup_seconds:.1f} s, once)"
        )
    if report.best_config is not None:
        print(f"best {definition.metric} {report.best_value:.4f}: {report.best_config}")
    print(f"results table: {report.table}")
    if report.interrupted:
        print(
            "Interrupted: every finished trial is kept in the study. Run the same command "
            "again to resume.",
            file=sys.stderr,
        )
        return 130
    if write_best is not None:
        if report.best_config is None:
            print("error: the study has no complete trial to record yet", file=sys.stderr)
            return 2
        source = (
            f"mlpkit sweep {sweep_file} --framework {framework} --profile {budget.name}: best of "
            f"{report.finished_trials} trials (study {report.study_name})"
        )
        optimizer = report.best_config["optimizer"]
        path = write_best_config(
            write_best, optimizer=optimizer, config=report.best_config, source=source
        )
        print(f"wrote the best {optimizer} config to {path}")
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
    sweep = commands.add_parser("sweep", help="run a W&B sweep file offline as an optuna study")
    sweep.add_argument("sweep_file", type=Path, help="e.g. sweeps/adam.yaml")
    sweep.add_argument(
        "--framework", choices=["tf", "tensorflow", "torch", "pytorch"], required=True
    )
    sweep.add_argument("--trials", type=int, default=None, help="finished trials the study needs")
    sweep.add_argument("--profile", choices=list(PROFILES), default=None)
    sweep.add_argument("--results", type=Path, default=None, help="default: MLPKIT_RESULTS_DIR")
    sweep.add_argument("--storage", default=None, help="optuna RDB URL (default: SQLite)")
    sweep.add_argument("--study-name", default=None, help="default: <sweep name>-<framework>")
    sweep.add_argument("--notebooks", type=Path, default=DEFAULT_NOTEBOOKS)
    sweep.add_argument("--train-examples", type=int, default=None, help="first N images only")
    sweep.add_argument("--seed", type=int, default=None, help="sampler seed (default: random)")
    sweep.add_argument(
        "--write-best",
        nargs="?",
        type=Path,
        const=Path("sweeps") / "best.yaml",
        default=None,
        help="record the best config in best.yaml (or the file given)",
    )
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
        if arguments.command == "sweep":
            from mlpkit.settings import load_settings

            return sweep_main(
                sweep_file=arguments.sweep_file,
                framework=arguments.framework,
                trials=arguments.trials,
                profile=arguments.profile or load_settings().profile,
                results_dir=arguments.results,
                storage=arguments.storage,
                study_name=arguments.study_name,
                notebooks_dir=arguments.notebooks,
                train_examples=arguments.train_examples,
                seed=arguments.seed,
                write_best=arguments.write_best,
            )
        return settings_main()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
