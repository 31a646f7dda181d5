"""Process utilities of the instructor side: kill a process tree, account its CPU time, run a
command under limits with its output logged, set a session's priority, the environment of the
grader's subprocesses, and the ``limits`` wrapper command.

    python -m grading.instructor.common.procs --as-mib 6144 [--cpu 900] [--fsize-mib 1024]
        [--nproc 64] -- CMD...

Limits are per process, inherited and hard (soft = hard: no process below can raise them):
the kernel that ``nbgrader autograde`` starts gets the same address-space cap, so a memory
hog raises ``MemoryError`` inside its cell instead of taking the machine (or another
student's grading) down. The work limit of a command is the CPU time of its whole process
tree (:func:`run_logged`), which a busy machine does not use up; its wall-clock limit is
only a backstop.

Process cap (``RLIMIT_NPROC``, see :func:`nproc_limit`): the kernel ignores it for root, and
CI and many instructors grade as root. A sandbox then runs its command as a fresh
unprivileged uid (:func:`sandbox_uid`, :func:`as_uid`), whose processes it counts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from grading.kernel.limits import set_limits


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (and ``pid`` itself, if it left the group)."""
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def wait_group(pgid: int, timeout: float = 10.0) -> None:
    """Wait until every process of the group ``pgid`` has ended (gone, or a zombie that init
    reaps: a sandbox's init ends a moment after its bwrap), ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    while _running_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.005)


def _running_in_group(pgid: int) -> bool:
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False


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


def renice(session: int, nice: int) -> None:
    """Set the niceness of the session led by ``session`` (its leader's pid): of every process
    in its leader's process group, and of its autogroup, by which Linux shares the cores
    between sessions where autogroups are on (``/proc/<pid>/autogroup``). Raising a priority
    needs root: where it is not permitted, nothing changes."""
    try:
        os.setpriority(os.PRIO_PGRP, session, nice)
        with open(f"/proc/{session}/autogroup", "w") as handle:
            handle.write(str(nice))
    except OSError:  # not permitted, gone, or no autogroups
        pass


def promote(pid: int) -> None:
    """Normal priority again for every session of ``pid``'s tree (:func:`renice`)."""
    sessions = set()
    for member in tree(pid) if os.path.isdir("/proc") else ():
        try:
            sessions.add(os.getsid(member))
        except ProcessLookupError:
            continue
    for session in sessions:
        renice(session, 0)


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


class Started(Protocol):
    """A started command as :func:`run_logged` watches it (``subprocess.Popen`` has it)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


Starter = Callable[[list[str], Path, dict, BinaryIO], Started]
"""Starts ``cmd`` in ``cwd`` with ``env``, its output to the open log, in a session of its
own: :func:`popen` or :func:`grading.instructor.run.warm.nbgrader_starter`."""


def popen(cmd: list[str], cwd: Path, env: dict, log: BinaryIO) -> subprocess.Popen:
    """``cmd`` as a new process (the default :data:`Starter`)."""
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def run_logged(cmd: list[str], cwd: Path, log: Path, timeout: float, env: dict | None = None,
               check: bool = False, cpu_limit: float | None = None,
               start_with: Starter = popen, also: list[int] = ()) -> Finished:
    """Run ``cmd`` in its own session, output appended to ``log``; kill its tree after.

    It is stopped when its process tree has used ``cpu_limit`` CPU seconds or at
    ``timeout`` seconds of wall clock. ``env`` defaults to :func:`command_env`. The trees of
    the processes ``also`` (a kernel started for it beforehand) count as its own: their CPU
    time since they started, and they are killed with it.
    """
    start = time.monotonic()
    accounting = cpu_limit is not None and os.path.isdir("/proc")
    cpu, stopped = 0.0, ""
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(cmd)}\n".encode())
        handle.flush()
        proc = start_with(cmd, cwd, command_env() if env is None else env, handle)
        try:
            while proc.poll() is None and not stopped:
                if time.monotonic() - start > timeout:
                    stopped = "wall"
                elif accounting:
                    cpu = max(cpu, sum(sum(tree(pid).values()) for pid in [proc.pid, *also]))
                    stopped = "cpu" if cpu > cpu_limit else ""
                if not stopped:
                    _wait_a_little(proc)
        finally:
            for pid in [proc.pid, *also]:
                kill_tree(pid)  # the kernel and anything it started
            proc.wait()
    code = None if stopped else proc.returncode
    if check and code != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (see {log})")
    return Finished(code, time.monotonic() - start, cpu, stopped)


def _wait_a_little(proc: Started) -> None:
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


SANDBOX_UID_BASE = 1 << 30
SETUID_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")


def sandbox_uid() -> int | None:
    """The uid that sandboxed student code runs as when the grader is root, else ``None``.

    ``SANDBOX_UID_BASE`` + this process's pid: no passwd entry, used by no one else, unique
    among the graders running now, so ``RLIMIT_NPROC`` counts this sandbox's processes
    alone. ``None`` when not root (the user's own uid is counted, see :func:`nproc_limit`)
    or without ``setpriv`` (util-linux)."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    return SANDBOX_UID_BASE + os.getpid()


def unprivileged_prefix(uid: int) -> list[str]:
    """``setpriv`` arguments that run the command after them as ``uid`` (and gid ``uid``),
    with no supplementary groups and no capabilities (bounding set included)."""
    return [shutil.which("setpriv") or "setpriv", "--reuid", str(uid), "--regid", str(uid),
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]


def as_uid(bwrap_args: list[str], uid: int | None, first: list[str] = ()) -> list[str]:
    """A bwrap command (:func:`~grading.instructor.checking.isolation.bwrap_command`) whose
    command runs as ``uid`` (unchanged for ``None``): bwrap, as root, mounts what it must and keeps
    ``SETUID_CAPS`` for :func:`unprivileged_prefix`, which then drops every capability; bwrap's
    ``no_new_privs`` keeps set-uid programs from regaining any. The kernel sandbox can use it
    the same way: ``as_uid(bwrap_command(...), sandbox_uid())``.

    What the command reads must be readable by others (bwrap's own mount points are); the
    folders it writes must be given to ``uid`` first (:func:`hand_over`). ``first`` runs
    before the drop, as the sandbox's root (it must exec the rest of its arguments)."""
    split = bwrap_args.index("--")
    if uid is None:
        return [*bwrap_args[:split + 1], *first, *bwrap_args[split + 1:]]
    caps = [arg for cap in SETUID_CAPS for arg in ("--cap-add", cap)]
    return [*_open_parents(bwrap_args[:split]), *caps, "--", *first, *unprivileged_prefix(uid),
            *bwrap_args[split + 1:]]


_BINDS = ("--bind", "--ro-bind", "--bind-try", "--ro-bind-try", "--dev-bind", "--dev-bind-try")


def _open_parents(options: list[str]) -> list[str]:
    """bwrap ``options`` where the folders above each bind's target are made ``0755`` first:
    bwrap makes missing ones ``0700``, which only its own uid could cross (an existing folder
    keeps its mode)."""
    out, pending, made, index = [], [], set(), 0
    while index < len(options):
        flag = options[index]
        if flag in ("--perms", "--size"):  # modifiers of the next operation
            pending, index = pending + options[index:index + 2], index + 2
            continue
        if flag in _BINDS:
            for parent in reversed(PurePosixPath(options[index + 2]).parents[:-1]):
                if str(parent) not in made:
                    made.add(str(parent))
                    out += ["--perms", "0755", "--dir", str(parent)]
            out += [*pending, *options[index:index + 3]]
            pending, index = [], index + 3
            continue
        out += [*pending, flag]
        pending, index = [], index + 1
    return out + pending


def kernel_uid(folder: Path) -> int | None:
    """The uid a graded kernel runs as (root only, as :func:`sandbox_uid`): one of its own per
    submission folder, above every check server's, so that ``RLIMIT_NPROC`` counts this
    kernel's tasks alone even with ``--jobs N``."""
    if sandbox_uid() is None:
        return None
    digest = int.from_bytes(hashlib.sha256(str(folder).encode()).digest()[:4], "big")
    return SANDBOX_UID_BASE + (1 << 22) + digest % (1 << 22)


def hand_over(uid: int | None, *paths: Path) -> None:
    """Make ``paths`` (not their contents) belong to ``uid``; nothing for ``None``."""
    for path in paths if uid is not None else ():
        os.chown(path, uid, uid)


def nproc_limit(extra: int) -> int | None:
    """An ``RLIMIT_NPROC`` that lets this uid start ``extra`` more tasks (threads count), or
    ``None`` where no sane one exists.

    The kernel counts a real uid's tasks, per user namespace since Linux 5.14: for a fresh
    :func:`sandbox_uid`, or inside bwrap's own user namespace (a normal instructor), the tasks
    that ``/proc`` shows are the ones counted. Root is exempt: ``extra`` alone, meant for the
    uid that :func:`as_uid` drops to. ``None`` for a normal user outside a user namespace (no
    sandbox: every process of the user counts, and their number changes) or on an older
    kernel: no process cap there, only the wall-clock limits."""
    uid = os.getuid()
    if uid == 0:
        return extra
    if uid >= SANDBOX_UID_BASE or (_in_user_namespace() and _kernel() >= (5, 14)):
        return _tasks_of(uid) + extra
    return None


def _in_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map") as handle:
            return handle.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return False


def _kernel() -> tuple[int, int]:
    found = re.match(r"(\d+)\.(\d+)", os.uname().release) if hasattr(os, "uname") else None
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _tasks_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{entry.name}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except (OSError, ValueError):
            continue
        if int(fields.get("Uid", "-1").split()[0]) == uid:
            count += int(fields.get("Threads", "1"))
    return count


def limited_command(command: list[str], as_mib: int, fsize_mib: int, cpu: float | None = None,
                    nproc: int | None = None) -> list[str]:
    """``command`` run under this module's limits wrapper (``cpu``: seconds per process,
    ``nproc``: tasks beyond the uid's own, :func:`nproc_limit`)."""
    extra = ["--cpu", str(int(cpu))] if cpu else []
    extra += ["--nproc", str(nproc)] if nproc else []
    return [sys.executable, "-m", __name__, "--as-mib", str(as_mib), "--fsize-mib",
            str(fsize_mib), *extra, "--", *command]


def hard_limits(as_mib: int | None, fsize_mib: int | None, cpu: float | None = None,
                nproc: int | None = None) -> dict[int, int]:
    """The ``resource`` limits of the wrapper (``None``: that limit left as it is; no core
    files ever)."""
    limits = {resource.RLIMIT_AS: as_mib and as_mib << 20,
              resource.RLIMIT_CPU: cpu and int(cpu),
              resource.RLIMIT_FSIZE: fsize_mib and fsize_mib << 20,
              resource.RLIMIT_NPROC: nproc and nproc_limit(nproc),
              resource.RLIMIT_CORE: 0}
    return {kind: value for kind, value in limits.items() if value is not None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a command under hard resource limits.")
    parser.add_argument("--as-mib", type=int, help="address space per process (MiB)")
    parser.add_argument("--cpu", type=int, help="CPU seconds per process")
    parser.add_argument("--fsize-mib", type=int, help="largest file a process may write (MiB)")
    parser.add_argument("--nproc", type=int, help="tasks the uid may start (see nproc_limit)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    set_limits(hard_limits(args.as_mib, args.fsize_mib, args.cpu, args.nproc), hard=True)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
