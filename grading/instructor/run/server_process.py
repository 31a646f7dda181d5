"""The check server as the class command runs it: one per submission, started before its
notebook runs, its records read from its stdout when it shuts down. Each is forked from this
process's warm check server (:func:`warm_checks`) where :func:`.warm.can_fork`."""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grading.kernel.client import clean_env
from grading.kernel.i18n import DEFAULT

from ..checking.isolation import MODE_ENV
from ..common.forking import WARM, Forked, ForkServer
from ..common.options import Options
from ..common.procs import kill_group
from . import warm

#: A script: torch stays out of this process.
SERVER_SCRIPT = Path(__file__).parents[1] / "checking" / "check_server.py"

_warm: ForkServer | None = None
_warm_lock = threading.Lock()


def warm_checks() -> ForkServer:
    """This process's warm check server (``check_server.py --warm``), started on first use
    (again if it died); when this process exits it is stopped and its temporary folder (torch
    and PyG write there as they are imported) removed."""
    global _warm
    with _warm_lock:
        if _warm is None or not _warm.alive():
            tmp = Path(tempfile.mkdtemp(prefix="gcl4sr-warm-checks-"))
            _warm = ForkServer([sys.executable, "-I", str(SERVER_SCRIPT), WARM],
                               clean_env(TMPDIR=str(tmp)), tmp)
            atexit.register(_stop_warm, _warm, tmp)
        return _warm


def _stop_warm(server: ForkServer, tmp: Path) -> None:
    server.close()
    shutil.rmtree(tmp, ignore_errors=True)


SOCKET_PATH_MAX = 107
"""The longest path of a Unix socket (``sun_path`` holds 108 bytes on Linux)."""


def server_socket(folder: Path) -> Path:
    """Where the check server of ``folder`` listens, alone in a folder of its own (made);
    ``ValueError`` if that path is too long for a Unix socket."""
    path = folder / "socket" / "checks.sock"
    if len(os.fsencode(path)) > SOCKET_PATH_MAX:
        raise ValueError(f"the grading folder's path is too long for a Unix socket ({path}): "
                         "set TMPDIR to a shorter folder")
    path.parent.mkdir(exist_ok=True)
    return path


def start_server(folder: Path, exchange: Path, options: Options, log: Path,
                 kernel_uid: int | None = None, nice: int = 0,
                 lang: str = DEFAULT) -> tuple[subprocess.Popen | Forked, Path]:
    """Start a check server for one submission in ``folder``; its stderr goes to ``log``.

    Its socket is alone in ``folder/socket/``, the one folder of the server's that the
    kernel's sandbox sees (read-only); it takes bundles only from ``exchange``, the kernel's
    TMPDIR; its zygote is sandboxed as ``options.sandbox`` says. Its work folder (hidden
    inputs, bundles) and its temporary files (``TMPDIR``: PyG's generated modules) are made in
    ``folder/server/``: removing ``folder`` removes them, even if the server was killed before
    its own clean-up. A kernel that runs as ``kernel_uid`` is given the socket. A forked
    server and its zygote run ``nice`` (a submission prepared ahead, :mod:`.ahead`). Its
    replies and reasons are in ``lang``, the submitted notebook's language."""
    sock = server_socket(folder)
    server_dir = folder / "server"
    server_dir.mkdir()
    args = ["--socket", str(sock), "--bundle-root", str(exchange), "--work-root",
            str(server_dir), "--check-wall", str(options.check_wall), "--case-wall",
            str(options.case_wall), "--check-mem-mib", str(options.check_mem_mib),
            "--lang", lang, *(["--socket-uid", str(kernel_uid)] if kernel_uid is not None
                              else [])]
    env = clean_env(**{MODE_ENV: options.sandbox, "TMPDIR": str(server_dir)})
    with open(log, "ab") as handle:
        if not warm.can_fork():
            return subprocess.Popen([sys.executable, "-I", str(SERVER_SCRIPT), *args],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=handle, cwd=server_dir, env=env,
                                    start_new_session=True), sock
        return _forked(args, server_dir, env, handle.fileno(), nice), sock


def _forked(args: list[str], cwd: Path, env: dict[str, str], log: int, nice: int) -> Forked:
    """A check server forked from :func:`warm_checks`, with pipes to its stdin and stdout."""
    stdin, to_stdin = os.pipe()
    from_stdout, stdout = os.pipe()
    try:
        proc = warm_checks().start(args, cwd, env, (stdin, stdout, log), {}, nice)
    except BaseException:
        os.close(to_stdin)
        os.close(from_stdout)
        raise
    finally:
        os.close(stdin)
        os.close(stdout)
    proc.stdin, proc.stdout = os.fdopen(to_stdin, "wb"), os.fdopen(from_stdout, "rb")
    return proc


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
