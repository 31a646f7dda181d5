"""Process utilities of the instructor side: kill a process group, run a command under
limits with its output logged, and the ``limits`` wrapper command.

    python -m grading.instructor.procs --as-mib 6144 [--cpu 900] [--fsize-mib 1024] -- CMD...

Limits are per process and inherited: the kernel that ``nbgrader autograde`` starts gets the
same address-space cap, so a memory hog raises ``MemoryError`` inside its cell instead of
taking the machine (or another student's grading) down.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import time
from pathlib import Path

from grading.kernel.limits import set_limits


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (and ``pid`` itself, if it left the group)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def run_logged(cmd: list[str], cwd: Path, log: Path, timeout: float, env: dict | None = None,
               check: bool = False) -> tuple[int | None, float]:
    """Run ``cmd`` in its own session, output appended to ``log``; kill the group after.

    Returns the exit code (``None``: killed at ``timeout`` seconds) and the seconds taken.
    """
    start = time.monotonic()
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(cmd)}\n".encode())
        handle.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            kill_group(proc.pid)  # the kernel and anything it started
            proc.wait()
    if check and code != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (see {log})")
    return code, time.monotonic() - start


def limited_command(command: list[str], as_mib: int, fsize_mib: int) -> list[str]:
    """``command`` run under this module's limits wrapper."""
    import sys

    return [sys.executable, "-m", __name__, "--as-mib", str(as_mib), "--fsize-mib",
            str(fsize_mib), "--", *command]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a command under resource limits.")
    parser.add_argument("--as-mib", type=int, help="address space per process (MiB)")
    parser.add_argument("--cpu", type=int, help="CPU seconds per process")
    parser.add_argument("--fsize-mib", type=int, help="largest file a process may write (MiB)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    limits = {resource.RLIMIT_AS: args.as_mib and args.as_mib << 20,
              resource.RLIMIT_CPU: args.cpu,
              resource.RLIMIT_FSIZE: args.fsize_mib and args.fsize_mib << 20,
              resource.RLIMIT_CORE: 0}
    set_limits({kind: value for kind, value in limits.items() if value is not None})
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
