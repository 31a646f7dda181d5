"""Where a course training step's time goes: forward and backward operators, the optimiser.

    python -m bench.profile_step [--data-dir DIR] [--steps 2] [--top 25]
                                 [--out bench/results/step_profile.json]

Profiles ``Trainer.train_step`` (default mode, batch 2048, full Home) with torch.profiler after
two warm-up steps. Each top-level operator counts once, with its children: forward operators
under their own name, backward ones under their autograd node, the optimiser under
``Optimizer.step``. Profiling slows small operators down, so the shares matter more than the
seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from .course_step import course_run, timed_step  # first: the package before torch

# isort: split
import torch
from torch.profiler import ProfilerActivity, profile

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
BACKWARD = "autograd::engine::evaluate_function: "


def is_operator(event) -> bool:
    """A torch operator or the optimiser step, not another profiler annotation."""
    return "::" in event.name or event.name.startswith("Optimizer.")


def top_level_operator(event) -> bool:
    """An operator with no operator above it."""
    parent = event.cpu_parent
    while parent is not None:
        if is_operator(parent):
            return False
        parent = parent.cpu_parent
    return is_operator(event)


def owner(event) -> str:
    """The part of the step a top-level profiler event belongs to."""
    if event.name.startswith(BACKWARD):
        return "backward: " + event.name[len(BACKWARD):]
    if event.name.startswith("Optimizer."):
        return "optimizer: " + event.name
    return "forward: " + event.name


def profile_steps(data_dir: str | None, steps: int, top: int) -> dict:
    """Seconds per step by part and the top operators, over ``steps`` profiled steps."""
    run = course_run(data_dir)
    trainer, stream = run.trainer, iter(run.train_loader)
    unprofiled = [timed_step(trainer, next(stream)) for _ in range(2)][-1]
    calibration = sgemm_gflops()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            timed_step(trainer, next(stream))
        wall = (time.perf_counter() - start) / steps
    parts, kinds = Counter(), Counter()
    for event in prof.events():
        if top_level_operator(event):
            name = owner(event)
            parts[name] += event.cpu_time_total / 1e6 / steps
            kinds[name.split(":")[0]] += event.cpu_time_total / 1e6 / steps
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top)
    return {"threads": torch.get_num_threads(), "calibration": calibration,
            "seconds_per_step_unprofiled": unprofiled, "seconds_per_step_profiled": wall,
            "seconds_by_kind": {k: round(v, 3) for k, v in kinds.most_common()},
            "seconds_by_part": {k: round(v, 3) for k, v in parts.most_common(top)},
            "operators_by_self_time": table.splitlines()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "step_profile.json"))
    args = parser.parse_args()
    result = profile_steps(args.data_dir, args.steps, args.top)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for name, seconds in result["seconds_by_part"].items():
        print(f"{seconds:7.3f} s  {name}")


if __name__ == "__main__":
    main()
