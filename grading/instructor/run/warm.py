"""``nbgrader`` from a warm interpreter: its commands forked from a server process that
imported nbgrader once, instead of a new Python per submission (importing nbgrader takes
2.3 s on the project's 2-core machine; a fork, milliseconds).

    python -m grading.instructor.run.warm      # the server: started by the grader, one per process

It is a fork server of :mod:`grading.instructor.common.forking`: it holds no student data and
runs nothing of a submission's. Each child becomes exactly what the cold path starts: its
working folder, its environment (``os.environ`` replaced), its output appended to the log, a
session of its own (so :func:`~grading.instructor.common.procs.kill_tree` reaches the kernel)
and the hard limits of :func:`~grading.instructor.common.procs.hard_limits`;
:func:`~grading.instructor.common.procs.run_logged` watches and stops it like any process.
Without ``fork`` (not POSIX) commands run cold, through the limits wrapper.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import BinaryIO

from grading import REPO

from ..common import forking
from ..common.forking import Forked, ForkServer
from ..common.procs import Starter, command_env, hard_limits, limited_command, popen

_server: ForkServer | None = None
_server_lock = threading.Lock()


def fork_server() -> ForkServer:
    """This process's nbgrader fork server, started on first use (again if it died)."""
    global _server
    with _server_lock:
        if _server is None or not _server.alive():
            env = command_env()  # the kit importable whatever the grader's folder and path
            env["PYTHONPATH"] = os.pathsep.join([str(REPO),
                                                 *filter(None, [env.get("PYTHONPATH")])])
            _server = ForkServer([sys.executable, "-m", __name__], env, REPO)
        return _server


def can_fork() -> bool:
    """Whether commands can be forked warm here (POSIX)."""
    return hasattr(os, "fork")


def nbgrader_starter(limits: dict[int, int]) -> Starter:
    """A starter for :func:`~grading.instructor.common.procs.run_logged` that forks
    ``[python, -m, nbgrader, *args]`` from the warm server under ``limits``."""
    def start(cmd: list[str], cwd: Path, env: dict, log: BinaryIO) -> Forked:
        with open(os.devnull, "rb") as null:
            streams = (null.fileno(), log.fileno(), log.fileno())
            return fork_server().start(_nbgrader_args(cmd), cwd, dict(env), streams, limits)
    return start


def nbgrader_command(args: list[str], as_mib: int, fsize_mib: int,
                     cpu: float) -> tuple[list[str], Starter]:
    """``nbgrader *args`` under the limits wrapper's limits, and how to start it: warm
    (:func:`nbgrader_starter`) where :func:`can_fork`, else cold through
    :func:`~grading.instructor.common.procs.limited_command`."""
    command = [sys.executable, "-m", "nbgrader", *args]
    if can_fork():
        return command, nbgrader_starter(hard_limits(as_mib, fsize_mib, cpu))
    return limited_command(command, as_mib, fsize_mib, cpu=cpu), popen


def _nbgrader_args(cmd: list[str]) -> list[str]:
    head = [sys.executable, "-m", "nbgrader"]
    if cmd[:3] != head:
        raise ValueError(f"not an nbgrader command: {cmd[:3]}")
    return cmd[3:]


def serve() -> None:
    """The server: import nbgrader, then fork an nbgrader command per request."""
    import nbgrader.apps.nbgraderapp  # noqa: F401 - what makes the server warm

    _alembic_in_process()
    forking.serve(_nbgrader)


def _alembic_in_process() -> None:
    """nbgrader asks ``alembic heads`` for the version of a new gradebook in a subprocess
    (``nbgrader.api.get_alembic_version``: 2.2 s, a new Python that imports alembic): the
    same question answered here, with alembic's API (nbgrader 0.9.6 is pinned)."""
    import nbgrader.api
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    def head() -> str:
        with nbgrader.api._temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
            return ScriptDirectory.from_config(Config(ini)).get_current_head()

    nbgrader.api.get_alembic_version = head


def _nbgrader(args: list[str]) -> int:
    """In the forked child (:func:`~grading.instructor.common.forking.become` done): run
    nbgrader with ``args``."""
    from nbgrader.apps.nbgraderapp import NbGraderApp

    sys.argv = ["nbgrader", *args]
    try:
        NbGraderApp.launch_instance(argv=args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    serve()
