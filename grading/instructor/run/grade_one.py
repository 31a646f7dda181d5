"""Grade one submission in a private copy of the course, under limits, with its own check
server; never raises (see the steps in :mod:`grading.grade_class`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import nbformat

from grading.kernel import launch
from grading.kernel.client import SOCKET_ENV

from ..checking.isolation import KERNEL_NAME, bwrap_command, use_bwrap, warning, write_kernel_spec
from ..common.options import Options
from ..common.procs import (
    as_uid,
    command_env,
    hand_over,
    kernel_uid,
    nproc_limit,
    run_logged,
)
from ..common.records import Result, Status, grade_id
from .course import REPO, Course, config_text
from .discover import Submission
from .server_process import start_server, stop_server
from .verify import annotate_claims, cell_reasons, trusted_scores
from .warm import nbgrader_command

MAX_NOTEBOOK_BYTES = 64 << 20
CPU_BACKSTOP_S = 60  # RLIMIT_CPU per process above the tree's CPU limit (where no /proc)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The submission as a v4 notebook; raises ``ValueError`` with a reason if it is not one."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"file larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - any failure means "not a notebook"
        message = " ".join(str(error).split())[:160]
        raise ValueError(f"{type(error).__name__}: {message}") from None
    return nb


def release_differences(nb: nbformat.NotebookNode, course: Course) -> str | None:
    """Why ``nb`` is not a copy of this release, or ``None``: locked cells whose text differs
    (edited, or an older release) and nbgrader cells this release does not have. nbgrader
    grades it with this release's locked cells all the same."""
    def locked(cells) -> dict[str, str]:
        return {grade_id(c): c.source for c in cells
                if grade_id(c) and c.metadata["nbgrader"].get("locked")}

    release, submitted = locked(course.release_nb.cells), locked(nb.cells)
    known = {grade_id(c) for c in course.release_nb.cells}
    edited = [g for g in release if g in submitted and submitted[g] != release[g]]
    unknown = [grade_id(c) for c in nb.cells if grade_id(c) and grade_id(c) not in known]
    found = ([f"locked cells changed: {', '.join(edited)}"] if edited else []) + \
        ([f"cells this release does not have: {', '.join(unknown)}"] if unknown else [])
    if not found:
        return None
    return (f"notebook of another release or with edited locked cells ({'; '.join(found)}): "
            "graded with this release's locked cells; hand out the current edition")


def forget_foreign_cells(nb: nbformat.NotebookNode, course: Course) -> None:
    """Make the nbgrader cells this release does not have plain cells: nbgrader's autograde
    fails on them (``KeyError: 'grade_id'`` in ``add_missing_task_cells``, nbgrader 0.9.6)."""
    known = {grade_id(c) for c in course.release_nb.cells}
    for cell in nb.cells:
        if grade_id(cell) and grade_id(cell) not in known:
            del cell.metadata["nbgrader"]


def restore_missing_cells(nb: nbformat.NotebookNode, course: Course) -> list[str]:
    """Put back grade cells the student deleted (release version; nbgrader then restores
    the hidden source), each after the nearest earlier nbgrader cell still present."""
    present = {grade_id(c) for c in nb.cells if grade_id(c)}
    order = [grade_id(c) for c in course.release_nb.cells if grade_id(c)]
    by_id = {grade_id(c): c for c in course.release_nb.cells if grade_id(c)}
    notes = []
    for index, cell_id in enumerate(order):
        if cell_id in present or cell_id not in course.parts:
            continue
        position = 0
        for earlier in reversed(order[:index]):
            if earlier in present:
                position = next(i for i, c in enumerate(nb.cells) if grade_id(c) == earlier) + 1
                break
        restored = nbformat.from_dict(json.loads(json.dumps(by_id[cell_id])))
        nb.cells.insert(position, restored)
        present.add(cell_id)
        notes.append(f"test cell {cell_id} was missing and has been restored")
    return notes


def grade_one(sub: Submission, course: Course, work: Path, options: Options,
              last_try: bool = True) -> Result:
    """Grade one submission in a private course; never raises.

    A folder changed from outside during grading (a sentinel file or the course config
    gone) gives status ``grader error`` unless ``last_try``: the caller grades it again.
    """
    start = time.monotonic()
    result = Result(sub.student, reasons=list(sub.notes))
    result.reasons += [w for w in [warning(options.sandbox)] if w]
    folder = Path(tempfile.mkdtemp(prefix=f"{sub.student}-", dir=work))
    log = folder / "grading.log"
    sentinel, token = folder / ".sentinel", os.urandom(16).hex()
    sentinel.write_text(token)
    try:
        _grade_in(sub, course, folder, log, options, result)
    except Exception:  # noqa: BLE001 - an infrastructure failure must not stop the class
        result.status = Status.GRADER_ERROR
        result.reasons.append("the grader failed: " + traceback.format_exc(limit=3)
                              .strip().splitlines()[-1])
    damaged = not (sentinel.is_file() and sentinel.read_text() == token
                   and (folder / "course" / "nbgrader_config.py").is_file()) \
        and result.submitted is not None
    if damaged:
        result.status = Status.FAILED if last_try else Status.GRADER_ERROR
        result.reasons.append("grading files around the notebook were deleted or changed "
                              "during grading")
    if result.status == Status.GRADER_ERROR:  # graded again: nothing of this run counts
        result.scores = {}
    result.scores = {part: result.scores.get(part, 0.0) for part in course.parts}
    if result.status == Status.GRADED and result.other_release:
        result.status = Status.OTHER_RELEASE
    result.seconds = time.monotonic() - start
    try:
        result.log = log.read_text(errors="replace")[-200_000:]
    except OSError:
        result.log = "(log lost: the grading folder was deleted)"
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _grade_in(sub: Submission, course: Course, folder: Path, log: Path, options: Options,
              result: Result) -> None:
    log.touch()
    if sub.problem:
        result.status = Status.NO_NOTEBOOK
        result.reasons.append(sub.problem)
        return
    try:
        nb = read_notebook(sub.path)
    except ValueError as error:
        result.status = Status.INVALID
        result.reasons.append(f"{sub.path.name} is not a valid notebook ({error})")
        return
    difference = release_differences(nb, course)
    if difference:
        result.other_release = True
        result.reasons.append(difference)
        forget_foreign_cells(nb, course)
    result.reasons += restore_missing_cells(nb, course)
    result.submitted = nb

    since = time.monotonic()
    root = folder / "course"
    target = _private_course(sub, course, nb, root)
    exchange = folder / "exchange"  # the kernel's TMPDIR: bundles for the check server
    exchange.mkdir()
    sandboxed = use_bwrap(options.sandbox)
    uid = kernel_uid(folder) if sandboxed else None
    server, sock = start_server(folder, exchange, options, log, uid)  # starts while nbgrader does
    env, config = kernel_env(options, sock, exchange), config_text(root, options.cell_timeout)
    config += FAST_SHUTDOWN
    if sandboxed:
        kernel_config, env = sandboxed_kernel(folder, target, course, options, sock, env, uid)
        config += kernel_config
    (root / "nbgrader_config.py").write_text(config)
    command, start_with = nbgrader_command(
        ["autograde", course.assignment, "--student", sub.student, "--force"],
        options.mem_mib, options.fsize_mib, options.cpu + CPU_BACKSTOP_S)
    since = result.lap("prepare", since)
    try:
        run = run_logged(command, root, log, options.timeout, env, cpu_limit=options.cpu,
                         start_with=start_with)
    finally:
        since = result.lap("nbgrader", since)
        result.records = stop_server(server)
        since = result.lap("server stop", since)
    trusted_scores(result, result.records, course)
    autograded = root / "autograded" / sub.student / course.assignment / f"{course.notebook}.ipynb"
    if run.stopped or run.code != 0 or not autograded.is_file():
        _fault(result, run, log.read_text(errors="replace"), options)
        return
    result.autograded = nbformat.read(autograded, as_version=4)
    annotate_claims(result, _gradebook_scores(root, course, sub.student), course)
    result.reasons += cell_reasons(result.autograded, course)
    result.lap("scores", since)


def _private_course(sub: Submission, course: Course, nb: nbformat.NotebookNode,
                    root: Path) -> Path:
    """A copy of the course template at ``root`` with ``nb`` as the student's submission;
    returns the submission's folder."""
    shutil.copytree(course.template, root, symlinks=False)
    target = root / "submitted" / sub.student / course.assignment
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{course.notebook}.ipynb")
    if sub.timestamp:
        shutil.copy(sub.timestamp, target / "timestamp.txt")
    return target


FAST_SHUTDOWN = "c.Execute.shutdown_kernel = 'immediate'\n"
"""The graded kernel is killed after its last cell instead of asked to exit: its outputs are
in, and a polite exit spends about a second tearing torch down."""

KEPT = "points the check server recorded before it are kept"


def _fault(result: Result, run, text: str, options: Options) -> None:
    """The status and reason of a run that did not finish: a limit, a dead kernel, a failure."""
    if run.stopped:
        result.status = {"wall": Status.TIME_LIMIT, "cpu": Status.CPU_LIMIT}[run.stopped]
        result.reasons.append(
            (f"grading used more than {options.cpu:g} s of CPU time and was stopped"
             if run.stopped == "cpu" else
             f"grading took longer than {options.timeout:g} s and was stopped") + f"; {KEPT}")
        return
    died = re.search(r"DeadKernelError|Kernel died", text)
    result.status = Status.KERNEL_DIED if died else Status.FAILED
    hint = "memory limit or crash" if died else "see the log"
    last = [line for line in text.splitlines() if "Error" in line][-1:] or ["(no error)"]
    result.reasons.append(f"{result.status} ({hint}): {last[0].strip()[:200]}; {KEPT}")


KERNEL_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
"""What a graded kernel keeps of the grader's environment (besides ``OPENBLAS_*``, which
some CPUs need for correct results): the rest is set by :func:`kernel_env`."""


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


KERNEL_TASKS = 256
"""Processes and threads a graded kernel may start beyond its sandbox's first ones (measured:
the kernel held 13 at the end of a quick-mode run; a fork bomb then got 245 more)."""


def sandboxed_kernel(folder: Path, submitted: Path, course: Course, options: Options,
                     sock: Path, env: dict[str, str],
                     uid: int | None) -> tuple[str, dict[str, str]]:
    """Run only the kernel in bubblewrap, ``nbgrader autograde`` outside it: the nbgrader
    config lines and the environment of nbgrader that make it start the sandboxed kernel.

    The kernel sees the kit, the data (read-only), the check server's socket folder, its
    exchange folder (``TMPDIR``) and, as its working folder, a private copy of the
    submission's folder: never the course copy (the source notebook with the answers, the
    gradebook, the release), which only nbgrader reads and writes. It talks to nbgrader over
    Unix sockets in a folder of its own (``ipc`` transport: it has no network) and gets exactly
    ``env`` (plus ``NBGRADER_EXECUTION``) as its environment. When the grader is root it runs
    as ``uid`` (:func:`~grading.instructor.common.procs.kernel_uid`), under a hard process cap of
    ``KERNEL_TASKS`` (:mod:`grading.kernel.launch`)."""
    workdir = folder / "course" / "autograded" / submitted.parent.name / course.assignment
    scratch, ipc, runtime = folder / "scratch", folder / "ipc", folder / "runtime"
    shutil.copytree(submitted, scratch)
    ipc.mkdir()
    runtime.mkdir()
    exchange = Path(env["TMPDIR"])
    hand_over(uid, scratch, ipc, exchange)
    data = [Path(options.data).resolve()] if options.data else []
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", launch.COPY]
    argv = bwrap_command(kernel, [ipc, exchange], [sock.parent, runtime, *data],
                         mounts={workdir: scratch}, chdir=workdir,
                         env={**env, "NBGRADER_EXECUTION": "autograde"})
    cap = KERNEL_TASKS if nproc_limit(KERNEL_TASKS) is not None else 0
    first = [sys.executable, "-I", launch.__file__, "{connection_file}", str(cap)]
    write_kernel_spec(folder / "jupyter", as_uid(argv, uid, first))
    config = (f"c.Execute.kernel_name = {KERNEL_NAME!r}\n"
              "c.KernelManager.transport = 'ipc'\n"
              f"c.KernelManager.ip = {str(ipc / 'k')!r}\n")
    return config, {**env, "JUPYTER_PATH": str(folder / "jupyter"),
                    "JUPYTER_RUNTIME_DIR": str(runtime)}


def _gradebook_scores(root: Path, course: Course, student: str) -> dict[str, float]:
    """What the kernel's run showed per cell (nbgrader's ``auto_score``): advice, not points."""
    from nbgrader.api import Gradebook

    scores = {part: 0.0 for part in course.parts}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(course.notebook, course.assignment, student)
        for grade in submission.grades:
            if grade.name in scores:
                value = grade.auto_score if grade.auto_score is not None else 0.0
                scores[grade.name] = min(float(value), course.max_points[grade.name])
    return scores
