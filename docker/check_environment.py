"""The checks docker/install.sh runs after setting up an environment: did it do the work?

Run by the environment's own interpreter (`python -P docker/check_environment.py ...`,
so the current folder is not importable), it prints one line saying what it verified,
or one line saying what is wrong and exits 1:

    student-absent            the grading side is not in the student environment: no
                              importable `autograder`, no rubric, no solution notebook
                              anywhere on sys.path, in the prefix or in Jupyter's folders
    release SOURCE RELEASE    `nbgrader generate_assignment` wrote every source notebook
                              into RELEASE, without solutions or hidden tests
    graded GRADES_CSV         every student in the grader's grades.csv got full marks
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS")
RUBRIC = "RUBRIC.md"


def _search_roots() -> list[Path]:
    """Every folder the environment reads code, settings or data from (no duplicates)."""
    roots = {Path(sys.prefix)}
    roots.update(Path(entry) for entry in sys.path if entry)
    try:
        from jupyter_core.paths import jupyter_config_path, jupyter_path

        roots.update(Path(folder) for folder in jupyter_path() + jupyter_config_path())
    except ImportError:
        pass
    resolved = sorted({root.resolve() for root in roots if root.is_dir()})
    # A folder inside another is walked with its parent.
    return [root for root in resolved if not any(parent in resolved for parent in root.parents)]


def _files(root: Path, skip: Path | None) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(root):
        if skip is not None and Path(folder) == skip:
            subfolders.clear()  # nbgrader's own test notebooks carry solution markers
            continue
        for name in names:
            yield Path(folder) / name


def _has_solution_markers(path: Path) -> bool:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return any(marker in text for marker in SOLUTION_MARKERS)


def student_absent() -> str:
    """Fail when the student environment could import the grader or read an answer."""
    if importlib.util.find_spec("autograder") is not None:
        location = importlib.util.find_spec("autograder").origin
        return f"error: the student environment imports the grader (autograder at {location})"
    roots = _search_roots()
    nbgrader = importlib.util.find_spec("nbgrader")
    skip = Path(nbgrader.origin).parent.resolve() if nbgrader and nbgrader.origin else None
    for root in roots:
        for path in _files(root, skip):
            if path.name == RUBRIC:
                return f"error: the grading rubric is in the student environment: {path}"
            if path.suffix == ".ipynb" and _has_solution_markers(path):
                return f"error: a solution notebook is in the student environment: {path}"
    return f"no grader, rubric or solutions in {len(roots)} folders ({', '.join(map(str, roots))})"


def release(source: Path, release_folder: Path) -> str:
    """Fail unless the release holds every source notebook and no answers."""
    expected = sorted(path.name for path in source.glob("*.ipynb"))
    written = sorted(path.name for path in release_folder.glob("*.ipynb"))
    if not expected:
        return f"error: no source notebooks in {source}"
    if written != expected:
        return (
            f"error: nbgrader generate_assignment wrote {written or 'no notebooks'} into "
            f"{release_folder}, expected {expected} (did nbgrader load the course's "
            "nbgrader_config.py? Run it by hand from the course folder to see why)"
        )
    leaking = [name for name in written if _has_solution_markers(release_folder / name)]
    if leaking:
        return f"error: the generated release keeps solutions or hidden tests: {leaking}"
    return f"generated the release: {len(written)} notebooks, no solutions"


def graded(grades_csv: Path) -> str:
    """Fail unless the grader wrote a row per student, each with full marks."""
    if not grades_csv.is_file():
        return f"error: the grader wrote no {grades_csv}"
    with grades_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return f"error: {grades_csv} grades no student"
    for row in rows:
        if float(row["max"]) <= 0 or float(row["total"]) != float(row["max"]):
            return (
                f"error: the reference submission {row['student']} scored {row['total']} "
                f"of {row['max']} points, expected full marks. The grader said: "
                f"{_lost_points(grades_csv.parent / 'students' / (row['student'] + '.json'))}"
            )
    summary = ", ".join(f"{row['student']} {row['total']}/{row['max']}" for row in rows)
    return f"graded the sample submission: {summary}"


def _lost_points(student_json: Path) -> str:
    """The grader's feedback on every cell that lost points (its per-student JSON)."""
    try:
        notebooks = json.loads(student_json.read_text())["notebooks"]
    except (OSError, ValueError, KeyError) as error:
        return f"(no readable {student_json}: {error})"
    return "; ".join(
        f"{cell['grade_id']}: {' '.join(cell.get('feedback', [])) or 'no feedback'}"
        for notebook in notebooks
        for cell in notebook.get("cells", [])
        if cell.get("points") != cell.get("max_points")
    )


def main(arguments: list[str]) -> int:
    commands = {
        "student-absent": (student_absent, 0),
        "release": (release, 2),
        "graded": (graded, 1),
    }
    if (
        not arguments
        or arguments[0] not in commands
        or len(arguments) - 1 != commands[arguments[0]][1]
    ):
        print(__doc__, file=sys.stderr)
        return 2
    check, _ = commands[arguments[0]]
    message = check(*map(Path, arguments[1:]))
    print(message, file=sys.stderr if message.startswith("error:") else sys.stdout)
    return 1 if message.startswith("error:") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
