"""The records of a class run that every phase shares: a submission's result, the statuses
it can end with, and a cell's grade id. Phases import these, never each other's."""

from __future__ import annotations

from dataclasses import dataclass, field

import nbformat


class Status:
    """How grading a submission ended (``grades.csv``'s status column)."""

    GRADED = "graded"  # graded to the end
    OTHER_RELEASE = "other release"  # graded, but its locked cells differ from this release
    INVALID = "invalid notebook"
    NO_NOTEBOOK = "no notebook"
    KERNEL_DIED = "kernel died"
    CPU_LIMIT = "CPU limit"
    TIME_LIMIT = "time limit"
    FAILED = "grading failed"
    GRADER_ERROR = "grader error"  # the grader's own failure: graded again


@dataclass
class Result:
    """One submission's grading: status, points per part, reasons, notebooks, the check
    server's records (``None``: lost) and the log."""

    student: str
    status: str = Status.GRADED
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    autograded: nbformat.NotebookNode | None = None
    submitted: nbformat.NotebookNode | None = None
    seconds: float = 0.0
    log: str = ""
    records: list[dict] | None = None
    other_release: bool = False


def grade_id(cell) -> str | None:
    """The nbgrader grade id of a cell, or ``None``."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")
