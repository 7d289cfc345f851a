"""Run hostile code in the real student sandbox and print what it reported (a test helper).

``python -m tests.autograder.containment_probe CODE_FILE [--wall S] [--memory-gb G]``
starts a student host of notebook 01's kind through the grader's own driver,
loads ``CODE_FILE`` as the ``class_counts`` cell (its top level runs at load),
calls ``class_counts`` once, and prints one JSON line: the value it returned (a
string the hostile code builds from what it could see or do), or why the host
stopped, plus the isolation mode. The containment tests run it as root and as
an ordinary user, so both modes are judged by the same probes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from autograder.context import GradingContext, GradingOptions
from autograder.sandbox.driver import HostFailure, HostSettings, StudentHost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("code", type=Path)
    parser.add_argument("--wall", type=float, default=60)
    parser.add_argument("--memory-gb", type=float, default=2)
    parser.add_argument("--allow-weak-isolation", action="store_true")
    arguments = parser.parse_args(argv)
    context = GradingContext.from_environment(
        GradingOptions(allow_weak_isolation=arguments.allow_weak_isolation)
    )
    limits = context.limits("exploration")
    limits = type(limits)(
        wall_seconds=arguments.wall, memory_bytes=int(arguments.memory_gb * 2**30)
    )
    settings = HostSettings(isolation=context.isolation, limits=limits, data_dir=context.data_dir)
    report: dict = {"mode": context.isolation.mode}
    started = time.monotonic()
    with StudentHost("exploration", settings) as host:
        try:
            host.start()
            status = host.load(
                [("class_counts", arguments.code.read_text())], seconds=arguments.wall
            )
            report["load"] = status["class_counts"]
            answer = host.request(
                "call", {"inputs": [{"index": 0}]}, [np.array([1, 2, 2])], seconds=arguments.wall
            )
            result = answer.value.items("results")[0]
            report["value"] = result.raw("value").get("v") if result.has("value") else None
            report["raised"] = result.raw("raised") if result.has("raised") else None
        except HostFailure as failure:
            report["stopped"] = failure.reason
            report["cause"] = failure.cause
    report["seconds"] = round(time.monotonic() - started, 2)
    report["grader_max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
