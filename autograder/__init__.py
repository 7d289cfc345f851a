"""The course's hidden grader: sandboxed probes, pytest checks, nbgrader integration.

Never shipped to students (see DESIGN.md).
"""
