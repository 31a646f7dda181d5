"""The class's output course (single writer): gradebook, notebooks, feedback, ``grades.csv``
and the summary table. Its feedback is ready for ``nbgrader release_feedback``: each page has
the submission's timestamp and secret beside it, as nbgrader's own feedback has."""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from ..common.procs import run_logged
from ..common.records import Result
from .course import Course, config_text
from .discover import Submission
from .feedback_safety import make_safe
from .warm import nbgrader_starter

# Defence in depth behind make_safe: nbconvert cleans any HTML output left and writes no
# JavaScript output (nbgrader's feedback template renders markdown cells without it).
FEEDBACK_OPTIONS = ["--HTMLExporter.sanitize_html=True"]
#: What nbgrader's exchange puts beside a submitted notebook; release_feedback reads both.
STAMP_FILES = ("timestamp.txt", "submission_secret.txt")
MAX_STAMP_BYTES = 4096  # nbgrader writes ~30 (timestamp) and 128 (secret)


@dataclass
class Collected:
    """A submission that came through nbgrader's exchange: the student's notebook name (the
    key of their feedback) and the exchange's files beside it (name -> bytes)."""

    notebook: str
    files: dict[str, bytes]


def collected(subs: Iterable[Submission]) -> dict[str, Collected]:
    """Student -> their collected submission, for those from a ``submitted/`` folder."""
    found = {}
    for sub in subs:
        if sub.path is None or sub.timestamp is None:
            continue
        folder = sub.timestamp.parent
        found[sub.student] = Collected(sub.path.stem, {
            name: (folder / name).read_bytes() for name in STAMP_FILES
            if (folder / name).is_file() and (folder / name).stat().st_size <= MAX_STAMP_BYTES})
    return found


def exchange_config(submissions: Path | None) -> str:
    """Config lines with the course id and exchange root of the nbgrader course the
    submissions were collected in (``''`` if none), so that ``nbgrader release_feedback`` in
    the output course releases to that course's exchange."""
    if submissions is None:
        return ""
    root = submissions.parent if submissions.name == "submitted" else submissions
    path = root / "nbgrader_config.py"
    if not (root / "submitted").is_dir() or not path.is_file():
        return ""
    from traitlets.config.loader import PyFileConfigLoader

    try:
        config = PyFileConfigLoader(path.name, path=str(root)).load_config()
    except Exception as error:  # noqa: BLE001 - the grades matter more than this convenience
        return f"# {str(path)!r} not read ({type(error).__name__}): set the exchange here\n"
    lines = [f"c.{section}.{key} = {value!r}\n"
             for section, key in (("CourseDirectory", "course_id"), ("Exchange", "root"))
             if isinstance(value := config.get(section, {}).get(key), str) and value]
    if not lines:
        return ""
    return "# The exchange of the course the submissions were collected in.\n" + "".join(lines)


def _submitted_at(found: Collected | None) -> datetime | None:
    """The collected timestamp as the gradebook stores it, or ``None`` (none, or not a time)."""
    from nbgrader.utils import parse_utc

    stamp = found.files.get("timestamp.txt", b"") if found else b""
    text = stamp.decode(errors="replace").strip()
    try:
        return parse_utc(text) if text else None
    except (ValueError, OverflowError):
        return None


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _make_releasable(folder: Path, notebook: str, found: Collected | None) -> None:
    """Ready ``folder``'s feedback page for ``nbgrader release_feedback``: the submission's
    timestamp and secret beside it (fresh ones where it did not come through the exchange, so
    that release works for the whole class: no student holds that key), and the page also
    under the student's own notebook name, the one ``nbgrader fetch_feedback`` asks for."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    _write_files(folder, {"timestamp.txt": now.encode(),
                          "submission_secret.txt": secrets.token_hex(64).encode(),
                          **(found.files if found else {})})
    if found and found.notebook != notebook:
        shutil.copyfile(folder / f"{notebook}.html", folder / f"{found.notebook}.html")


def write_outputs(results: list[Result], course: Course, out: Path, cell_timeout,
                  log: Path, subs: Iterable[Submission] = (),
                  submissions: Path | None = None,
                  meanwhile: Callable[[], None] = lambda: None) -> None:
    """Master course (single writer): gradebook, notebooks, feedback, grades.csv; the
    exchange settings of the course at ``submissions``, if any. ``meanwhile`` (the class
    report) runs here while nbgrader writes the feedback."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.filterwarnings("ignore", message=".*not in session.*")
    exchange = collected(subs)
    out.mkdir(parents=True, exist_ok=True)
    for name in (course.source_dir, "gradebook.db"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.copytree(course.template / course.source_dir, out / course.source_dir)
    shutil.copy(course.template / "gradebook.db", out / "gradebook.db")
    (out / "nbgrader_config.py").write_text(config_text(out, cell_timeout)
                                            + exchange_config(submissions))
    for folder in ("submitted", "autograded", "feedback", "logs"):
        for result in results:
            shutil.rmtree(out / folder / result.student, ignore_errors=True)
    (out / "logs").mkdir(exist_ok=True)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for result in results:
            gb.update_or_create_student(result.student)
            submission = gb.update_or_create_submission(
                course.assignment, result.student,
                timestamp=_submitted_at(exchange.get(result.student)))
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = result.scores.get(grade.name, 0.0)
                    grade.needs_manual_grade = False
            gb.db.commit()
    for result in results:
        found = exchange.get(result.student)
        (out / "logs" / f"{result.student}.log").write_text(result.log)
        if result.autograded is not None:  # the feedback's and the formgrader's notebook
            make_safe(result.autograded, result.lang)
        for folder, nb in (("submitted", result.submitted), ("autograded", result.autograded)):
            if nb is not None:
                path = out / folder / result.student / course.assignment
                path.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path / f"{course.notebook}.ipynb")
                _write_files(path, found.files if found else {})
    with ThreadPoolExecutor(1) as feedback:
        done = feedback.submit(generate_feedback, [r.student for r in results
                                                   if r.autograded is not None], course, out, log)
        meanwhile()
        done.result()
    for result in results:
        html = out / "feedback" / result.student / course.assignment / f"{course.notebook}.html"
        if not html.exists():
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(_fallback_feedback(result, course))
        _make_releasable(html.parent, course.notebook, exchange.get(result.student))
    write_csv(results, course, out / "grades.csv")


def generate_feedback(students: list[str], course: Course, out: Path, log: Path) -> None:
    """``nbgrader generate_feedback`` for ``students``, their share to each core: one forked
    nbgrader per share, told to skip the others (student ids hold no comma, see
    :mod:`.discover`)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    shares = [students[start::cores] for start in range(min(cores or 1, len(students)))]

    def share_feedback(share: list[str]) -> None:
        others = ",".join(student for student in students if student not in share)
        run_logged([sys.executable, "-m", "nbgrader", "generate_feedback", course.assignment,
                    "--force", *FEEDBACK_OPTIONS,
                    *([f"--CourseDirectory.student_id_exclude={others}"] if others else [])],
                   out, log, timeout=900, start_with=nbgrader_starter({}))

    with ThreadPoolExecutor(max(1, len(shares))) as pool:
        list(pool.map(share_feedback, shares))


def _fallback_feedback(result: Result, course: Course) -> str:
    import html

    items = "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{course.notebook}"
            f"</title></head><body><h1>{html.escape(course.notebook)}: "
            f"{html.escape(result.student)}</h1><p>Score: 0 / {sum(course.max_points.values()):g}"
            f" ({html.escape(result.status)})</p><ul>{items}</ul></body></html>\n")


def _num(value: float) -> str:
    """Points as written in the CSV and the table: up to 6 decimals, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def write_csv(results: list[Result], course: Course, path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "status", *course.parts, "total", "max", "reasons"])
        for r in results:
            total = sum(r.scores.get(p, 0.0) for p in course.parts)
            writer.writerow([r.student, r.status, *(_num(r.scores.get(p, 0.0))
                                                    for p in course.parts),
                             _num(total), _num(sum(course.max_points.values())),
                             " | ".join(r.reasons)])


def summary_table(results: list[Result], course: Course) -> str:
    headers = ["student", *course.parts, "total", "status", "s"]
    rows = [[r.student, *(_num(r.scores.get(p, 0.0)) for p in course.parts),
             f"{_num(sum(r.scores.get(p, 0.0) for p in course.parts))}"
             f"/{_num(sum(course.max_points.values()))}", r.status, f"{r.seconds:.0f}"]
            for r in results]
    rows.insert(0, ["(max)", *(f"{course.max_points[p]:g}" for p in course.parts), "", "", ""])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
             for row in [headers, *rows]]
    return "\n".join(lines)
