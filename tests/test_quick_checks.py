"""Tests of mlpkit.quick_checks' framework-free and PyTorch probes.

The Keras probes run inside the release notebook scenarios
(``tests/solutions/test_visible_checks.py``), in a process of their own.

``torch._dynamo`` is imported at collection: the first optimizer otherwise imports it
(and triton) lazily, and that import segfaulted here when it came after a W&B run in
the same pytest process (``tests/test_tracking.py`` before this file).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401 - see below
from torch import nn

from mlpkit import TensorBatches
from mlpkit.quick_checks import (
    EpochLog,
    as_probabilities,
    example_outputs,
    gradient_growth,
    mean_loss_and_accuracy,
    output_kind,
    recording_optimizer,
    watching_forward,
)


def test_output_kind_is_exact_where_a_sign_test_guesses() -> None:
    logits = np.abs(np.random.default_rng(0).normal(size=(8, 10))) + 0.1  # all positive
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert output_kind(logits) == "logits"
    assert output_kind(probabilities) == "probabilities"
    assert output_kind(np.log(probabilities)) == "log-probabilities"
    assert output_kind(torch.tensor(probabilities)) == "probabilities"
    for outputs in (logits, probabilities, np.log(probabilities)):
        assert as_probabilities(outputs) == pytest.approx(probabilities)
    with pytest.raises(ValueError, match="batch, classes"):
        output_kind(np.zeros(10))


@pytest.mark.parametrize("kind", ["logits", "log-probabilities", "probabilities"])
def test_example_outputs_give_their_cross_entropy(kind: str) -> None:
    outputs, labels, cross_entropy = example_outputs(kind)
    assert output_kind(outputs) == kind
    as_tensor = torch.tensor(outputs)
    expected = {
        "logits": nn.CrossEntropyLoss(),
        "log-probabilities": nn.NLLLoss(),
        "probabilities": lambda out, y: nn.NLLLoss()(out.log(), y),
    }[kind](as_tensor, torch.tensor(labels))
    assert float(expected) == pytest.approx(cross_entropy, rel=1e-5)
    assert abs(cross_entropy - np.log(10)) > 1, "confident outputs: far from ln 10"


def _loop(model, loader, optimizer, zero_grad: bool) -> None:
    model.train()
    for images, labels in loader:
        if zero_grad:
            optimizer.zero_grad()
        nn.CrossEntropyLoss()(model(images), labels).backward()
        optimizer.step()


@pytest.mark.parametrize(("zero_grad", "growth"), [(True, [1, 1, 1]), (False, [1, 2, 3])])
def test_recording_optimizer_sees_accumulating_gradients(zero_grad, growth) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    images, labels = torch.rand(8, 28, 28), torch.randint(0, 10, (8,))
    loader = TensorBatches(images.repeat(3, 1, 1), labels.repeat(3), batch_size=8)
    before = [parameter.detach().clone() for parameter in model.parameters()]
    optimizer = recording_optimizer(model.parameters())
    with watching_forward(model) as calls:
        _loop(model, loader, optimizer, zero_grad)
    assert gradient_growth(optimizer.seen) == pytest.approx(growth, rel=1e-5)
    assert all(torch.equal(old, new) for old, new in zip(before, model.parameters(), strict=True))
    assert calls.training == [True, True, True] and calls.grad_enabled == [True, True, True]
    model.eval()
    with watching_forward(model) as calls, torch.no_grad():
        model(images)
    assert calls.training == [False] and calls.grad_enabled == [False]


def test_mean_loss_and_accuracy_restore_the_mode() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).train()
    images, labels = torch.rand(5, 28, 28), torch.randint(0, 10, (5,))
    loss, accuracy = mean_loss_and_accuracy(model, images, labels, nn.CrossEntropyLoss())
    assert model.training and 0 <= accuracy <= 1 and loss > 0
    log = EpochLog()
    log.log_epoch(1, loss=loss)
    assert log.epochs == [1]
