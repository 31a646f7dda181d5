"""``nbgrader`` from a warm interpreter: its commands forked from a server process that
imported nbgrader once, instead of a new Python per submission (importing nbgrader takes
2.3 s on the project's 2-core machine; a fork, milliseconds).

    python -m grading.instructor.run.warm      # the server: started by the grader, one per process

The server reads one request per line on stdin (JSON: nbgrader's arguments, working folder,
environment, log file, limits), forks, answers ``STARTED <request> <pid>`` and, when the
child ends, ``EXIT <pid> <code>``. It holds no student data and runs nothing of a
submission's. Each child becomes exactly what the cold path starts: its working folder, its
environment (``os.environ`` replaced), its output appended to the log, a session of its own
(so :func:`~grading.instructor.common.procs.kill_tree` reaches the kernel) and the hard
limits of :func:`~grading.instructor.common.procs.hard_limits`;
:func:`~grading.instructor.common.procs.run_logged` watches and stops it like any process.
Without ``fork`` (not POSIX) commands run cold, through the limits wrapper.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import BinaryIO

from grading import REPO
from grading.kernel.limits import set_limits

from ..common.procs import Starter, command_env, hard_limits, limited_command, popen


class WarmProcess:
    """A forked ``nbgrader`` command, with the part of ``subprocess.Popen``'s interface that
    :func:`~grading.instructor.common.procs.run_logged` uses."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self._server, self.pid = server, pid

    @property
    def returncode(self) -> int | None:
        return self._server.exit_code(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired("nbgrader", timeout or 0)
        return code


class ForkServer:
    """The grader's side of the server: start commands, learn how they ended."""

    def __init__(self) -> None:
        env = command_env()  # the kit importable whatever the grader's folder and path
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
        self._proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, cwd=REPO)
        self._changed = threading.Condition()
        self._started: dict[int, int] = {}
        self._ended: dict[int, int] = {}
        self._ids = itertools.count()
        threading.Thread(target=self._read, daemon=True).start()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def start(self, args: list[str], cwd: Path, env: dict, log: str,
              limits: dict[int, int]) -> WarmProcess:
        with self._changed:
            request = next(self._ids)
            line = json.dumps({"id": request, "args": args, "cwd": str(cwd), "env": env,
                               "log": log, "limits": limits})
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
            if not self._changed.wait_for(lambda: request in self._started or not self.alive(),
                                          timeout=60):
                raise RuntimeError("the nbgrader fork server did not answer")
            if request not in self._started:
                raise RuntimeError("the nbgrader fork server died")
            return WarmProcess(self, self._started.pop(request))

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            return self._ended.get(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        with self._changed:
            self._changed.wait_for(lambda: pid in self._ended, timeout)
            return self._ended.get(pid)

    def _read(self) -> None:
        for line in self._proc.stdout:
            kind, first, second = line.decode().split()
            with self._changed:
                if kind == "STARTED":
                    self._started[int(first)] = int(second)
                else:
                    self._ended[int(first)] = int(second)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()


_server: ForkServer | None = None
_server_lock = threading.Lock()


def fork_server() -> ForkServer:
    """This process's fork server, started on first use (again if it died)."""
    global _server
    with _server_lock:
        if _server is None or not _server.alive():
            _server = ForkServer()
        return _server


def can_fork() -> bool:
    """Whether commands can be forked warm here (POSIX)."""
    return hasattr(os, "fork")


def nbgrader_starter(limits: dict[int, int]) -> Starter:
    """A starter for :func:`~grading.instructor.common.procs.run_logged` that forks
    ``[python, -m, nbgrader, *args]`` from the warm server under ``limits``."""
    def start(cmd: list[str], cwd: Path, env: dict, log: BinaryIO) -> WarmProcess:
        return fork_server().start(_nbgrader_args(cmd), cwd, dict(env), log.name, limits)
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
    """The server's loop: fork a child per request line, report children's ends; stop at
    the end of stdin (the grader is gone)."""
    import nbgrader.apps.nbgraderapp  # noqa: F401 - what makes the server warm

    stdin, running = sys.stdin.buffer.raw, True
    pending = b""
    while running or _children:
        if running and select.select([stdin], [], [], 0.1)[0]:
            chunk = os.read(stdin.fileno(), 1 << 16)
            running = bool(chunk)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                _fork(json.loads(line))
        _reap(block=not running)


_children: set[int] = set()


def _fork(request: dict) -> None:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = _nbgrader(request["args"], request["cwd"], request["env"], request["log"],
                             {int(k): v for k, v in request["limits"].items()})
        except BaseException:  # noqa: BLE001 - the child must end here, its error in the log
            traceback.print_exc()
        finally:
            sys.stderr.flush()
            os._exit(code)
    _children.add(pid)
    os.write(1, f"STARTED {request['id']} {pid}\n".encode())


def _reap(block: bool) -> None:
    while _children:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        _children.discard(pid)
        os.write(1, f"EXIT {pid} {os.waitstatus_to_exitcode(status)}\n".encode())


def _nbgrader(args: list[str], cwd: str, env: dict, log: str, limits: dict[int, int]) -> int:
    """In the forked child: become the command, then run nbgrader with ``args``."""
    os.setsid()
    os.chdir(cwd)
    output = os.open(log, os.O_WRONLY | os.O_APPEND)
    null = os.open(os.devnull, os.O_RDONLY)
    for target, source in ((0, null), (1, output), (2, output)):
        os.dup2(source, target)
    os.close(output)
    os.close(null)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    os.environ.clear()
    os.environ.update(env)
    set_limits(limits, hard=True)
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
