"""Resource limits of the current process, clamped to the hard limits it already has.

It runs in the student's kernel (its memory cap, from the nbgrader config), around
``nbgrader autograde`` (:mod:`grading.instructor.procs`) and in the sandbox child. All three
set their limits ``hard``: student code can lower a soft limit, never raise one.
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


def cap_kernel_memory() -> None:
    """The graded kernel's memory cap (``exec_lines`` of the nbgrader config): a memory hog
    gets ``MemoryError`` in its cell instead of taking the machine down."""
    set_limits({resource.RLIMIT_AS: KERNEL_MEM_MIB << 20}, hard=True)
