"""The records of a class run that every phase shares: a submission's result, the statuses
it can end with, and a cell's grade id. Phases import these, never each other's."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from grading.kernel.i18n import DEFAULT

if TYPE_CHECKING:  # the check server imports this module: nbformat costs it 1.3 s
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
    server's records (``None``: lost), the log, the seconds of each phase (``phases``:
    ``prepare``, ``nbgrader``, ``server stop``, ``scores``, in that order) and the language
    of the submitted notebook (its metadata's; that of its feedback)."""

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
    phases: dict[str, float] = field(default_factory=dict)
    lang: str = DEFAULT

    def lap(self, phase: str, since: float) -> float:
        """Record ``phase`` as the seconds from ``since`` (``time.monotonic()``) to now; the
        time now, for the next phase."""
        now = time.monotonic()
        self.phases[phase] = round(now - since, 3)
        return now


def grade_id(cell) -> str | None:
    """The nbgrader grade id of a cell, or ``None``."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")
