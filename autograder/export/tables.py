"""A class's grades as files: one JSON per student and one CSV for the whole class."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

from autograder.grade.job import RESULT_SCHEMA, write_atomically


def student_file(output: Path, student: str) -> Path:
    return Path(output) / "students" / f"{student}.json"


def write_student_result(output: Path, result: dict) -> Path:
    """The per-student JSON, written atomically: it is also the resume marker."""
    path = student_file(output, result["student"])
    write_atomically(path, json.dumps(result, indent=1))
    return path


def read_student_result(path: Path) -> dict | None:
    """A finished result, or ``None`` for a missing, partial or foreign file (graded again)."""
    try:
        result = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    required = ("student", "assignment", "fingerprint", "points", "max_points", "notebooks")
    if not isinstance(result, dict) or result.get("schema") != RESULT_SCHEMA:
        return None
    if any(key not in result for key in required):
        return None
    return result


def read_class_results(output: Path) -> list[dict]:
    """Every finished student result under ``output``, sorted by student."""
    folder = Path(output) / "students"
    results = [read_student_result(path) for path in sorted(folder.glob("*.json"))]
    return sorted((result for result in results if result), key=lambda item: item["student"])


def grades_csv(results: Iterable[dict]) -> str:
    """student, total, max, isolation level, then points per notebook and per cell (``nb:cell``)."""
    results = list(results)
    columns: list[str] = []
    rows = []
    for result in results:
        row = {
            "student": result["student"],
            "total": result["points"],
            "max": result["max_points"],
            "isolation": result.get("isolation", "full"),
        }
        for notebook in result["notebooks"]:
            stem = Path(notebook["notebook"]).stem
            row[stem] = notebook["points"]
            for cell in notebook["cells"]:
                row[f"{stem}:{cell['grade_id']}"] = cell["points"]
        for column in row:
            if column not in columns:
                columns.append(column)
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["student", "total", "max", "isolation"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_grades_csv(output: Path, results: Iterable[dict]) -> Path:
    path = Path(output) / "grades.csv"
    write_atomically(path, grades_csv(results))
    return path
