import random

import numpy as np
import pytest
import torch

from mlpkit.device import choose_device, device_description, seed_everything


def test_auto_choice_is_an_available_device() -> None:
    device = choose_device()
    assert device.type == ("cuda" if torch.cuda.is_available() else device.type)
    assert choose_device("cpu").type == "cpu"


def test_unknown_or_absent_devices_are_errors() -> None:
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' was requested but is not available"):
            choose_device("cuda")


def test_threads_are_applied() -> None:
    before = torch.get_num_threads()
    try:
        choose_device("cpu", threads=1)
        assert torch.get_num_threads() == 1
        assert "1 threads" in device_description("pytorch") or torch.cuda.is_available()
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="at least 1"):
        choose_device(threads=0)


def test_seed_everything_repeats_python_numpy_and_torch() -> None:
    draws = []
    for _ in range(2):
        seed_everything(7, framework="pytorch")
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]
    with pytest.raises(ValueError, match="Unknown framework"):
        seed_everything(1, framework="jax")
