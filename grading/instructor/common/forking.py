"""Commands forked from a warm server: a Python that imported what its commands need once and
forks one child per command (milliseconds instead of seconds of imports). The nbgrader
commands (:mod:`grading.instructor.run.warm`) and the check servers
(:mod:`grading.instructor.checking.check_server`) start this way.

The server's stdin is one end of a Unix ``SOCK_SEQPACKET`` pair, its control socket. Each
request is one JSON message ``{"id", "args", "cwd", "env", "limits", "nice"}`` with the
child's standard streams attached (``SCM_RIGHTS``). The server forks; the child becomes the
command (:func:`become`: a session of its own, its working folder, exactly ``env`` as its
environment, the three streams, hard ``limits``, a niceness) and runs the server's
handler on ``args``. The server answers ``STARTED <id> <pid>`` and, when the child ends,
``EXIT <pid> <code>``. It holds no student data and runs nothing of a submission's; at the
end of its control socket (the grader is gone) it waits for its children and exits.
"""

from __future__ import annotations

import itertools
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from grading.kernel.limits import set_limits

from .procs import renice

MAX_MESSAGE = 1 << 16
STREAMS = 3  # stdin, stdout, stderr
WARM = "--warm"
"""The argument that makes a script a warm server (``check_server.py --warm``)."""


class Forked:
    """A forked command, with the part of ``subprocess.Popen``'s interface that
    :func:`~grading.instructor.common.procs.run_logged` and the check server's caller use
    (``stdin`` and ``stdout``: the caller's ends of the pipes it gave the command, if any)."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self._server, self.pid = server, pid
        self.stdin = self.stdout = None

    @property
    def returncode(self) -> int | None:
        return self._server.exit_code(self.pid)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._server.wait(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return code


class ForkServer:
    """The grader's side of a warm server started as ``command``: start commands, learn how
    they ended, stop it."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._proc = subprocess.Popen(command, stdin=theirs, env=env, cwd=cwd)
        theirs.close()
        self._changed = threading.Condition()
        self._started: dict[int, int] = {}
        self._ended: dict[int, int] = {}
        self._ids = itertools.count()
        threading.Thread(target=self._read, daemon=True).start()

    def alive(self) -> bool:
        return self._proc.poll() is None

    def start(self, args: list[str], cwd: Path, env: dict, streams: tuple[int, int, int],
              limits: dict[int, int], nice: int = 0) -> Forked:
        """Fork ``args`` in ``cwd`` with ``env``, ``streams`` as its stdin, stdout and stderr
        (the caller closes its copies), hard ``limits`` and the niceness ``nice``
        (:func:`~grading.instructor.common.procs.renice`)."""
        with self._changed:
            request = next(self._ids)
            message = json.dumps({"id": request, "args": args, "cwd": str(cwd), "env": env,
                                  "limits": limits, "nice": nice}).encode()
            socket.send_fds(self._control, [message], list(streams))
            if not self._changed.wait_for(lambda: request in self._started or not self.alive(),
                                          timeout=60):
                raise RuntimeError("the fork server did not answer")
            if request not in self._started:
                raise RuntimeError("the fork server died")
            return Forked(self, self._started.pop(request))

    def exit_code(self, pid: int) -> int | None:
        with self._changed:
            return self._ended.get(pid)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit code, ``None`` after ``timeout`` or if the server died first."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._ended or not self.alive(), timeout)
            return self._ended.get(pid)

    def close(self, timeout: float = 30.0) -> None:
        """End the control socket and wait for the server to exit (killed after ``timeout``)."""
        self._control.shutdown(socket.SHUT_RDWR)
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _read(self) -> None:
        while message := self._control.recv(MAX_MESSAGE):
            kind, first, second = message.decode().split()
            with self._changed:
                target = self._started if kind == "STARTED" else self._ended
                target[int(first)] = int(second)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()


def serve(handler: Callable[[list[str]], int]) -> None:
    """The server's loop: fork a child per request that runs ``handler(args)``, report the
    children's ends; stop at the end of the control socket (stdin)."""
    control = socket.socket(fileno=os.dup(0))
    children: set[int] = set()
    running = True
    while running or children:
        if running and select.select([control], [], [], 0.1)[0]:
            message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, STREAMS)
            running = bool(message)
            if running:
                children.add(_fork(control, json.loads(message), fds, handler))
            for fd in fds:
                os.close(fd)
        _reap(control, children, block=not running)


def _fork(control: socket.socket, request: dict, fds: list[int],
          handler: Callable[[list[str]], int]) -> int:
    """Fork the command; ``STARTED`` once the child has become it (or died trying), so that
    whatever the grader does to it next (:func:`~grading.instructor.common.procs.promote`)
    comes after."""
    became, tell = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            control.close()
            os.close(became)
            become(request, fds)
            os.close(tell)
            code = handler(request["args"])
        except BaseException:  # noqa: BLE001 - the child must end here, its error in its log
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(tell)
    os.read(became, 1)  # the end of the pipe: the child closed it, or ended
    os.close(became)
    control.send(f"STARTED {request['id']} {pid}".encode())
    return pid


def _reap(control: socket.socket, children: set[int], block: bool) -> None:
    while children:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        children.discard(pid)
        try:
            control.send(f"EXIT {pid} {os.waitstatus_to_exitcode(status)}".encode())
        except OSError:  # the grader is gone
            pass


def become(request: dict, fds: list[int]) -> None:
    """In the forked child: become the command: a session of its own, its working folder and
    standard streams, exactly its environment (temporary files under its ``TMPDIR``), hard
    limits, its niceness."""
    os.setsid()
    os.chdir(request["cwd"])
    for target, source in enumerate(fds):
        os.dup2(source, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # the server's imports may have cached its own
    set_limits({int(kind): value for kind, value in request["limits"].items()}, hard=True)
    if request["nice"]:
        renice(os.getpid(), request["nice"])
