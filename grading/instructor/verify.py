"""Verify the hidden parts against the trusted server's records, distrust the visible tests
that tampering affects, and collect the reasons of failed cells."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import nbformat

from grading.kernel.registry import CHECKS, explain

from .course import Course

if TYPE_CHECKING:
    from .grade_one import Result


def verify_hidden(result: Result, scores: dict[str, float], records: list[dict] | None,
                  course: Course) -> None:
    """Cap each hidden part by what the trusted server recorded (first call per check), then
    give 0 to the visible tests that tampering affects, with the reason in their cells.

    Evidence against every visible test (they ran in the same kernel): an altered score
    display, a replaced module function (``math.isclose``, a builtin, an engine function),
    a hidden cell that showed more than the server gave. A notebook global that rebinds a
    test helper (``graph_as_dict``) affects only the visible test cells that call it.
    """
    first: dict[str, dict] = {}
    for record in records or []:
        first.setdefault(record["check"], record)
    evidence = ["점수 표시를 바꿨습니다"] if any(
        r.get("status") == "tamper" for r in records or []) else []
    replaced = sorted({name for r in records or [] for name in r.get("integrity") or []})
    patched = [name for name in replaced if "." in name]
    if patched:
        evidence.append("테스트가 쓰는 함수를 바꿨습니다: " + ", ".join(patched[:8]))
    for grade_id, calls in course.hidden.items():
        allowed, lines = 0.0, []
        for check, points in calls:
            record = first.get(check)
            if record is None:  # (a cell that failed before the check has its own reason)
                if scores.get(grade_id, 0.0) > 0 or records is None:
                    lines.append(f"숨은 검사({CHECKS[check].title})가 실행되지 않았습니다"
                                 + (" (검사 서버가 멈췄습니다)" if records is None else ""))
                continue
            allowed += (points or 0.0) * float(record["fraction"])
            lines += explain(check, record["verdicts"], points or 0.0)
        allowed = round(min(allowed, course.max_points[grade_id]), 6)
        if scores.get(grade_id, 0.0) > allowed + 1e-6:
            evidence.append(f"{grade_id} 셀이 {scores[grade_id]:g}점을 보였지만 숨은 검사는 "
                            f"{allowed:g}점을 주었습니다")
            note = (f"이 셀은 {scores[grade_id]:g}점을 보였지만 숨은 검사가 준 점수는 "
                    f"{allowed:g}점입니다. 숨은 검사의 점수를 씁니다.")
            scores[grade_id] = allowed
            _rewrite_outputs(result.autograded, grade_id, lines, allowed, note)
        result.reasons += [f"{grade_id}: {line.strip()}" for line in lines]
    rebound = affected_cells(course, [name for name in replaced if "." not in name])
    for grade_id in course.parts:
        if grade_id in course.hidden:
            continue
        why = evidence + ([f"이 셀이 부르는 함수를 노트북에서 다시 정의했습니다: "
                           f"{', '.join(rebound[grade_id])}"] if grade_id in rebound else [])
        if why:
            note = ("채점: 이 공개 테스트는 믿을 수 없어 0점입니다 (" + "; ".join(why) + ").")
            scores[grade_id] = 0.0
            result.reasons.append(f"{grade_id}: {note}")
            _annotate(result.autograded, grade_id, note)


def affected_cells(course: Course, names: list[str]) -> dict[str, list[str]]:
    """Visible test cells (grade id) whose source uses one of ``names``, with those names."""
    found = {}
    for cell in course.release_nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in course.parts or grade_id in course.hidden or not names:
            continue
        try:
            used = {node.id for node in ast.walk(ast.parse(cell.source))
                    if isinstance(node, ast.Name)}
        except SyntaxError:
            used = set(names)
        if used & set(names):
            found[grade_id] = sorted(used & set(names))
    return found


def _cells(nb, grade_id: str):
    return [cell for cell in (nb.cells if nb is not None else [])
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]


def _annotate(nb, grade_id: str, note: str) -> None:
    """Put ``note`` first in the cell's outputs (the feedback shows it above the cell's own)."""
    for cell in _cells(nb, grade_id):
        cell.outputs.insert(0, nbformat.v4.new_output("stream", name="stdout",
                                                      text=note + "\n"))


def _rewrite_outputs(nb, grade_id: str, lines: list[str], points: float, note: str) -> None:
    for cell in _cells(nb, grade_id):
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
