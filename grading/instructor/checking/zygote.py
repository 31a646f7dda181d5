"""The check server's side of the sandbox zygote (:mod:`.sandbox`): start it in its sandbox,
send it a check, read its untrusted reply within bounds, restart it when a check broke it."""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from grading.kernel.client import clean_env

from ..common.procs import kill_group, renice, wait_group
from . import isolation, sandbox
from .intake import MAX_TEXT, clip

MAX_REPLY = 4096  # bytes of a zygote's reply line (the zygote shares the checks' sandbox)


class _Spawner:
    """Starts processes from one thread that lasts as long as the server: bwrap's
    ``--die-with-parent`` (``PR_SET_PDEATHSIG``) fires when the *thread* that started it
    ends, and the request thread that finds the zygote dead is about to end."""

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._serve, name="spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            args, kwargs, done = self.jobs.get()
            try:
                done.put(subprocess.Popen(*args, **kwargs))
            except BaseException as error:  # noqa: BLE001 - raised again in the caller
                done.put(error)

    def popen(self, *args, **kwargs) -> subprocess.Popen:
        done: queue.Queue = queue.Queue(maxsize=1)
        self.jobs.put((args, kwargs, done))
        result = done.get()
        if isinstance(result, BaseException):
            raise result
        return result


class Zygote:
    """The sandbox zygote process and its request/reply pipe; it runs as ``uid`` if given."""

    def __init__(self, workdir: Path, uid: int | None = None) -> None:
        self.workdir, self.uid = workdir, uid
        self.proc: subprocess.Popen | None = None
        self.counter = 0
        self.spawner = _Spawner()

    def start(self) -> None:
        script = Path(sandbox.__file__).resolve()
        command = [sys.executable, "-I", str(script), "zygote"]
        self.proc = self.spawner.popen(isolation.zygote_command(command, self.workdir, self.uid),
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       cwd=self.workdir, env=clean_env(), text=True,
                                       start_new_session=True)
        renice(self.proc.pid, os.getpriority(os.PRIO_PROCESS, 0))  # the server's, in its session

    def wait_ready(self, timeout: float = 120.0) -> None:
        line = self._readline(timeout)
        if not line or not json.loads(line).get("ready"):
            raise RuntimeError("sandbox zygote did not start")

    def _readline(self, timeout: float) -> str:
        """One line from the zygote within ``timeout`` seconds and ``MAX_REPLY`` bytes, else
        ``""``: it is untrusted (a check may write to its stdout), so never wait or read more."""
        assert self.proc and self.proc.stdout
        fd, data = self.proc.stdout.fileno(), b""
        deadline = time.monotonic() + timeout
        while b"\n" not in data and len(data) <= MAX_REPLY:
            left = deadline - time.monotonic()
            chunk = os.read(fd, 512) if left > 0 and select.select([fd], [], [], left)[0] else b""
            if not chunk:
                return ""
            data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace") if b"\n" in data else ""

    def stop(self) -> None:
        """Kill the zygote's sandbox and wait until nothing of it is left: its namespace's init
        may outlive bwrap for a moment (a check that killed the zygote ended the sandbox)."""
        if self.proc:
            kill_group(self.proc.pid)  # before bwrap is reaped: the group id is still its own
            self.proc.wait()
            wait_group(self.proc.pid)
            self.proc = None

    def run(self, request: dict, wall: float) -> tuple[str, str]:
        """Send one request; restart the zygote if it died or hung (student code hit it)."""
        self.counter += 1
        request = {**request, "id": self.counter}
        try:
            assert self.proc and self.proc.stdin
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self._readline(wall + 30.0)
            reply = json.loads(line) if line else None
        except (OSError, ValueError, AssertionError):
            reply = None
        if not isinstance(reply, dict) or reply.get("id") != self.counter \
                or reply.get("status") not in ("ok", "timeout", "signal", "exit"):
            self.stop()
            self.start()
            self.wait_ready()
            return "crash", ""  # the server words it
        return reply["status"], clip(str(reply.get("detail")), MAX_TEXT)
