"""One term of the course on the hub, through the same endpoints the JupyterLab UI calls.

The instructor works in the formgrader (generate, release, collect, autograde,
generate and release feedback); the students in the Assignments tab (fetch, submit,
fetch feedback) and in their files. Every request goes through the proxy with the
user's own hub token, so each step runs in that user's server, as that user.

Grading is kept light: each student submits notebook 01 only (the others count as
missing, 0 points). Alice fills in its answers; Bob hands it in untouched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import nbformat

from tests.conftest import SOLUTIONS_DIR
from tests.hub.hub_site import COURSE_ID, INSTRUCTOR, STUDENTS, Hub

ASSIGNMENT = "mlp-fashion-mnist"
GRADED_NOTEBOOK = "01-data-exploration.ipynb"
FILLED_IN, UNTOUCHED = STUDENTS


@dataclass
class CourseRun:
    """What the flow left behind, for the tests to judge."""

    hub: Hub
    seconds: dict[str, float] = field(default_factory=dict)
    autograde: dict[str, dict] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)  # student -> feedback HTML
    assignments_after_feedback: dict[str, dict] = field(default_factory=dict)  # the list API


def _checked(response, what: str):
    """The JSON of a response, or a failure naming the step and the server's answer."""
    if response.status_code >= 400:
        raise AssertionError(f"{what}: HTTP {response.status_code}: {response.text[:2000]}")
    body = response.json()
    if isinstance(body, dict) and body.get("success") is False:
        details = "\n".join(str(body.get(key, "")) for key in ("log", "error"))
        raise AssertionError(f"{what} failed:\n{details.strip() or body}")
    return body


def _formgrader(hub: Hub, action: str, what: str) -> dict:
    path = f"/formgrader/api/{action}"
    return _checked(hub.server(INSTRUCTOR, "POST", path), what)


def _assignment_action(hub: Hub, student: str, action: str) -> dict:
    data = {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}
    return _checked(
        hub.server(student, "POST", f"/assignments/{action}", data=data), f"{student}: {action}"
    )


def filled_in(release_notebook: dict) -> dict:
    """The release notebook with every answer cell written as the solution has it."""
    notebook = nbformat.from_dict(release_notebook)
    solution = nbformat.read(SOLUTIONS_DIR / GRADED_NOTEBOOK, as_version=4)
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = "\n".join(
                line
                for line in answers[grade_id].splitlines()
                if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
            )
    return notebook


def _hand_in_only_the_graded_notebook(hub: Hub, student: str, fill_in: bool) -> None:
    folder = f"/api/contents/{ASSIGNMENT}"
    listing = _checked(hub.server(student, "GET", folder), f"{student}: list the assignment")
    names = sorted(item["name"] for item in listing["content"] if item["name"].endswith(".ipynb"))
    if GRADED_NOTEBOOK not in names:
        raise AssertionError(f"{student} fetched {names}, without {GRADED_NOTEBOOK}")
    for name in names:
        if name != GRADED_NOTEBOOK:
            response = hub.server(student, "DELETE", f"{folder}/{name}")
            assert response.status_code == 204, f"{student}: delete {name}: {response.text}"
    if fill_in:
        path = f"{folder}/{GRADED_NOTEBOOK}"
        model = _checked(hub.server(student, "GET", path), f"{student}: open {GRADED_NOTEBOOK}")
        body = {"type": "notebook", "format": "json", "content": filled_in(model["content"])}
        _checked(hub.server(student, "PUT", path, json=body), f"{student}: save {GRADED_NOTEBOOK}")


def _feedback_html(hub: Hub, student: str) -> str:
    folder = f"/api/contents/{ASSIGNMENT}/feedback"
    listing = _checked(hub.server(student, "GET", folder), f"{student}: list feedback")
    timestamps = [item["name"] for item in listing["content"] if item["type"] == "directory"]
    if len(timestamps) != 1:
        raise AssertionError(f"{student} has feedback folders {timestamps}, expected one")
    name = GRADED_NOTEBOOK.replace(".ipynb", ".html")
    model = _checked(
        hub.server(student, "GET", f"{folder}/{timestamps[0]}/{name}", params={"format": "text"}),
        f"{student}: open the feedback",
    )
    return model["content"]


def run_course(hub: Hub) -> CourseRun:
    """Release -> fetch -> submit -> collect -> autograde -> feedback -> fetch feedback."""
    run = CourseRun(hub)

    def step(name: str, action) -> None:
        started = time.perf_counter()
        action()
        run.seconds[name] = time.perf_counter() - started

    assignment = f"assignment/{ASSIGNMENT}"
    step("generate", lambda: _formgrader(hub, f"{assignment}/assign", "generate"))
    step("release", lambda: _formgrader(hub, f"{assignment}/release", "release"))
    for student in STUDENTS:
        step(f"fetch {student}", lambda s=student: _assignment_action(hub, s, "fetch"))
        step(
            f"answer {student}",
            lambda s=student: _hand_in_only_the_graded_notebook(hub, s, s == FILLED_IN),
        )
        step(f"submit {student}", lambda s=student: _assignment_action(hub, s, "submit"))
    step("collect", lambda: _formgrader(hub, f"{assignment}/collect", "collect"))
    for student in STUDENTS:
        started = time.perf_counter()
        run.autograde[student] = _formgrader(
            hub, f"submission/{ASSIGNMENT}/{student}/autograde", f"autograde {student}"
        )
        run.seconds[f"autograde {student}"] = time.perf_counter() - started
    step(
        "generate feedback", lambda: _formgrader(hub, f"{assignment}/generate_feedback", "feedback")
    )
    step("release feedback", lambda: _formgrader(hub, f"{assignment}/release_feedback", "release"))
    for student in STUDENTS:
        listing = _assignment_action(hub, student, "fetch_feedback")
        run.assignments_after_feedback[student] = listing
        run.feedback[student] = _feedback_html(hub, student)
    return run
