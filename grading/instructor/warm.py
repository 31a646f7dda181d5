"""``nbgrader`` from a warm interpreter: its commands forked from a server process that
imported nbgrader once, instead of a new Python per submission (importing nbgrader takes
2.3 s on the project's 2-core machine; a fork, a few milliseconds).

The server is :mod:`multiprocessing`'s fork server, started on first use with
``nbgrader.apps`` preloaded; it holds no student data and runs nothing of a submission's.
Each command is a fresh child of it with exactly what the cold path gives the command:
its working folder, its environment (``os.environ`` replaced), its output appended to the
log, a session of its own (so :func:`~grading.instructor.procs.kill_tree` reaches the
kernel) and the hard limits of :func:`~grading.instructor.procs.hard_limits`.
:func:`~grading.instructor.procs.run_logged` watches and stops it as any other process.
Where a fork server cannot start (a daemonic process, such as a Dask worker, may not have
children) the command runs cold, through the limits wrapper.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

from grading.kernel.limits import set_limits

from .procs import Starter, hard_limits, limited_command, popen

PRELOAD = ["nbgrader.apps.nbgraderapp"]


class WarmProcess:
    """A forked ``nbgrader`` command, with the part of ``subprocess.Popen``'s interface that
    :func:`~grading.instructor.procs.run_logged` uses."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired("nbgrader", timeout or 0)
        return self._process.exitcode


def can_fork() -> bool:
    """Whether this process may start the fork server (a daemonic process may not)."""
    return sys.platform.startswith("linux") and not multiprocessing.current_process().daemon


def nbgrader_starter(limits: dict[int, int]) -> Starter:
    """A starter for :func:`~grading.instructor.procs.run_logged` that forks
    ``[python, -m, nbgrader, *args]`` from the warm server under ``limits``."""
    def start(cmd: list[str], cwd: Path, env: dict, log: BinaryIO) -> WarmProcess:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        process = context.Process(target=_nbgrader, args=(_nbgrader_args(cmd), str(cwd),
                                                          dict(env), log.name, limits))
        process.start()
        return WarmProcess(process)
    return start


def nbgrader_command(args: list[str], as_mib: int, fsize_mib: int,
                     cpu: float) -> tuple[list[str], Starter]:
    """``nbgrader *args`` under the limits wrapper's limits, and how to start it: warm
    (:func:`nbgrader_starter`) where :func:`can_fork`, else cold through
    :func:`~grading.instructor.procs.limited_command`."""
    command = [sys.executable, "-m", "nbgrader", *args]
    if can_fork():
        return command, nbgrader_starter(hard_limits(as_mib, fsize_mib, cpu))
    return limited_command(command, as_mib, fsize_mib, cpu=cpu), popen


def _nbgrader_args(cmd: list[str]) -> list[str]:
    head = [sys.executable, "-m", "nbgrader"]
    if cmd[:3] != head:
        raise ValueError(f"not an nbgrader command: {cmd[:3]}")
    return cmd[3:]


def _nbgrader(args: list[str], cwd: str, env: dict, log: str,
              limits: dict[int, int]) -> None:
    """In the forked child: become the command, then run nbgrader with ``args``."""
    os.setsid()
    os.chdir(cwd)
    output = os.open(log, os.O_WRONLY | os.O_APPEND)
    for stream in (1, 2):
        os.dup2(output, stream)
    os.close(output)
    os.environ.clear()
    os.environ.update(env)
    set_limits(limits, hard=True)
    from nbgrader.apps.nbgraderapp import NbGraderApp

    sys.argv = ["nbgrader", *args]
    NbGraderApp.launch_instance(argv=args)
