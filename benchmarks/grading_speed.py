"""Seconds to grade one whole five-notebook submission (issue 11: within 1.5x of 63-72 s).

Times, in one run, the reference submission:

- ``python -m autograder grade`` (one grader process, the command instructors run),
  once with an empty retrain cache (the grader retrains both frameworks) and once
  with the cache the first run left (what every later correct student of a class costs);
- ``nbgrader autograde`` through the course's real config, with the warm cache
  (nbgrader executes no student code: every verdict comes from the sandbox).

    python benchmarks/grading_speed.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))  # the private autograder package

from autograder.context import GradingContext, source_dir  # noqa: E402
from autograder.export.nbgrader_course import Course  # noqa: E402
from autograder.grade.core import NOTEBOOK_KINDS  # noqa: E402

TARGET_SECONDS = 1.5 * 72


def grade_once(cache: Path, output: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            str(source_dir()),
            "--output",
            str(output),
            "--force",
            "--no-progress",
        ],
        cwd=REPOSITORY,
        env={**os.environ, "MLPKIT_GRADER_CACHE": str(cache)},
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    result = json.loads(next((output / "students").glob("*.json")).read_text())
    return seconds, result


def main() -> None:
    context = GradingContext.from_environment()
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as folder:
        root = Path(folder)
        cold, result = grade_once(root / "cache", root / "cold")
        warm, _ = grade_once(root / "cache", root / "warm")
        os.environ["MLPKIT_GRADER_CACHE"] = str(root / "cache")
        course = Course(root / "course")
        course.submit("reference", {name: source_dir() / name for name in NOTEBOOK_KINDS})
        started = time.perf_counter()
        course.autograde("reference")
        autograde = time.perf_counter() - started
        scores = course.scores("reference")
    automatic = sum(score or 0 for cells in scores.values() for score in cells.values())
    print(f"device class: {context.device}; isolation: {context.isolation.mode}")
    print(
        f"autograder grade, cold retrain cache: {cold:6.1f} s  (target <= {TARGET_SECONDS:.0f} s)"
    )
    print(f"autograder grade, warm retrain cache: {warm:6.1f} s")
    print(f"nbgrader autograde, warm cache:       {autograde:6.1f} s  ({automatic:g} points)")
    for notebook in result["notebooks"]:
        parts = ", ".join(
            f"{name} {record.get('seconds', 0):.0f}" for name, record in notebook["parts"].items()
        )
        print(
            f"  {notebook['notebook']:32s} {notebook['seconds']:6.1f} s  "
            f"{notebook['points']:g} points  ({parts})"
        )


if __name__ == "__main__":
    main()
