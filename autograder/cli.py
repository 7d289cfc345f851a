"""The ``python -m autograder`` command: a thin layer over keyword-only ``main`` functions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def grade_main(*, submissions: list[Path], json_path: Path | None) -> int:
    """Grade submission folders outside any student kernel and print a grade table."""
    from autograder.grade.core import grade_submission, verdict_json

    rows = []
    for folder in submissions:
        verdicts = grade_submission(folder)
        total = sum(verdict.points for verdict in verdicts)
        maximum = sum(cell.max_points for verdict in verdicts for cell in verdict.cells)
        seconds = sum(verdict.seconds for verdict in verdicts)
        rows.append((folder.name, total, maximum, seconds, verdicts))
        if json_path is not None:
            target = json_path if len(submissions) == 1 else json_path / f"{folder.name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(verdict_json(verdicts))
    print(f"\n{'submission':32s} {'auto points':>12s} {'seconds':>8s}  lost points")
    for name, total, maximum, seconds, verdicts in rows:
        lost = [
            f"{cell.grade_id} (-{cell.max_points:g})"
            for verdict in verdicts
            for cell in verdict.cells
            if not cell.passed
        ]
        print(f"{name:32s} {total:5g} / {maximum:<5g} {seconds:8.0f}  {', '.join(lost) or '-'}")
    return 0


def samples_main(*, output: Path) -> int:
    """Build the three sample submissions and grade them (the README's main job)."""
    from autograder.grade.samples import sample_submissions

    samples = sample_submissions(output)
    print(f"Grading the sample submissions in {output} (hidden checks, outside any kernel)...")
    return grade_main(submissions=list(samples.values()), json_path=output / "verdicts")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade folders of submitted notebooks")
    grade.add_argument("submissions", type=Path, nargs="+")
    grade.add_argument("--json", type=Path, default=None, help="write verdicts as JSON here")
    samples = commands.add_parser("samples", help="build and grade the three sample submissions")
    samples.add_argument("--output", type=Path, default=Path("results") / "samples")
    return parser


def run(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        if arguments.command == "samples":
            return samples_main(output=arguments.output)
        return grade_main(submissions=arguments.submissions, json_path=arguments.json)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
