"""The ``python -m autograder`` command: a thin layer over keyword-only ``main`` functions."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

ASSIGNMENT = "mlp-fashion-mnist"


def _interrupt_on_sigterm() -> None:
    """A ``kill`` stops a class run like Ctrl-C: finished students stay, workers stop."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def grade_main(
    *,
    submissions: list[Path],
    assignment: str,
    output: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    notebooks: list[str] | None = None,
    time_limit: float | None = None,
    memory_limit_gb: float | None = None,
    allow_weak_isolation: bool = False,
    json_path: Path | None = None,
    progress: bool = True,
) -> int:
    """Grade a class (or one submission) outside any student kernel; print a grade table.

    Writes ``OUTPUT/students/<student>.json``, ``OUTPUT/grades.csv`` and
    ``OUTPUT/gradescope/<student>/results.json``; a re-run skips students already
    graded unless ``force``. ``time_limit`` / ``memory_limit_gb`` replace every
    notebook's sandbox limits (default: each kind's own, ``autograder/context.py``).
    Without full isolation grading refuses, unless ``allow_weak_isolation``.
    """
    from autograder.context import GradingOptions
    from autograder.grade.classroom import grade_class

    if (time_limit is not None and time_limit <= 0) or (
        memory_limit_gb is not None and memory_limit_gb <= 0
    ):
        raise ValueError("--time-limit and --memory-limit must be positive.")
    options = GradingOptions(
        allow_weak_isolation=allow_weak_isolation,
        wall_seconds=time_limit,
        memory_bytes=int(memory_limit_gb * 2**30) if memory_limit_gb else None,
    )
    run = grade_class(
        submissions,
        assignment=assignment,
        output=output,
        workers=workers,
        scheduler=scheduler,
        force=force,
        notebooks=notebooks,
        options=options,
        progress=progress,
    )
    print(f"\n{'student':32s} {'auto points':>12s} {'seconds':>8s}  lost points")
    for result in run.results:
        lost = [
            f"{cell['grade_id']} (-{cell['max_points'] - cell['points']:g})"
            for notebook in result["notebooks"]
            for cell in notebook["cells"]
            if cell["points"] != cell["max_points"]
        ]
        print(
            f"{result['student']:32s} {result['points']:5g} / {result['max_points']:<5g} "
            f"{result['seconds']:8.0f}  {', '.join(lost) or '-'}"
        )
    levels = sorted({result.get("isolation", "full") for result in run.results})
    print(f"\nisolation of student code: {', '.join(levels) or '-'}")
    print(
        f"graded {len(run.graded)}, skipped {len(run.skipped)} already graded"
        f"{' (--force grades them again)' if run.skipped else ''}, failed {len(run.failed)}"
    )
    if json_path is not None:  # the verdict lists the single-submission command wrote
        for result in run.results:
            target = json_path if len(run.results) == 1 else json_path / f"{result['student']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result["notebooks"], indent=1))
    for student, reason in sorted(run.failed.items()):
        print(f"  FAILED {student}: {reason}", file=sys.stderr)
    print(
        f"grades: {output / 'grades.csv'}; per student: {output / 'students'}; "
        f"Gradescope: {output / 'gradescope'}"
    )
    return 1 if run.failed else 0


def import_gradebook_main(*, output: Path, assignment: str, db_url: str | None) -> int:
    """Record a class run's auto scores in the nbgrader gradebook (as autograde would)."""
    import os

    from autograder.export.gradebook import import_results
    from autograder.export.tables import read_class_results

    results = read_class_results(output)
    if not results:
        raise ValueError(f"No graded students in {output}; run `autograder grade` first.")
    db_url = db_url or os.environ.get("MLPKIT_GRADEBOOK_URL") or "sqlite:///gradebook.db"
    count = import_results(results, db_url=db_url, assignment=assignment)
    print(f"recorded the auto scores of {count} students in {db_url}")
    return 0


def samples_main(*, output: Path) -> int:
    """Build the three sample submissions and grade them (the README's main job)."""
    from autograder.grade.samples import sample_submissions

    samples = sample_submissions(output)
    print(f"Grading the sample submissions in {output} (hidden checks, outside any kernel)...")
    return grade_main(
        submissions=list(samples.values()),
        assignment=ASSIGNMENT,
        output=output / "graded",
        force=True,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser(
        "grade",
        help="grade a class's submissions (or one submission folder), N at a time",
        description="Layouts: nbgrader's submitted/<student>/<assignment>/*.ipynb, "
        "<student>/*.ipynb folders, <student>.ipynb files, or one submission folder.",
    )
    grade.add_argument("submissions", type=Path, nargs="+", help="SUBMISSIONS_DIR")
    grade.add_argument("--assignment", default=ASSIGNMENT)
    grade.add_argument("--workers", type=int, default=None, help="default: one per GPU, else 1")
    grade.add_argument("--scheduler", default=None, help="a Dask scheduler, tcp://HOST:PORT")
    grade.add_argument(
        "--output", type=Path, default=None, help="default: results/graded/ASSIGNMENT"
    )
    grade.add_argument("--force", action="store_true", help="grade again what was graded")
    grade.add_argument(
        "--notebook", action="append", default=None, help="grade only this notebook (repeatable)"
    )
    grade.add_argument("--time-limit", type=float, default=None, help="seconds per notebook")
    grade.add_argument("--memory-limit", type=float, default=None, help="GB per sandbox")
    grade.add_argument(
        "--allow-weak-isolation",
        action="store_true",
        help="grade even where student code cannot be fully isolated (recorded in the results)",
    )
    grade.add_argument("--json", type=Path, default=None, help="also write verdicts as JSON here")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    gradebook = commands.add_parser(
        "import-gradebook", help="record a class run's auto scores in the nbgrader gradebook"
    )
    gradebook.add_argument("output", type=Path, help="the --output folder of `grade`")
    gradebook.add_argument("--assignment", default=ASSIGNMENT)
    gradebook.add_argument(
        "--db", default=None, help="default: $MLPKIT_GRADEBOOK_URL or sqlite:///gradebook.db"
    )
    samples = commands.add_parser("samples", help="build and grade the three sample submissions")
    samples.add_argument("--output", type=Path, default=Path("results") / "samples")
    return parser


def run(argv: list[str] | None = None) -> int:
    from autograder.sandbox.isolation import IsolationUnavailable

    arguments = build_parser().parse_args(argv)
    _interrupt_on_sigterm()
    try:
        if arguments.command == "import-gradebook":
            return import_gradebook_main(
                output=arguments.output, assignment=arguments.assignment, db_url=arguments.db
            )
        if arguments.command == "samples":
            return samples_main(output=arguments.output)
        return grade_main(
            submissions=arguments.submissions,
            assignment=arguments.assignment,
            output=arguments.output or Path("results") / "graded" / arguments.assignment,
            workers=arguments.workers,
            scheduler=arguments.scheduler,
            force=arguments.force,
            notebooks=arguments.notebook,
            time_limit=arguments.time_limit,
            memory_limit_gb=arguments.memory_limit,
            allow_weak_isolation=arguments.allow_weak_isolation,
            json_path=arguments.json,
            progress=not arguments.no_progress,
        )
    except (ValueError, IsolationUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished students are saved; run again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(run())
