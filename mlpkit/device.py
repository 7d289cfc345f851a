"""Device choice and seeding: the kit's one device helper.

A device branch may change speed, never behaviour: shuffling and the
validation split are drawn from CPU generators seeded the same way on every
device, so a GPU run and a CPU run see the same batches in the same order.
"""

from __future__ import annotations

import os
import random

import numpy as np

DEVICE_NAMES = ("cuda", "mps", "cpu")
FRAMEWORKS = ("pytorch", "tensorflow", "numpy")


def choose_device(preference: str | None = None, *, threads: int | None = None):
    """Return the ``torch.device`` to train on: CUDA, then Apple MPS, then CPU.

    ``preference`` forces one of ``cuda``/``mps``/``cpu`` (``MLPKIT_DEVICE`` is
    read by callers, not here); asking for one that is absent is an error
    rather than a silent fallback, so a GPU run never quietly becomes a CPU run.
    ``threads`` sets PyTorch's CPU threads (see Settings.torch_threads).
    """
    import torch

    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}.")
        torch.set_num_threads(threads)
    available = {
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if preference is None or preference == "":
        name = next(name for name in DEVICE_NAMES if available[name])
        return torch.device(name)
    name = preference.strip().lower()
    if name not in DEVICE_NAMES:
        raise ValueError(f"Unknown device {preference!r}. Use one of {', '.join(DEVICE_NAMES)}.")
    if not available[name]:
        raise ValueError(
            f"Device {name!r} was requested but is not available here. "
            "Leave the device unset to pick the best available one."
        )
    return torch.device(name)


def device_description(framework: str) -> str:
    """A short human description of the accelerator a framework will use (for provenance)."""
    if framework == "pytorch":
        import torch

        if torch.cuda.is_available():
            return f"cuda:{torch.cuda.get_device_name(0)}"
        return f"cpu ({torch.get_num_threads()} threads)"
    if framework == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return f"gpu:{gpus[0].name}" if gpus else "cpu"
    raise ValueError(f"Unknown framework {framework!r}. Use 'pytorch' or 'tensorflow'.")


def seed_everything(seed: int, *, framework: str, deterministic: bool = False) -> None:
    """Seed Python, NumPy and one framework; optionally ask for deterministic kernels.

    ``framework`` is explicit (``pytorch``, ``tensorflow`` or ``numpy``) because the
    kit never imports both frameworks into one process. ``deterministic=True``
    trades speed for bit-for-bit repeatable runs on the same machine.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"Unknown framework {framework!r}. Use one of {', '.join(FRAMEWORKS)}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if framework == "pytorch":
        import torch

        torch.manual_seed(seed)
        if deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
    elif framework == "tensorflow":
        import keras

        keras.utils.set_random_seed(seed)
        if deterministic:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
