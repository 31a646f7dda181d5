"""The class run's structured results, ``results.json`` in the output course: the course
facts (parts, points, hidden checks, the template of every TODO) and one record per
student (the language of their notebook, status, points per part, seconds, reasons and the
first check-server record of each hidden check with its sub-check verdicts). The class report
reads only this file and the notebooks, never the text of ``grades.csv``."""

from __future__ import annotations

import json
from pathlib import Path

from gcl4sr_helpers.files import atomic_file

from ..common.records import Result
from ..run.course import Course

RESULTS_FILE = "results.json"


def graded_todos(course: Course) -> dict[str, str]:
    """``{grade id: template}`` of every answer cell that has test cells (``<grade id>_*``):
    an optional TODO without tests (``nt_xent``) earns nothing, so nobody is listed for it."""
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source
               for cell in course.release_nb.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    return {grade_id: template for grade_id, template in answers.items()
            if any(part.startswith(f"{grade_id}_") for part in course.parts)}


def course_record(course: Course) -> dict:
    """The course facts the report needs; ``todos`` maps each graded answer cell to its
    template (:func:`graded_todos`)."""
    todos = graded_todos(course)
    return {"assignment": course.assignment, "notebook": course.notebook,
            "parts": list(course.parts), "max_points": dict(course.max_points),
            "hidden": {grade_id: [[check, points] for check, points in calls]
                       for grade_id, calls in course.hidden.items()},
            "todos": todos}


def student_record(result: Result, course: Course) -> dict:
    """One student: ``checks`` is ``None`` when the check server was lost."""
    first: dict[str, dict] = {}
    for record in result.records or []:
        first.setdefault(record["check"], record)
    points = {part: round(result.scores.get(part, 0.0), 6) for part in course.parts}
    return {"student": result.student, "lang": result.lang, "status": result.status,
            "points": points,
            "total": round(sum(result.scores.get(part, 0.0) for part in course.parts), 6),
            "seconds": round(result.seconds, 2), "reasons": list(result.reasons),
            "checks": None if result.records is None else {
                check: {key: record.get(key) for key in ("fraction", "status", "seconds",
                                                         "verdicts")}
                for check, record in first.items()}}


def write_results(results: list[Result], course: Course, out: Path) -> Path:
    """``out/results.json``, written atomically."""
    data = {"course": course_record(course),
            "students": [student_record(result, course) for result in results]}
    path = out / RESULTS_FILE
    with atomic_file(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
    return path


def read_results(graded: Path) -> dict:
    """The results of a graded folder; ``FileNotFoundError`` with what to do if absent."""
    path = graded / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: grade the class first with "
                                "python -m grading.grade_class (it writes this file)")
    return json.loads(path.read_text(encoding="utf-8"))
