"""nbgrader configuration of the course (the instructor's front door).

`solutions/` is nbgrader's source folder and `assignments/` the student release:
`nbgrader generate_assignment mlp-fashion-mnist` writes the release from the
solutions, and `assignments/` is committed, never edited by hand.

Autograde never executes a submission in nbgrader's own kernel: the pipeline
below has no `Execute`. Every verdict comes from the course's grader, which runs
the student's answer cells only inside its sandbox (autograder/DESIGN.md).
nbgrader drops a config file that raises, silently, and would then fall back to
its stock pipeline (student code in an ordinary kernel, as the instructor), so
this file never raises: if the grader cannot be imported, autograde refuses
every notebook with the reason instead.
"""

import os
import sys

c = get_config()  # noqa: F821  (nbgrader injects get_config)

_COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = _COURSE_ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.course_id = os.environ.get("MLPKIT_COURSE_ID", "mlpkit")

# The gradebook: SQLite beside this file unless MLPKIT_GRADEBOOK_URL names another
# database (any SQLAlchemy URL, e.g. postgresql://user@host/gradebook).
c.CourseDirectory.db_url = os.environ.get(
    "MLPKIT_GRADEBOOK_URL", "sqlite:///" + os.path.join(_COURSE_ROOT, "gradebook.db")
)
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

try:
    # The course's own grader lives beside this file (autograder/), never in the release.
    sys.path.insert(0, _COURSE_ROOT)
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from autograder.export.nbgrader import ExternalVerdicts, TolerantNotebookExporter

    # Each notebook's sandbox gets a hard wall limit (unset: the grader's own per
    # notebook); MLPKIT_ALLOW_WEAK_ISOLATION=1 grades where full isolation is impossible.
    if os.environ.get("MLPKIT_PROBE_WALL_SECONDS"):
        c.ExternalVerdicts.probe_wall_seconds = float(os.environ["MLPKIT_PROBE_WALL_SECONDS"])
    if os.environ.get("MLPKIT_ALLOW_WEAK_ISOLATION") == "1":
        c.ExternalVerdicts.allow_weak_isolation = True

    # An unreadable notebook file is graded as the release (0 points, a line saying why)
    # instead of failing the student's whole submission.
    c.Autograde.exporter_class = TolerantNotebookExporter
    c.Autograde.autograde_preprocessors = [
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        ExternalVerdicts,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
except Exception as _error:  # noqa: BLE001 - nbgrader must not drop this file silently
    from nbgrader.preprocessors import NbGraderPreprocessor

    _REASON = (
        f"The course grader cannot be imported in this environment "
        f"({type(_error).__name__}: {_error}). Install the instructor environment "
        "(docker/install.sh instructor, or `pip install -r requirements.txt`) and run nbgrader "
        f"from the course folder {_COURSE_ROOT}."
    )

    class GraderUnavailable(NbGraderPreprocessor):
        """Refuse to autograde: without the course grader there is no sandbox."""

        def preprocess(self, nb, resources):
            raise RuntimeError(_REASON)

    print(f"nbgrader_config.py: {_REASON}", file=sys.stderr)
    c.Autograde.autograde_preprocessors = [GraderUnavailable]
