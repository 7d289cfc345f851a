"""A student logs in through the hub's page in a real browser and sees only what a student may.

Debian's chromium, headless, driven by Playwright through `executable_path` (never
`playwright install`), against the hub of tests/hub/conftest.py after the term has
run, so the Assignments tab has an assignment to show.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import system_chromium
from tests.hub.course_flow import ASSIGNMENT, UNTOUCHED, CourseRun
from tests.hub.hub_site import INSTRUCTOR, STUDENTS

LOAD_TIMEOUT_MS = 180_000  # JupyterLab on a busy 2-core machine


@pytest.fixture(scope="module")
def hub_browser(graded_term: CourseRun) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "tests/hub/prerequisites.py checks for chromium"
    with system_chromium(chromium) as browser:
        yield browser


def _log_in(page: Page, hub_url: str, user: str) -> None:
    """The hub's own login form, as a user fills it in; wait for their JupyterLab."""
    page.goto(f"{hub_url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill("any password: the test authenticator takes it")
    page.locator("#login_submit").click()
    page.wait_for_url(f"**/user/{user}/lab**", timeout=LOAD_TIMEOUT_MS)


def _menu_items(page: Page, menu: str) -> list[str]:
    entry = page.locator(".lm-MenuBar-item", has_text=menu)
    entry.wait_for(timeout=LOAD_TIMEOUT_MS)
    entry.click()
    return page.locator(".lm-Menu-item:visible .lm-Menu-itemLabel").all_inner_texts()


def test_a_student_logs_in_and_sees_assignments_but_no_grading_tools(
    graded_term: CourseRun, hub_browser: Browser
) -> None:
    page = hub_browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _log_in(page, graded_term.hub.url, UNTOUCHED)
        items = _menu_items(page, "Nbgrader")
        assert "Assignment List" in items, items
        for instructor_item in (
            "Formgrader",
            "Formgrader (local)",
            "Create assignment",
            "Course List",
        ):
            assert instructor_item not in items, (
                f"a student's Nbgrader menu offers {instructor_item}"
            )
        page.locator(".lm-Menu-item", has_text="Assignment List").click()
        tab = page.locator(".lm-TabBar-tab", has_text="Assignments")
        expect(tab).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        assignment_list = page.locator("#nbgrader-assignment-list")
        expect(assignment_list).to_contain_text(ASSIGNMENT, timeout=LOAD_TIMEOUT_MS)
        expect(assignment_list).to_contain_text("view feedback")
        sidebar_titles = page.locator(".lm-TabBar-tab").evaluate_all(
            "tabs => tabs.map(tab => (tab.title || '') + ' ' + tab.innerText)"
        )
        assert not any("Create Assignment" in title for title in sidebar_titles), sidebar_titles
        assert not any("Formgrader" in title for title in sidebar_titles), sidebar_titles
        assert not errors, f"the student's JupyterLab reported: {errors}"
    finally:
        page.close()


def test_the_instructor_sees_the_course_and_its_submissions_in_the_formgrader(
    graded_term: CourseRun, hub_browser: Browser
) -> None:
    """The same checks, on the instructor, find the tools the student must not have.

    The formgrader opens in a tab of its own: JupyterHub forbids framing a server's
    pages (Content-Security-Policy frame-ancestors 'none'), so JupyterLab's Nbgrader >
    Formgrader panel stays blank on a hub (docs/jupyterhub.md).
    """
    page = hub_browser.new_page()
    try:
        _log_in(page, graded_term.hub.url, INSTRUCTOR)
        items = _menu_items(page, "Nbgrader")
        assert {"Formgrader", "Create assignment", "Course List"} <= set(items), items
        page.keyboard.press("Escape")
        page.goto(f"{graded_term.hub.url}/user/{INSTRUCTOR}/formgrader")
        page.wait_for_url("**/formgrader/manage_assignments", timeout=LOAD_TIMEOUT_MS)
        row = page.locator("tr", has_text=ASSIGNMENT)
        expect(row).to_contain_text("released", timeout=LOAD_TIMEOUT_MS)
        submissions = row.locator("td").nth(8)
        expect(submissions).to_have_text(str(len(STUDENTS)))
    finally:
        page.close()
