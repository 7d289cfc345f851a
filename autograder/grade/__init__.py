"""Grading: sandboxed probes, hidden checks, points per nbgrader cell."""

from autograder.grade.core import CellVerdict, NotebookVerdict, grade_notebook, test_cell_points

__all__ = ["CellVerdict", "NotebookVerdict", "grade_notebook", "test_cell_points"]
