"""Entry point inside the sandbox: ``python -m autograder.sandbox.probe FRAMEWORK NOTEBOOK OUT``.

Only one framework is imported per process: the dispatcher imports the probe
module of the framework asked for and nothing else.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

PROBES = {
    "pytorch": "autograder.sandbox.probe_pytorch",
    "tensorflow": "autograder.sandbox.probe_tensorflow",
    "exploration": "autograder.sandbox.probe_functions",
    "comparison": "autograder.sandbox.probe_functions",
    "tuning": "autograder.sandbox.probe_tuning",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=sorted(PROBES))
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--train-epochs", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    arguments.output_dir.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(PROBES[arguments.framework])
    if arguments.framework in ("exploration", "comparison"):
        module.collect_kind(arguments.framework, arguments.notebook, arguments.output_dir)
        return 0
    module.collect(
        arguments.notebook,
        arguments.output_dir,
        train_epochs=arguments.train_epochs,
        seed=arguments.seed,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
