"""W&B sweep definitions, read into optuna distributions, samplers and pruners.

The course keeps one sweep file per optimizer in the W&B schema, so that the same
file drives ``wandb sweep``/``wandb agent`` online and the embedded optuna engine
offline. This module is the translation: every distribution the files may use
maps to an optuna distribution, the metric and goal to the study direction, the
method to a sampler and ``early_terminate: hyperband`` to optuna's Hyperband
pruner. Anything it cannot translate faithfully is a ``ValueError`` naming the
key, never a silent approximation.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

import optuna
import yaml

from mlpkit.config import CONFIG_KEYS, TrainingConfig
from mlpkit.history import METRIC_KEYS

METHODS = ("bayes", "tpe", "random", "grid")
GOALS = {"minimize": "minimize", "maximize": "maximize"}
DISTRIBUTIONS = (
    "constant",
    "categorical",
    "int_uniform",
    "uniform",
    "q_uniform",
    "log_uniform",
    "log_uniform_values",
    "q_log_uniform_values",
)
TOP_LEVEL_KEYS = {
    "program",
    "command",
    "name",
    "description",
    "method",
    "metric",
    "parameters",
    "run_cap",
    "early_terminate",
    "project",
    "entity",
}
PARAMETER_KEYS = {"distribution", "value", "values", "min", "max", "q", "probabilities"}


@dataclass(frozen=True)
class Parameter:
    """One searched (or fixed) config key and how a trial draws it."""

    name: str
    kind: str
    """One of DISTRIBUTIONS, as written in the file (or inferred like W&B does)."""
    distribution: optuna.distributions.BaseDistribution | None
    constant: Any = None
    quantum: float | None = None
    """Step a log-uniform draw is rounded to (``q_log_uniform_values``)."""

    def sample(self, trial: optuna.Trial) -> Any:
        """Draw this parameter's value for ``trial`` through optuna's public suggest API."""
        distribution = self.distribution
        if distribution is None:
            return self.constant
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            return trial.suggest_categorical(self.name, distribution.choices)
        if isinstance(distribution, optuna.distributions.IntDistribution):
            return trial.suggest_int(
                self.name, distribution.low, distribution.high, step=distribution.step
            )
        value = trial.suggest_float(
            self.name,
            distribution.low,
            distribution.high,
            log=distribution.log,
            step=distribution.step,
        )
        if self.quantum is not None:
            value = round(value / self.quantum) * self.quantum
        return value

    def describe(self) -> dict[str, Any]:
        """Plain numbers for checks and tables: kind, low/high/log, or the values."""
        distribution = self.distribution
        if distribution is None:
            return {"kind": self.kind, "values": [self.constant]}
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            return {"kind": self.kind, "values": list(distribution.choices)}
        return {
            "kind": self.kind,
            "low": distribution.low,
            "high": distribution.high,
            "log": bool(distribution.log),
        }


@dataclass(frozen=True)
class SweepDefinition:
    """A parsed sweep file: what to search, how, for which metric, and how many runs."""

    name: str
    method: str
    metric: str
    goal: str
    parameters: dict[str, Parameter]
    run_cap: int | None = None
    early_terminate: dict[str, Any] | None = None
    source: str = "<dict>"
    document: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def direction(self) -> str:
        """The optuna study direction of the metric's goal."""
        return GOALS[self.goal]

    @property
    def optimizer(self) -> str | None:
        """The optimizer a file fixes with ``optimizer: {value: ...}``, if it fixes one."""
        parameter = self.parameters.get("optimizer")
        return (
            parameter.constant if parameter is not None and parameter.distribution is None else None
        )

    def fingerprint(self) -> str:
        """A short hash of the search itself, so a resumed study can refuse a changed file."""
        searched = {key: self.document.get(key) for key in ("method", "metric", "parameters")}
        text = json.dumps(searched, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def sample(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw every parameter for ``trial``: a (not yet validated) config mapping."""
        return {name: parameter.sample(trial) for name, parameter in self.parameters.items()}

    def describe(self) -> dict[str, Any]:
        """Plain-JSON summary: method, metric, goal and every parameter's range."""
        return {
            "name": self.name,
            "method": self.method,
            "metric": self.metric,
            "goal": self.goal,
            "parameters": {name: item.describe() for name, item in self.parameters.items()},
        }


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where} must be a finite number, got {value!r}.")
    return value


def _bounds(name: str, spec: Mapping[str, Any], kind: str) -> tuple[float, float]:
    if "min" not in spec or "max" not in spec:
        raise ValueError(f"Parameter {name!r} ({kind}) needs both 'min' and 'max'.")
    low = _number(spec["min"], f"parameters.{name}.min")
    high = _number(spec["max"], f"parameters.{name}.max")
    if low > high:
        raise ValueError(f"Parameter {name!r}: min {low} is larger than max {high}.")
    return low, high


def parse_parameter(name: str, spec: Any) -> Parameter:
    """Translate one W&B parameter block into a :class:`Parameter`.

    W&B infers the distribution when it is left out: ``value`` is a constant,
    ``values`` categorical, integer ``min``/``max`` ``int_uniform`` and float
    ones ``uniform``; the same inference applies here.
    """
    if name not in CONFIG_KEYS:
        raise ValueError(
            f"Unknown parameter {name!r}: a trial's config has only the keys "
            f"{', '.join(CONFIG_KEYS)}. Check the spelling (the layers are dense_1..dense_4)."
        )
    if not isinstance(spec, Mapping):
        raise ValueError(
            f"Parameter {name!r} must be a mapping such as {{values: [...]}} or "
            f"{{distribution: uniform, min: ..., max: ...}}, got {spec!r}."
        )
    unknown = sorted(set(spec) - PARAMETER_KEYS)
    if unknown:
        raise ValueError(
            f"Parameter {name!r} has unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(PARAMETER_KEYS))}."
        )
    kind = spec.get("distribution")
    if kind is None:
        if "value" in spec:
            kind = "constant"
        elif "values" in spec:
            kind = "categorical"
        elif "min" in spec and "max" in spec:
            both_int = all(
                isinstance(spec[key], int) and not isinstance(spec[key], bool)
                for key in ("min", "max")
            )
            kind = "int_uniform" if both_int else "uniform"
        else:
            raise ValueError(
                f"Parameter {name!r} gives no 'value', 'values' or 'min'/'max': nothing to search."
            )
    if kind not in DISTRIBUTIONS:
        raise ValueError(
            f"Parameter {name!r} uses distribution {kind!r}, which the offline engine does "
            f"not support. Supported: {', '.join(DISTRIBUTIONS)}."
        )
    if kind == "constant":
        if "value" not in spec:
            raise ValueError(f"Parameter {name!r} (constant) needs a 'value'.")
        return Parameter(name, kind, None, constant=spec["value"])
    if kind == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise ValueError(f"Parameter {name!r}: 'values' must be a non-empty list.")
        if "probabilities" in spec:
            raise ValueError(
                f"Parameter {name!r}: 'probabilities' is not supported offline; drop it."
            )
        return Parameter(name, kind, optuna.distributions.CategoricalDistribution(values))
    low, high = _bounds(name, spec, kind)
    quantum = None
    if kind.startswith("q_"):
        quantum = _number(spec.get("q", 1), f"parameters.{name}.q")
        if quantum <= 0:
            raise ValueError(f"Parameter {name!r}: q must be positive, got {quantum}.")
    if kind == "int_uniform":
        if low != int(low) or high != int(high):
            raise ValueError(f"Parameter {name!r} (int_uniform) needs integer min and max.")
        return Parameter(name, kind, optuna.distributions.IntDistribution(int(low), int(high)))
    if kind == "uniform":
        return Parameter(name, kind, optuna.distributions.FloatDistribution(low, high))
    if kind == "q_uniform":
        # optuna needs (high - low) to be a multiple of the step; W&B rounds the same way.
        steps = math.floor((high - low) / quantum + 1e-9)
        distribution = optuna.distributions.FloatDistribution(
            low, low + steps * quantum, step=quantum
        )
        return Parameter(name, kind, distribution)
    if kind == "log_uniform":
        # W&B's log_uniform takes natural-log bounds: the values are exp(min)..exp(max).
        low, high = math.exp(low), math.exp(high)
    if low <= 0:
        raise ValueError(f"Parameter {name!r} ({kind}) needs a positive min, got {low}.")
    distribution = optuna.distributions.FloatDistribution(low, high, log=True)
    return Parameter(name, kind, distribution, quantum=quantum)


def parse_sweep(document: Any, *, source: str = "<dict>") -> SweepDefinition:
    """Check a sweep document (a parsed YAML file or a dict) and translate it.

    Raises ``ValueError`` naming ``source`` and the offending key for an unknown
    method, goal, metric or distribution, a parameter that is not a config key, a
    missing required config key, or a malformed run cap or early-termination block.
    """
    if not isinstance(document, Mapping):
        raise ValueError(f"{source}: a sweep definition must be a mapping, got {document!r}.")
    try:
        return _parse(document, source)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def _parse(document: Mapping[str, Any], source: str) -> SweepDefinition:
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise ValueError(
            f"unknown top-level key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}."
        )
    method = document.get("method")
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}.")
    metric = document.get("metric")
    if not isinstance(metric, Mapping) or "name" not in metric:
        raise ValueError("'metric' needs a 'name' (e.g. val_loss) and a 'goal'.")
    if metric["name"] not in METRIC_KEYS:
        raise ValueError(
            f"metric {metric['name']!r} is never logged by a trial: each epoch logs "
            f"{', '.join(METRIC_KEYS)}. Use one of those (the original minimised val_loss)."
        )
    goal = metric.get("goal", "minimize")
    if goal not in GOALS:
        raise ValueError(f"metric goal {goal!r} is not 'minimize' or 'maximize'.")
    raw_parameters = document.get("parameters")
    if not isinstance(raw_parameters, Mapping) or not raw_parameters:
        raise ValueError("'parameters' must map config keys to their search spaces.")
    parameters = {
        str(name): parse_parameter(str(name), spec) for name, spec in raw_parameters.items()
    }
    required = [item.name for item in fields(TrainingConfig) if item.default is MISSING]
    missing = [key for key in required if key not in parameters]
    if missing:
        raise ValueError(
            f"parameters lack the config key(s) {', '.join(missing)}; fix them with "
            "'value:' or search them."
        )
    run_cap = document.get("run_cap")
    if run_cap is not None and (
        isinstance(run_cap, bool) or not isinstance(run_cap, int) or run_cap < 1
    ):
        raise ValueError(f"run_cap must be a positive integer, got {run_cap!r}.")
    early_terminate = document.get("early_terminate")
    if early_terminate is not None:
        make_pruner(early_terminate)  # fail now, not after the first trial
    if method == "grid":
        grid_space(parameters)
    return SweepDefinition(
        name=str(document.get("name") or Path(source).stem),
        method=method,
        metric=metric["name"],
        goal=goal,
        parameters=parameters,
        run_cap=run_cap,
        early_terminate=dict(early_terminate) if early_terminate else None,
        source=source,
        document=dict(document),
    )


def load_sweep(path: str | Path) -> SweepDefinition:
    """Read and translate one sweep YAML file; every problem is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Sweep file {path} does not exist (the course's are in sweeps/).")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from None
    return parse_sweep(document, source=str(path))


def make_pruner(early_terminate: Mapping[str, Any] | None) -> optuna.pruners.BasePruner:
    """W&B's ``early_terminate`` as an optuna pruner (none: never prune).

    Hyperband's ``min_iter`` becomes the minimum resource (epochs) and ``eta`` the
    reduction factor; ``max_iter`` is the largest number of epochs (optuna infers
    it from the trials when it is absent).
    """
    if not early_terminate:
        return optuna.pruners.NopPruner()
    if not isinstance(early_terminate, Mapping) or early_terminate.get("type") != "hyperband":
        raise ValueError(
            f"early_terminate {early_terminate!r} is not supported: use "
            "{type: hyperband, min_iter: 3, eta: 3} or leave it out."
        )
    unknown = sorted(set(early_terminate) - {"type", "min_iter", "max_iter", "eta", "s", "strict"})
    if unknown:
        raise ValueError(f"early_terminate has unknown key(s) {', '.join(unknown)}.")
    eta = early_terminate.get("eta", 3)
    max_iter = early_terminate.get("max_iter")
    min_iter = early_terminate.get("min_iter")
    if min_iter is None and max_iter is not None:
        min_iter = max(1, int(max_iter / eta ** early_terminate.get("s", 0)))
    for key, value in (("eta", eta), ("min_iter", min_iter or 1), ("max_iter", max_iter or 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"early_terminate.{key} must be a positive integer, got {value!r}.")
    if eta < 2:
        raise ValueError("early_terminate.eta must be at least 2.")
    return optuna.pruners.HyperbandPruner(
        min_resource=min_iter or 1,
        max_resource=max_iter if max_iter is not None else "auto",
        reduction_factor=eta,
    )


def grid_space(parameters: Mapping[str, Parameter]) -> dict[str, list[Any]]:
    """The value lists ``GridSampler`` enumerates; only finite spaces can be a grid."""
    space: dict[str, list[Any]] = {}
    for name, parameter in parameters.items():
        distribution = parameter.distribution
        if distribution is None:
            continue
        if isinstance(distribution, optuna.distributions.CategoricalDistribution):
            space[name] = list(distribution.choices)
        elif isinstance(distribution, optuna.distributions.IntDistribution):
            space[name] = list(range(distribution.low, distribution.high + 1, distribution.step))
        else:
            raise ValueError(
                f"method grid needs finite parameters (values or int_uniform); "
                f"{name!r} is {parameter.kind}."
            )
    return space


def make_sampler(
    definition: SweepDefinition, *, seed: int | None, startup_trials: int | None = None
) -> optuna.samplers.BaseSampler:
    """The optuna sampler of the file's method.

    ``bayes`` is a Gaussian-process sampler (``GPSampler``, which imports PyTorch
    when it first samples), ``tpe`` the tree-structured Parzen estimator,
    ``random`` uniform draws and ``grid`` every combination. ``startup_trials``
    random draws come first for the model-based ones (optuna's default when None).
    """
    startup = {} if startup_trials is None else {"n_startup_trials": int(startup_trials)}
    if definition.method == "bayes":
        return optuna.samplers.GPSampler(seed=seed, **startup)
    if definition.method == "tpe":
        return optuna.samplers.TPESampler(seed=seed, **startup)
    if definition.method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.GridSampler(grid_space(definition.parameters), seed=seed)
