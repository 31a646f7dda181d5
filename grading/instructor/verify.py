"""Verify the hidden parts against the trusted server's records, and collect the reasons
of failed cells."""

from __future__ import annotations

from typing import TYPE_CHECKING

import nbformat

from .course import Course

if TYPE_CHECKING:
    from .grade_one import Result


def verify_hidden(result: Result, scores: dict[str, float], records: list[dict] | None,
                   course: Course) -> None:
    """Cap each hidden part by what the trusted server recorded (first call per check).

    If the submission tampered with the grading (display hooks, replaced checks or test
    helpers, a score the server never gave), its visible tests are not trusted either:
    they ran in the same kernel. They score 0, with the reason.
    """
    first: dict[str, dict] = {}
    for record in records or []:
        first.setdefault(record["check"], record)
    evidence = sorted({"the score display was altered" for r in records or []
                       if r.get("status") == "tamper"})
    replaced = sorted({name for r in records or [] for name in r.get("integrity") or []})
    if replaced:
        evidence.append("functions the tests use were replaced: " + ", ".join(replaced[:8]))
    for grade_id, calls in course.hidden.items():
        allowed, lines = 0.0, []
        for check, points in calls:
            record = first.get(check)
            if record is None:  # (a cell that failed before the check has its own reason)
                if scores.get(grade_id, 0.0) > 0 or records is None:
                    lines.append(f"hidden check {check} did not run"
                                 + (" (check server lost)" if records is None else ""))
                continue
            allowed += (points or 0.0) * float(record["fraction"])
            failed = [v for v in record["verdicts"] if not v["passed"]]
            if len(failed) > 1 and len(failed) == len(record["verdicts"]) \
                    and len({v["reason"] for v in failed}) == 1:
                lines.append(f"{check} [all sub-checks]: {failed[0]['reason']}")
            else:
                lines += [f"{check} [{v['label']}]: {v['reason']}" for v in failed]
        allowed = round(min(allowed, course.max_points[grade_id]), 6)
        if scores.get(grade_id, 0.0) > allowed + 1e-6:
            evidence.append(f"{grade_id} showed {scores[grade_id]:g} points, the hidden check "
                            f"gave {allowed:g}")
            note = (f"{grade_id}: the notebook showed {scores[grade_id]:g} points but the "
                    f"hidden check gave {allowed:g}; the hidden check's result counts")
            scores[grade_id] = allowed
            _rewrite_outputs(result.autograded, grade_id, lines, allowed, note)
        result.reasons += [f"{grade_id}: {line}" for line in lines]
    if evidence:
        result.reasons.append("tampering detected (" + "; ".join(evidence) + "): visible tests "
                              "are not trusted and score 0")
        for grade_id in course.parts:
            if grade_id not in course.hidden:
                scores[grade_id] = 0.0


def _rewrite_outputs(nb, grade_id: str, lines: list[str], points: float, note: str) -> None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            text = "\n".join([note, *lines]) + "\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text),
                            nbformat.v4.new_output("execute_result", {"text/plain": f"{points}"},
                                                   execution_count=cell.get("execution_count"))]


def cell_reasons(nb, course: Course) -> list[str]:
    """One line per graded cell that raised (visible tests), from its error output."""
    reasons = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in course.max_points or cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                value = " ".join(str(output.get("evalue", "")).split())[:160]
                reasons.append(f"{grade_id}: {output.get('ename')}: {value}".rstrip(": "))
                break
    return reasons
