"""Peak RSS of the course run: one epoch on full Home at batch 2048, then the test evaluation.

    python -m bench.bench_epoch_memory [--data-dir DIR] [--out bench/results/epoch_memory.json]

Runs ``python -m grading.reference_run`` (the README's main job) in a subprocess and samples
its resident set size once a second. The peak of the training epoch and the peak of the
evaluation are reported apart: evaluation starts when the run's progress output first
shows "Evaluate".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]


def rss_mb(pid: int) -> int | None:
    """Current resident set size of ``pid`` in MB (None once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except FileNotFoundError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "epoch_memory.json"))
    args = parser.parse_args()
    command = ["-m", "grading.reference_run"]
    if args.data_dir:  # relative to the repository, where the run starts
        command += ["--data-dir", os.path.relpath(Path(args.data_dir).resolve(), REPO)]
    with tempfile.TemporaryDirectory() as tmp:
        log_path, result_path = Path(tmp) / "run.log", Path(tmp) / "result.json"
        start, samples, eval_start = time.monotonic(), [], None
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, *command, "--json", str(result_path)],
                                    cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            while proc.poll() is None:
                rss = rss_mb(proc.pid)
                if rss is not None:
                    samples.append((round(time.monotonic() - start, 1), rss))
                if eval_start is None and "Evaluate" in log_path.read_text(errors="replace"):
                    eval_start = samples[-1][0] if samples else 0.0
                time.sleep(1.0)
        if proc.returncode:
            sys.exit(f"reference run failed ({proc.returncode}):\n{log_path.read_text()[-2000:]}")
        run = json.loads(result_path.read_text())
    training = [rss for t, rss in samples if eval_start is None or t < eval_start]
    evaluation = [rss for t, rss in samples if eval_start is not None and t >= eval_start]
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": " ".join(command),
              "calibration": sgemm_gflops(),
              "peak_rss_mb_training": max(training),
              "peak_rss_mb_evaluation": max(evaluation, default=None),
              "train_seconds": run["train_seconds"], "eval_seconds": run["eval_seconds"],
              "losses": run["losses"], "metrics": run["metrics"], "rss_mb_per_second": samples}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"peak RSS: training {result['peak_rss_mb_training']} MB, "
          f"evaluation {result['peak_rss_mb_evaluation']} MB")


if __name__ == "__main__":
    main()
