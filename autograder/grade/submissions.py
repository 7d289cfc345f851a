"""Find a class's submissions on disk: nbgrader's ``submitted/`` layout or plain folders.

Accepted layouts of ``SUBMISSIONS_DIR`` (the first that matches wins):

1. **One submission**: the folder itself holds notebooks named as the
   assignment's (``01-data-exploration.ipynb`` ...); the student is the folder's name.
2. **nbgrader**: ``<student>/<assignment>/*.ipynb`` (nbgrader's ``submitted/``
   folder, or a course root that has one).
3. **Flat**: ``<student>/*.ipynb`` subfolders, each one student's notebooks
   named as the assignment's, and/or ``<student>.ipynb`` files, one notebook per
   student (what an LMS download gives). Which assignment notebook a flat file
   is comes from its nbgrader cell ids (the release's ``grade_id`` values), so
   a renamed file is still recognised; with a single selected notebook, every
   flat file is that notebook.

Files and folders starting with ``.`` are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from autograder.context import GradingOptions, source_dir
from autograder.grade.core import NOTEBOOK_KINDS
from autograder.grade.job import GradingJob

PROBE_KINDS = NOTEBOOK_KINDS
SOURCE_DIR = source_dir()


def known_assignments() -> list[str]:
    """The assignments this grader has checks for (their source notebooks in ``solutions/``)."""
    return [SOURCE_DIR.name]


def assignment_notebooks(assignment: str, selected: Sequence[str] | None = None) -> list[str]:
    """The notebooks to grade: every notebook with hidden checks, or the selected ones."""
    if assignment not in known_assignments():
        raise ValueError(
            f"Unknown assignment {assignment!r}; this grader knows: "
            f"{', '.join(known_assignments())}."
        )
    notebooks = list(PROBE_KINDS)
    if not selected:
        return notebooks
    # Like nbgrader's own --notebook: the bare name or the file name.
    selected = [name if name.endswith(".ipynb") else f"{name}.ipynb" for name in selected]
    unknown = [name for name in selected if name not in notebooks]
    if unknown:
        raise ValueError(
            f"{', '.join(unknown)} is not a notebook of {assignment} ({', '.join(notebooks)})."
        )
    return [name for name in notebooks if name in selected]


@cache
def _source_grade_ids(name: str) -> frozenset[str]:
    return _grade_ids(SOURCE_DIR / name)


def _grade_ids(path: Path) -> frozenset[str]:
    try:
        cells = json.loads(path.read_text(errors="replace")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return frozenset()
    return frozenset(
        cell["metadata"]["nbgrader"]["grade_id"]
        for cell in cells
        if isinstance(cell, dict)
        and isinstance(cell.get("metadata"), dict)
        and isinstance(cell["metadata"].get("nbgrader"), dict)
        and "grade_id" in cell["metadata"]["nbgrader"]
    )


def recognise_notebook(path: Path, notebooks: Sequence[str]) -> str | None:
    """Which of ``notebooks`` a flat file is, by the nbgrader cell ids it shares with it."""
    if len(notebooks) == 1:
        return notebooks[0]
    if path.name in notebooks:
        return path.name
    found = _grade_ids(path)
    overlaps = {name: len(found & _source_grade_ids(name)) for name in notebooks}
    best = max(overlaps, key=overlaps.get)
    return best if overlaps[best] > 0 else None


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.ipynb") if path.is_file() and _visible(path))


def discover(
    folder: Path,
    *,
    assignment: str,
    notebooks: Sequence[str],
    options: GradingOptions | None = None,
) -> list[GradingJob]:
    """One grading job per student found in ``folder`` (see the module's layouts)."""
    folder = Path(folder)
    if not folder.exists():
        raise ValueError(f"{folder} does not exist.")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions.")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"

    def job(student: str, found: dict[str, Path]) -> GradingJob:
        return GradingJob(
            student=student,
            assignment=assignment,
            notebooks={name: found.get(name) for name in notebooks},
            options=options,
        )

    own = {path.name: path for path in _notebooks_in(folder) if path.name in PROBE_KINDS}
    if own:
        return [job(folder.name, own)]
    subfolders = sorted(path for path in folder.iterdir() if path.is_dir() and _visible(path))
    nbgrader_students = [path for path in subfolders if (path / assignment).is_dir()]
    if nbgrader_students:
        return [
            job(path.name, {file.name: file for file in _notebooks_in(path / assignment)})
            for path in nbgrader_students
        ]
    jobs = []
    for path in subfolders:
        found = {file.name: file for file in _notebooks_in(path)}
        if found:
            jobs.append(job(path.name, found))
    for path in _notebooks_in(folder):
        name = recognise_notebook(path, notebooks)
        jobs.append(job(path.stem, {name: path} if name else {}))
    if not jobs:
        raise ValueError(
            f"No notebooks found in {folder}: expected <student>/{assignment}/*.ipynb "
            "(nbgrader), <student>/*.ipynb or <student>.ipynb."
        )
    students = [item.student for item in jobs]
    duplicates = sorted({student for student in students if students.count(student) > 1})
    if duplicates:
        raise ValueError(
            f"Submitted twice in {folder}: {', '.join(duplicates)} "
            "(both a folder and a flat notebook)."
        )
    return sorted(jobs, key=lambda item: item.student)


def discover_all(
    folders: Sequence[Path],
    *,
    assignment: str,
    notebooks: Sequence[str],
    options: GradingOptions | None = None,
) -> list[GradingJob]:
    """Jobs of every folder given; a student found twice is an error, not a silent overwrite."""
    jobs = [
        job
        for folder in folders
        for job in discover(folder, assignment=assignment, notebooks=notebooks, options=options)
    ]
    seen: set[str] = set()
    for item in jobs:
        if item.student in seen:
            raise ValueError(f"Student {item.student!r} appears in more than one folder.")
        seen.add(item.student)
    return jobs
