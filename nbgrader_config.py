"""nbgrader configuration of the course (the instructor's front door).

`solutions/` is nbgrader's source folder and `assignments/` the student release:
`nbgrader generate_assignment mlp-fashion-mnist` writes the release from the
solutions, and `assignments/` is committed, never edited by hand.
"""

import os

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.course_id = os.environ.get("MLPKIT_COURSE_ID", "mlpkit")

# The gradebook: SQLite beside this file unless MLPKIT_GRADEBOOK_URL names another
# database (any SQLAlchemy URL, e.g. postgresql://user@host/gradebook).
c.CourseDirectory.db_url = os.environ.get(
    "MLPKIT_GRADEBOOK_URL",
    "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db"),
)

# A cell that runs longer than this (seconds) is stopped and graded as failed,
# so one hanging submission never stalls a class.
c.Execute.timeout = int(os.environ.get("MLPKIT_CELL_TIMEOUT", "300"))
c.Execute.interrupt_on_timeout = True
c.Execute.allow_errors = True

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
