"""Points from the trusted side: each graded cell's score comes from the check server's
records, never from what the student's kernel showed or reported.

* A hidden cell earns ``points x fraction`` of its checks (first record per check).
* A visible test cell earns its points when the server, running the student's bundled
  function on the same public examples in its sandbox, found every output equal to the
  reference's (the record's ``public`` verdict). Its run in the kernel is feedback only.

A part whose check never reached the server (the cell failed, the kernel died before it)
scores 0; a crash or an endless loop after a check cost nothing of what it recorded.

Every reason and note is in the submission's language (``Result.lang``); the server's own
reasons came in it already.
"""

from __future__ import annotations

import nbformat

from grading.kernel.i18n import text
from grading.kernel.registry import CHECKS, explain

from ..common.records import Result, grade_id
from .course import Course


def first_records(records: list[dict] | None) -> dict[str, dict]:
    """The record that counts for each check: the first one (later requests are probes)."""
    first: dict[str, dict] = {}
    for record in records or []:
        first.setdefault(record["check"], record)
    return first


def trusted_scores(result: Result, records: list[dict] | None, course: Course) -> None:
    """Set ``result.scores`` from ``records`` and add the reasons of lost points."""
    lang, first = result.lang, first_records(records)
    for part, calls in course.hidden.items():
        earned, lines = 0.0, []
        for check, points in calls:
            record = first.get(check)
            if record is None:
                lines.append(text("verify.not_run" if records is not None
                                  else "verify.not_run.server_stopped", lang,
                                  title=CHECKS[check].title))
                continue
            earned += (points or 0.0) * float(record["fraction"])
            lines += explain(check, record["verdicts"], points or 0.0, lang)
        result.scores[part] = round(min(earned, course.max_points[part]), 6)
        result.reasons += [f"{part}: {line.strip()}" for line in lines]
    for part, check in course.visible.items():
        public = (first.get(check) or {}).get("public") or {}
        result.scores[part] = course.max_points[part] if public.get("passed") else 0.0
        if not public.get("passed"):
            why = public.get("reason") or text("verify.public_not_run", lang,
                                               title=CHECKS[check].title)
            result.reasons.append(f"{part}: {text('verify.public', lang, why=why)}")


def annotate_claims(result: Result, claimed: dict[str, float], course: Course) -> None:
    """Where a cell showed more points in the kernel than the trusted side gave, say so first
    in its output (the feedback shows the trusted score), and rewrite a hidden cell's output."""
    for part, shown in claimed.items():
        trusted = result.scores.get(part, 0.0)
        if shown <= trusted + 1e-6:
            continue
        note = text("verify.claimed", result.lang, shown=shown, trusted=trusted)
        result.reasons.append(f"{part}: {note}")
        for cell in _cells(result.autograded, part):
            if part in course.hidden:
                cell.outputs = [nbformat.v4.new_output("execute_result",
                                                       {"text/plain": f"{trusted}"},
                                                       execution_count=cell.get("execution_count"))]
            cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout",
                                                          text=note + "\n"))


def _cells(nb, wanted: str):
    return [cell for cell in (nb.cells if nb is not None else []) if grade_id(cell) == wanted]


def cell_reasons(nb, course: Course) -> list[str]:
    """One line per graded cell that raised (visible tests), from its error output."""
    reasons = []
    for cell in nb.cells:
        part = grade_id(cell)
        if part not in course.max_points or cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                value = " ".join(str(output.get("evalue", "")).split())[:160]
                reasons.append(f"{part}: {output.get('ename')}: {value}".rstrip(": "))
                break
    return reasons
