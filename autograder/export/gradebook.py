"""Class grading results into the nbgrader gradebook (nbgrader's public ``Gradebook`` API).

What ``nbgrader autograde``'s ``SaveAutoGrades`` records for each autograded
test cell, the auto score, is written here from the class run's per-student
results: the student and the submission are created when missing (the
submission mirrors the assignment's notebooks and cells, as nbgrader does), and
each test cell's ``auto_score`` is set; a notebook that was not submitted
scores 0 in every cell, as autograde records it. Written answers of submitted
notebooks are left to the formgrader (autograde's "no response" zero for an
unchanged answer cell is not reproduced). The assignment must already be in the gradebook, which
``nbgrader generate_assignment`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def import_results(results: Iterable[dict], *, db_url: str, assignment: str) -> int:
    """Record every result's auto scores in the gradebook at ``db_url``; return how many."""
    from nbgrader.api import Gradebook, MissingEntry

    imported = 0
    with Gradebook(db_url) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(
                f"{assignment} is not in the gradebook {db_url}; run "
                f"`nbgrader generate_assignment {assignment}` there first."
            ) from None
        for result in results:
            if result["assignment"] != assignment:
                raise ValueError(
                    f"{result['student']}'s result is for {result['assignment']}, not {assignment}."
                )
            student = result["student"]
            gradebook.update_or_create_student(student)
            try:
                gradebook.find_submission(assignment, student)
            except MissingEntry:
                gradebook.add_submission(assignment, student)
            for notebook in result["notebooks"]:
                name = Path(notebook["notebook"]).stem
                if not notebook.get("submitted", True):
                    # As autograde: every cell of a missing notebook, written answers too, is 0.
                    missing = gradebook.find_submission_notebook(name, assignment, student)
                    for grade in missing.grades:
                        grade.auto_score = 0
                        grade.needs_manual_grade = False
                    continue
                for cell in notebook["cells"]:
                    grade = gradebook.find_grade(cell["grade_id"], name, assignment, student)
                    grade.auto_score = cell["points"]
                    # As SaveAutoGrades: a cell a person already graded is flagged for review.
                    grade.needs_manual_grade = grade.manual_score is not None
            gradebook.db.commit()
            imported += 1
    return imported
