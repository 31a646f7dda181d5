"""Square sgemm speed of this machine, stored beside every benchmark figure.

    python -m bench.calibration   # prints the JSON

Benchmark figures from different machines compare as ratios to this number. The figures in
issue 17's terms: 1.05 s per batch at 172 GFLOP/s is 180 "sgemm-seconds" (GFLOP at that
speed) of work per batch.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's model name and whether it has AVX-512 (``/proc/cpuinfo``; elsewhere the
    platform's processor)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                 if line.startswith("model name")), platform.machine())
    return f"{name} (AVX-512)" if " avx512f" in info else name


def sgemm_gflops(n: int = 2048, repeats: int = 5) -> dict:
    """Best of ``repeats`` float32 ``[n, n] @ [n, n]`` products (2n³ flops) on all cores."""
    threads, loadavg = torch.get_num_threads(), os.getloadavg()
    torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else os.cpu_count() or 1)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b  # warm-up: thread pool and pages
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
        return {"cpu": cpu_model(), "sgemm_gflops": round(2 * n**3 / best / 1e9, 1), "n": n,
                "threads": torch.get_num_threads(),
                "loadavg_before": [round(x, 2) for x in loadavg]}
    finally:
        torch.set_num_threads(threads)


def copy_bandwidth_gbs(megabytes: int = 256, repeats: int = 5) -> float:
    """Best memory bandwidth of a float32 ``dst.copy_(src)`` of ``megabytes`` on all cores:
    bytes read plus bytes written, per second (GB/s)."""
    src = torch.ones(megabytes << 18)
    dst = torch.empty_like(src)
    dst.copy_(src)  # warm-up: pages
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - start)
    return round(2 * src.numel() * 4 / best / 1e9, 1)


if __name__ == "__main__":
    print(json.dumps({**sgemm_gflops(), "copy_gbs": copy_bandwidth_gbs()}))
