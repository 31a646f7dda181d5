"""A graded kernel started before its turn, in its own sandbox:
``python -m grading.kernel.prestart HANDOFF MODULE...``.

It imports each ``MODULE`` (what the notebook imports: torch, PyG, the engine, matplotlib;
and ipykernel), then waits on the FIFO ``HANDOFF`` for nbgrader's hand-over
(:mod:`grading.instructor.run.provisioner`): one JSON message with the text of the connection
file and the arguments nbgrader adds to a kernel's command. It writes the connection file where
a kernel started the usual way finds its own (:data:`~grading.kernel.launch.COPY`) and runs
``ipykernel_launcher`` as ``__main__`` with those arguments: from there on it is the kernel
``python -m ipykernel_launcher -f COPY ...`` that nbgrader would have started, with those
modules already imported. Nothing of the submission has run before the hand-over, and
nothing but the modules is left of the wait. A module that fails to import is skipped: the
notebook meets the same error in its own cell. Standard library only, like the rest of
:mod:`grading.kernel`.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys

from .launch import COPY


def warm_up(modules: list[str]) -> None:
    """Import ``modules``, skipping those that fail."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the notebook's own import shows the error
            continue


def handed_over(handoff: str) -> list[str]:
    """Wait for the hand-over on ``handoff``; write the connection file; the kernel's
    arguments."""
    with open(handoff, "rb") as fifo:
        message = json.loads(fifo.read())
    fd = os.open(COPY, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(message["connection"])
    return ["-f", COPY, *message["argv"]]


def main(argv: list[str]) -> None:
    warm_up(argv[1:])
    sys.argv = ["", *handed_over(argv[0])]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
