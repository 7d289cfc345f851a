# ruff: noqa: E501  (code samples and inline scripts keep their own lines)
"""The grader's NumPy update rules are the frameworks' own: checked against torch.optim and Keras.

Each framework runs in its own subprocess (one framework per process); both are
given the same committed weights, challenge gradients and hyperparameters.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from autograder.measure.optimizers import (
    DEFAULTS,
    OptimizerReading,
    candidate_readings,
    identify_optimizer,
    step_error,
    steps,
)
from tests.conftest import REPO_ROOT

CONFIG = {
    "optimizer": "adam",
    "learning_rate": 0.0123,
    "momentum": 0.37,
    "beta_1": 0.87,
    "beta_2": 0.981,
    "rho": 0.83,
}
PYTORCH = """
import json, sys, numpy as np, torch
spec = json.loads(sys.stdin.read())
params = [torch.tensor(np.array(p, dtype=np.float32), requires_grad=True) for p in spec["params"]]
h = spec["hyper"]
kind = spec["kind"]
if kind == "sgd":
    opt = torch.optim.SGD(params, lr=h["learning_rate"], momentum=h["momentum"])
elif kind == "adam":
    opt = torch.optim.Adam(params, lr=h["learning_rate"], betas=(h["beta_1"], h["beta_2"]))
else:
    opt = torch.optim.RMSprop(params, lr=h["learning_rate"], alpha=h["rho"], momentum=h["momentum"])
out = []
for step in spec["grads"]:
    for p, g in zip(params, step):
        p.grad = torch.tensor(np.array(g, dtype=np.float32))
    opt.step()
    out.append([p.detach().numpy().tolist() for p in params])
print(json.dumps(out))
"""
KERAS = """
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import keras, numpy as np
spec = json.loads(sys.stdin.read())
variables = [keras.Variable(np.array(p, dtype="float32")) for p in spec["params"]]
h, kind = spec["hyper"], spec["kind"]
opt = {"sgd": lambda: keras.optimizers.SGD(h["learning_rate"], momentum=h["momentum"]),
       "adam": lambda: keras.optimizers.Adam(h["learning_rate"], beta_1=h["beta_1"], beta_2=h["beta_2"]),
       "rmsprop": lambda: keras.optimizers.RMSprop(h["learning_rate"], rho=h["rho"], momentum=h["momentum"])}[kind]()
out = []
for step in spec["grads"]:
    opt.apply_gradients(zip([np.array(g, dtype="float32") for g in step], variables))
    out.append([np.asarray(v.numpy()).tolist() for v in variables])
print(json.dumps(out))
"""


def framework_steps(framework: str, kind: str, hyper: dict, params, grads) -> list:
    completed = subprocess.run(
        [sys.executable, "-c", PYTORCH if framework == "pytorch" else KERAS],
        input=json.dumps(
            {
                "kind": kind,
                "hyper": hyper,
                "params": [p.tolist() for p in params],
                "grads": [[g.tolist() for g in step] for step in grads],
            }
        ),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        check=True,
    )
    return [[np.array(p) for p in step] for step in json.loads(completed.stdout.splitlines()[-1])]


@pytest.fixture(scope="module")
def challenge():
    generator = np.random.default_rng(3)
    params = [
        generator.normal(size=(5, 7)).astype(np.float32),
        generator.normal(size=5).astype(np.float32),
    ]
    grads = [
        [generator.normal(0, 0.5, p.shape).astype(np.float32) for p in params] for _ in range(3)
    ]
    return params, grads


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
@pytest.mark.parametrize("kind", ["sgd", "adam", "rmsprop"])
def test_update_rules_match_the_framework(framework, kind, challenge) -> None:
    params, grads = challenge
    reading = candidate_readings(framework, {**CONFIG, "optimizer": kind})[0]
    observed = framework_steps(framework, kind, reading.hyperparameters, params, grads)
    assert step_error(observed, steps(framework, reading, params, grads), params) < 1e-4
    found, _ = identify_optimizer(framework, {**CONFIG, "optimizer": kind}, params, grads, observed)
    assert found == reading


@pytest.mark.parametrize("framework", ["pytorch", "tensorflow"])
def test_a_default_left_in_place_is_named(framework, challenge) -> None:
    params, grads = challenge
    hyper = {
        **{key: CONFIG[key] for key in ("learning_rate", "beta_1")},
        "beta_2": DEFAULTS[framework]["adam"]["beta_2"],
    }
    observed = framework_steps(framework, "adam", hyper, params, grads)
    found, _ = identify_optimizer(framework, CONFIG, params, grads, observed)
    assert found == OptimizerReading("adam", hyper, ("beta_2",))


def test_another_optimizer_is_recognised(challenge) -> None:
    params, grads = challenge
    hyper = {"learning_rate": CONFIG["learning_rate"], "momentum": CONFIG["momentum"]}
    observed = framework_steps("pytorch", "sgd", hyper, params, grads)
    found, _ = identify_optimizer("pytorch", CONFIG, params, grads, observed)
    assert found.kind == "sgd"
