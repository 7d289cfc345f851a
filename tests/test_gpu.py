"""GPU readiness: checks that run on a GPU machine, each with a CPU twin that runs in CI.

A GPU test skips only when the machine has no NVIDIA GPU at all (no driver device
node and no CUDA device visible to torch); on a GPU machine it runs and can fail,
for example when TensorFlow is the CPU-only wheel instead of requirements-gpu.txt's.
Its CPU twin checks the same property on this CPU and never skips. TensorFlow runs in
a child process: one framework per process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from mlpkit.batching import TensorBatches
from mlpkit.device import choose_device, device_description
from tests.conftest import REPO_ROOT

GPU_PRESENT = torch.cuda.is_available() or Path("/dev/nvidiactl").exists()
needs_gpu = pytest.mark.skipif(not GPU_PRESENT, reason="no NVIDIA GPU on this machine")


def _short_training(device: torch.device) -> list[float]:
    """Twelve Adam steps of a small MLP on seeded batches; the losses, as floats."""
    images = np.random.default_rng(0).integers(0, 256, size=(384, 28, 28), dtype=np.uint8)
    labels = (np.arange(384) % 10).astype(np.uint8)
    batches = TensorBatches.from_numpy(
        images, labels, device=device, batch_size=32, shuffle=True, seed=5
    )
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    model = model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    losses = []
    for batch_images, batch_labels in batches:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(batch_images), batch_labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_the_pinned_torch_is_a_cuda_build() -> None:
    """Readiness that shows on any machine: PyPI's torch carries its CUDA kernels."""
    assert torch.version.cuda is not None, "a CPU-only torch wheel cannot use a GPU"
    assert torch.backends.cuda.is_built()


@needs_gpu
def test_gpu_choose_device_picks_cuda_and_trains_like_the_cpu() -> None:
    assert torch.cuda.is_available(), "an NVIDIA GPU is present but torch cannot use it"
    device = choose_device()
    assert device.type == "cuda"
    assert device_description("pytorch").startswith("cuda:")
    on_gpu = _short_training(device)
    on_cpu = _short_training(torch.device("cpu"))
    # Same initial weights and batches (shuffles come from a CPU generator): the GPU
    # changes the arithmetic's order, not the run.
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=2e-3, atol=2e-4)


def test_cpu_choose_device_falls_back_to_the_cpu_and_trains(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The twin: without a GPU the helper picks the CPU, and the same run repeats exactly."""
    with monkeypatch.context() as patch:  # torch's compiler, which fused Adam loads, needs
        patch.setattr(torch.cuda, "is_available", lambda: False)  # the real function back
        patch.setattr(torch.backends.mps, "is_available", lambda: False)
        device = choose_device()
        with pytest.raises(ValueError, match="'cuda' was requested but is not available"):
            choose_device("cuda")
        # With a GPU reported present, CUDA comes first (the choice, not a CUDA call).
        patch.setattr(torch.cuda, "is_available", lambda: True)
        assert choose_device().type == "cuda"
    assert device.type == "cpu"
    first, second = _short_training(device), _short_training(device)
    assert first == second
    assert np.mean(first[-3:]) < np.mean(first[:3]), "twelve Adam steps lower the loss"


_TENSORFLOW_PROBE = """
import json, numpy as np, keras, tensorflow as tf
from mlpkit.device import device_description
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Rescaling(1 / 255),
                          keras.layers.Flatten(), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10)])
model.compile(optimizer="adam", metrics=["accuracy"], steps_per_execution=4,
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
images = np.random.default_rng(0).integers(0, 256, size=(320, 28, 28), dtype=np.uint8)
history = model.fit(images, np.arange(320) % 10, batch_size=32, epochs=2,
                    validation_split=0.2, verbose=0)
print(json.dumps({"gpus": len(tf.config.list_physical_devices("GPU")),
                  "built_with_cuda": tf.test.is_built_with_cuda(),
                  "description": device_description("tensorflow"),
                  "variable_device": model.weights[0].value.device,
                  "val_loss": history.history["val_loss"]}))
"""


def _tensorflow_probe(*, hide_gpus: bool) -> dict:
    """Run the probe in a child process (one framework per process); optionally GPU-blind."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if hide_gpus:
        environment["CUDA_VISIBLE_DEVICES"] = ""
    completed = subprocess.run(
        [sys.executable, "-c", _TENSORFLOW_PROBE],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO_ROOT,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@needs_gpu
def test_gpu_tensorflow_trains_on_the_gpu() -> None:
    report = _tensorflow_probe(hide_gpus=False)
    assert report["built_with_cuda"], (
        "TensorFlow is the CPU-only wheel: a GPU image installs requirements-gpu.txt "
        "(tensorflow[and-cuda]) instead of requirements.txt."
    )
    assert report["gpus"] >= 1 and report["description"].startswith("gpu:")
    assert "GPU" in report["variable_device"].upper()
    assert all(np.isfinite(report["val_loss"]))


def test_cpu_tensorflow_trains_on_the_cpu_without_a_gpu() -> None:
    """The twin: with no GPU visible (none in CI; hidden on a GPU machine), the CPU trains it."""
    report = _tensorflow_probe(hide_gpus=True)
    assert report["gpus"] == 0 and report["description"] == "cpu"
    assert "CPU" in report["variable_device"].upper()
    assert all(np.isfinite(report["val_loss"]))


# --- the GPU image's pinned set ---------------------------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(\[[a-z\-,]+\])?==([^;\s]+)\s*(;.*)?$")


def _pins(path: Path) -> dict[str, str]:
    """name (with extras and marker) -> version, for one requirements file without includes."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line}"
        name, extras, version, marker = match.groups()
        pins[f"{name.lower()}{extras or ''}{(' ' + marker) if marker else ''}"] = version
    return pins


def test_gpu_requirements_are_the_pinned_set_with_tensorflows_cuda_build() -> None:
    cpu_pins = _pins(REPO_ROOT / "requirements.txt")
    gpu_pins = _pins(REPO_ROOT / "requirements-gpu.txt")
    tensorflow_cpu = {key: version for key, version in cpu_pins.items() if "tensorflow" in key}
    (tensorflow_version,) = set(tensorflow_cpu.values())  # one version on every platform
    others = {key: version for key, version in cpu_pins.items() if key not in tensorflow_cpu}
    cuda_libraries = {key for key in gpu_pins if re.fullmatch(r"nvidia-[a-z\-]+-cu12", key)}
    assert len(cuda_libraries) >= 10, "tensorflow[and-cuda]'s CUDA 12 libraries are pinned"
    assert {key: gpu_pins[key] for key in gpu_pins if key not in cuda_libraries} == {
        **others,
        "tensorflow[and-cuda]": tensorflow_version,
    }, (
        "requirements-gpu.txt must pin exactly requirements.txt's set, with "
        "tensorflow[and-cuda] (same version) instead of the tensorflow-cpu/tensorflow lines"
    )
