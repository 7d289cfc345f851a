"""The accuracy measurement: the grader retrains what the student's code was measured to do.

No weights from the sandbox are ever judged here. The parts before this one
identified, from behaviour, the network (``create_model``), the loss, the
optimizer with its hyperparameters, and the loop (PyTorch: ``train_epoch`` and
``fit``; Keras: ``train_model``'s epochs, batch size, split and any rescaling).
That spec is trained by the grader's own trainer process (``sandbox/trainer.py``)
on the training set, from the grader's initialisation and seed, and its test
accuracy is computed here with the grader's NumPy forward pass. Embedded
weights, weights trained on the test set or a loop that skips training change
nothing; a part that could not be identified means there is nothing to retrain,
and the measurement says which.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.measure.maths import Network
from autograder.measure.session import Session
from autograder.sandbox.trainer import TrainerError, TrainerRun, cached, train

# (output, loss) pairs that train exactly alike: each computes the cross-entropy of the
# last layer's logits. A spec is trained (and cached) in its canonical form.
EQUIVALENT = {
    "pytorch": {
        ("logits", "cross_entropy"),
        ("log_softmax", "nll"),
        ("log_softmax", "cross_entropy"),
        ("softmax", "log_nll"),
    },
    "tensorflow": {("logits", "from_logits"), ("softmax", "probabilities")},
}
CANONICAL_LOSS = {"pytorch": "cross_entropy", "tensorflow": "from_logits"}


def canonical(framework: str, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with an equivalent output/loss pair replaced by logits + cross-entropy."""
    if (spec["head"], spec["loss"]) in EQUIVALENT[framework]:
        return {**spec, "head": "logits", "loss": CANONICAL_LOSS[framework]}
    return spec


def reference_guess(framework: str, context: Any) -> dict[str, Any] | None:
    """The reference solution's spec (recorded by the calibration), for a speculative retrain."""
    try:
        entry = context.thresholds()[context.device][framework]
        spec = dict(entry["provenance"]["spec"])
    except (KeyError, TypeError):
        return None
    return canonical(
        framework, {**spec, "epochs": int(entry["epochs"]), "seed": context.options.seed}
    )


def speculate(framework: str, context: Any) -> TrainerRun | None:
    """Start retraining the likely spec now, beside the host, unless it is cached."""
    guess = reference_guess(framework, context)
    if guess is None or cached(
        framework, guess, device=context.device, cache_dir=context.cache_dir
    ):
        return None
    return TrainerRun(
        framework,
        guess,
        data_dir=context.data_dir,
        device=context.device,
        torch_threads=context.torch_threads,
    )


def _retrain(
    session: Session, framework: str, spec: dict[str, Any], *, input_scale: float
) -> dict[str, Any]:
    context = session.context
    spec = canonical(framework, spec)
    try:
        weights, info = train(
            framework,
            spec,
            data_dir=context.data_dir,
            device=context.device,
            cache_dir=context.cache_dir,
            torch_threads=context.torch_threads,
            running=session.shared.pop("speculation", None),
        )
    except TrainerError as error:
        return {"retrained": False, "grader_error": str(error)[:2000], "spec": spec}
    network = Network(
        [weight.astype(np.float64) for weight in weights[0::2]],
        [bias.astype(np.float64) for bias in weights[1::2]],
        spec["activation"],
        spec["head"],
        input_scale,
    )
    images, labels = context.test_data()
    accuracy = float(np.mean(network.predict(images) == labels))
    return {
        "retrained": True,
        "spec": spec,
        "accuracy": accuracy,
        "floor": context.floor(framework),
        "epochs": spec["epochs"],
        "trainer": info,
    }


def pytorch(session: Session) -> dict[str, Any]:
    shared, missing = session.shared, []
    network = shared.get("network")
    if network is None:
        missing.append("create_model")
    if shared.get("loss_kind") is None:
        missing.append("loss_fn")
    if shared.get("optimizer") is None:
        missing.append("make_optimizer")
    if shared.get("loop_variant") is None:
        missing.append("train_epoch")
    fit = session.measurements.get("fit", {})
    if fit.get("status") != "ok" or fit.get("trained") != f"{fit.get('epochs')}_epochs":
        missing.append("fit")
    if missing:
        return {"retrained": False, "missing": missing}
    config = session.context.best_config("adam")
    spec = {
        "widths": network.widths,
        "activation": network.activation,
        "head": network.head,
        "loss": shared["loss_kind"],
        "optimizer": shared["optimizer"].to_dict(),
        "loop": "correct"
        if shared["loop_variant"] == "evaluation_mode"
        else shared["loop_variant"],
        "epochs": session.context.accuracy_epochs("pytorch"),
        "batch_size": int(config["batch_size"]),
        "seed": session.context.options.seed,
    }
    return _retrain(session, "pytorch", spec, input_scale=1 / 255)


def tensorflow(session: Session) -> dict[str, Any]:
    shared, missing = session.shared, []
    network = shared.get("network")
    if network is None:
        missing.append("create_model")
    if shared.get("loss_kind") is None or shared.get("optimizer") is None:
        missing.append("compile_model")
    fit = shared.get("fit") or {}
    epochs = session.context.accuracy_epochs("tensorflow")
    if fit.get("epochs") is None:
        missing.append("train_model")
    elif fit["epochs"] > epochs or fit["batch_size"] < 16:
        # The grader retrains at most the config's budget: no student can make it train longer.
        missing.append("train_model (more epochs or smaller batches than the config asks)")
    if missing:
        return {"retrained": False, "missing": missing}
    spec = {
        "widths": network.widths,
        "activation": network.activation,
        "head": network.head,
        "input_scale": network.input_scale,
        "loss": shared["loss_kind"],
        "optimizer": shared["optimizer"].to_dict(),
        "epochs": int(fit["epochs"]),
        "batch_size": int(fit["batch_size"]),
        "train_fraction": round(fit["trained_examples"] / fit["examples"], 2),
        "train_input_scale": float(fit["input_scale"]),
        "seed": session.context.options.seed,
    }
    return _retrain(session, "tensorflow", spec, input_scale=network.input_scale)
