"""Grade one submission in a private copy of the course, under limits, with its own check
server and kernel; never raises (see the steps in :mod:`grading.grade_class`). It is prepared
first (:func:`prepare`: the private course, the check server, the kernel started), possibly
while the submission before it is graded (:mod:`.ahead`), then graded (:func:`grade_one`)."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..checking.isolation import use_bwrap, warning
from ..common.options import Options
from ..common.procs import Started, kernel_uid, promote, run_logged
from ..common.records import Result, Status, grade_id
from .course import Course, config_text, notebook_language
from .discover import Submission
from .graded_kernel import CPU_BACKSTOP_S, Prestarted, kernel_env, sandboxed_kernel
from .server_process import server_socket, start_server, stop_server
from .verify import annotate_claims, cell_reasons, trusted_scores
from .warm import nbgrader_command

MAX_NOTEBOOK_BYTES = 64 << 20


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


@dataclass
class Prepared:
    """A submission ready for ``nbgrader autograde``: its private folder, its check server and
    kernel already started (:func:`prepare`), or its result when there is nothing to run."""

    sub: Submission
    result: Result
    folder: Path
    token: str  # the sentinel file's text: the folder was not changed from outside
    nice: int = 0
    server: Started | None = None
    env: dict[str, str] | None = None
    kernel: Prestarted | None = None

    @property
    def log(self) -> Path:
        return self.folder / "grading.log"

    def promote(self) -> None:
        """Its turn: its check server and kernel back to normal priority (where permitted)."""
        for started in (self.server, self.kernel):
            if self.nice and started:
                promote(started.pid)

    def release(self) -> None:
        """Stop what :func:`prepare` started and nbgrader's turn did not end (once)."""
        if self.kernel:
            self.kernel.close()
            self.kernel = None
        if self.server and self.server.poll() is None:
            self.result.records = stop_server(self.server)


def prepare(sub: Submission, course: Course, work: Path, options: Options,
            nice: int = 0) -> Prepared:
    """Read and check the notebook; make the private course; start the check server and the
    kernel (:mod:`.graded_kernel`), ``nice`` until their turn (:meth:`Prepared.promote`).
    Never raises: a failure is the result's ``grader error``."""
    since = time.monotonic()
    result = Result(sub.student, reasons=list(sub.notes))
    result.reasons += [w for w in [warning(options.sandbox)] if w]
    folder = Path(tempfile.mkdtemp(prefix=f"{sub.student}-", dir=work))
    ready = Prepared(sub, result, folder, os.urandom(16).hex(), nice)
    (folder / ".sentinel").write_text(ready.token)
    ready.log.touch()
    try:
        _prepare_in(ready, course, options)
    except Exception:  # noqa: BLE001 - an infrastructure failure must not stop the class
        ready.release()
        _grader_failed(result)
    result.lap("prepare", since)
    return ready


def grade_one(sub: Submission, course: Course, work: Path, options: Options,
              last_try: bool = True, ready: Prepared | None = None) -> Result:
    """Grade one submission in a private course (prepared ahead as ``ready``, else now); never
    raises.

    A folder changed from outside during grading (a sentinel file or the course config
    gone) gives status ``grader error`` unless ``last_try``: the caller grades it again.
    """
    start = time.monotonic()
    ready = ready or prepare(sub, course, work, options)
    result, folder = ready.result, ready.folder
    try:
        if ready.server is not None and result.status == Status.GRADED:
            ready.promote()
            _autograde(ready, course, options)
    except Exception:  # noqa: BLE001 - an infrastructure failure must not stop the class
        _grader_failed(result)
    finally:
        ready.release()
    sentinel = folder / ".sentinel"
    damaged = not (sentinel.is_file() and sentinel.read_text() == ready.token
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
        result.log = ready.log.read_text(errors="replace")[-200_000:]
    except OSError:
        result.log = "(log lost: the grading folder was deleted)"
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _grader_failed(result: Result) -> None:
    result.status = Status.GRADER_ERROR
    result.reasons.append("the grader failed: " + traceback.format_exc(limit=3)
                          .strip().splitlines()[-1])


def _prepare_in(ready: Prepared, course: Course, options: Options) -> None:
    sub, result, folder = ready.sub, ready.result, ready.folder
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
    result.lang = notebook_language(nb.metadata)

    root = folder / "course"
    target = _private_course(sub, course, nb, root)
    exchange = folder / "exchange"  # the kernel's TMPDIR: bundles for the check server
    exchange.mkdir()
    sandboxed = use_bwrap(options.sandbox)
    uid = kernel_uid(folder) if sandboxed else None
    sock = server_socket(folder)
    ready.env, config = kernel_env(options, sock, exchange), config_text(root,
                                                                          options.cell_timeout)
    config += FAST_SHUTDOWN
    if sandboxed:  # the kernel first: it imports while the server is forked
        kernel_config, ready.env, ready.kernel = sandboxed_kernel(
            folder, target, course, options, sock, ready.env, uid, ready.log, ready.nice)
        config += kernel_config
    (root / "nbgrader_config.py").write_text(config)
    ready.server, _ = start_server(folder, exchange, options, ready.log, uid, ready.nice,
                                   result.lang)


def _autograde(ready: Prepared, course: Course, options: Options) -> None:
    """``nbgrader autograde`` in the private course, then the points from the server."""
    sub, result, root = ready.sub, ready.result, ready.folder / "course"
    since = time.monotonic()
    command, start_with = nbgrader_command(
        ["autograde", course.assignment, "--student", sub.student, "--force"],
        options.mem_mib, options.fsize_mib, options.cpu + CPU_BACKSTOP_S)
    try:
        run = run_logged(command, root, ready.log, options.timeout, ready.env,
                         cpu_limit=options.cpu, start_with=start_with,
                         also=[ready.kernel.pid] if ready.kernel else [])
    finally:
        since = result.lap("nbgrader", since)
        result.records = stop_server(ready.server)
        since = result.lap("server stop", since)
    trusted_scores(result, result.records, course)
    autograded = root / "autograded" / sub.student / course.assignment / f"{course.notebook}.ipynb"
    if run.stopped or run.code != 0 or not autograded.is_file():
        _fault(result, run, ready.log.read_text(errors="replace"), options)
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


def warm_gradebook() -> None:
    """Import nbgrader's gradebook API (SQLAlchemy; 0.7 s, once per process) in the background,
    while the course template is built, rather than in the first submission's turn."""
    threading.Thread(target=importlib.import_module, args=("nbgrader.api",),
                     name="warm-gradebook", daemon=True).start()


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
