"""nbgrader configuration of the course (the instructor's front door).

`solutions/` is nbgrader's source folder and `assignments/` the student release:
`nbgrader generate_assignment mlp-fashion-mnist` writes the release from the
solutions, and `assignments/` is committed, never edited by hand.
"""

import os
import sys

c = get_config()  # noqa: F821  (nbgrader injects get_config)

# The course's own grader lives beside this file (autograder/), never in the release.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.export.nbgrader import (  # noqa: E402
    ExternalVerdicts,
    KernelSafeExecute,
    TolerantNotebookExporter,
)

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
# The same for the sandboxed probe of each notebook (unset: the grader's own
# limits, autograder/grade/core.py DEFAULT_LIMITS).
if os.environ.get("MLPKIT_PROBE_WALL_SECONDS"):
    c.ExternalVerdicts.probe_wall_seconds = float(os.environ["MLPKIT_PROBE_WALL_SECONDS"])
# (nbgrader's Execute always continues after a cell's error: allow_errors is fixed
# to True there and is not a config option.)

# Autograde: run the notebook in the student's kernel (so the formgrader shows
# its outputs; a kernel that dies does not stop the grading), then replace every
# test cell's result with the verdict computed outside that kernel
# (autograder/DESIGN.md), then save the grades.
# An unreadable notebook file is graded as the release (0 points, a line saying why)
# instead of failing the student's whole submission.
c.Autograde.exporter_class = TolerantNotebookExporter

c.Autograde.autograde_preprocessors = [
    KernelSafeExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    ExternalVerdicts,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
