"""The graded kernel: its environment, its bubblewrap sandbox, its kernel spec, and its start
before its turn.

A sandboxed kernel is started by the grader itself, before ``nbgrader autograde`` (while the
submission before it is graded): in its own sandbox it imports what the release notebook
imports (``Course.imports``) and ipykernel, then waits (:mod:`grading.kernel.prestart`);
nbgrader's kernel manager hands it its connection instead of launching a kernel
(:mod:`.provisioner`). It is the submission's kernel from its first instruction: the same
sandbox, uid, environment, working folder and limits as a kernel nbgrader starts, its CPU
time counted in the submission's (the imports included), killed with the submission's
processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from grading.kernel import launch, prestart
from grading.kernel.client import SOCKET_ENV

from ..checking.isolation import KERNEL_NAME, bwrap_command, write_kernel_spec
from ..common.options import Options
from ..common.procs import (
    as_uid,
    command_env,
    hand_over,
    kill_tree,
    limited_command,
    nproc_limit,
    renice,
)
from .course import REPO, Course
from .provisioner import NAME, REGISTER

KERNEL_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
"""What a graded kernel keeps of the grader's environment (besides ``OPENBLAS_*``, which
some CPUs need for correct results): the rest is set by :func:`kernel_env`."""

KERNEL_TASKS = 256
"""Processes and threads a graded kernel may start beyond its sandbox's first ones (measured:
the kernel held 13 at the end of a quick-mode run; a fork bomb then got 245 more)."""

KERNEL_MODULES = ("ipykernel.kernelapp",)
"""What a kernel imports before its turn besides the notebook's imports (``Course.imports``:
for GCL4SR torch, PyG, the engine and through it matplotlib's pyplot: 2.8 CPU-s on the
project's machine)."""

CPU_BACKSTOP_S = 60  # RLIMIT_CPU per process above the tree's CPU limit (where no /proc)


def kernel_env(options: Options, sock: Path, exchange: Path) -> dict[str, str]:
    """The environment of ``nbgrader autograde`` and its kernel, from an allowlist: the
    cores' share (``options.threads``), the check server's socket, the data folder.

    OpenMP threads sleep at once (``PASSIVE``, spin count 0 whatever the engine's import set
    here): a spinning thread's wait is CPU time, and the work limit counts CPU time, so
    spinning beside other jobs would make the limit depend on the machine's load."""
    from gcl4sr_helpers.download import ENV_VAR as DATA_ENV
    from gcl4sr_helpers.runtime import THREADS_ENV

    env = command_env({key: value for key, value in os.environ.items()
                       if key in KERNEL_ENV or key.startswith("OPENBLAS_")})
    threads = str(options.threads)
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
               OMP_WAIT_POLICY="PASSIVE", GOMP_SPINCOUNT="0", MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(exchange),
               **{THREADS_ENV: threads, SOCKET_ENV: str(sock)})
    if options.data:
        env[DATA_ENV] = str(Path(options.data).resolve())
    return env


class Prestarted:
    """A kernel started before its turn: its sandbox's process (the leader of its process
    group), a child of this process until :meth:`close` kills and reaps it (never before:
    nbgrader's kernel manager watches and signals it by its pid)."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path, options: Options,
                 nice: int) -> None:
        limited = limited_command(argv, options.mem_mib, options.fsize_mib,
                                  cpu=options.cpu + CPU_BACKSTOP_S)
        with open(log, "ab") as handle:
            self._proc = subprocess.Popen(limited, env=env, stdin=subprocess.DEVNULL,
                                          stdout=handle, stderr=subprocess.STDOUT,
                                          start_new_session=True)
        self.pid = self._proc.pid
        if nice:  # here, before anything can promote it
            renice(self.pid, nice)

    def close(self) -> None:
        """Kill the kernel and everything it started; reap it."""
        kill_tree(self.pid)
        self._proc.wait()


def sandboxed_kernel(folder: Path, submitted: Path, course: Course, options: Options,
                     sock: Path, env: dict[str, str], uid: int | None, log: Path,
                     nice: int) -> tuple[str, dict[str, str], Prestarted]:
    """Run only the kernel in bubblewrap, ``nbgrader autograde`` outside it: the nbgrader
    config lines and the environment of nbgrader that make it use the kernel started here.

    The kernel sees the kit, the data (read-only), the check server's socket folder, its
    exchange folder (``TMPDIR``) and, as its working folder, a private copy of the
    submission's folder: never the course copy (the source notebook with the answers, the
    gradebook, the release), which only nbgrader reads and writes. It talks to nbgrader over
    Unix sockets in a folder of its own (``ipc`` transport: it has no network) and gets exactly
    ``env`` (plus ``NBGRADER_EXECUTION``) as its environment. When the grader is root it runs
    as ``uid`` (:func:`~grading.instructor.common.procs.kernel_uid`), under a hard process cap of
    ``KERNEL_TASKS`` (:mod:`grading.kernel.launch`). The kernel is started here, ``nice``, its
    output to ``log``; the kernel spec's command starts the same kernel the usual way, should
    this one be gone before nbgrader's turn."""
    workdir = folder / "course" / "autograded" / submitted.parent.name / course.assignment
    scratch, ipc, runtime = folder / "scratch", folder / "ipc", folder / "runtime"
    shutil.copytree(submitted, scratch)
    ipc.mkdir()
    runtime.mkdir()
    handoff = ipc / "handoff"
    os.mkfifo(handoff, 0o600)
    exchange = Path(env["TMPDIR"])
    hand_over(uid, scratch, ipc, exchange, handoff)
    data = [Path(options.data).resolve()] if options.data else []
    cap = KERNEL_TASKS if nproc_limit(KERNEL_TASKS) is not None else 0

    def sandboxed(kernel: list[str], connection: str) -> list[str]:
        argv = bwrap_command(kernel, [ipc, exchange], [sock.parent, runtime, *data],
                             mounts={workdir: scratch}, chdir=workdir,
                             env={**env, "NBGRADER_EXECUTION": "autograde"})
        return as_uid(argv, uid, [sys.executable, "-I", launch.__file__, connection, str(cap)])

    kernel = Prestarted(sandboxed([sys.executable, "-m", prestart.__name__, str(handoff),
                                   *course.imports, *KERNEL_MODULES], launch.LATER),
                        env, log, options, nice)
    write_kernel_spec(folder / "jupyter", sandboxed(
        [sys.executable, "-m", "ipykernel_launcher", "-f", launch.COPY], "{connection_file}"),
        {"provisioner_name": NAME, "config": {"handoff": str(handoff), "leader": kernel.pid}})
    config = (f"c.Execute.kernel_name = {KERNEL_NAME!r}\n"
              "c.KernelManager.transport = 'ipc'\n"
              f"c.KernelManager.ip = {str(ipc / 'k')!r}\n" + REGISTER)
    return config, {**env, "JUPYTER_PATH": str(folder / "jupyter"),
                    "JUPYTER_RUNTIME_DIR": str(runtime)}, kernel
