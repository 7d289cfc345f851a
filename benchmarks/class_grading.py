"""Submissions per minute: the class runner with 1 and 2 workers against nbgrader autograde.

In one run, on the same N whole submissions of the real assignment (the sample
submissions of ``autograder/grade/samples.py``: the reference, the sample
mistake, the untouched release, then more copies of the reference):

- ``python -m autograder grade`` (``grade_class``) with each worker count;
- ``nbgrader autograde`` through the course's real config, one submission at
  a time (the way nbgrader grades), with the same sandboxed grader;

then it imports the 1-worker results into a copy of the gradebook autograde
started from and says whether every autograded cell got the same score.

    python benchmarks/class_grading.py --submissions 4 --workers 1,2
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the private autograder package

from autograder.context import GradingContext, source_dir  # noqa: E402
from autograder.export.gradebook import import_results  # noqa: E402
from autograder.export.nbgrader_course import ASSIGNMENT, Course  # noqa: E402
from autograder.grade.classroom import grade_class  # noqa: E402
from autograder.grade.core import graded_cell_points  # noqa: E402
from autograder.grade.samples import sample_submissions  # noqa: E402


def build_class(folder: Path, count: int) -> dict[str, Path]:
    """``count`` whole submissions: the three samples, then copies of the reference."""
    samples = sample_submissions(folder / "samples")
    names = ["reference", "evaluate-tracks-gradients", "untouched-release"]
    students = {}
    for index in range(count):
        name = names[index] if index < len(names) else f"reference-{index}"
        source = samples[names[index] if index < len(names) else "reference"]
        shutil.copytree(source, folder / "class" / name)
        students[name] = folder / "class" / name
    return students


def autograded_cell_scores(db_url: str, students) -> dict:
    from nbgrader.api import Gradebook

    test_cells = {
        name for path in source_dir().glob("*.ipynb") for name in graded_cell_points(path)
    }
    with Gradebook(db_url) as gradebook:
        return {
            student: {
                (notebook.name, grade.name): grade.auto_score
                for notebook in gradebook.find_submission(ASSIGNMENT, student).notebooks
                for grade in notebook.grades
                if grade.name in test_cells
            }
            for student in students
        }


def main(*, submissions: int, workers: list[int], nbgrader: bool) -> None:
    rows = []
    root = Path(tempfile.mkdtemp(prefix="class-grading-benchmark-"))
    try:
        students = build_class(root, submissions)
        runs = {}
        for count in workers:
            started = time.perf_counter()
            run = grade_class(
                [root / "class"],
                assignment=ASSIGNMENT,
                output=root / f"graded-{count}",
                workers=count,
                force=True,
                progress=False,
            )
            seconds = time.perf_counter() - started
            if run.failed:
                raise RuntimeError(f"grading failed: {run.failed}")
            runs[count] = run
            rows.append((f"autograder grade --workers {count}", seconds))
        identical = None
        if nbgrader:
            course = Course(root / "course")
            for student, folder in students.items():
                course.submit(student, {path.name: path for path in folder.glob("*.ipynb")})
            pristine = root / "course" / "before-autograde.db"
            shutil.copyfile(course.gradebook, pristine)
            started = time.perf_counter()
            for student in students:
                course.autograde(student)
            rows.append(("nbgrader autograde, one at a time", time.perf_counter() - started))
            first = runs[workers[0]]
            import_results(first.results, db_url=f"sqlite:///{pristine}", assignment=ASSIGNMENT)
            identical = autograded_cell_scores(
                f"sqlite:///{pristine}", students
            ) == autograded_cell_scores(f"sqlite:///{course.gradebook}", students)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    device = GradingContext.from_environment().device
    print(f"\n{submissions} submissions of {ASSIGNMENT} ({', '.join(students)}), "
          f"device class {device}, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'how':40s} {'seconds':>8s} {'submissions/min':>16s}")
    for how, seconds in rows:
        print(f"{how:40s} {seconds:8.0f} {submissions * 60 / seconds:16.2f}")
    best = min(seconds for how, seconds in rows if how.startswith("autograder"))
    for how, seconds in rows:
        if how.startswith("nbgrader"):
            print(f"fastest class run vs nbgrader autograde: {seconds / best:.2f}x")
    if len(workers) > 1:
        by_workers = dict(zip(workers, [seconds for _, seconds in rows], strict=False))
        print(f"{workers[-1]} workers vs {workers[0]}: "
              f"{by_workers[workers[0]] / by_workers[workers[-1]]:.2f}x")  # fmt: skip
    if identical is not None:
        print(f"gradebook import == nbgrader autograde on every autograded cell: {identical}")
    totals = {result["student"]: result["points"] for result in runs[workers[0]].results}
    print(f"auto points: {totals}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--skip-nbgrader", action="store_true")
    arguments = parser.parse_args()
    main(
        submissions=arguments.submissions,
        workers=[int(count) for count in arguments.workers.split(",")],
        nbgrader=not arguments.skip_nbgrader,
    )
