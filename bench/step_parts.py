"""Where a course training step's time goes, without a profiler: wall-clock seconds per part.

    python -m bench.step_parts [--data-dir DIR] [--steps 8] [--out bench/results/step_parts.json]

Under torch.profiler the step faults thousands of pages (the profiler's own allocations break
the C heap's reuse of the step's large blocks) and a 64 MB zero-fill takes over 100 ms instead
of 2-3 ms, so :mod:`bench.profile_step` inflates the parts that allocate large blocks, the MMD
most. This script times the same steps (batch 2048, full Home, 2 threads, after three warm-up
steps) by wrapping the model's methods with a clock: each forward part with the gradient it
computes at once (the losses do), then the backward pass and the optimiser together as what
is left of the step. Nothing is profiled; the wrappers cost microseconds per call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .course_step import timed_step, warmed_steps  # first: the package before torch

# isort: split
import torch

from gcl4sr_helpers import model, sampler

from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
WARMUP = 3
THREADS = 2  # the course step's thread count on a quiet 2-core machine
PARTS = {  # label: (owner, attribute); nested parts are subtracted from their enclosing one
    "sampler": (sampler.NeighborSampler, "sample"),
    "GNN views": (model.GCL4SR, "gnn_encode"),
    "gates and dropout draws": (model.GCL4SR, "_global_views"),
    "MMD targets": (model.GCL4SR, "_mmd_targets"),
    "MMD (students' loss and its gradient)": (model, "with_gradient_now"),
    "Transformer": (model.GCL4SR, "_with_local"),
    "pooling": (model.GCL4SR, "_pooled"),
    "main loss (with its gradient)": (model, "full_softmax_cross_entropy"),
    "contrastive loss (with its gradient)": (model, "gcl_loss"),
    "forward": (model.GCL4SR, "calculate_loss"),
}
INSIDE = {"GNN views": ["sampler"], "gates and dropout draws": ["GNN views"],
          "forward": ["gates and dropout draws", "MMD targets",
                      "MMD (students' loss and its gradient)", "Transformer", "pooling",
                      "main loss (with its gradient)", "contrastive loss (with its gradient)"]}
"""The parts called directly inside each part: its own time is its time less theirs."""


@contextmanager
def clocked(seconds: dict[str, float]) -> Iterator[None]:
    """Every :data:`PARTS` method adds its wall-clock time to ``seconds[label]`` meanwhile."""
    originals = {label: getattr(owner, name) for label, (owner, name) in PARTS.items()}
    for label, (owner, name) in PARTS.items():
        setattr(owner, name, _timed(originals[label], label, seconds))
    try:
        yield
    finally:
        for label, (owner, name) in PARTS.items():
            setattr(owner, name, originals[label])


def _timed(function: Callable, label: str, seconds: dict[str, float]) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - start
    return wrapper


def exclusive(seconds: dict[str, float], steps: int, step_seconds: float) -> dict[str, float]:
    """Seconds per step of each part without the parts inside it, and the step's remainder
    (the backward pass, the optimiser) as ``backward and optimiser``."""
    own = {label: (seconds[label] - sum(seconds[i] for i in INSIDE.get(label, []))) / steps
           for label in PARTS}
    own["forward (the rest)"] = own.pop("forward")
    own["backward and optimiser"] = step_seconds - seconds["forward"] / steps
    return {label: round(value, 4) for label, value in own.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "step_parts.json"))
    args = parser.parse_args()
    torch.set_num_threads(THREADS)  # before the calibration, which measures at this count
    machine = sgemm_gflops()
    trainer, stream = warmed_steps(args.data_dir, THREADS, WARMUP)
    seconds: dict[str, float] = defaultdict(float)
    with clocked(seconds):
        steps = [timed_step(trainer, next(stream)) for _ in range(args.steps)]
    mean = sum(steps) / len(steps)
    result = {"machine": machine, "steps": args.steps,
              "seconds_per_step": {"mean": round(mean, 3),
                                   "median": round(statistics.median(steps), 3)},
              "parts_seconds_per_step": exclusive(seconds, args.steps, mean)}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
