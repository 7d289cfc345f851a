"""Getting verdicts out: into nbgrader's gradebook and feedback."""

from autograder.export.nbgrader import ExternalVerdicts, strip_hidden_tests

__all__ = ["ExternalVerdicts", "strip_hidden_tests"]
