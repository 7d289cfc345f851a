"""Run notebooks top to bottom with nbclient, in a chosen profile, and time them.

This is how the instructor reproduces the reference results and how the test
suite checks that every solution notebook runs: the same code, so a notebook
that passes the tests also runs for the instructor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from tqdm.auto import tqdm

from mlpkit.profiles import get_profile


@dataclass(frozen=True)
class NotebookRun:
    """What happened when one notebook ran."""

    notebook: Path
    executed: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _read_notebook(path: Path):
    if not path.is_file():
        raise ValueError(f"Notebook {path} does not exist.")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several types for broken JSON
        raise ValueError(
            f"{path} is not a readable notebook ({type(error).__name__}: {error}). "
            "Restore it from git or re-save it in Jupyter."
        ) from None


def execute_notebook(
    path: Path,
    *,
    output_path: Path,
    environment: Mapping[str, str],
    cell_timeout: int = 600,
    kernel_name: str = "python3",
) -> NotebookRun:
    """Execute ``path`` in a fresh kernel whose environment is ``environment``.

    The kernel starts in the notebook's folder, like Jupyter. The executed copy
    (outputs included, even after an error) is written to ``output_path``.
    """
    path = Path(path)
    notebook = _read_notebook(path)
    saved_environment = dict(os.environ)
    os.environ.update(environment)  # nbclient's kernel inherits this process's environment
    started = time.perf_counter()
    error = None
    try:
        client = NotebookClient(
            notebook,
            timeout=cell_timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        client.execute()
    except CellTimeoutError as failure:
        error = f"a cell ran longer than {cell_timeout} s: {str(failure).splitlines()[0]}"
    except CellExecutionError as failure:
        error = _summarise_cell_error(failure)
    except DeadKernelError as failure:
        error = f"the kernel died ({failure}); it may have run out of memory"
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
    seconds = time.perf_counter() - started
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output_path)
    return NotebookRun(notebook=path, executed=output_path, seconds=seconds, error=error)


def _summarise_cell_error(failure: CellExecutionError) -> str:
    name = getattr(failure, "ename", "Error")
    value = getattr(failure, "evalue", "")
    return f"{name}: {value}".strip()


def execute_notebooks(
    notebooks: Sequence[Path],
    *,
    profile: str,
    results_dir: Path,
    extra_environment: Mapping[str, str] | None = None,
    cell_timeout: int = 600,
    stop_on_error: bool = True,
) -> list[NotebookRun]:
    """Execute notebooks in order, in one profile, saving executed copies under results_dir.

    All notebooks of one run share ``results_dir`` (so the comparison notebook
    finds what the framework notebooks saved) and the profile.
    """
    get_profile(profile)  # fails early with the list of valid names
    results_dir = Path(results_dir).resolve()
    environment = {
        "MLPKIT_PROFILE": profile,
        "MLPKIT_RESULTS_DIR": str(results_dir),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(extra_environment or {}),
    }
    runs: list[NotebookRun] = []
    progress = tqdm(notebooks, desc=f"notebooks ({profile})", unit="notebook")
    for notebook in progress:
        notebook = Path(notebook)
        progress.set_postfix_str(notebook.name)
        run = execute_notebook(
            notebook,
            output_path=results_dir / profile / "executed" / notebook.name,
            environment=environment,
            cell_timeout=cell_timeout,
        )
        runs.append(run)
        tqdm.write(
            f"{notebook.name}: {run.seconds:.0f} s" + ("" if run.ok else f"  FAILED: {run.error}")
        )
        if not run.ok and stop_on_error:
            break
    return runs
