"""`mlpkit sweep` as users run it: one command, Ctrl-C then resume, two processes on one study."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import optuna
import yaml

from mlpkit.config import load_best_config
from mlpkit.tuning.study import FINISHED
from tests.conftest import REPO_ROOT
from tests.tuning.conftest import TINY_SWEEP, TRAIN_EXAMPLES

RAN = re.compile(r"this process ran \d+: \[([\d, ]*)\]")


def sweep_command(sweep_file, results, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mlpkit",
        "sweep",
        str(sweep_file),
        "--results",
        str(results),
        *extra,
    ]


def finished_trials(storage: str, study_name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except Exception:  # noqa: BLE001 - not created yet
        return []
    return study.get_trials(deepcopy=False, states=FINISHED)


def test_one_command_runs_a_course_sweep_with_keras_and_records_the_best(tmp_path) -> None:
    best = tmp_path / "best.yaml"
    best.write_text((REPO_ROOT / "sweeps" / "best.yaml").read_text())
    command = sweep_command(
        REPO_ROOT / "sweeps" / "adam.yaml",
        tmp_path,
        "--framework",
        "tf",
        "--trials",
        "2",
        "--profile",
        "class",
        "--train-examples",
        "600",
        "--write-best",
        str(best),
    )
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2/2 trials finished" in result.stdout
    assert "adam-original-tensorflow" in result.stderr, "tqdm shows the study's progress"
    config = load_best_config("adam", best)
    assert config["epochs"] <= 10 and 256 <= config["dense_1"] <= 512
    assert "mlpkit sweep" in best.read_text() and load_best_config("sgd", best)["epochs"] == 20


def test_ctrl_c_keeps_every_finished_trial_and_the_same_command_resumes(
    tiny_sweep_file, tmp_path
) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    options = ["--framework", "torch", "--profile", "full", "--storage", storage]
    options += ["--train-examples", str(TRAIN_EXAMPLES)]
    process = subprocess.Popen(
        sweep_command(tiny_sweep_file, tmp_path, *options, "--trials", "40"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(finished_trials(storage, "tiny-pytorch")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-2000:]
    assert "Interrupted: every finished trial is kept" in stderr
    kept = {trial.number: trial.value for trial in finished_trials(storage, "tiny-pytorch")}
    assert 2 <= len(kept) < 40
    assert not (tmp_path / "tuning" / ".tiny-pytorch.csv").exists()
    target = len(kept) + 2
    resumed = subprocess.run(
        sweep_command(tiny_sweep_file, tmp_path, *options, "--trials", str(target)),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    trials = finished_trials(storage, "tiny-pytorch")
    assert len(trials) == target
    assert all(kept[trial.number] == trial.value for trial in trials if trial.number in kept)
    assert len([int(n) for n in RAN.search(resumed.stdout).group(1).split(",")]) == 2


def test_two_processes_share_one_study_without_losing_or_repeating_trials(tmp_path) -> None:
    """Both processes must overlap, so trials last a few seconds: on a busy CI machine one
    process's start-up can lag the other's by ten seconds or more."""
    sweep_file = tmp_path / "overlapping.yaml"
    parameters = {**TINY_SWEEP["parameters"], "epochs": {"value": 6}}
    sweep_file.write_text(yaml.safe_dump({**TINY_SWEEP, "parameters": parameters}))
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    options = ["--framework", "pytorch", "--profile", "full", "--storage", storage]
    options += ["--train-examples", str(TRAIN_EXAMPLES), "--trials", "8"]
    processes = [
        subprocess.Popen(
            sweep_command(sweep_file, tmp_path / f"process-{index}", *options),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        for index in range(2)
    ]
    ran = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=480)
        assert process.returncode == 0, stderr[-2000:]
        ran.append({int(number) for number in RAN.search(stdout).group(1).split(",") if number})
    study = optuna.load_study(study_name="tiny-pytorch", storage=storage)
    numbers = {trial.number for trial in study.get_trials(states=FINISHED)}
    assert not ran[0] & ran[1], "no trial was run by both processes"
    assert ran[0] | ran[1] == numbers, "every trial either process ran is in the study"
    assert 8 <= len(numbers) <= 9, "the study stops at its target (+1 for the other process)"
    assert len(study.trials) == len(numbers), "no failed or abandoned trials"
    assert all(ran), "both processes contributed trials"


def test_profiles_cap_the_trials_and_grading_runs_none(tiny_sweep_file, tmp_path, capsys) -> None:
    from mlpkit.cli import run

    options = ["--framework", "tf", "--trials", "9", "--results", str(tmp_path)]
    assert run(["sweep", str(tiny_sweep_file), *options, "--profile", "grading"]) == 0
    printed = capsys.readouterr().out
    assert "The grading profile caps a study at 0 trials." in printed
    assert "0/0 trials finished; this process ran 0" in printed
    assert run(["sweep", str(tmp_path / "absent.yaml"), *options]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_wandb_agent_trial_trains_the_config_it_is_given(tmp_path) -> None:
    """What `wandb agent` runs for each proposal (the sweep files' `command`)."""
    environment = {
        **os.environ,
        "MLPKIT_SWEEP_FRAMEWORK": "pytorch",
        "MLPKIT_RESULTS_DIR": str(tmp_path),
        "WANDB_MODE": "offline",
    }
    arguments = ["--optimizer=adam", "--learning_rate=0.003", "--batch_size=256", "--epochs=1"]
    arguments += ["--dense_1=16", "--dense_2=16", "--dense_3=16", "--dense_4=8"]
    command = [sys.executable, "-m", "mlpkit.tuning.wandb_trial", *arguments]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, env=environment, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [history] = (tmp_path / "runs").glob("*/history.json")
    assert '"val_loss": [' in history.read_text()
    assert list((tmp_path / "wandb").glob("offline-run-*")), "logged as a W&B run"
    unknown = subprocess.run(
        [*command, "--dense_5=3"], capture_output=True, text=True, cwd=REPO_ROOT, env=environment
    )
    assert unknown.returncode == 2 and "unknown sweep parameters" in unknown.stderr
