"""nbgrader integration: verdicts computed in the sandbox, no student code in nbgrader's process.

Stock ``nbgrader autograde`` executes the submitted notebook in an ordinary
kernel as the instructor, where a student cell can patch anything or rewrite
the hidden checks on disk (nbgrader #1379, #1324), and stock
``generate_feedback`` shows the hidden test code. The course's pipeline
(``nbgrader_config.py``) therefore has no ``Execute`` at all:
:class:`ExternalVerdicts` grades the submitted notebook through the sandboxed
student host (:func:`autograder.grade.core.grade_notebook`), then replaces every
autograded test cell's outputs with that verdict and its hidden test code with
a stub, so the gradebook records the sandbox's verdict and the feedback never
contains hidden code. Student code runs nowhere else.

Stock autograde also gives up on the whole submission when one notebook file is not
a readable notebook (broken JSON, a truncated upload): the student's other notebooks
go ungraded too. :class:`TolerantNotebookExporter` grades the release in its place
(0 automatic points, with a line saying why) and leaves the submitted file as it was.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float

from autograder.context import GradingContext, GradingOptions
from autograder.grade.core import NOTEBOOK_KINDS, CellVerdict, grade_notebook

HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)
HIDDEN_STUB = "# (hidden checks ran in the grader, outside this notebook)\n"


def strip_hidden_tests(source: str) -> str:
    """Replace every hidden-test region of a cell's source with a one-line stub."""
    return HIDDEN_REGION.sub(HIDDEN_STUB, source)


def verdict_outputs(verdict: CellVerdict | None, isolation: str = "full") -> list:
    """The outputs nbgrader grades from: nothing wrong gives full points, an error gives 0."""
    if verdict is None:
        return [_error(["This cell is not graded by the course autograder."])]
    if verdict.passed:
        text = f"Hidden checks passed: {verdict.points:g} / {verdict.max_points:g} points.\n"
        if isolation != "full":
            text += f"(graded with {isolation} isolation)\n"
        return [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return [_error(verdict.feedback)]


def _error(messages: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_output(
        "error",
        ename="HiddenCheckFailed",
        evalue=messages[0] if messages else "a hidden check failed",
        traceback=[
            "Hidden checks (run outside your notebook) found:",
            *[f"- {m}" for m in messages],
        ],
    )


def _notebook_key(resources: dict) -> tuple[str, str, str]:
    grading = resources["nbgrader"]
    return grading["student"], grading["assignment"], grading["notebook"]


UNREADABLE_NOTE = (
    "**This notebook could not be graded as submitted.** `{name}` is not a readable "
    "notebook ({error}). The autograder graded the unchanged release in its place, so "
    "its automatic points are 0. Your file is kept exactly as submitted: repair it (or "
    "copy your answers into a fresh copy of the release), check that it opens in "
    "Jupyter, and ask your instructor to grade it again."
)


class TolerantNotebookExporter(NotebookExporter):
    """nbgrader's notebook exporter that stands in the release for an unreadable file.

    Set as ``c.Autograde.exporter_class``. The submitted path of every stand-in is
    kept in :attr:`unreadable_submissions`, where :class:`ExternalVerdicts` (whose
    parent is this exporter) finds it and grades the original file, so feedback
    says the file was unreadable rather than that the stubs were not filled in.
    """

    def __init__(self, **keywords) -> None:
        super().__init__(**keywords)
        self.unreadable_submissions: dict[tuple[str, str, str], Path] = {}

    def from_file(self, file_stream, resources=None, **keywords):
        try:
            notebook = nbformat.read(file_stream, as_version=4)
        except Exception as error:  # noqa: BLE001 - nbformat raises several types
            submitted = Path(file_stream.name).resolve()
            notebook = self._release_in_place_of(submitted, resources, error)
        return self.from_notebook_node(notebook, resources=resources, **keywords)

    def _release_in_place_of(
        self, submitted: Path, resources: dict | None, error: Exception
    ) -> nbformat.NotebookNode:
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None or not resources or "nbgrader" not in resources:
            raise error
        student, assignment, notebook_id = _notebook_key(resources)
        release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
        release_notebook = release / f"{notebook_id}.ipynb"
        if not release_notebook.is_file():
            raise ValueError(
                f"{submitted} is not a readable notebook ({type(error).__name__}), and the "
                f"release {release_notebook} to grade in its place is missing: run "
                f"`nbgrader generate_assignment {assignment}` and autograde again."
            ) from error
        self.log.warning(
            "%s is not a readable notebook (%s: %s); grading the release in its place",
            submitted,
            type(error).__name__,
            error,
        )
        self.unreadable_submissions[(student, assignment, notebook_id)] = submitted
        notebook = nbformat.read(release_notebook, as_version=4)
        note = UNREADABLE_NOTE.format(name=submitted.name, error=type(error).__name__)
        notebook.cells.insert(0, nbformat.v4.new_markdown_cell(note))
        return notebook


class ExternalVerdicts(NbGraderPreprocessor):
    """Write the sandboxed grader's verdicts into the autograded notebook's test cells."""

    probe_wall_seconds = Float(
        None,
        allow_none=True,
        help="Wall-clock limit of one notebook's sandbox, in seconds, every part and restart "
        "included (default: the grader's own limit per notebook, autograder/context.py).",
    ).tag(config=True)
    allow_weak_isolation = Bool(
        False,
        help="Grade even where student code cannot be fully isolated (no bubblewrap or no "
        "user namespaces); each verdict then records the weak isolation.",
    ).tag(config=True)

    def grading_context(self) -> GradingContext:
        context = getattr(self, "_context", None)
        if context is None:
            options = GradingOptions(
                allow_weak_isolation=self.allow_weak_isolation,
                wall_seconds=self.probe_wall_seconds,
            )
            context = self._context = GradingContext.from_environment(options)
        return context

    def preprocess(self, nb, resources):
        notebook_name = f"{resources['nbgrader']['notebook']}.ipynb"
        unreadable = getattr(self.parent, "unreadable_submissions", {})
        if notebook_name not in NOTEBOOK_KINDS:
            raise ValueError(f"{notebook_name} is not a notebook of the course's assignment.")
        with tempfile.TemporaryDirectory(prefix="external-verdicts-") as folder:
            submitted = unreadable.get(_notebook_key(resources))
            if submitted is None:
                submitted = Path(folder) / notebook_name
                nbformat.write(nb, submitted)
            verdict = grade_notebook(
                submitted, notebook_name=notebook_name, context=self.grading_context()
            )
        self.log.info(
            "External verdict for %s: %s points in %.0f s (isolation: %s)",
            notebook_name,
            verdict.points,
            verdict.seconds,
            verdict.isolation_level,
        )
        by_id = {cell.grade_id: cell for cell in verdict.cells}
        for cell in nb.cells:
            grading = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
                cell.source = strip_hidden_tests(cell.source)
                cell.outputs = verdict_outputs(
                    by_id.get(grading.get("grade_id")), verdict.isolation_level
                )
        return nb, resources
