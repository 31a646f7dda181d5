"""The check server as the class command runs it: one per submission, started before the
kernel, its records read from its stdout when it shuts down."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path

from grading.kernel.client import clean_env

from ..checking.isolation import MODE_ENV
from ..common.options import Options
from ..common.procs import kill_group

#: A script: torch stays out of this process.
SERVER_SCRIPT = Path(__file__).parents[1] / "checking" / "check_server.py"


def start_server(folder: Path, exchange: Path, options: Options, log: Path,
                 kernel_uid: int | None = None) -> tuple[subprocess.Popen, Path]:
    """Start a check server for one submission in ``folder``; its stderr goes to ``log``.

    Its socket is alone in ``folder/socket/``, the one folder of the server's that the
    kernel's sandbox sees (read-only); it takes bundles only from ``exchange``, the kernel's
    TMPDIR; its zygote is sandboxed as ``options.sandbox`` says. Its work folder (hidden
    inputs, bundles) and its temporary files (``TMPDIR``: PyG's generated modules) are made in
    ``folder/server/``: removing ``folder`` removes them, even if the server was killed before
    its own clean-up. A kernel that runs as ``kernel_uid`` is
    given the socket."""
    (folder / "socket").mkdir()
    sock = folder / "socket" / "checks.sock"
    server_dir = folder / "server"
    server_dir.mkdir()
    handle = open(log, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-I", str(SERVER_SCRIPT), "--socket", str(sock),
         "--bundle-root", str(exchange), "--work-root", str(server_dir),
         "--check-wall", str(options.check_wall), "--case-wall", str(options.case_wall),
         "--check-mem-mib", str(options.check_mem_mib),
         *(["--socket-uid", str(kernel_uid)] if kernel_uid is not None else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, cwd=server_dir,
        env=clean_env(**{MODE_ENV: options.sandbox, "TMPDIR": str(server_dir)}),
        start_new_session=True)
    handle.close()
    return proc, sock


def server_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline().decode(errors="replace")
        if not line:
            return None
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


def stop_server(proc: subprocess.Popen, cleanup: float = 60.0) -> list[dict] | None:
    """The server's records (``None`` if it never started or died). It is asked to shut
    down and given ``cleanup`` seconds to stop its sandbox and remove its work folder; its
    process group is killed only after that."""
    try:
        proc.stdin.write(b"shutdown\n")
        proc.stdin.flush()
        line = server_line(proc, "RESULTS ", 300)
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None
    finally:
        _end(proc, cleanup)


def _end(proc: subprocess.Popen, cleanup: float) -> None:
    try:
        proc.stdin.close()  # a server that missed "shutdown" stops at the end of its stdin
    except OSError:
        pass
    try:
        proc.wait(timeout=cleanup)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.wait()
