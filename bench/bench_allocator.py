"""glibc allocator settings against CPU time and memory of a training step (full Home, B = 2048).

    python -m bench.bench_allocator [--data-dir DIR] [--steps 10] [--only SETTING] [--out FILE]

Each setting runs in its own single-threaded subprocess. Per step it records user and system
CPU seconds (page faults show up as system time), peak RSS, glibc's own account of the main
heap between steps (bytes in use, bytes free but kept) and the most heap in use during the
step (sampled every millisecond). CPU seconds, unlike wall time, stay meaningful on a machine
shared with other jobs. Settings marked "THP" also run with
``GLIBC_TUNABLES=glibc.malloc.hugetlb=1`` (transparent huge pages for malloc, glibc >= 2.35).
Writes bench/results/allocator.json by default. Linux with glibc only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MB = 1 << 20
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4


def _mmap_above(size: int) -> dict[int, int]:
    """mallopt options: blocks of ``size`` bytes or more are mmapped, the heap top trimmed."""
    return {M_MMAP_THRESHOLD: size, M_MMAP_MAX: 65536, M_TRIM_THRESHOLD: 128 * 1024}


SETTINGS = {
    "kit (heap only, trim at 1 GB)": None,
    "glibc default": {},
    "mmap >= 1 MB": _mmap_above(1 * MB),
    "mmap >= 16 MB": _mmap_above(16 * MB),
    "mmap >= 32 MB": _mmap_above(32 * MB),
    "mmap >= 64 MB": _mmap_above(64 * MB),
    "kit + malloc_trim every step": 1,  # int: trim after every that many steps
    "kit + malloc_trim every 8 steps": 8,
}
THP = ", THP"  # the same options, run with THP_ENV
SETTINGS.update({name + THP: SETTINGS[name]
                 for name in ("glibc default", "mmap >= 16 MB", "mmap >= 1 MB")})
THP_ENV = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
                .split()]


class _HeapPeak:
    """Most bytes glibc has handed out (heap and mmapped chunks), sampled every millisecond."""

    def __init__(self, libc: ctypes.CDLL) -> None:
        self.libc, self.peak, self.running = libc, 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            info = self.libc.mallinfo2()
            self.peak = max(self.peak, info.uordblks + info.hblkhd)
            time.sleep(0.001)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak


def measure(setting: str, data_dir: str | None, steps: int) -> dict:
    """Train ``steps`` steps of the fixed model under ``setting``; per-step figures."""
    import torch

    from gcl4sr_helpers import trainer as trainer_module

    from .course_step import course_run

    torch.set_num_threads(1)
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    options = SETTINGS[setting]
    if isinstance(options, dict):  # replace the kit's tuning before any training allocation
        trainer_module.tune_cpu_allocator = lambda: False
        for option, value in options.items():
            libc.mallopt(option, value)
    run = course_run(data_dir)
    trainer, loader = run.trainer, run.train_loader
    rows = []
    for step, batch in zip(range(steps), loader, strict=False):
        peak = _HeapPeak(libc)
        before = resource.getrusage(resource.RUSAGE_SELF)
        trainer.train_step(*batch)
        if isinstance(options, int) and (step + 1) % options == 0:
            libc.malloc_trim(0)
        after, heap = resource.getrusage(resource.RUSAGE_SELF), libc.mallinfo2()
        rows.append({"heap_peak_in_use_mb": peak.stop() / MB,
                     "user_s": after.ru_utime - before.ru_utime,
                     "sys_s": after.ru_stime - before.ru_stime,
                     "peak_rss_mb": after.ru_maxrss / 1024,
                     "heap_in_use_mb": heap.uordblks / MB, "heap_free_kept_mb": heap.fordblks / MB})
    late = rows[2:]  # the first steps pay one-off page faults
    return {"setting": setting, "steps": rows,
            "user_s_mean": statistics.mean(r["user_s"] for r in late),
            "sys_s_mean": statistics.mean(r["sys_s"] for r in late),
            "heap_peak_in_use_mb": max(r["heap_peak_in_use_mb"] for r in rows),
            "peak_rss_mb": rows[-1]["peak_rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "allocator.json"))
    parser.add_argument("--only", action="append", choices=list(SETTINGS), metavar="SETTING",
                        help="run just this setting (repeatable; default: all)")
    parser.add_argument("--setting", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setting:  # child process: one setting, result on stdout
        print(json.dumps(measure(args.setting, args.data_dir, args.steps)))
        return
    from .calibration import sgemm_gflops  # parent only: torch loads after mallopt in children

    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "threads": 1,
              "load_average_at_start": os.getloadavg()[0], "calibration": sgemm_gflops(),
              "settings": []}
    for setting in args.only or SETTINGS:
        cmd = [sys.executable, "-m", __spec__.name, "--setting", setting,
               "--steps", str(args.steps)]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        env = {**os.environ, **(THP_ENV if setting.endswith(THP) else {})}
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env,
                             cwd=REPO)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        result["settings"].append(row)
        print(f"{setting:32s} user {row['user_s_mean']:.2f} s  sys {row['sys_s_mean']:.2f} s  "
              f"peak RSS {row['peak_rss_mb']:.0f} MB  "
              f"heap peak in use {row['heap_peak_in_use_mb']:.0f} MB", flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
