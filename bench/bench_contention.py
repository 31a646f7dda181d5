"""The course step beside busy neighbours: seconds per batch for each thread setting and load.

    python -m bench.bench_contention [--data-dir DIR] [--batches 3] [--loads 0 1 2]
                                     [--settings auto passive-2 ...]
                                     [--out bench/results/contention.json] [--table]

Each setting runs in its own process (libgomp reads its wait policy when torch loads it), on
the same course batches as ``bench.bench_engine``. For each load it starts that many burners
(``bench.burner``), and before each figure records the load average, the sgemm calibration and
the cores other processes kept busy during the figure (burners included), so that figures
taken while other jobs shared the machine can be recognised. The setting's process and its
burners run in a session of their own at nice -10 (the process's nice, and its autogroup's where
the kernel groups sessions; root only): they compete with each other as equals, while other
jobs on a shared machine weigh about a ninth as much.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .course_step import course_run, timed_step  # first: the package before torch

# isort: split
import torch

from gcl4sr_helpers.runtime import ThreadGovernor

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]

# setting: (libgomp's wait settings: OMP_WAIT_POLICY / GOMP_SPINCOUNT, None for the package's
#           default, {} for libgomp's own (torch imported before the package);
#           GCL4SR_THREADS, "" for the engine's automatic choice)
SETTINGS = {
    "omp-default-2": ({}, "2"),
    "passive-2": ({"OMP_WAIT_POLICY": "PASSIVE"}, "2"),
    "passive-1": ({"OMP_WAIT_POLICY": "PASSIVE"}, "1"),
    "passive-auto": ({"OMP_WAIT_POLICY": "PASSIVE"}, ""),
    "passive-2/1": ({"OMP_WAIT_POLICY": "PASSIVE"}, ""),
    "omp-default-auto": ({}, ""),
    "spin-1k-2": ({"GOMP_SPINCOUNT": "1000"}, "2"),
    "spin-3k-2": ({"GOMP_SPINCOUNT": "3000"}, "2"),
    "spin-10k-2": ({"GOMP_SPINCOUNT": "10000"}, "2"),
    "spin-10k-1": ({"GOMP_SPINCOUNT": "10000"}, "1"),
    "spin-30k-2": ({"GOMP_SPINCOUNT": "30000"}, "2"),
    "spin-10k-auto": ({"GOMP_SPINCOUNT": "10000"}, ""),
    "auto": (None, ""),
}
ALTERNATE = "passive-2/1"  # 2 and 1 threads by turns (no governor): both see the same load
QUIET_CORES = 0.3  # other processes' busy cores below which the machine counts as quiet
QUIET_WAIT_S = 30.0
NICE = -10


def others_busy(seconds: float) -> float:
    """Cores other processes kept busy over the next ``seconds``."""
    probe = ThreadGovernor()
    probe.others_busy_cores()
    time.sleep(seconds)
    return probe.others_busy_cores() or 0.0


def wait_for_quiet() -> float:
    """Wait (at most ``QUIET_WAIT_S``) until other processes leave the cores; last reading."""
    deadline = time.monotonic() + QUIET_WAIT_S
    busy = others_busy(2.0)
    while busy > QUIET_CORES and time.monotonic() < deadline:
        busy = others_busy(2.0)
    return busy


def step_threads(step: int, alternate: bool) -> int | None:
    """Threads to set before a timed step: 2, 1, 2, ... when alternating, else the engine's."""
    return (2 if step % 2 == 0 else 1) if alternate else None


def measure_setting(data_dir: str | None, loads: list[int], batches: int,
                    alternate: bool) -> list[dict]:
    """One figure per load: median seconds per course batch beside ``load`` burners."""
    run = course_run(data_dir)
    trainer, stream = run.trainer, iter(run.train_loader)
    if alternate:
        trainer.threads = None
        batches *= 2
    figures = []
    for index, load in enumerate(loads):
        before = {"others_busy_cores_before": round(wait_for_quiet(), 2),
                  "calibration": sgemm_gflops()}
        burners = [subprocess.Popen([sys.executable, "-m", "bench.burner"], cwd=REPO)
                   for _ in range(load)]
        try:
            time.sleep(0.5)
            for _ in range(2 if index == 0 else 1):  # warm-up; the governor sees the load
                timed_step(trainer, next(stream))
            probe = ThreadGovernor()
            probe.others_busy_cores()
            times, threads = [], []
            for step in range(batches):
                if step_threads(step, alternate):
                    torch.set_num_threads(step_threads(step, alternate))
                times.append(timed_step(trainer, next(stream)))
                threads.append(torch.get_num_threads())
            during = probe.others_busy_cores()
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        during = during or 0.0
        figures.append({"burners": load, **before,
                        "others_busy_cores_during": round(during, 2),
                        "external_busy_cores": round(max(0.0, during - load), 2),
                        "threads_used": threads, "seconds_per_batch_all": times,
                        "seconds_per_batch_median": statistics.median(times),
                        **({"median_2_threads": statistics.median(times[0::2]),
                            "median_1_thread": statistics.median(times[1::2])}
                           if alternate else {})})
        print(json.dumps(figures[-1]), file=sys.stderr)
    return figures


def run_setting(name: str, args: argparse.Namespace) -> list[dict]:
    """The setting's figures from a fresh process, with the wait policy libgomp applied."""
    wait, threads = SETTINGS[name]
    child = [__spec__.name, "--child", *(["--alternate"] if name == ALTERNATE else []),
             "--batches", str(args.batches),
             "--loads", *map(str, args.loads)]
    if args.data_dir:
        child += ["--data-dir", args.data_dir]
    preload = "import torch; " if wait is not None else ""
    command = ["nice", "-n", str(NICE), sys.executable, "-c",
               f"{preload}import runpy, sys; sys.argv = {child!r}; "
               f"runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"]
    env = {**os.environ, "GCL4SR_THREADS": threads, "OMP_DISPLAY_ENV": "VERBOSE"}
    for key in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(key, None)
    env.update(wait or {})
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, start_new_session=True, cwd=REPO)
    autogroup = Path(f"/proc/{process.pid}/autogroup")
    if autogroup.exists():
        autogroup.write_text(str(NICE))
    stdout, stderr = process.communicate()
    out = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    if out.returncode:
        raise RuntimeError(f"setting {name} failed:\n{out.stderr[-3000:]}")
    applied = dict(re.findall(r"^\s+(OMP_WAIT_POLICY|GOMP_SPINCOUNT) = '([^']*)'",
                              out.stderr, re.MULTILINE))
    return [{"setting": name, "GCL4SR_THREADS": threads or "auto", "libgomp": applied,
             "batches_timed": args.batches, **figure}
            for figure in json.loads(out.stdout.strip().splitlines()[-1])]


def merge(kept: list[dict], new: list[dict]) -> list[dict]:
    """Per setting and load, the attempt taken with the least external load (attempts counted)."""
    best = {(f["setting"], f["burners"]): f for f in kept}
    for figure in new:
        key = (figure["setting"], figure["burners"])
        old = best.get(key)
        figure["attempts"] = (old["attempts"] if old else 0) + 1
        if old is None or figure["external_busy_cores"] < old["external_busy_cores"]:
            best[key] = figure
        else:
            old["attempts"] = figure["attempts"]
    order = list(SETTINGS)
    return sorted(best.values(), key=lambda f: (order.index(f["setting"]), f["burners"]))


def table(figures: list[dict]) -> str:
    """Markdown rows: setting × burners, s/batch, threads, sgemm, external load."""
    rows = ["| setting | burners | s per batch | threads | sgemm GFLOP/s | load avg (1 min) "
            "| other jobs' cores before / during |", "|---|---|---|---|---|---|---|"]
    for f in figures:
        seconds = (f"{f['median_2_threads']:.2f} / {f['median_1_thread']:.2f}"
                   if f["setting"] == ALTERNATE else f"{f['seconds_per_batch_median']:.2f}")
        rows.append(f"| {f['setting']} | {f['burners']} | {seconds} | "
                    f"{','.join(map(str, f['threads_used']))} | "
                    f"{f['calibration']['sgemm_gflops']:.0f} | "
                    f"{f['calibration']['loadavg_before'][0]:.1f} | "
                    f"{f['others_busy_cores_before']:.1f} / {f['external_busy_cores']:.1f} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--loads", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "contention.json"))
    parser.add_argument("--table", action="store_true", help="print the stored figures' table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--alternate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.table:
        print(table(json.loads(Path(args.out).read_text())["figures"]))
        return
    if args.child:
        print(json.dumps(measure_setting(args.data_dir, args.loads, args.batches,
                                         args.alternate)))
        return
    out = Path(args.out)
    kept = json.loads(out.read_text())["figures"] if out.exists() else []
    for name in args.settings:
        figures = run_setting(name, args)
        for figure in figures:
            print(f"{name:>14} × {figure['burners']} burners: "
                  f"{figure['seconds_per_batch_median']:.2f} s/batch "
                  f"(threads {figure['threads_used']}, sgemm "
                  f"{figure['calibration']['sgemm_gflops']} GFLOP/s, others busy "
                  f"{figure['others_busy_cores_before']} → {figure['others_busy_cores_during']})")
        kept = merge(kept, figures)
        result = {"torch": torch.__version__, "python": platform.python_version(),
                  "cpus": len(os.sched_getaffinity(0)), "date": time.strftime("%Y-%m-%d %H:%M"),
                  "figures": kept}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
