import pytest

from mlpkit.config import CONFIG_KEYS, load_best_config, validate_config

ADAM = {
    "optimizer": "adam",
    "learning_rate": 0.00012885226472854095,
    "batch_size": 128,
    "epochs": 19,
    "dense_1": 485,
    "dense_2": 176,
    "dense_3": 131,
    "dense_4": 122,
    "beta_1": 0.986435025614692,
    "beta_2": 0.9904482393527106,
}


def test_valid_config_is_filled_with_defaults() -> None:
    config = validate_config({**ADAM, "optimizer": "Adam"})
    assert set(config) == set(CONFIG_KEYS)
    assert config["optimizer"] == "adam"
    assert config["momentum"] == 0.0 and config["rho"] == 0.9
    assert isinstance(config, dict)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dense1": 10}, "Unknown config key\\(s\\) 'dense1'"),
        ({"optimizer": "adagrad"}, "Unknown optimizer 'adagrad'"),
        ({"dense_3": 0}, "'dense_3' must be positive"),
        ({"dense_2": -5}, "'dense_2' must be positive"),
        ({"batch_size": 12.5}, "'batch_size' must be a whole number"),
        ({"learning_rate": 0}, "learning_rate must be positive"),
        ({"beta_1": 1.0}, "'beta_1' must lie in \\[0, 1\\)"),
    ],
)
def test_bad_configs_name_the_key(change, message) -> None:
    with pytest.raises(ValueError, match=message):
        validate_config({**ADAM, **change})


def test_missing_keys_are_listed() -> None:
    config = dict(ADAM)
    del config["epochs"]
    with pytest.raises(ValueError, match="missing key\\(s\\): epochs"):
        validate_config(config)


def test_best_configs_match_the_original_search() -> None:
    adam = load_best_config("adam")
    assert {key: adam[key] for key in ADAM} == ADAM
    assert load_best_config("sgd")["dense_1"] == 414
    assert load_best_config("rmsprop")["rho"] == pytest.approx(0.9841212943927308)


def test_best_config_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="No best-config file"):
        load_best_config("adam", tmp_path / "absent.yaml")
    broken = tmp_path / "best.yaml"
    broken.write_text("adam: [unclosed")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_best_config("adam", broken)
    broken.write_text("sgd: {}\n")
    with pytest.raises(ValueError, match="no config for 'adam'"):
        load_best_config("adam", broken)
