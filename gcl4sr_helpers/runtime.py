"""Device choice, seeding and CPU allocator tuning."""

from __future__ import annotations

import ctypes
import os
import random
import sys

import numpy as np
import torch

_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


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
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))
