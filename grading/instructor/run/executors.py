"""Where the submissions are graded: here, ``jobs`` at a time (the default), or on a Dask
distributed cluster (``grade_class --executor dask --scheduler ADDRESS``).

A Dask task gets the assignment's source files and one notebook's bytes (with the student id
and discovery notes) and returns the :class:`~grading.instructor.run.grade_one.Result`: points,
reasons, the autograded notebook and the log. Only the parent writes the gradebook. Each
worker builds the course template once (``nbgrader generate_assignment``) and grades in its
own temporary folder, so a worker needs the kit installed (the repository and its
environment, ``pip install -e ".[cluster]"``), ``bwrap`` for the sandbox, and the Home data
(``$GCL4SR_DATA`` of the worker, else the parent's ``--data`` path). A worker running
``--nthreads N`` grades N submissions at once, each kernel with ``cores // N`` threads
(``$GCL4SR_THREADS`` of the worker overrides).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ..common.options import DATA_ENV, Options
from ..common.records import Result, Status
from .course import Course, build_template
from .discover import Submission
from .grade_one import grade_one

_TEMPLATES: dict[str, tuple[Course, Path]] = {}  # per worker process: source digest ->
_LOCK = threading.Lock()


def grade_here(job: Callable[[Submission], Result], subs: list[Submission],
               jobs: int) -> list[Result]:
    """``job`` on every submission, ``jobs`` at a time, in order."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(job, subs))


@dataclass(frozen=True)
class Assignment:
    """What a worker needs to build the course template: the source folder's files."""

    files: dict[str, bytes]
    assignment: str
    notebook: str

    @classmethod
    def read(cls, source: Path, assignment: str, notebook: str) -> Assignment:
        files = {str(p.relative_to(source)): p.read_bytes() for p in sorted(source.rglob("*"))
                 if p.is_file() and not {"__pycache__", ".ipynb_checkpoints"} & set(p.parts)}
        return cls(files, assignment, notebook)

    def digest(self) -> str:
        sha = hashlib.sha256(f"{self.assignment}/{self.notebook}".encode())
        for name, data in sorted(self.files.items()):
            sha.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return sha.hexdigest()


@dataclass(frozen=True)
class Packed:
    """A submission as bytes: it travels to a worker that cannot read the parent's files."""

    student: str
    name: str | None
    notebook: bytes | None
    notes: list[str]
    problem: str | None
    timestamp: bytes | None

    @classmethod
    def of(cls, sub: Submission) -> Packed:
        return cls(sub.student, sub.path.name if sub.path else None,
                   sub.path.read_bytes() if sub.path else None, list(sub.notes), sub.problem,
                   sub.timestamp.read_bytes() if sub.timestamp else None)

    def unpack(self, folder: Path) -> Submission:
        sub = Submission(self.student, None, list(self.notes), self.problem)
        if self.notebook is not None:
            sub.path = folder / self.name
            sub.path.write_bytes(self.notebook)
        if self.timestamp is not None:
            sub.timestamp = folder / "timestamp.txt"
            sub.timestamp.write_bytes(self.timestamp)
        return sub


def _template(spec: Assignment, cell_timeout: int | None) -> tuple[Course, Path]:
    """This worker's course template for ``spec`` (built on first use, removed at exit)."""
    key = f"{spec.digest()}-{cell_timeout}"
    with _LOCK:
        if key not in _TEMPLATES:
            work = Path(tempfile.mkdtemp(prefix="gcl4sr-worker-"))
            atexit.register(shutil.rmtree, work, True)
            source = work / "source"
            for name, data in spec.files.items():
                (source / name).parent.mkdir(parents=True, exist_ok=True)
                (source / name).write_bytes(data)
            course = build_template(work, source, spec.assignment, spec.notebook,
                                    cell_timeout, work / "template.log")
            _TEMPLATES[key] = (course, work)
        return _TEMPLATES[key]


def _worker_options(options: Options) -> Options:
    from distributed import get_worker

    from gcl4sr_helpers.runtime import THREADS_ENV

    share = (os.cpu_count() or 1) // max(1, get_worker().state.nthreads)
    return replace(options, threads=int(os.environ.get(THREADS_ENV) or max(1, share)),
                   data=os.environ.get(DATA_ENV) or options.data)


def grade_remote(spec: Assignment, options: Options, packed: Packed) -> Result:
    """A Dask task: grade one packed submission on this worker."""
    course, work = _template(spec, options.cell_timeout)
    folder = Path(tempfile.mkdtemp(prefix=f"in-{packed.student}-", dir=work))
    try:
        return grade_one(packed.unpack(folder), course, work, _worker_options(options))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def grade_on_dask(scheduler: str, specs: dict[str, Assignment], subs: list[Submission],
                  options: Options, report: Callable[[Result], None]) -> list[Result]:
    """Every submission graded on the Dask cluster at ``scheduler``, in order, in the course of
    ``specs[student]`` (its edition's); ``report`` is called here as each result arrives."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError('--executor dask needs Dask: pip install -e ".[cluster]"') from None
    with Client(scheduler) as client:
        futures = {client.submit(grade_remote, specs[sub.student], options, Packed.of(sub),
                                 pure=False): sub for sub in subs}
        results = {}
        for future in as_completed(futures):
            results[future] = _outcome(future, futures[future])
            report(results[future])
        return [results[future] for future in futures]


def _outcome(future, sub: Submission) -> Result:
    """The task's result; a task that failed (a worker without the kit, a lost worker) is a
    ``grader error``, which the class command grades again here."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - one broken worker must not stop the class
        return Result(sub.student, Status.GRADER_ERROR,
                      reasons=[f"the Dask task failed: {type(error).__name__}: {error}"[:300]])
