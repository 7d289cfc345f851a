"""The hidden checks' set-up: the ``cell`` marker, and the driver's measurements as a fixture.

The grading core runs pytest in its own process with a plugin that provides
``measurements`` (the trusted driver's facts about one notebook, never a file
the sandbox wrote) and ``grading_context``. The checks compare those facts with
what the contract asks; they never run student code.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cell(grade_id): the nbgrader test cell this check guards")
