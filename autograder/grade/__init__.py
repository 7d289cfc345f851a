"""Grading: sandboxed probes, hidden checks, points per nbgrader cell."""

from autograder.grade.core import (
    CellVerdict,
    NotebookVerdict,
    grade_notebook,
    grade_submission,
    graded_cell_points,
)

__all__ = [
    "CellVerdict",
    "NotebookVerdict",
    "grade_notebook",
    "grade_submission",
    "graded_cell_points",
]
