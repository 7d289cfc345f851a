"""A throwaway nbgrader course around the repository's config.

Used by the end-to-end tests and the grading benchmark: the temporary course
loads the real ``nbgrader_config.py`` (so the real preprocessor list runs) and
only moves the course root and the gradebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.context import REPOSITORY as REPO_ROOT

ASSIGNMENT = "mlp-fashion-mnist"
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))


class Course:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.gradebook = root / "gradebook.db"
        shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
        (root / "nbgrader_config.py").write_text(
            "c = get_config()\n"
            f"load_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n"
            f"c.CourseDirectory.root = {str(root)!r}\n"
            f"c.CourseDirectory.db_url = 'sqlite:///{self.gradebook}'\n"
        )
        self.run("generate_assignment", ASSIGNMENT, "--force")

    def run(self, *arguments: str, timeout: float = 1200) -> subprocess.CompletedProcess:
        environment = {
            **os.environ,
            "MLPKIT_GRADEBOOK_URL": f"sqlite:///{self.gradebook}",
            # nbgrader runs `alembic` from PATH to set up the gradebook.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        completed = subprocess.run(
            [NBGRADER, *arguments],
            cwd=self.root,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"nbgrader {' '.join(arguments)} failed:\n{completed.stderr[-4000:]}"
            )
        return completed

    def submit(self, student: str, notebooks: dict[str, Path]) -> None:
        folder = self.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in notebooks.items():
            shutil.copyfile(path, folder / name)
        self.run("db", "student", "add", student)

    def autograde(self, student: str) -> None:
        self.run("autograde", ASSIGNMENT, "--student", student, "--force")

    def scores(self, student: str) -> dict[str, dict[str, float]]:
        """Auto scores per notebook and grade cell, read back from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.gradebook}") as gradebook:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            return {
                notebook.name: {grade.name: grade.auto_score for grade in notebook.grades}
                for notebook in submission.notebooks
            }

    def feedback_html(self, student: str) -> str:
        self.run("generate_feedback", ASSIGNMENT, "--student", student, "--force")
        folder = self.root / "feedback" / student / ASSIGNMENT
        return "\n".join(path.read_text() for path in sorted(folder.glob("*.html")))
