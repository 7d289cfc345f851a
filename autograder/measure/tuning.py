"""Measurement of notebook 05: the three sweep definitions, parsed in the trusted process.

The host sends each definition as plain data read through the base types (or a
YAML string as written). Here a YAML string is parsed with bounds: at most
``YAML_BYTES`` of text, ``YAML_ALIASES`` aliases and ``YAML_NODES`` nodes once
every alias is expanded, so an alias bomb is refused before it can grow. The
definitions are then read by ``mlpkit.tuning.parse_sweep``, the reader ``mlpkit
sweep`` uses, and described as plain ranges for the checks.
"""

from __future__ import annotations

from typing import Any

import yaml

from autograder.measure.session import Session

SWEEP_NAMES = ("sgd_sweep", "adam_sweep", "rmsprop_sweep")
YAML_BYTES = 64 * 1024
YAML_ALIASES = 32
YAML_NODES = 20_000


def bounded_yaml(text: str) -> Any:
    """Parse YAML text, refusing large texts, many aliases and alias expansion bombs."""
    if len(text.encode()) > YAML_BYTES:
        raise ValueError(f"the YAML text is longer than {YAML_BYTES // 1024} KB")
    aliases = 0
    for events, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader), start=1):
        aliases += isinstance(event, yaml.AliasEvent)
        if aliases > YAML_ALIASES or events > YAML_NODES:
            raise ValueError("the YAML text uses too many aliases or nodes")
    document = yaml.safe_load(text)
    _count_nodes(document, [YAML_NODES])
    return document


def _count_nodes(value: Any, budget: list[int]) -> None:
    """Walk ``value`` with every shared (aliased) part counted each time it is reached."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"the definition expands to more than {YAML_NODES} nodes")
    if isinstance(value, dict):
        for key, item in value.items():
            _count_nodes(key, budget)
            _count_nodes(item, budget)
    elif isinstance(value, list):
        for item in value:
            _count_nodes(item, budget)


def read_definition(record: dict[str, Any], name: str) -> dict[str, Any]:
    """One sweep's measurement: its parsed description, or why it could not be read."""
    from mlpkit.tuning import parse_sweep

    if record.get("missing"):
        return {"state": "missing"}
    if "unreadable" in record:
        error = record["unreadable"] if isinstance(record["unreadable"], dict) else {}
        return {"state": "unreadable", "message": str(error.get("message", ""))[:300]}
    value = record.get("value")
    try:
        if isinstance(value, str):
            value = bounded_yaml(value)
        else:
            _count_nodes(value, [YAML_NODES])
        definition = parse_sweep(value, source=name)
    except (ValueError, yaml.YAMLError) as error:
        return {"state": "invalid", "message": str(error)[:500]}
    return {
        "state": "ok",
        "optimizer": definition.optimizer,
        "method": definition.method,
        "metric": definition.metric,
        "goal": definition.goal,
        "parameters": definition.describe()["parameters"],
    }


def search_spaces(session: Session) -> dict[str, Any]:
    answer = session.ask("sweeps", {})
    found = answer.value.raw("sweeps")
    if not isinstance(found, dict):
        raise ValueError("the sweeps answer is not an object")
    return {
        "sweeps": {
            name: read_definition(
                found.get(name) if isinstance(found.get(name), dict) else {}, name
            )
            for name in SWEEP_NAMES
        }
    }
