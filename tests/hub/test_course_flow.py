"""The course on a real JupyterHub: grades, feedback, and who can see what.

One term (tests/hub/course_flow.py) runs once; each test judges one part of it.
"""

from __future__ import annotations

import re

import nbformat
from nbgrader.api import Gradebook

from tests.conftest import SOLUTIONS_DIR
from tests.hub.course_flow import ASSIGNMENT, FILLED_IN, GRADED_NOTEBOOK, UNTOUCHED, CourseRun
from tests.hub.hub_site import COURSE_ID, INSTRUCTOR, STUDENTS, run_as

NOTEBOOK_ID = GRADED_NOTEBOOK.removesuffix(".ipynb")


def test_autograde_records_the_scores_in_the_course_gradebook(graded_term: CourseRun) -> None:
    """Every automatic point for the filled-in notebook, none for the untouched one.

    The written answers of the notebook wait for manual grading, so the scores are
    the code (automatic) part.
    """
    for student, result in graded_term.autograde.items():
        assert result["success"], f"autograde {student}: {result}"
    for student, score in _gradebook_scores(graded_term).items():
        code_score, max_code_score, total = score
        assert max_code_score > 0
        if student == FILLED_IN:
            assert code_score == max_code_score, f"{student}: {code_score} of {max_code_score}"
        else:
            assert code_score == 0, f"{student} handed in the release and scored {code_score}"
        assert total == code_score, "the notebooks not handed in count 0"
    home = graded_term.hub.home(INSTRUCTOR)
    assert not (home / "gradebook.db").exists(), "the formgrader made a stray ~/gradebook.db"


def _gradebook_scores(graded_term: CourseRun) -> dict[str, tuple[float, float, float]]:
    """Per student: the notebook's automatic score, its maximum, the assignment's score."""
    database = f"sqlite:///{graded_term.hub.course / 'gradebook.db'}"
    scores = {}
    with Gradebook(database, course_id=COURSE_ID) as gradebook:
        for student in STUDENTS:
            notebook = gradebook.find_submission_notebook(NOTEBOOK_ID, ASSIGNMENT, student)
            total = gradebook.find_submission(ASSIGNMENT, student).score
            scores[student] = (notebook.code_score, notebook.max_code_score, total)
    return scores


def test_each_student_fetches_feedback_without_hidden_tests(graded_term: CourseRun) -> None:
    hidden_lines = _hidden_test_lines()
    scores = _gradebook_scores(graded_term)
    for student in STUDENTS:
        feedback = graded_term.feedback[student]
        assert f"{NOTEBOOK_ID}" in feedback
        score = re.search(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)", feedback)
        assert score, f"{student}'s feedback shows no score"
        assert float(score.group(1)) == scores[student][0], f"{student}: {score.group(0)}"
        assert "BEGIN HIDDEN TESTS" not in feedback
        leaked = [line for line in hidden_lines if line in feedback]
        assert not leaked, f"{student}'s feedback shows hidden test code: {leaked[:3]}"
        listing = graded_term.assignments_after_feedback[student]["value"]
        submitted = [item for item in listing if item["status"] == "submitted"]
        assert [item["assignment_id"] for item in submitted] == [ASSIGNMENT], listing
        assert all(
            submission["has_local_feedback"] for submission in submitted[0]["submissions"]
        ), f"the Assignments list of {student} shows no fetched feedback: {submitted}"


def _hidden_test_lines() -> list[str]:
    """Distinctive lines of the graded notebook's hidden tests (none may reach a student)."""
    notebook = nbformat.read(SOLUTIONS_DIR / GRADED_NOTEBOOK, as_version=4)
    lines = []
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 20:
                lines.append(line.strip())
    return lines


# What a student tries, as that student (their uid), with plain shell commands.
READ_ATTEMPTS = r"""
attempt() { if "$@" >/dev/null 2>&1; then echo "ALLOWED $*"; else echo "denied $*"; fi; }
attempt ls "$EXCHANGE/$COURSE/inbound"
attempt ls "$EXCHANGE/$COURSE/feedback"
attempt ls "$CLASSMATE_HOME"
attempt ls "$CLASSMATE_HOME/$ASSIGNMENT/feedback"
attempt cat "$CLASSMATE_HOME/$ASSIGNMENT/$NOTEBOOK"
attempt ls "$COURSE_FOLDER"
attempt cat "$COURSE_FOLDER/solutions/$ASSIGNMENT/$NOTEBOOK"
attempt cat "$COURSE_FOLDER/gradebook.db"
attempt ls "$COURSE_FOLDER/submitted"
attempt cat "$COURSE_FOLDER/autograded/$CLASSMATE/$ASSIGNMENT/$NOTEBOOK"
"""


def test_a_student_reaches_no_classmate_work_no_course_and_no_gradebook(
    graded_term: CourseRun,
) -> None:
    """Everything that names or holds another student's work, or the course, is closed.

    nbgrader's exchange leaves each submission readable by whoever knows its folder's
    name; the name carries a random part, and every place it could be learned from
    (the inbound and feedback folders, the classmate's home, the course) is closed.
    """
    hub = graded_term.hub
    environment = {
        "EXCHANGE": str(hub.exchange),
        "COURSE": COURSE_ID,
        "ASSIGNMENT": ASSIGNMENT,
        "NOTEBOOK": GRADED_NOTEBOOK,
        "CLASSMATE": UNTOUCHED,
        "CLASSMATE_HOME": str(hub.home(UNTOUCHED)),
        "COURSE_FOLDER": str(hub.course),
    }
    attempts = run_as(FILLED_IN, ["bash", "-c", READ_ATTEMPTS], env=environment)
    assert attempts.returncode == 0, attempts.stderr
    results = attempts.stdout.splitlines()
    assert len(results) == READ_ATTEMPTS.count("\nattempt "), results
    allowed = [line for line in results if line.startswith("ALLOWED")]
    assert not allowed, f"{FILLED_IN} could: {allowed}"
    inbound = hub.exchange / COURSE_ID / "inbound"
    names = [path.name for path in inbound.iterdir()]
    assert len(names) == len(STUDENTS), names
    for name in names:
        assert re.fullmatch(r"[^+]+\+[^+]+\+[^+]+\+[A-Za-z0-9_-]{12}", name), name
    own = run_as(
        FILLED_IN, ["bash", "-c", f'cat "{hub.home(FILLED_IN)}/{ASSIGNMENT}/{GRADED_NOTEBOOK}"']
    )
    assert own.returncode == 0, "the probe must be able to read the student's own work"


def test_only_the_instructor_has_a_formgrader_and_each_server_its_owner(
    graded_term: CourseRun,
) -> None:
    hub = graded_term.hub
    for student in STUDENTS:
        for path in ("/formgrader", "/formgrader/api/assignments"):
            response = hub.server(student, "GET", path)
            assert response.status_code == 404, f"{student} {path}: HTTP {response.status_code}"
    for owner in (INSTRUCTOR, UNTOUCHED):
        response = hub.server(
            owner, "GET", "/api/contents", token_of=FILLED_IN, allow_redirects=False
        )
        assert response.status_code == 403, (
            f"{FILLED_IN}'s token on {owner}'s server: HTTP {response.status_code}"
        )


def test_formgrader_shows_the_course_and_its_submissions(graded_term: CourseRun) -> None:
    hub = graded_term.hub
    assignments = hub.server(INSTRUCTOR, "GET", "/formgrader/api/assignments").json()
    by_name = {assignment["name"]: assignment for assignment in assignments}
    assert ASSIGNMENT in by_name, f"the formgrader does not see the course: {assignments}"
    assert by_name[ASSIGNMENT]["num_submissions"] == len(STUDENTS)
    assert by_name[ASSIGNMENT]["status"] == "released"
    submissions = hub.server(INSTRUCTOR, "GET", f"/formgrader/api/submissions/{ASSIGNMENT}").json()
    scores = {submission["student"]: submission["score"] for submission in submissions}
    assert set(scores) == set(STUDENTS), submissions
    assert scores[FILLED_IN] > scores[UNTOUCHED] == 0
    page = hub.server(INSTRUCTOR, "GET", "/formgrader/manage_assignments")
    assert page.status_code == 200 and "Manage Assignments" in page.text
