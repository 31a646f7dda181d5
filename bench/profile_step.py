"""Where a course training step's time goes, by part of the model, against this machine's floor.

    python -m bench.profile_step [--data-dir DIR] [--steps 3] [--threads 2 1] [--legacy]
                                 [--out bench/results/step_profile.json]

Profiles ``Trainer.train_step`` (batch 2048, full Home) with torch.profiler after two warm-up
steps and three unprofiled ones (their median is the unprofiled time), once per thread count.
Every top-level operator is credited to a part of the step
(:data:`gcl4sr_helpers.model.PARTS`, the ``record_function`` labels of the model): a forward
operator to the label around it, a backward node to the label of the forward operator that
made it (the same autograd sequence number), a recomputed forward (checkpoint) to its label,
the optimiser to ``optimizer``.

Beside each part: its matrix-product FLOPs (the profiler counts ``mm``/``addmm``/``bmm``;
sparse products (a few MFLOP), exponentials and element-wise work are not counted) and the bytes its
top-level operators read (the float32 sizes of their recorded inputs: a rough measure of
memory traffic that ignores outputs, temporaries and caches). The floor of a part is
``max(FLOPs / sgemm speed, bytes / copy bandwidth)``, both measured here
(:mod:`bench.calibration`). Profiling slows small operators down, so the shares matter more
than the seconds; and the profiler's own allocations make the step fault pages, so the parts
that allocate large blocks (the MMD's backward) are inflated most: :mod:`bench.step_parts`
times the parts without a profiler.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections import defaultdict
from pathlib import Path

from .course_step import timed_step, warmed_steps  # first: the package before torch

# isort: split
from torch.profiler import ProfilerActivity, profile

from gcl4sr_helpers.model import PARTS

from .calibration import copy_bandwidth_gbs, sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
BACKWARD = "autograd::engine::evaluate_function: "
LABEL = "gcl4sr: "
WARMUP = 2  # steps before the timed ones


def is_operator(event) -> bool:
    """A torch operator, an autograd node or the optimiser step, not a label."""
    return ("::" in event.name or event.name.startswith("Optimizer.")) \
        and not event.name.startswith(LABEL)


def ancestors(event):
    parent = event.cpu_parent
    while parent is not None:
        yield parent
        parent = parent.cpu_parent


def label_of(event) -> str | None:
    """The part named by the nearest label above ``event``."""
    return next((a.name[len(LABEL):] for a in ancestors(event) if a.name.startswith(LABEL)),
                None)


def top_level(event) -> bool:
    """An operator with no operator above it (labels do not count)."""
    return is_operator(event) and not any(is_operator(a) for a in ancestors(event))


def credit(event, forward_part: dict[int, str]) -> tuple[str, str]:
    """``(phase, part)`` of a top-level operator."""
    if event.name.startswith("Optimizer."):
        return "optimizer", "optimizer"
    if event.name.startswith(BACKWARD):
        return "backward", forward_part.get(event.sequence_nr, "other")
    return "forward", label_of(event) or "other"


def sparse(event) -> bool:
    """A sparse product (the profiler gives it its dense shape: counted as nothing)."""
    return "sparse" in event.name.lower()


def operator_bytes(event) -> int:
    """Float32 bytes of a top-level operator's inputs (shapes recorded by the profiler)."""
    if sparse(event):
        return 0
    return 4 * sum(math.prod(shape) for shape in event.input_shapes or [] if shape)


def subtree_flops(event) -> int:
    if sparse(event):
        return 0
    return (event.flops or 0) + sum(subtree_flops(child) for child in event.cpu_children)


def by_part(events, steps: int) -> dict[str, dict]:
    """Seconds per phase, FLOPs and bytes of every part, per step."""
    forward_part = {e.sequence_nr: label_of(e) for e in events
                    if e.sequence_nr >= 0 and not e.name.startswith(BACKWARD) and label_of(e)}
    table = defaultdict(lambda: {"forward_s": 0.0, "backward_s": 0.0, "optimizer_s": 0.0,
                                 "gflop": 0.0, "mbytes": 0.0})
    for event in events:
        if not top_level(event):
            continue
        phase, part = credit(event, forward_part)
        row = table[part]
        row[f"{phase}_s"] += event.cpu_time_total / 1e6 / steps
        row["gflop"] += subtree_flops(event) / 1e9 / steps
        row["mbytes"] += operator_bytes(event) / 1e6 / steps
    return table


def with_floor(table: dict[str, dict], gflops: float, gbs: float) -> dict[str, dict]:
    """Rounded rows in the order of :data:`PARTS`, each with its floor and total."""
    rows = {}
    for part in [*PARTS, "optimizer", "other"]:
        if part not in table:
            continue
        row = table[part]
        total = row["forward_s"] + row["backward_s"] + row["optimizer_s"]
        floor = max(row["gflop"] / gflops, row["mbytes"] / 1e3 / gbs)
        rows[part] = {**{k: round(v, 3) for k, v in row.items()}, "total_s": round(total, 3),
                      "floor_s": round(floor, 4)}
    return rows


def profile_steps(data_dir: str | None, steps: int, threads: int, legacy: bool) -> dict:
    """One thread count: seconds per step unprofiled and profiled, and the parts' table."""
    trainer, stream = warmed_steps(data_dir, threads, WARMUP, legacy)
    unprofiled = statistics.median([timed_step(trainer, next(stream)) for _ in range(3)])
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True,
                 with_flops=True) as prof:
        start = time.perf_counter()
        for _ in range(steps):
            timed_step(trainer, next(stream))
        wall = (time.perf_counter() - start) / steps
    return {"threads": threads, "seconds_per_step_unprofiled": round(unprofiled, 3),
            "seconds_per_step_profiled": round(wall, 3), "table": by_part(prof.events(), steps)}


def markdown(result: dict) -> str:
    """The parts' table of one thread count, as the bench README shows it."""
    lines = ["| part | forward s | backward s | share | GFLOP | MB touched | floor s |",
             "|---|---|---|---|---|---|---|"]
    total = sum(r["total_s"] for r in result["parts"].values())
    for part, r in result["parts"].items():
        lines.append(f"| {part} | {r['forward_s'] + r['optimizer_s']:.3f} | "
                     f"{r['backward_s']:.3f} | {r['total_s'] / total:.0%} | {r['gflop']:.2f} | "
                     f"{r['mbytes']:.0f} | {r['floor_s']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "step_profile.json"))
    args = parser.parse_args()
    machine = {**sgemm_gflops(), "copy_gbs": copy_bandwidth_gbs()}
    results = []
    for threads in args.threads:
        one = profile_steps(args.data_dir, args.steps, threads, args.legacy)
        speed = machine["sgemm_gflops"] * threads / machine["threads"]
        one["parts"] = with_floor(one.pop("table"), speed, machine["copy_gbs"])
        one["floor_s"] = round(sum(r["floor_s"] for r in one["parts"].values()), 3)
        results.append(one)
        print(f"{threads} thread(s): {one['seconds_per_step_unprofiled']} s per step "
              f"unprofiled, floor {one['floor_s']} s\n{markdown(one)}\n", flush=True)
    out = {"legacy": args.legacy, "machine": machine, "runs": results}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
