"""Device choice, seeding, CPU allocator tuning and the CPU thread count."""

from __future__ import annotations

import ctypes
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
THREADS_ENV = "GCL4SR_THREADS"
_MIN_SAMPLE_SECONDS = 0.2


def select_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else CUDA, then Apple MPS, then CPU."""
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices)."""
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def disable_onednn() -> None:
    """Run CPU ops on PyTorch's own kernels instead of oneDNN's JIT-compiled ones.

    oneDNN compiles and caches one kernel per tensor shape (up to 1,024 of them). The
    Transformer's GELU sees new shapes in every batch (length buckets of varying size), so
    the cache grew by about 0.37 MB per step, scattering long-lived blocks through the heap
    and fragmenting it. Nothing in GCL4SR needs oneDNN on CPU.
    """
    torch.backends.mkldnn.enabled = False


def tune_cpu_allocator() -> bool:
    """Keep freed memory in glibc's heap instead of returning it to the OS.

    Every training step allocates the same large buffers (logits, kernel matrices); by
    default glibc maps each one fresh, and the page faults of zero-filling them cost about
    a third of a CPU step. Returns whether the tuning applied (Linux with glibc only).
    """
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def release_free_memory() -> bool:
    """Return the C heap's free memory to the OS (``malloc_trim``), once, between phases.

    The heap that :func:`tune_cpu_allocator` keeps fits the training step, free blocks and
    all; evaluation needs less of it but not in the same holes, so it would grow the heap
    above the training peak. Returns whether it applied (Linux with glibc only).
    """
    libc = _glibc()
    return libc is not None and bool(libc.malloc_trim(0))


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def requested_threads(environ: dict[str, str] | None = None) -> int | None:
    """``GCL4SR_THREADS`` as a fixed thread count; ``None`` if unset, empty or ``auto``."""
    value = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    if value.lower() in ("", "auto"):
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{THREADS_ENV}={value!r}: use a whole number of threads (1, 2, ...) or "
                         f"'auto' (leave it unset) to let the engine choose")
    return int(value)


def _busy_seconds(cpus: set[int]) -> float | None:
    """CPU seconds all processes have spent on ``cpus`` (``/proc/stat``); ``None`` off Linux."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    busy = 0
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
            busy += user + nice + system + irq + softirq + steal  # steal: other VMs had the core
    return busy / os.sysconf("SC_CLK_TCK")


class ThreadGovernor:
    """Torch threads = usable cores − cores other processes kept busy, rounded (at least 1).

    Each :meth:`update` measures the interval since the previous one: CPU time of every process
    on this process's cores (``/proc/stat``) minus this process's own. Beside two busy
    neighbours on 2 cores, a step took 6.8 s on 2 threads spinning 10,000 times (40 s with
    libgomp's default spin) against 5.2 s on 1: the threads wait for each other at every
    parallel region while a neighbour holds a core. So the governor runs 1 thread until the
    neighbours stop (the kit's contention benchmark has the figures). The
    ceiling is ``GCL4SR_THREADS`` if set (then nothing adapts), else the thread count in
    effect at the first update (``OMP_NUM_THREADS``, ``torch.set_num_threads``).
    """

    def __init__(self) -> None:
        self.fixed = requested_threads()
        self.cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
        self.ceiling: int | None = None
        self._last: tuple[float, float, float] | None = None

    def _sample(self) -> tuple[float, float, float] | None:
        busy = _busy_seconds(self.cpus)
        if busy is None:
            return None
        own = os.times()
        return time.monotonic(), busy, own.user + own.system

    def others_busy_cores(self) -> float | None:
        """Cores other processes used since the last call (``None``: too soon, or not Linux)."""
        sample = self._sample()
        if sample is None or (self._last and sample[0] - self._last[0] < _MIN_SAMPLE_SECONDS):
            return None
        last, self._last = self._last, sample
        if last is None:
            return None
        wall, busy, own = (now - before for now, before in zip(sample, last, strict=True))
        return max(0.0, (busy - own) / wall)

    def update(self) -> int:
        """Set and return torch's thread count for the next step."""
        if self.fixed is not None:
            if torch.get_num_threads() != self.fixed:
                torch.set_num_threads(self.fixed)
            return self.fixed
        if self.ceiling is None:
            self.ceiling = min(torch.get_num_threads(), len(self.cpus) or 1)
        others = self.others_busy_cores()
        if others is not None:
            free = int(len(self.cpus) - others + 0.5)
            threads = max(1, min(self.ceiling, free))
            if threads != torch.get_num_threads():
                torch.set_num_threads(threads)
        return torch.get_num_threads()
