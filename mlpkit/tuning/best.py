"""Write a study's best config into ``sweeps/best.yaml``, keeping its layout.

The framework notebooks read their config from that file (no network), so the
kit's own search replaces the original's values here, one optimizer at a time,
with a ``source`` line saying where the numbers came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from mlpkit.config import validate_config


def write_best_config(
    path: Path, *, optimizer: str, config: Mapping[str, Any], source: str
) -> Path:
    """Replace ``optimizer``'s entry of ``path`` (other entries and the header are kept)."""
    path = Path(path)
    checked = validate_config(config)
    if checked["optimizer"] != optimizer:
        raise ValueError(f"The config is for {checked['optimizer']!r}, not {optimizer!r}.")
    text = path.read_text() if path.is_file() else ""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{path} must map optimizer names to entries.")
    relevant = {"sgd": ("momentum",), "adam": ("beta_1", "beta_2"), "rmsprop": ("momentum", "rho")}
    kept = ("optimizer", "batch_size", "epochs", "dense_1", "dense_2", "dense_3", "dense_4")
    entry = {key: checked[key] for key in (*kept, "learning_rate", *relevant[optimizer])}
    document[optimizer] = {"source": source, "config": entry}
    body = yaml.safe_dump(document, sort_keys=False)
    path.write_text("\n".join([*header, body]) if header else body)
    return path
