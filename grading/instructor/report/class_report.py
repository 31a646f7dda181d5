"""The instructor's class report of a graded folder: ``report.json`` (the numbers, for an
LMS or a spreadsheet) and ``report.html`` (the same numbers for a teacher, self-contained).

Read from ``results.json`` (:mod:`.results`) and the notebooks of the graded folder only;
deterministic, so writing it again on the same folder gives the same files. A class may mix
both editions: sub-checks and mistakes are counted by id over both, and named in the report's
language (Korean, the class command's; ``python -m grading.report --lang en`` for English).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

from gcl4sr_helpers.files import atomic_file
from grading.kernel.i18n import DEFAULT
from grading.kernel.registry import CHECKS

from ..common.records import Result, Status
from ..run.course import Course
from .hints import hint_counts
from .results import read_results, write_results
from .similarity import THRESHOLD, groups, similar_pairs

REPORT_JSON, REPORT_HTML = "report.json", "report.html"
SLOWEST = 10  # submissions listed as the slowest
TOP_REASONS = 3  # most frequent reason lines per sub-check


def write_class_report(results: list[Result], course: Course, out: Path) -> None:
    """The class run's last step: persist the structured results, then the report."""
    write_results(results, course, out)
    write_report(out)


def write_report(graded: Path, lang: str = DEFAULT) -> dict:
    """Write ``report.json`` and ``report.html`` of ``graded`` in ``lang``; returns the
    report."""
    from .report_page import render

    report = build_report(graded, lang)
    with atomic_file(graded / REPORT_JSON) as handle:
        json.dump(report, handle, ensure_ascii=False, indent=1)
    with atomic_file(graded / REPORT_HTML) as handle:
        handle.write(render(report, lang))
    return report


def build_report(graded: Path, lang: str = DEFAULT) -> dict:
    data = read_results(graded)
    course, students = data["course"], data["students"]
    notebooks = {folder: _notebooks(graded / folder, course, students)
                 for folder in ("submitted", "autograded")}
    return {"assignment": course["assignment"], "parts": course["parts"],
            "max_points": course["max_points"],
            "max_total": round(sum(course["max_points"].values()), 6),
            "summary": summary(students, course["parts"]),
            "students": [{key: s[key] for key in ("student", "status", "points", "total",
                                                  "seconds")} for s in students],
            "subchecks": subcheck_losses(students, course, lang),
            "hints": hint_counts(notebooks["autograded"], lang),
            "slowest": [{"student": s["student"], "status": s["status"],
                         "seconds": s["seconds"]}
                        for s in sorted(students, key=lambda s: -s["seconds"])[:SLOWEST]],
            "not_graded": [{"student": s["student"], "status": s["status"],
                            "reasons": s["reasons"]}
                           for s in students if s["status"] != Status.GRADED],
            "copies": copies(notebooks["submitted"], course["todos"])}


def _notebooks(folder: Path, course: dict, students: list[dict]) -> dict[str, dict]:
    """``{student: notebook JSON}`` of ``folder/<student>/<assignment>/<notebook>.ipynb``."""
    found = {}
    for student in (s["student"] for s in students):
        path = folder / student / course["assignment"] / f"{course['notebook']}.ipynb"
        try:
            found[student] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return found


def _stats(values: list[float]) -> dict:
    return {"mean": round(statistics.fmean(values), 3) if values else None,
            "median": round(statistics.median(values), 3) if values else None}


def summary(students: list[dict], parts: list[str]) -> dict:
    """Submissions, statuses, editions (the notebooks' languages), and mean and median per
    part and in total (every student)."""
    return {"submissions": len(students),
            "statuses": dict(Counter(s["status"] for s in students).most_common()),
            "languages": dict(sorted(Counter(s.get("lang", DEFAULT) for s in students).items())),
            "parts": {part: _stats([s["points"][part] for s in students]) for part in parts},
            "total": _stats([s["total"] for s in students])}


def subcheck_losses(students: list[dict], course: dict, lang: str = DEFAULT) -> list[dict]:
    """Per hidden sub-check (notebook order, by id: both editions' students together):
    students who lost it, among those whose check reached the server (whatever their status),
    its label in ``lang`` and its most frequent reasons (each in its student's language)."""
    checks = [check for calls in course["hidden"].values() for check, _ in calls]
    rows = []
    for name in checks:
        verdicts = [(s["student"], v) for s in students
                    for v in ((s["checks"] or {}).get(name) or {}).get("verdicts") or []]
        ran = len({student for student, _ in verdicts})
        for sub in CHECKS[name].subchecks:
            failed = [v["reason"] for _, v in verdicts if v["id"] == sub and not v["passed"]]
            rows.append({"check": name, "title": CHECKS[name].title, "id": sub,
                         "label": CHECKS[name].label(sub, lang),
                         "lost": len(failed), "ran": ran,
                         "reasons": Counter(failed).most_common(TOP_REASONS)})
    return rows


def copies(submitted: dict[str, dict], todos: dict[str, str]) -> dict:
    """Per graded TODO: the listed pairs and the groups they link (see :mod:`.similarity`)."""
    result = {}
    for todo, template in todos.items():
        answers = {student: _source(nb, todo) for student, nb in submitted.items()}
        pairs = similar_pairs({s: a for s, a in answers.items() if a}, template)
        result[todo] = {"pairs": pairs, "groups": groups(pairs)}
    return {"threshold": THRESHOLD, "todos": result}


def _source(notebook: dict, grade_id: str) -> str | None:
    for cell in notebook.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return None
