"""The grader tests' shared set-up: one grading context and one retrain cache per session.

The cache lives in a temporary folder of this session (never the user's), so the
reference spec is retrained once per run and every correct variant that
identifies as it reuses those weights, as a class run would.
"""

from __future__ import annotations

import os
import tempfile

import pytest

from autograder.context import GradingContext, GradingOptions

CACHE = tempfile.mkdtemp(prefix="grader-cache-")
os.environ["MLPKIT_GRADER_CACHE"] = CACHE  # grader processes of class runs inherit it


@pytest.fixture(scope="session")
def grading_context() -> GradingContext:
    return GradingContext.from_environment(GradingOptions())


def context_with(**options) -> GradingContext:
    """A context with other grading options (a wall limit, weak isolation...)."""
    return GradingContext.from_environment(GradingOptions(**options))
