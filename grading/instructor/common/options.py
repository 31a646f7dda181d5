"""The grading limits and options of the class command: one home for their defaults
(the command line, :func:`default_options` and the check server read them here)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace

from gcl4sr_helpers.download import ENV_VAR as DATA_ENV
from grading.kernel.limits import CELL_TIMEOUT_S, KERNEL_MEM_MIB


@dataclass(frozen=True)
class Options:
    """How one class is graded; the field defaults are the grading limits."""

    cell_timeout: int | None = CELL_TIMEOUT_S  # seconds per cell (None: the nbgrader config's)
    cpu: float = 600.0  # CPU seconds per submission (the work limit, whatever the load)
    timeout: float = 1800.0  # wall-clock seconds per submission: a backstop
    mem_mib: int = KERNEL_MEM_MIB  # address space of nbgrader and the kernel
    fsize_mib: int = 1024  # largest file nbgrader or the kernel may write
    check_wall: float = 60.0  # seconds per hidden check
    case_wall: float = 10.0  # seconds per hidden case
    check_mem_mib: int = 1024  # memory of the sandbox that runs a student's function
    threads: int = 1  # torch threads per kernel ($GCL4SR_THREADS)
    sandbox: str = "auto"  # bwrap, none, or auto: bwrap where it works (isolation.MODES)
    data: str | None = None  # Home data folder for the notebooks
    keep: bool = False  # keep the private working folders


DEFAULTS = Options()


def default_options(jobs: int = 1, **overrides) -> Options:
    """The defaults, with the CPU cores shared by ``jobs`` kernels (``C // jobs`` threads
    each on ``C`` cores) and the data folder (``data``, else ``$GCL4SR_DATA``)."""
    values = {"threads": max(1, (os.cpu_count() or 1) // max(1, jobs)), **overrides,
              "data": overrides.get("data") or os.environ.get(DATA_ENV)}
    return replace(DEFAULTS, **values)


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """The hidden checks' limits, as both the class command and the check server take them."""
    parser.add_argument("--check-wall", type=float, default=DEFAULTS.check_wall,
                        help="seconds per hidden check (default %(default)g)")
    parser.add_argument("--case-wall", type=float, default=DEFAULTS.case_wall,
                        help="seconds per hidden case (default %(default)g)")
    parser.add_argument("--check-mem-mib", type=int, default=DEFAULTS.check_mem_mib,
                        help="memory of the sandbox per hidden check, MiB (default %(default)s)")


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """The dataset folder and its sequence file, as every instructor command takes them."""
    parser.add_argument("--data-dir", help="dataset folder (default: $GCL4SR_DATA, else Home, "
                        "downloaded to data/home/)")
    parser.add_argument("--file", help="the folder's sequence file (default: dataset.json's, "
                        "else its only *.txt besides all_train_seq.txt)")
