"""Square sgemm speed of this machine, stored beside every benchmark figure.

    python -m bench.calibration   # prints the JSON

Benchmark figures from different machines compare as ratios to this number. The figures in
issue 17's terms: 1.05 s per batch at 172 GFLOP/s is 180 "sgemm-seconds" (GFLOP at that
speed) of work per batch.
"""

from __future__ import annotations

import json
import os
import time

import torch


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
        return {"sgemm_gflops": round(2 * n**3 / best / 1e9, 1), "n": n,
                "threads": torch.get_num_threads(),
                "loadavg_before": [round(x, 2) for x in loadavg]}
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    print(json.dumps(sgemm_gflops()))
