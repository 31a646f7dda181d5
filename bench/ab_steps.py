"""Two versions of engine code on alternate course steps of one process: a paired comparison.

    python -m bench.ab_steps --base COMMIT --swap gcl4sr_helpers.losses:_MultiKernel
                             [--swap MODULE:NAME ...] [--pairs 10] [--data-dir DIR]
                             [--out bench/results/ab_NAME.json]

``NAME`` may be dotted, such as ``encoders:Dropout.draw``: a class's method is swapped on the
class itself, so the model's existing modules use it.

This machine's speed drifts by a quarter within an hour, so two processes timed one after the
other can differ more than two versions do. Here the course run (``bench.course_step``) trains
in one process; before each step, every ``--swap``'d attribute is set to the ``--base``
commit's version (even steps) or the working tree's (odd steps). The figure is the median,
over pairs of consecutive steps, of (working tree − base) seconds. Consecutive steps train on
different batches, so a pair's difference holds that of the batches too; the median over
pairs takes that out. Only code that computes the same function can be swapped like this.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
import types
from itertools import islice
from pathlib import Path

from .course_step import course_run, timed_step  # first: the package before torch

# isort: split
from .calibration import cpu_model, sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
WARMUP = 2


def base_module(name: str, commit: str) -> types.ModuleType:
    """Module ``name`` as it was at ``commit``, loaded beside the current one (same package)."""
    path = Path(*name.split(".")).with_suffix(".py")
    source = subprocess.run(["git", "show", f"{commit}:{path.as_posix()}"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout
    package, _, leaf = name.rpartition(".")
    module = types.ModuleType(f"{package}._base_{leaf}")
    module.__package__ = package
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)  # noqa: S102
    return module


def _owner(root: object, dotted: str) -> object:
    for part in filter(None, dotted.split(".")):
        root = getattr(root, part)
    return root


def versions(swaps: list[str], commit: str) -> list[tuple[object, str, object, object]]:
    """``(owner, attribute, base value, current value)`` for every ``MODULE:NAME``."""
    found = []
    for swap in swaps:
        name, _, dotted = swap.partition(":")
        path, _, attribute = dotted.rpartition(".")
        owner = _owner(importlib.import_module(name), path)
        base = _owner(base_module(name, commit), path)
        found.append((owner, attribute, getattr(base, attribute), getattr(owner, attribute)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare with")
    parser.add_argument("--swap", action="append", required=True, metavar="MODULE:NAME")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    swapped = versions(args.swap, args.base)
    before = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpu": cpu_model(),
              "calibration": sgemm_gflops(), "load_before": os.getloadavg()[0]}
    run = course_run(args.data_dir)
    times: dict[str, list[float]] = {"base": [], "current": []}
    batches = islice(run.train_loader, 2 * args.pairs + WARMUP)
    for step, batch in enumerate(batches):
        which = "base" if step % 2 == 0 else "current"
        for owner, attribute, base, current in swapped:
            setattr(owner, attribute, base if which == "base" else current)
        seconds = timed_step(run.trainer, batch)
        if step >= WARMUP:
            times[which].append(seconds)
    differences = [b - a for a, b in zip(times["base"], times["current"], strict=True)]
    result = {**before, "base": args.base, "swapped": args.swap,
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                       capture_output=True, text=True).stdout.strip(),
              "load_after": os.getloadavg()[0], "seconds": times,
              "median_base": statistics.median(times["base"]),
              "median_current": statistics.median(times["current"]),
              "paired_difference_median": statistics.median(differences)}
    print(json.dumps({k: v for k, v in result.items() if k != "seconds"}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
