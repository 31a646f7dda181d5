"""Submissions for the grading and report benchmarks, built from the committed notebooks.

The perfect submission is the release notebook with each solution cell's source replaced by
the solution notebook's cell of the same ``grade_id`` (its ``### BEGIN/END SOLUTION`` lines
dropped). Every other variant is a small code change of the perfect one.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from grading.instructor.run.course import ASSIGNMENT
from grading.release import RELEASE, SOLUTION

MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)

#: variant -> grade_id -> (old, new) text replacements in the perfect answer, in order
CHANGES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "perfect": {},
    "partial": {  # the graph in one direction, NDCG without the min(k, |T|) cap, MMD's sign
        "witg": [("adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + weight", "pass")],
        "ndcg": [("ideal_hits = min(topk, len(relevant))", "ideal_hits = topk")],
        "mmd": [("xx + yy - xy - yx", "xy + yx - xx - yy")],
    },
    "syntax": {"recall": [("topk: int) -> float:", "topk: int) -> float")]},
    "nearmiss": {  # each answer breaks one rule
        "witg": [("(1, 2, 3)", "(1, 2)")],
        "recall": [("hits / len(relevant)", "hits / topk")],
        "ndcg": [("min(topk, len(relevant))", "min(topk, len(truth))")],
        "mmd": [("kernel_mul=kernel_mul", "kernel_mul=2.0")],
    },
}


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    """The cell's nbgrader ``grade_id`` (``None`` for a cell nbgrader does not track)."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def perfect() -> nbformat.NotebookNode:
    """The release notebook with every solution cell answered by the solution notebook."""
    release = nbformat.read(RELEASE, as_version=4)
    answers = {grade_id(c): c.source for c in nbformat.read(SOLUTION, as_version=4).cells
               if is_solution(c)}
    for cell in release.cells:
        if is_solution(cell):
            cell.source = MARKER.sub("", answers[grade_id(cell)])
    return release


def variant(name: str) -> nbformat.NotebookNode:
    """The perfect submission with ``CHANGES[name]`` applied."""
    nb = perfect()
    cells = {grade_id(c): c for c in nb.cells if is_solution(c)}
    for cell_id, edits in CHANGES[name].items():
        for old, new in edits:
            if old not in cells[cell_id].source:
                raise ValueError(f"{name}: {old!r} is not in the solution's {cell_id!r} cell")
            cells[cell_id].source = cells[cell_id].source.replace(old, new, 1)
    return nb


def write(folder: Path, names: list[str], copies: int = 1) -> None:
    """Each variant as ``folder/<name>/gcl4sr/gcl4sr.ipynb`` (nbgrader's submitted layout);
    with ``copies``, that many students of each, ``<name>1``, ``<name>2``..."""
    for name in names:
        for student in [name] if copies == 1 else [f"{name}{n}" for n in range(1, copies + 1)]:
            path = folder / student / ASSIGNMENT / RELEASE.name
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(variant(name), path)
