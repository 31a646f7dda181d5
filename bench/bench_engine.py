"""Engine benchmark on full Home: training step, epoch projection, peak RSS, evaluation, WITG.

    python -m bench.bench_engine [--data-dir DIR] [--batches 12]
                                 [--out bench/results/engine.json] [--device cuda]

Each mode runs in its own subprocess so that its peak RSS is its own. On CUDA the timings
wait for the device, and the peak of GPU memory allocated is reported too.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from .course_step import course_run, timed_step  # first: the package before torch

# isort: split
import torch

from gcl4sr_helpers.data import load_data, read_item_sequences
from grading.instructor.checking import reference

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
WARMUP = 2


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def elapsed(start: float, device: str) -> float:
    """Seconds since ``start`` once the device has finished its queued work."""
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure_mode(data_dir: str | None, legacy: bool, batches: int, device: str) -> dict:
    """Median seconds per training batch at batch 2048, test evaluation time, peak RSS."""
    run = course_run(data_dir, legacy, device)
    loader = run.train_loader
    times = [timed_step(run.trainer, batch)
             for batch in islice(loader, batches + WARMUP)][WARMUP:]
    train_rss = peak_rss_mb()
    start = time.perf_counter()
    metrics = run.test(reference.recall_at_k, reference.ndcg_at_k)
    eval_seconds = elapsed(start, device)
    per_batch = statistics.median(times)
    gpu = {"gpu": torch.cuda.get_device_name(),
           "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20} if device == "cuda" else {}
    return {
        "legacy": legacy,
        "device": device,
        **gpu,
        "batches_timed": len(times),
        "seconds_per_batch_median": per_batch,
        "seconds_per_batch_all": times,
        "batches_per_epoch": len(loader),
        "projected_epoch_minutes": per_batch * len(loader) / 60,
        "peak_rss_mb_training": train_rss,
        "peak_rss_mb_with_evaluation": peak_rss_mb(),
        "eval_seconds": eval_seconds,
        "eval_users": len(run.data.splits["test"]),
        "untrained_test_metrics": metrics,
    }


def measure_witg(data_dir: str | None, repeats: int = 5) -> dict:
    data = load_data(data_dir)
    path = str(data.train_sequence_file)
    total, build = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        sequences, num_nodes = read_item_sequences(path)
        parsed = time.perf_counter()
        graph = reference.witg_from_sequences(sequences, num_nodes)
        build.append(time.perf_counter() - parsed)
        total.append(time.perf_counter() - start)
    return {"nodes": graph.num_nodes, "edges": graph.num_edges,
            "build_seconds_median": statistics.median(build),
            "read_and_build_seconds_median": statistics.median(total)}


# Issue 17's quiet-machine targets for the default mode: an epoch of at most 3 minutes on the
# bench machine (172 GFLOP/s sgemm), i.e. at most 180 sgemm-seconds (s per batch x GFLOP/s)
# of work per batch, so that other machines compare by ratio; peak RSS; test evaluation.
TARGETS = {"sgemm_seconds_per_batch": 180.0, "peak_rss_mb": 1.5 * 1024, "eval_seconds": 10.0}


def against_targets(mode: dict, gflops: float) -> dict:
    """Each target beside the default mode's measured figure, and whether it is met."""
    measured = {"sgemm_seconds_per_batch": mode["seconds_per_batch_median"] * gflops,
                "peak_rss_mb": mode["peak_rss_mb_with_evaluation"],
                "eval_seconds": mode["eval_seconds"]}
    return {name: {"target": TARGETS[name], "measured": round(value, 2),
                   "met": value <= TARGETS[name]} for name, value in measured.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "engine.json"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--mode", choices=["default", "legacy"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:  # child process: one mode, result on stdout
        print(json.dumps(measure_mode(args.data_dir, args.mode == "legacy", args.batches,
                                      args.device)))
        return
    result = {
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "python": platform.python_version(), "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M"), "calibration": sgemm_gflops(),
        "witg_reference": measure_witg(args.data_dir),
    }
    for mode in ("default", "legacy"):
        cmd = [sys.executable, "-m", __spec__.name, "--mode", mode,
               "--batches", str(args.batches), "--device", args.device]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
        result[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{mode}: {result[mode]['seconds_per_batch_median']:.2f} s/batch, "
              f"epoch ~{result[mode]['projected_epoch_minutes']:.1f} min, "
              f"peak RSS {result[mode]['peak_rss_mb_with_evaluation']:.0f} MB, "
              f"eval {result[mode]['eval_seconds']:.1f} s")
    result["targets"] = against_targets(result["default"],
                                        result["calibration"]["sgemm_gflops"])
    print(f"targets: {result['targets']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"WITG: {result['witg_reference']}")


if __name__ == "__main__":
    main()
