"""The default engine against an older commit's, run alternately on this machine: a ratio.

    python -m bench.engine_ratio [--base 2c28bd5] [--pairs 4] [--data-dir DIR]
                                 [--out bench/results/engine_ratio.json]

Issue 24 set its targets on the machine that measured the base commit (``ISSUE_BASELINE``).
Machines compare only through ratios taken in one run, and this machine's speed drifts by a
quarter within an hour, so the base commit (checked out in a temporary git worktree) and the
working tree each run their own ``bench_engine`` in its default mode (12 course steps and the
test evaluation, one process each), alternately, ``--pairs`` times. The result holds every
run (with the machine's sgemm speed and load before it), the median over pairs of the
working tree's / the base's figure, and the issue machine's figures scaled by those ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
FIGURES = ("seconds_per_batch_median", "eval_seconds", "peak_rss_mb_with_evaluation")
ISSUE_BASELINE = {  # issue 24, measured at 2c28bd5 on its quiet 2-core machine (455 GFLOP/s)
    "commit": "2c28bd5", "seconds_per_batch_median": 1.64, "eval_seconds": 11.0}
ISSUE_TARGETS = {"seconds_per_batch_median": 1.05, "eval_seconds": 10.0}


def engine_command(tree: Path, data_dir: str | None) -> list[str]:
    """``bench_engine``'s default mode in ``tree`` (a script before ``bench`` was a package)."""
    entry = ["-m", "bench.bench_engine"] if (tree / "bench" / "__init__.py").exists() \
        else [str(tree / "bench" / "bench_engine.py")]
    return [sys.executable, *entry, "--mode", "default",
            *(["--data-dir", data_dir] if data_dir else [])]


def run_engine(tree: Path, data_dir: str | None) -> dict:
    """One default-mode run of ``tree``'s engine: its figures, the machine before it."""
    machine = sgemm_gflops()
    out = subprocess.run(engine_command(tree, data_dir), cwd=tree, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return {"time": time.strftime("%H:%M:%S"), "machine": machine,
            **{name: round(figures[name], 3) for name in FIGURES}}


def ratios(base: list[dict], head: list[dict]) -> dict:
    """Median over pairs of ``head / base`` for each figure."""
    pairs = list(zip(base, head, strict=True))
    return {name: round(statistics.median(h[name] / b[name] for b, h in pairs), 3)
            for name in FIGURES}


def projection(baseline: float, ratio: float, target: float) -> dict:
    """The issue machine's ``baseline`` figure scaled by ``ratio``, beside its ``target``."""
    projected = baseline * ratio
    return {"baseline": baseline, "projected": round(projected, 3), "target": target,
            "met": projected <= target}


def alternate(commit: str, pairs: int, data_dir: str | None) -> dict:
    """``pairs`` runs of ``commit`` (a temporary worktree) and of the working tree, alternated."""
    runs: dict[str, list[dict]] = {"base": [], "head": []}
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=REPO,
                       check=True, capture_output=True)
        try:
            for i in range(pairs):
                for side, where in (("base", tree), ("head", REPO)):
                    runs[side].append(run_engine(where, data_dir))
                    print(f"pair {i + 1} {side}: {runs[side][-1]['seconds_per_batch_median']:.3f}"
                          f" s/batch", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO,
                           check=False, capture_output=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default=ISSUE_BASELINE["commit"])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--data-dir")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "engine_ratio.json"))
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()
    runs = alternate(args.base, args.pairs, args.data_dir)
    ratio = ratios(runs["base"], runs["head"])
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "base": args.base, "head": head,
              "runs": runs, "ratio_head_to_base": ratio}
    if args.base.startswith(ISSUE_BASELINE["commit"]):
        result["issue_machine_projection"] = {
            name: projection(ISSUE_BASELINE[name], ratio[name], target)
            for name, target in ISSUE_TARGETS.items()}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in result if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
