import nbformat

from mlpkit.execute import execute_notebook, execute_notebooks


def _notebook(path, *sources: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def test_profile_and_results_dir_reach_the_kernel(tmp_path) -> None:
    path = _notebook(
        tmp_path / "01-probe.ipynb",
        "import mlpkit, pathlib\nsettings = mlpkit.load_settings()",
        "pathlib.Path('seen.txt').write_text(f'{settings.profile} {settings.results_dir}')",
    )
    [run] = execute_notebooks([path], profile="full", results_dir=tmp_path / "results")
    assert run.ok, run.error
    assert (tmp_path / "seen.txt").read_text() == f"full {(tmp_path / 'results').resolve()}"
    assert (tmp_path / "results" / "full" / "executed" / "01-probe.ipynb").is_file()


def test_a_failing_cell_is_reported_and_its_output_kept(tmp_path) -> None:
    path = _notebook(tmp_path / "broken.ipynb", "print('before')", "1 / 0", "print('never')")
    run = execute_notebook(path, output_path=tmp_path / "out.ipynb", environment={})
    assert not run.ok and run.error.startswith("ZeroDivisionError")
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "before\n"


def test_a_hanging_cell_times_out(tmp_path) -> None:
    path = _notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(60)")
    run = execute_notebook(path, output_path=tmp_path / "out.ipynb", environment={}, cell_timeout=2)
    assert not run.ok and "longer than 2 s" in run.error
    assert run.seconds < 30


def test_malformed_notebook_is_one_clear_error(tmp_path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not json")
    try:
        execute_notebook(broken, output_path=tmp_path / "out.ipynb", environment={})
    except ValueError as error:
        assert "is not a readable notebook" in str(error)
    else:
        raise AssertionError("a malformed notebook must raise ValueError")
