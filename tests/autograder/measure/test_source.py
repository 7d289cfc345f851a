# ruff: noqa: E501  (code samples and inline scripts keep their own lines)
"""evaluate's gradient tracking is read from its source: the forward pass must be guarded."""

from __future__ import annotations

import pytest

from autograder.measure.source import no_grad_forward

GUARDED = {
    "with-block": "def evaluate(model, loader, loss_fn, device):\n    with torch.no_grad():\n        return model(x)",
    "inference-mode": "def evaluate(model, loader, loss_fn, device):\n    with torch.inference_mode():\n        out = model(x)",
    "decorator": "@torch.no_grad()\ndef evaluate(model, loader, loss_fn, device):\n    return model(x)",
    "set-grad-enabled": "def evaluate(model, loader, loss_fn, device):\n    with torch.set_grad_enabled(False):\n        return model(x)",
    "helper": "def run(model, x):\n    with torch.no_grad():\n        return model(x)\n\ndef evaluate(model, loader, loss_fn, device):\n    return run(model, 1)",
    "magic-line": "%time\ndef evaluate(model, loader, loss_fn, device):\n    with torch.no_grad():\n        return model(x)",
}
UNGUARDED = {
    "none": "def evaluate(model, loader, loss_fn, device):\n    return model(x)",
    "empty-guard": "def evaluate(model, loader, loss_fn, device):\n    with torch.no_grad():\n        pass\n    return model(x)",
    "grad-enabled-true": "def evaluate(model, loader, loss_fn, device):\n    with torch.set_grad_enabled(True):\n        return model(x)",
}


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_guarded_forward_passes(name) -> None:
    assert no_grad_forward(GUARDED[name], "evaluate")["found"]


@pytest.mark.parametrize("name", sorted(UNGUARDED))
def test_unguarded_forward_fails(name) -> None:
    assert not no_grad_forward(UNGUARDED[name], "evaluate")["found"]


def test_unparsable_or_missing_functions_say_why() -> None:
    assert "does not parse" in no_grad_forward("def evaluate(:", "evaluate")["reason"]
    assert "defines no function" in no_grad_forward("x = 1", "evaluate")["reason"]
