"""Bubblewrap (``bwrap``) sandboxes for the two places student code runs: the graded kernel
(with ``nbgrader autograde`` around it) and the check server's sandbox zygote.

Inside a sandbox: no network (``--unshare-net``: only a loopback of its own), its own process
tree (``--unshare-pid``: killing the sandbox kills everything started in it), a private
``/tmp`` and ``$HOME``, no capabilities, and a read-only file system built from nothing:

* the system (``/usr``, its ``/lib*`` and ``/bin`` links, the few ``/etc`` files a program
  loads), the Python installation and the virtual environment, read-only;
* the engine ``gcl4sr_helpers`` and, of ``grading/``, exactly ``__init__.py`` and
  ``kernel/`` (what the hidden test cells import), read-only;
* what the caller adds: the folders its process writes and the ones it only reads.

Nothing else exists there: not the repository (a ``.venv`` inside it is mounted alone), not
``grading/instructor`` (the reference, the battery, the check server), ``solutions/``, the
gradebook, other students' folders or the instructor's home.

Modes (``--sandbox`` of the class command; ``$GCL4SR_SANDBOX`` for the check server):
``auto`` (bwrap where it works, else none with a warning), ``bwrap`` (required), ``none``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import grading

from ..common.records import Result

MODES = ("auto", "bwrap", "none")
MODE_ENV = "GCL4SR_SANDBOX"
NOT_SANDBOXED = "NOT SANDBOXED"
HOME = "/tmp"
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf",
             "hosts", "localtime", "ssl", "fonts")  # fonts: else a Fontconfig error in feedback
NAMESPACES = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
              "--cap-drop", "ALL"]


@cache
def problem() -> str | None:
    """Why bwrap cannot sandbox here (not installed, no user namespaces), or ``None``."""
    path = shutil.which("bwrap")
    if not path:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        done = subprocess.run([path, *NAMESPACES, *_system(), "true"], capture_output=True,
                              timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap does not start: {error}"
    if done.returncode:
        message = " ".join(done.stderr.decode(errors="replace").split())[:200]
        return f"bwrap does not work here ({message or f'exit {done.returncode}'})"
    return None


def use_bwrap(mode: str) -> bool:
    """Whether to sandbox with bwrap in ``mode``; ``bwrap`` mode raises where it cannot."""
    if mode not in MODES:
        raise ValueError(f"sandbox mode {mode!r} is not one of {', '.join(MODES)}")
    if mode == "none":
        return False
    if problem() and mode == "bwrap":
        raise RuntimeError(f"--sandbox bwrap: {problem()}")
    return problem() is None


def warning(mode: str) -> str | None:
    """The loud warning for a class graded without a sandbox, or ``None``."""
    if use_bwrap(mode):
        return None
    why = "--sandbox none" if mode == "none" else problem()
    return (f"{NOT_SANDBOXED} ({why}): student code could read instructor files and use the "
            "network while it was graded")


TMPFS_BYTES = 256 << 20  # each in-memory folder of a sandbox: /tmp, /dev/shm


@cache
def _sized_tmpfs() -> bool:
    """Whether bwrap takes ``--size`` and ``--perms`` for a tmpfs (bubblewrap 0.8+)."""
    try:
        done = subprocess.run([shutil.which("bwrap") or "bwrap", "--help"], capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in done.stdout + done.stderr


def _system() -> list[str]:
    """The system, ``/proc``, ``/dev`` and the in-memory folders: ``TMPFS_BYTES`` each and
    writable by every uid (the check sandbox may drop to one, :func:`zygote_command`) where
    bwrap can size them; ``/dev/shm`` is then a sized one too (it is ``/dev``'s otherwise)."""
    args = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    if not _sized_tmpfs():
        return args + ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    sized = ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs"]
    return args + ["--proc", "/proc", "--dev", "/dev", *sized, "/tmp", *sized, "/dev/shm"]


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def kit_paths() -> list[Path]:
    """What every sandbox reads: Python, the environment, the engine, the kernel side."""
    grading_dir = Path(grading.__file__).resolve().parent
    pythons = {Path(sys.base_prefix).resolve(), Path(sys.prefix).absolute(),
               Path(sys.executable).resolve().parents[1]}
    return sorted(pythons) + [_package_dir("gcl4sr_helpers"), grading_dir / "__init__.py",
                              grading_dir / "kernel"]


def bwrap_command(command: list[str], write: list[Path], read: list[Path] = (),
                  die_with_parent: bool = True, mounts: dict[Path, Path] | None = None,
                  env: dict[str, str] | None = None, chdir: Path | None = None) -> list[str]:
    """``command`` in a sandbox that also sees ``write`` (read-write) and ``read``, and each
    folder of ``mounts`` (read-write) at another place (``{place: folder}``). With ``env`` the
    command gets exactly that environment (and ``HOME``); without it, the caller's."""
    binds = [("--ro-bind", Path(p), Path(p)) for p in [*kit_paths(), *read]]
    binds += [("--bind", Path(p), Path(p)) for p in write]
    binds += [("--bind", Path(source), Path(place)) for place, source in (mounts or {}).items()]
    binds.sort(key=lambda bind: len(bind[2].parts))  # parents before what is inside them
    args = [shutil.which("bwrap") or "bwrap", *NAMESPACES, *_system()]
    for flag, source, place in binds:
        args += [flag, str(source), str(place)]
    args += ["--remount-ro", "/"]
    if env is not None:
        args.append("--clearenv")
        for key, value in env.items():
            args += ["--setenv", key, value]
    args += ["--setenv", "HOME", HOME]
    if chdir is not None:
        args += ["--chdir", str(chdir)]
    if die_with_parent:
        args.append("--die-with-parent")
    return [*args, "--", *command]


KERNEL_NAME = "gcl4sr-graded"
"""The only kernel a graded notebook runs in (``Execute.kernel_name``): the notebook's own
kernel metadata cannot pick another one."""


def write_kernel_spec(jupyter_dir: Path, argv: list[str], provisioner: dict) -> None:
    """A Jupyter kernel spec ``KERNEL_NAME`` under ``jupyter_dir`` (put it on ``JUPYTER_PATH``)
    that starts ``argv`` (``{connection_file}`` stands for the connection file) through the
    kernel provisioner ``provisioner`` (its ``kernel_provisioner`` stanza). A cell out of time
    is interrupted by a message, which ipykernel turns into a SIGINT to itself: a SIGINT to
    the sandbox's process group ended bwrap, and the kernel with it."""
    folder = jupyter_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps(
        {"argv": argv, "display_name": "GCL4SR (graded)", "language": "python",
         "interrupt_mode": "message", "metadata": {"kernel_provisioner": provisioner}}))


def zygote_command(command: list[str], workdir: Path, uid: int | None = None) -> list[str]:
    """The check server's zygote command, sandboxed unless ``$GCL4SR_SANDBOX`` says otherwise:
    besides the kit it sees its own code (``sandbox.py``, ``cases.py``, the process utilities
    it imports and their packages' ``__init__.py``) and the server's exchange folder
    ``workdir`` (inputs, bundles, outputs); it runs as ``uid`` when one is given
    (:func:`~grading.instructor.common.procs.as_uid`).

    The sandbox dies with the server (``--die-with-parent``: the server starts every zygote
    from one lasting thread, as that flag follows the thread) and has its own PID namespace,
    which the zygote is told (``--own-pid-namespace``): after each check it kills every
    process in it but itself and bwrap's init
    (:func:`~grading.instructor.checking.sandbox.zygote_main`), and killing bwrap ends them
    all."""
    from ..common.procs import as_uid

    if not use_bwrap(os.environ.get(MODE_ENV, "auto")):
        return command
    here = Path(__file__).resolve().parent
    instructor, common = here.parent, here.parent / "common"
    code = [instructor / "__init__.py", here / "__init__.py", here / "sandbox.py",
            here / "cases.py", common / "__init__.py", common / "procs.py"]
    return as_uid(bwrap_command([*command, "--own-pid-namespace"], [workdir], code), uid)


def unsandboxed(results: list[Result]) -> str | None:
    """The class summary's banner when some submissions were graded without a sandbox."""
    students = [r.student for r in results if any(x.startswith(NOT_SANDBOXED) for x in r.reasons)]
    if not students:
        return None
    line = "!" * 78
    return (f"{line}\n!! WARNING: {len(students)} of {len(results)} submissions were graded "
            f"WITHOUT A SANDBOX ({', '.join(students[:5])}{', ...' if len(students) > 5 else ''})"
            f"\n!! student code could read instructor files and use the network; see grades.csv"
            f"\n{line}")
