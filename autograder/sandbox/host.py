"""The student host: ``python -m autograder.sandbox.host KIND``, run only inside the sandbox.

It answers the driver's requests on the channel (the two pipe fds it is given;
see ``protocol.py``) until the driver closes it. ``load`` runs the answer cells the
driver sends (their sources come from the driver, which read the notebook);
every other operation calls one student function on inputs the driver chose and
returns what came back. The host decides nothing: the driver checks each answer.
A student error is an answer (``{"raised": record}``); a failure of the host
itself (``ok: false``) tells the driver the host can no longer be believed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

from autograder.sandbox.host_support import StudentError, error_record, run_cells
from autograder.sandbox.protocol import encode_message, read_message, write_all

HANDLERS = {
    "exploration": "autograder.sandbox.host_functions",
    "comparison": "autograder.sandbox.host_functions",
    "tuning": "autograder.sandbox.host_functions",
    "pytorch": "autograder.sandbox.host_pytorch",
    "tensorflow": "autograder.sandbox.host_tensorflow",
}


class HostState:
    """What the host keeps between requests: the student's namespace and built objects."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "student_notebook"}
        self.objects: dict[str, Any] = {}

    def load(self, args: dict[str, Any], arrays: list) -> tuple[dict[str, Any], list]:
        cells = [(str(grade_id), str(source)) for grade_id, source in args["cells"]]
        return {"cells": run_cells(cells, self.namespace, seconds=args.get("seconds"))}, []


def serve(kind: str, *, request_fd: int, answer_fd: int) -> int:
    """Answer requests until the driver closes the channel."""
    state = HostState()
    handlers = {"load": state.load, "ping": lambda args, arrays: ({"pong": True}, [])}
    handlers.update(importlib.import_module(HANDLERS[kind]).handlers(state, kind))
    while True:
        try:
            request = read_message(request_fd)
        except EOFError:
            return 0
        header = request.header
        answer: dict[str, Any] = {"id": header.get("id")}
        arrays: list = []
        try:
            value, arrays = handlers[header["op"]](header.get("args", {}), request.arrays)
            answer.update(ok=True, value=value)
            data = encode_message(answer, arrays)
        except BaseException as error:  # noqa: BLE001 - report, never die on a student's doing
            value = {"raised": error.record} if isinstance(error, StudentError) else None
            answer.update(ok=value is not None, value=value, error=error_record(error))
            data = encode_message(answer)
        sys.stdout.flush()
        write_all(answer_fd, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The sandboxed student host (started by the grader)."
    )
    parser.add_argument("kind", choices=sorted(HANDLERS))
    parser.add_argument("--request-fd", type=int, required=True)
    parser.add_argument("--answer-fd", type=int, required=True)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return serve(arguments.kind, request_fd=arguments.request_fd, answer_fd=arguments.answer_fd)


if __name__ == "__main__":
    raise SystemExit(main())
