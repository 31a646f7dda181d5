"""Resource limits of the current process, clamped to the hard limits it already has, and
the limits of a graded kernel (the one home of their numbers).

It runs in the student's kernel (its memory cap, from the nbgrader config), around
``nbgrader autograde`` (:mod:`grading.instructor.common.procs`) and in the sandbox child. All three
set their limits ``hard``: student code can lower a soft limit, never raise one.

The graded kernel's limits, :data:`KERNEL_MEM_MIB` and :data:`CELL_TIMEOUT_S`, are read by the
nbgrader config (``grading/nbgrader_config.py``) and are the defaults of the class command
(:mod:`grading.instructor.common.options`).
"""

from __future__ import annotations

import resource


def set_limits(limits: dict[int, int], hard: bool = False) -> None:
    """Set each ``resource.RLIMIT_*: value`` as the soft limit, ``min(value, hard limit)``;
    with ``hard``, as the hard limit too, so that code run later cannot raise it again."""
    for kind, value in limits.items():
        _, ceiling = resource.getrlimit(kind)
        if ceiling != resource.RLIM_INFINITY:
            value = min(value, ceiling)
        resource.setrlimit(kind, (value, value if hard else ceiling))


KERNEL_MEM_MIB = 6144
"""Address space of a graded kernel (and of ``nbgrader autograde`` around it), MiB; the
quick-mode notebook needs less than 3 GiB."""

CELL_TIMEOUT_S = 120
"""Seconds one notebook cell may run under nbgrader (``validate``, ``autograde``) before it is
interrupted; a test cell that runs out of time scores 0 and grading goes on with the next cell.
Under nbgrader the notebook runs in quick mode (``NBGRADER_EXECUTION`` is set): the whole
notebook takes well under a minute, so a cell that needs 2 minutes is stuck. The nbgrader
config sets it (``ExecutePreprocessor.timeout``); the class command's ``--cell-timeout``
overrides it."""


def cap_kernel_memory() -> None:
    """The graded kernel's memory cap (``exec_lines`` of the nbgrader config): a memory hog
    gets ``MemoryError`` in its cell instead of taking the machine down."""
    set_limits({resource.RLIMIT_AS: KERNEL_MEM_MIB << 20}, hard=True)
