"""Untrusted side of the hidden checks: run a student's function on hidden inputs.

Nothing in this module knows an expected value or imports the reference answers; the
trusted check server (:mod:`grading.instructor.checking.check_server`) calls the same
:func:`~grading.instructor.checking.cases.run_cases` with the reference functions, so student and
reference outputs are produced by one code path.

Student code runs in a child process forked from a *zygote*: a fresh ``python -I``
process that has imported torch, PyG and the engine (so a check costs a fork, not a
3-second import) and nothing else. The child

* starts its own session (so the whole process group can be killed),
* sends stdin to ``/dev/null`` and stdout/stderr to a log file,
* runs under hard ``RLIMIT_AS`` (memory), ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` and, where the
  kernel counts the sandbox's tasks alone, ``RLIMIT_NPROC`` (``CHECK_TASKS`` more: a fork
  bomb stays small; see :func:`grading.instructor.common.procs.nproc_limit`; the sandbox runs as
  an unprivileged uid when the server is root, :func:`~grading.instructor.common.procs.
  sandbox_uid`), and a per-case alarm; the zygote kills its process group at the
  wall-clock limit and, when the check ends, every process it started (:func:`end_check`),
* works in an empty temporary folder and cannot import the ``grading`` package,
* runs, like the zygote, in a bubblewrap sandbox (:func:`grading.instructor.checking.isolation.
  zygote_command`): no network, and of the server's files only its exchange folder,
* writes its outputs (plain tensors and numbers) to a file that the server reads with
  ``torch.load(weights_only=True)``.

Zygote protocol (``python -I sandbox.py zygote [--own-pid-namespace]``): one JSON request
per stdin line ``{"id", "check", "bundle", "inputs", "outputs", "log", "workdir", "wall",
"case_wall", "mem"}``; one JSON reply per stdout line ``{"id", "status", "detail",
"seconds"}`` where status is ``ok``, ``timeout``, ``signal`` or ``exit``.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

if __name__ == "__main__":  # run as a script under -I: make the grading package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

import torch  # noqa: E402

from gcl4sr_helpers.files import atomic_file  # noqa: E402
from grading.instructor.checking.cases import describe, run_cases  # noqa: E402
from grading.instructor.common.procs import kill_group, nproc_limit, tree  # noqa: E402
from grading.kernel.limits import set_limits  # noqa: E402

CHECK_TASKS = 48  # processes and threads a check may start (RLIMIT_NPROC above its own)
FSIZE_BYTES = 256 << 20  # largest file a check may write
OWN_PID_NAMESPACE = "--own-pid-namespace"  # the zygote's bwrap gave it a PID namespace


# --------------------------------------------------------------------------- bundles
def load_function(bundle_path: str) -> Callable:
    """Rebuild the student's function from a bundle of :func:`grading.kernel.bundle.make_bundle`.

    The names are defined in a fresh ``__main__`` module: imports first (fresh from disk),
    literals, pickled values, then the notebook sources (helpers before the entry point).
    """
    with open(bundle_path, "rb") as handle:
        bundle = pickle.load(handle)  # noqa: S301 - untrusted, but so is everything here
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    for name, module_name, attribute in bundle["imports"]:
        try:
            value = importlib.import_module(module_name)
            for part in attribute.split(".") if attribute else ():
                value = getattr(value, part)
        except Exception:  # noqa: BLE001 - a missing name fails only if it is used
            continue
        namespace[name] = value
    for name, text in bundle["literals"].items():
        namespace[name] = ast.literal_eval(text)
    pending = dict(bundle["pickles"])
    for name, blob in list(pending.items()):
        try:
            namespace[name] = pickle.loads(blob)  # noqa: S301
            del pending[name]
        except Exception:  # noqa: BLE001 - may need a class defined by the sources below
            pass
    for index, source in enumerate(bundle["sources"]):
        exec(compile(source, f"<notebook source {index}>", "exec"), namespace)  # noqa: S102
    for name, blob in pending.items():
        try:
            namespace[name] = pickle.loads(blob)  # noqa: S301
        except Exception:  # noqa: BLE001
            pass
    return namespace[bundle["entry"]]


# --------------------------------------------------------------------------- child
class _NoGrading:
    """Import hook: the instructor's ``grading`` package is not importable from student code."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "grading" or name.startswith("grading."):
            raise ImportError(f"{name} is not available to student code")
        return None


def _limit(mem_bytes: int, cpu_seconds: float) -> None:
    import resource

    limits = {resource.RLIMIT_CPU: int(cpu_seconds) + 1,
              resource.RLIMIT_FSIZE: FSIZE_BYTES,
              resource.RLIMIT_CORE: 0}
    tasks = nproc_limit(CHECK_TASKS)
    if tasks is not None:
        limits[resource.RLIMIT_NPROC] = tasks
    if os.path.exists("/proc/self/status"):  # address space: what is mapped now + the budget
        with open("/proc/self/status") as handle:
            current = next((int(line.split()[1]) * 1024 for line in handle
                            if line.startswith("VmSize:")), 0)
        limits[resource.RLIMIT_AS] = current + mem_bytes
    set_limits(limits, hard=True)


def child_main(request: dict) -> None:
    """Run one check on the student's bundle; never returns (``os._exit``)."""
    try:
        try:
            os.setsid()
        except OSError:  # already a session leader (spawned with start_new_session)
            pass
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.chdir(request["workdir"])
        here = Path(__file__).resolve().parent  # sys.path[0] of the script: the instructor side
        sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "grading").is_dir()
                       and Path(p or ".").resolve() != here]
        sys.meta_path.insert(0, _NoGrading())
        for name in [m for m in sys.modules if m == "grading" or m.startswith("grading.")]:
            del sys.modules[name]
        torch.set_num_threads(1)
        inputs = torch.load(request["inputs"], weights_only=False)
        outputs_path = request["outputs"]

        def save(outputs: dict) -> None:
            with atomic_file(outputs_path, "wb") as handle:
                torch.save(outputs, handle)

        if os.name == "posix":
            _limit(int(request["mem"]), float(request["wall"]))
        try:
            fn = load_function(request["bundle"])
        except BaseException as error:  # noqa: BLE001
            save({"__bundle__": {"ok": False, "error": describe(error)}})
            os._exit(0)
        run_cases(request["check"], fn, inputs, request.get("case_wall"), save)
    except BaseException as error:  # noqa: BLE001
        try:
            print(f"sandbox child failed: {describe(error)}", file=sys.stderr, flush=True)
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(0)


def _wait(pid: int, wall: float) -> tuple[str, str]:
    deadline = time.monotonic() + wall
    status = None
    while status is None:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
        elif time.monotonic() > deadline:
            kill_group(pid)
            os.waitpid(pid, 0)
            return "timeout", f"{wall:g} s"
        else:
            time.sleep(0.005)
    kill_group(pid)  # leftovers the student's code may have started
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "signal", signal.Signals(sig).name if sig in signal.Signals._value2member_map_ \
            else str(sig)
    code = os.WEXITSTATUS(status)
    return ("ok", "") if code == 0 else ("exit", f"exit status {code}")


def _guard_zygote() -> None:
    """Orphans of a check (a double-forked daemon) become the zygote's children, not init's
    (a child subreaper); the checks cannot take the zygote over (not dumpable: no ptrace, no
    ``/proc/<pid>/fd`` for them) nor fork through it past a hard process cap of its own."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
        prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass
    tasks = nproc_limit(CHECK_TASKS + 16) if os.name == "posix" else None
    if tasks is not None:
        import resource

        set_limits({resource.RLIMIT_NPROC: tasks}, hard=True)


def _reap(wait: float) -> None:
    """Reap ended children; wait up to ``wait`` seconds for the others to end."""
    deadline = time.monotonic() + wait
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0 and time.monotonic() > deadline:
            return
        if pid == 0:
            time.sleep(0.005)


def end_check(own_pid_namespace: bool) -> None:
    """Kill every process the check started, a setsid() daemon included, and reap them.

    In its own PID namespace the zygote kills all but itself and bwrap's init at once
    (``kill(-1)``, which a fork cannot escape); elsewhere it kills its descendants, which
    orphans stay, as the zygote is a child subreaper."""
    if own_pid_namespace:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:  # nothing left to kill
            pass
        _reap(5.0)
        return
    for _ in range(50 if os.path.isdir("/proc") else 0):
        _reap(0.0)
        others = set(tree(os.getpid())) - {os.getpid()}
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


def zygote_main(own_pid_namespace: bool = False) -> None:
    """Serve requests from stdin, one child per request (fork where available); after each,
    :func:`end_check`. ``own_pid_namespace``: bwrap gave the zygote a PID namespace (then its
    pid is 2, bwrap's init being 1; anything else is taken as no namespace)."""
    import torch_geometric.data  # noqa: F401 - warm imports shared by every child

    import gcl4sr_helpers.data  # noqa: F401
    import gcl4sr_helpers.model  # noqa: F401

    own_pid_namespace = own_pid_namespace and os.getpid() <= 2
    _guard_zygote()
    use_fork = hasattr(os, "fork") and sys.platform.startswith("linux")
    out = sys.stdout
    print(json.dumps({"ready": True, "pid": os.getpid(), "fork": use_fork}), file=out,
          flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        start = time.monotonic()
        if use_fork:
            pid = os.fork()
            if pid == 0:
                child_main(request)
            status, detail = _wait(pid, float(request["wall"]))
        else:
            proc = subprocess.Popen([sys.executable, "-I", __file__, "child", json.dumps(request)],
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=float(request["wall"]))
                status, detail = ("ok", "") if code == 0 else ("exit", f"exit status {code}")
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                proc.wait()
                status, detail = "timeout", f"{request['wall']:g} s"
        end_check(own_pid_namespace)
        print(json.dumps({"id": request["id"], "status": status, "detail": detail,
                          "seconds": round(time.monotonic() - start, 3)}), file=out, flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["zygote"]:
        zygote_main(OWN_PID_NAMESPACE in sys.argv[2:])
    elif sys.argv[1:2] == ["child"]:
        child_main(json.loads(sys.argv[2]))
    else:
        sys.exit(f"usage: python -I sandbox.py zygote [{OWN_PID_NAMESPACE}]")
