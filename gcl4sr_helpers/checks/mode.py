"""How much of the experiment the notebook runs: ``full`` or ``quick``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..i18n import text

QUICK_ENV = "GCL4SR_QUICK"
QUICK_MAX_USERS = 2000
QUICK_SUBSET_SEED = 0
QUICK_MAX_BATCHES = 3
GRADING_MAX_BATCHES = 1  # nbgrader's run: no points rest on training (the grader's server checks)
GRADING_BATCH_SIZE = 256  # ... of this many samples: 0.3 s on one thread instead of 2.6 s
QUICK_THREADS = 1  # small work; one thread is as fast and immune to CPU oversubscription


@dataclass(frozen=True)
class CourseMode:
    """How much of the experiment the notebook runs.

    ``full``: all of Home and one whole epoch (what students run). ``quick``: a
    deterministic subset of ``QUICK_MAX_USERS`` users and ``QUICK_MAX_BATCHES`` training
    batches on ``QUICK_THREADS`` CPU threads, for CI (``GCL4SR_QUICK=1``) and whenever
    nbgrader executes the notebook. On a busy 2-core machine, two PyTorch threads made
    the quick training 7x slower than one (110 s against 15 s, measured). Under nbgrader
    the quick run trains ``GRADING_MAX_BATCHES`` batch only: the points come from the
    grader's own checks of the student's functions, not from the training, which the
    graded run only has to exercise; its losses and metrics have no stored reference
    (:attr:`run_reference`).
    """

    name: str
    max_users: int | None
    subset_seed: int
    max_batches: int | None
    grading: bool
    threads: int | None = None
    batch_size: int | None = None  # training batch when not the course's (nbgrader's run)

    @property
    def quick(self) -> bool:
        return self.name == "quick"

    @property
    def run_reference(self) -> str | None:
        """The stored run this mode's losses and metrics are checked against (the mode's
        name), or ``None`` for nbgrader's shorter run."""
        return None if self.grading else self.name

    def describe(self) -> str:
        if not self.quick:
            return text("mode.full")
        why = text("mode.nbgrader") if self.grading else f"{QUICK_ENV}=1"
        size = text("mode.batch_size", size=self.batch_size) if self.batch_size else ""
        return text("mode.quick", why=why, users=self.max_users, batches=self.max_batches,
                    size=size)


def course_mode(environ: Mapping[str, str] | None = None) -> CourseMode:
    """``quick`` if ``GCL4SR_QUICK`` is set (not ``0``) or nbgrader executes the notebook."""
    env = os.environ if environ is None else environ
    grading = bool(env.get("NBGRADER_EXECUTION"))
    if grading or env.get(QUICK_ENV, "").strip() not in ("", "0"):
        if grading:
            return CourseMode("quick", QUICK_MAX_USERS, QUICK_SUBSET_SEED, GRADING_MAX_BATCHES,
                              True, QUICK_THREADS, GRADING_BATCH_SIZE)
        return CourseMode("quick", QUICK_MAX_USERS, QUICK_SUBSET_SEED, QUICK_MAX_BATCHES,
                          False, QUICK_THREADS)
    return CourseMode("full", None, QUICK_SUBSET_SEED, None, grading)
