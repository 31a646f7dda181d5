"""Process utilities of the instructor side: kill a process tree, account its CPU time, run a
command under limits with its output logged, the environment of the grader's subprocesses,
and the ``limits`` wrapper command.

    python -m grading.instructor.procs --as-mib 6144 [--cpu 900] [--fsize-mib 1024] -- CMD...

Limits are per process and inherited: the kernel that ``nbgrader autograde`` starts gets the
same address-space cap, so a memory hog raises ``MemoryError`` inside its cell instead of
taking the machine (or another student's grading) down. The work limit of a command is the
CPU time of its whole process tree (:func:`run_logged`), which a busy machine does not use
up; its wall-clock limit is only a backstop.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grading.kernel.limits import set_limits


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (and ``pid`` itself, if it left the group)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def tree(pid: int) -> dict[int, float]:
    """``{pid: CPU seconds}`` of ``pid`` and its living descendants (Linux ``/proc``), each
    with the time of its children that already ended: together, the tree's CPU time."""
    parent, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = sum(int(value) for value in fields[11:15]) / tick
    found, todo = {}, [pid]
    while todo:
        current = todo.pop()
        if current in cpu and current not in found:
            found[current] = cpu[current]
            todo += [child for child, up in parent.items() if up == current]
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid``'s process group and every descendant (a kernel has its own session)."""
    descendants = tree(pid) if os.path.isdir("/proc") else {}
    kill_group(pid)
    for child in descendants:
        kill_group(child)


@dataclass
class Finished:
    """How a command ended: exit ``code`` (``None``: stopped), seconds, CPU seconds."""

    code: int | None
    seconds: float
    cpu_seconds: float = 0.0
    stopped: str = ""  # "wall" or "cpu" when a limit stopped it


def run_logged(cmd: list[str], cwd: Path, log: Path, timeout: float, env: dict | None = None,
               check: bool = False, cpu_limit: float | None = None) -> Finished:
    """Run ``cmd`` in its own session, output appended to ``log``; kill its tree after.

    It is stopped when its process tree has used ``cpu_limit`` CPU seconds or at
    ``timeout`` seconds of wall clock. ``env`` defaults to :func:`command_env`.
    """
    start = time.monotonic()
    accounting = cpu_limit is not None and os.path.isdir("/proc")
    cpu, stopped = 0.0, ""
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(cmd)}\n".encode())
        handle.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=command_env() if env is None else env,
                                stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while proc.poll() is None and not stopped:
                if time.monotonic() - start > timeout:
                    stopped = "wall"
                elif accounting:
                    cpu = max(cpu, sum(tree(proc.pid).values()))
                    stopped = "cpu" if cpu > cpu_limit else ""
                if not stopped:
                    _wait_a_little(proc)
        finally:
            kill_tree(proc.pid)  # the kernel and anything it started
            proc.wait()
    code = None if stopped else proc.returncode
    if check and code != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (see {log})")
    return Finished(code, time.monotonic() - start, cpu, stopped)


def _wait_a_little(proc: subprocess.Popen) -> None:
    try:
        proc.wait(timeout=0.5)
    except subprocess.TimeoutExpired:
        pass


def command_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this environment) with this Python's ``bin`` folder first on
    ``PATH``: nbgrader runs ``alembic`` and ``jupyter`` from ``PATH``, which lacks the virtual
    environment when the command was started as ``.venv/bin/python -m ...`` unactivated."""
    env = dict(os.environ if base is None else base)
    here = os.path.dirname(sys.executable)
    rest = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p != here]
    env["PATH"] = os.pathsep.join([here, *rest])
    return env


def limited_command(command: list[str], as_mib: int, fsize_mib: int,
                    cpu: float | None = None) -> list[str]:
    """``command`` run under this module's limits wrapper (``cpu``: seconds per process)."""
    extra = ["--cpu", str(int(cpu))] if cpu else []
    return [sys.executable, "-m", __name__, "--as-mib", str(as_mib), "--fsize-mib",
            str(fsize_mib), *extra, "--", *command]


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
