import pytest

from mlpkit.profiles import PROFILES, current_profile, get_profile
from mlpkit.settings import load_settings


def test_profiles_cap_epochs_as_documented() -> None:
    assert get_profile("full").epochs(19) == 19
    assert get_profile("class").epochs(19) == PROFILES["class"].max_epochs
    assert get_profile("class").epochs(3) == 3
    assert get_profile("grading").epochs(19) == 1
    assert get_profile("grading").sweep_trials == 0
    assert get_profile("full").sweep_trials == 50


def test_current_profile_follows_nbgrader() -> None:
    assert current_profile(load_settings({"NBGRADER_EXECUTION": "validate"})).name == "grading"
    assert current_profile(load_settings({})).name == "class"


def test_unknown_profile_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="Use one of full, class, grading"):
        get_profile("laptop")
