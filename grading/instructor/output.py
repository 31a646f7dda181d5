"""The class's output course (single writer): gradebook, notebooks, feedback, ``grades.csv``
and the summary table."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import nbformat

from .course import Course, config_text
from .feedback_safety import make_safe
from .procs import run_logged
from .records import Result

# Defence in depth behind make_safe: nbconvert cleans any HTML output left and writes no
# JavaScript output (nbgrader's feedback template renders markdown cells without it).
FEEDBACK_OPTIONS = ["--HTMLExporter.sanitize_html=True"]


def write_outputs(results: list[Result], course: Course, out: Path, cell_timeout,
                  log: Path) -> None:
    """Master course (single writer): gradebook, notebooks, feedback, grades.csv."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.filterwarnings("ignore", message=".*not in session.*")
    out.mkdir(parents=True, exist_ok=True)
    for name in (course.source_dir, "gradebook.db"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.copytree(course.template / course.source_dir, out / course.source_dir)
    shutil.copy(course.template / "gradebook.db", out / "gradebook.db")
    (out / "nbgrader_config.py").write_text(config_text(out, cell_timeout))
    for folder in ("submitted", "autograded", "feedback", "logs"):
        for result in results:
            shutil.rmtree(out / folder / result.student, ignore_errors=True)
    (out / "logs").mkdir(exist_ok=True)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for result in results:
            gb.update_or_create_student(result.student)
            submission = gb.update_or_create_submission(course.assignment, result.student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = result.scores.get(grade.name, 0.0)
                    grade.needs_manual_grade = False
            gb.db.commit()
    for result in results:
        (out / "logs" / f"{result.student}.log").write_text(result.log)
        if result.autograded is not None:  # the feedback's and the formgrader's notebook
            make_safe(result.autograded)
        for folder, nb in (("submitted", result.submitted), ("autograded", result.autograded)):
            if nb is not None:
                path = out / folder / result.student / course.assignment
                path.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path / f"{course.notebook}.ipynb")
    if any(r.autograded is not None for r in results):
        run_logged([sys.executable, "-m", "nbgrader", "generate_feedback", course.assignment,
              "--force", *FEEDBACK_OPTIONS], out, log, timeout=900)
    for result in results:
        html = out / "feedback" / result.student / course.assignment / f"{course.notebook}.html"
        if not html.exists():
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(_fallback_feedback(result, course))
    write_csv(results, course, out / "grades.csv")


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
