"""Seconds to grade one whole submission on this machine (issue 3 target: at most 180 s).

Times, in one run:
- ``nbgrader autograde`` of the reference submission through the course's real
  config: the student's kernel runs the four notebooks in the ``grading``
  profile, then the hidden checks run outside it, both accuracy retrains included;
- the same hidden checks without nbgrader (``autograder.grade.grade_submission``).

    python benchmarks/grading_speed.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the private autograder package

from autograder.export.nbgrader_course import Course  # noqa: E402
from autograder.grade.core import (  # noqa: E402
    PROBE_KINDS,
    SOURCE_DIR,
    device_class,
    grade_submission,
)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as folder:
        course = Course(Path(folder))
        course.submit("reference", {name: SOURCE_DIR / name for name in PROBE_KINDS})
        started = time.perf_counter()
        course.autograde("reference")
        autograde_seconds = time.perf_counter() - started
        scores = course.scores("reference")
    started = time.perf_counter()
    verdicts = grade_submission(SOURCE_DIR)
    checks_seconds = time.perf_counter() - started
    automatic = sum(score or 0 for cells in scores.values() for score in cells.values())
    print(f"device class: {device_class()}")
    print(f"nbgrader autograde, one submission: {autograde_seconds:6.1f} s  (target <= 180 s)")
    print(f"  automatic points recorded in the gradebook: {automatic:g}")
    print(f"hidden checks alone (grade_submission):  {checks_seconds:6.1f} s")
    for verdict in verdicts:
        print(f"  {verdict.notebook:32s} {verdict.seconds:6.1f} s  {verdict.points:g} points")


if __name__ == "__main__":
    main()
