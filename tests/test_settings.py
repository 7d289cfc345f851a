from pathlib import Path

import pytest

from mlpkit.settings import PROFILE_NAMES, Settings, load_settings


def test_defaults_describe_every_field() -> None:
    settings = load_settings({})
    assert settings.profile == "class"
    assert settings.data_dir is None
    rows = settings.describe()
    assert {row[0] for row in rows} == set(Settings.__dataclass_fields__)
    assert all(row[1] and len(row[3]) > 20 for row in rows), (
        "every field has a variable and a description"
    )


def test_environment_values_are_converted() -> None:
    settings = load_settings(
        {
            "MLPKIT_PROFILE": "FULL",
            "FASHION_MNIST_DIR": "~/fmnist",
            "MLPKIT_TORCH_THREADS": "2",
            "MLPKIT_DOWNLOAD_TIMEOUT": "1.5",
        }
    )
    assert settings.profile == "full"
    assert settings.data_dir == Path("~/fmnist").expanduser()
    assert settings.torch_threads == 2
    assert settings.download_timeout == 1.5


def test_nbgrader_execution_forces_the_grading_profile() -> None:
    settings = load_settings({"MLPKIT_PROFILE": "full", "NBGRADER_EXECUTION": "autograde"})
    assert settings.profile == "grading"


def test_unknown_profile_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="Unknown profile 'gpu'") as failure:
        load_settings({"MLPKIT_PROFILE": "gpu"})
    for name in PROFILE_NAMES:
        assert name in str(failure.value)


def test_bad_numbers_name_the_variable() -> None:
    with pytest.raises(ValueError, match="MLPKIT_TORCH_THREADS='two'"):
        load_settings({"MLPKIT_TORCH_THREADS": "two"})
    with pytest.raises(ValueError, match="at least 1"):
        load_settings({"MLPKIT_TORCH_THREADS": "0"})
