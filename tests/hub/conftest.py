"""The hub fixtures: one real JupyterHub and one term of the course per test session.

Both are session-scoped: starting the site and grading take minutes, and every test
in tests/hub judges the same term. A missing prerequisite fails them all with the
message of tests/hub/prerequisites.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.environments import Environment
from tests.hub.course_flow import CourseRun, run_course
from tests.hub.hub_site import INSTRUCTOR, STUDENTS, Hub, running_hub, start_servers
from tests.hub.prerequisites import missing_prerequisites, prerequisites_message


@pytest.fixture(scope="session")
def hub_prerequisites() -> None:
    missing = missing_prerequisites()
    if missing:
        pytest.fail(prerequisites_message(missing), pytrace=False)


@pytest.fixture(scope="session")
def course_hub(
    hub_prerequisites: None, installed_environments: dict[str, Environment]
) -> Iterator[Hub]:
    """The hub with the three users' servers running."""
    for environment in installed_environments.values():
        if environment.install.returncode != 0:
            pytest.fail(
                f"docker/install.sh {environment.role} failed, so the hub cannot start:\n"
                f"{environment.install.stdout}{environment.install.stderr}",
                pytrace=False,
            )
    started = time.perf_counter()
    prefixes = [installed_environments[role].prefix for role in ("student", "instructor")]
    with running_hub(*prefixes) as hub:
        start_servers(hub, [INSTRUCTOR, *STUDENTS])
        print(f"\nhub site up, three servers ready: {time.perf_counter() - started:.0f} s")
        yield hub


@pytest.fixture(scope="session")
def graded_term(course_hub: Hub) -> CourseRun:
    """The course flow, run once: released, submitted, graded, feedback fetched."""
    started = time.perf_counter()
    run = run_course(course_hub)
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.seconds.items())
    print(f"\ncourse flow: {time.perf_counter() - started:.0f} s ({steps})")
    return run
