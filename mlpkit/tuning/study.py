"""Run a sweep file as an optuna study: persistent, resumable, shareable, logged.

The study lives in optuna storage (SQLite under the results folder by default;
any RDB URL lets several processes or machines join one study). ``trials`` is
the study's target of *finished* trials (complete or pruned), not this process's
share: rerunning the same command after Ctrl-C runs only what is missing, and a
second process on the same storage stops once the study is full (each process
may finish the one trial it had started, so a shared study can overshoot by
at most one trial per extra process).

Every trial is one W&B run (offline without a key; :class:`~mlpkit.RunTracker`)
and one row of ``<results>/tuning/<study>.csv``, rewritten from the storage after
each trial so that it always shows every process's trials.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
from tqdm.auto import tqdm

from mlpkit.config import validate_config
from mlpkit.settings import load_settings
from mlpkit.tracking import RunTracker
from mlpkit.tuning.interrupt import InterruptGuard
from mlpkit.tuning.space import SweepDefinition, make_pruner, make_sampler
from mlpkit.tuning.worker import TrainingWorker

STORAGE_ATTEMPTS = 5
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
FRAMEWORK_ALIASES = {
    "tf": "tensorflow",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "torch": "pytorch",
    "pytorch": "pytorch",
}


@dataclass(frozen=True)
class StudyReport:
    """What a run of :func:`run_study` did and where its records are."""

    study_name: str
    storage: str
    target_trials: int
    finished_trials: int
    this_process_trials: list[int]
    interrupted: bool
    best_value: float | None
    best_config: dict[str, Any] | None
    table: Path
    seconds_per_trial: float | None
    worker_startup_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "table": str(self.table)}


def normalise_framework(name: str) -> str:
    """``tf``/``keras``/``tensorflow`` or ``torch``/``pytorch`` to the kit's two names."""
    try:
        return FRAMEWORK_ALIASES[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"Unknown framework {name!r}: use tf, tensorflow, torch or pytorch."
        ) from None


def default_storage(results_dir: Path) -> str:
    """``sqlite:///<results>/tuning/studies.db``: one file holds every study by name."""
    path = (Path(results_dir) / "tuning" / "studies.db").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _printable(url: str) -> str:
    """The storage URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported as written
        return url


def _create_study(
    definition: SweepDefinition,
    storage: str,
    study_name: str,
    seed: int | None,
    startup_trials: int | None,
) -> optuna.Study:
    """``optuna.create_study(load_if_exists=True)``, retried while another process sets up."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(STORAGE_ATTEMPTS):
        try:
            return optuna.create_study(
                storage=storage,
                study_name=study_name,
                direction=definition.direction,
                sampler=make_sampler(definition, seed=seed, startup_trials=startup_trials),
                pruner=make_pruner(definition.early_terminate),
                load_if_exists=True,
            )
        except (IntegrityError, OperationalError) as error:
            # Two processes creating a fresh storage's tables at once: one wins and the
            # other finds them on its next try. An unreachable server fails every try.
            racing = isinstance(error, IntegrityError) or any(
                sign in str(error) for sign in ("locked", "already exists")
            )
            if not racing or attempt + 1 == STORAGE_ATTEMPTS:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise RuntimeError("unreachable")


def open_study(
    definition: SweepDefinition,
    *,
    storage: str,
    study_name: str,
    seed: int | None,
    startup_trials: int | None = None,
) -> optuna.Study:
    """Create the study, or load it to resume or join it; a changed sweep file is refused."""
    if "://" not in storage:
        raise ValueError(
            f"Storage {storage!r} is not a database URL; use e.g. sqlite:///results/studies.db "
            "or postgresql://user@host/db."
        )
    try:
        study = _create_study(definition, storage, study_name, seed, startup_trials)
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - SQLAlchemy, driver and OS errors alike
        raise ValueError(
            f"Cannot reach the study storage {_printable(storage)} "
            f"({type(error).__name__}: {str(error).splitlines()[0][:200]}). Check the URL, "
            "that the database server is running and reachable, and that its Python driver "
            "is installed."
        ) from None
    recorded = study.user_attrs.get("sweep_fingerprint")
    if recorded is None:
        study.set_user_attr("sweep_fingerprint", definition.fingerprint())
        study.set_user_attr("sweep", definition.describe())
    elif recorded != definition.fingerprint():
        raise ValueError(
            f"Study {study_name!r} in {_printable(storage)} was started from a different "
            "sweep definition; resume it with the same file or pick another --study-name."
        )
    if study.direction.name.lower() != definition.direction:
        raise ValueError(f"Study {study_name!r} optimises in the other direction.")
    return study


def finished_count(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def trial_config(trial: optuna.trial.FrozenTrial) -> dict[str, Any] | None:
    """The full config a finished trial trained (epochs already capped)."""
    return trial.user_attrs.get("config")


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best complete trial, or None while there is none."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return None
    return study.best_trial


def write_results_table(study: optuna.Study, path: Path) -> Path:
    """One CSV row per trial of the study (every process's), replaced atomically."""
    trials = study.get_trials(deepcopy=False)
    parameter_names = sorted({name for trial in trials for name in trial.params})
    columns = ["number", "state", "value", "epochs_trained", "seconds", "process", "run_name"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with partial.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([*columns, *parameter_names])
        for trial in trials:
            seconds = trial.duration.total_seconds() if trial.duration else None
            writer.writerow(
                [
                    trial.number,
                    trial.state.name,
                    trial.value,
                    trial.user_attrs.get("epochs_trained"),
                    None if seconds is None else round(seconds, 2),
                    trial.user_attrs.get("process"),
                    trial.user_attrs.get("run_name"),
                    *(trial.params.get(name) for name in parameter_names),
                ]
            )
    partial.replace(path)
    return path


class _Objective:
    """One trial: draw a config, train it in the worker, log it, report every epoch."""

    def __init__(
        self,
        *,
        definition: SweepDefinition,
        worker: TrainingWorker,
        study_name: str,
        framework: str,
        max_epochs: int | None,
        results_dir: Path,
    ) -> None:
        self.definition = definition
        self.worker = worker
        self.study_name = study_name
        self.framework = framework
        self.max_epochs = max_epochs
        self.results_dir = results_dir
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        self.numbers: list[int] = []
        self.seconds: list[float] = []

    def __call__(self, trial: optuna.Trial) -> float:
        config = validate_config(self.definition.sample(trial))
        if self.max_epochs is not None:
            config["epochs"] = min(config["epochs"], self.max_epochs)
        run_name = f"{self.study_name}-trial-{trial.number:04d}"
        trial.set_user_attr("config", config)
        trial.set_user_attr("process", self.process)
        trial.set_user_attr("run_name", run_name)
        self.numbers.append(trial.number)
        metric = self.definition.metric
        last: dict[str, float] = {}
        outcome = {"pruned": False, "diverged": False}
        started = time.perf_counter()

        with RunTracker(
            run_name,
            config,
            framework=self.framework,
            results_dir=self.results_dir,
            group=self.study_name,
        ) as tracker:

            def on_epoch(epoch: int, metrics: dict[str, float]) -> bool:
                if metric not in metrics:
                    raise ValueError(
                        f"The sweep's metric {metric!r} was never logged by the trial; it "
                        f"logged {', '.join(sorted(metrics))}."
                    )
                tracker.log_epoch(epoch, **metrics)
                last.update(metrics)
                if not math.isfinite(metrics[metric]):
                    outcome["diverged"] = True
                    return True
                trial.report(metrics[metric], epoch)
                outcome["pruned"] = trial.should_prune()
                return outcome["pruned"]

            epochs = self.worker.train(config, on_epoch)
            tracker.log_summary(trial_number=trial.number, epochs_trained=epochs, **last)
        seconds = time.perf_counter() - started
        self.seconds.append(seconds)
        trial.set_user_attr("epochs_trained", epochs)
        trial.set_user_attr("seconds", seconds)
        if metric not in last:
            raise ValueError(f"The trial logged no epoch, so {metric!r} was never logged.")
        if outcome["diverged"]:
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned(f"{metric} became {last[metric]} (diverged)")
        if outcome["pruned"]:
            raise optuna.TrialPruned(f"pruned by hyperband after epoch {epochs}")
        return float(last[metric])


def run_study(
    definition: SweepDefinition,
    *,
    framework: str,
    trials: int,
    results_dir: Path | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    notebooks_dir: Path,
    max_epochs: int | None = None,
    train_examples: int | None = None,
    seed: int | None = None,
    training_seed: int | None = None,
    startup_trials: int | None = None,
    show_progress: bool = True,
    worker: TrainingWorker | None = None,
) -> StudyReport:
    """Run (or resume, or join) the study of ``definition`` until it has ``trials`` finished.

    ``trials`` is further capped by the file's ``run_cap``; 0 opens the study and
    writes its table without training (the grading profile). ``max_epochs`` caps
    each trial's epochs (the class profile), ``train_examples`` trains on the first
    N training images only. ``seed`` seeds the sampler (None: a fresh random
    stream, what several processes sharing one study need); ``training_seed``
    seeds every trial's weights and shuffling alike, so configs compete fairly.
    Ctrl-C stops the running trial, keeps every finished one and returns a report
    with ``interrupted=True``. A started ``worker`` (a :class:`TrainingWorker` of
    ``framework``) lets several studies share one framework import and data load;
    its own ``train_examples`` and seed then apply, and it is left running.
    """
    if trials < 0:
        raise ValueError(f"trials must be 0 or more, got {trials}.")
    framework = normalise_framework(framework)
    settings = load_settings()
    results_dir = Path(settings.results_dir if results_dir is None else results_dir)
    storage = storage or settings.tuning_storage or default_storage(results_dir)
    study_name = study_name or f"{definition.name}-{framework}"
    study = open_study(
        definition, storage=storage, study_name=study_name, seed=seed, startup_trials=startup_trials
    )
    target = min(trials, definition.run_cap) if definition.run_cap else trials
    table = results_dir / "tuning" / f"{study_name}.csv"
    already = finished_count(study)
    shared_worker = worker is not None
    if worker is None:
        worker = TrainingWorker(
            framework=framework,
            notebooks_dir=notebooks_dir,
            train_examples=train_examples,
            seed=settings.seed if training_seed is None else training_seed,
        )
    elif worker.framework != framework:
        raise ValueError(f"The shared worker trains {worker.framework}, not {framework}.")
    objective = _Objective(
        definition=definition,
        worker=worker,
        study_name=study_name,
        framework=framework,
        max_epochs=max_epochs,
        results_dir=results_dir,
    )
    interrupted = False
    if already < target:
        progress = tqdm(
            total=target, initial=already, desc=study_name, unit="trial", disable=not show_progress
        )

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            write_results_table(study, table)
            progress.n = min(finished_count(study), target)
            best = best_trial(study)
            if best is not None:
                progress.set_postfix({definition.metric: f"{best.value:.4f}"}, refresh=False)
            progress.refresh()

        guard = InterruptGuard()
        try:
            with contextlib.nullcontext(worker) if shared_worker else worker, guard.installed():
                study.optimize(
                    guard.guarded(objective),
                    n_trials=target - already,
                    callbacks=[
                        optuna.study.MaxTrialsCallback(target, states=FINISHED),
                        after_trial,
                    ],
                )
        except KeyboardInterrupt:
            interrupted = True
            if shared_worker:  # stopped mid-trial: it cannot serve another study
                worker.close(immediately=True)
        finally:
            progress.close()
        interrupted = interrupted or guard.requested  # Ctrl-C after the last trial's end
    write_results_table(study, table)
    best = best_trial(study)
    report = StudyReport(
        study_name=study_name,
        storage=_printable(storage),
        target_trials=target,
        finished_trials=finished_count(study),
        this_process_trials=[
            trial.number
            for trial in study.get_trials(deepcopy=False, states=FINISHED)
            if trial.number in objective.numbers
        ],
        interrupted=interrupted,
        best_value=None if best is None else float(best.value),
        best_config=None if best is None else trial_config(best),
        table=table,
        seconds_per_trial=(sum(objective.seconds) / len(objective.seconds))
        if objective.seconds
        else None,
        worker_startup_seconds=worker.startup_seconds,
    )
    table.with_suffix(".json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report
