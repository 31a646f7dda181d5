"""Instructor's reference run: the course experiment with the reference TODO answers.

    python -m grading.reference_run [--data-dir DIR] [--file NAME] [--max-users N] [--legacy]
"""

from __future__ import annotations

import argparse
import json
import time

from gcl4sr_helpers.data import load_data
from gcl4sr_helpers.experiment import CourseConfig, run_course
from gcl4sr_helpers.names import LOSS_NAMES
from grading.instructor.checking import reference
from grading.instructor.common.options import add_dataset_options


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_options(parser)
    parser.add_argument("--max-users", type=int, help="train on a deterministic user subset")
    parser.add_argument("--max-batches", type=int, help="stop each epoch after N batches")
    parser.add_argument("--epochs", type=int, default=CourseConfig.epochs)
    parser.add_argument("--seed", type=int, default=CourseConfig.seed)
    parser.add_argument("--legacy", action="store_true", help="original code's semantics")
    parser.add_argument("--device", help="cuda, mps or cpu (default: best available)")
    parser.add_argument("--json", help="also write the result to this JSON file")
    args = parser.parse_args(argv)

    data = load_data(args.data_dir, max_users=args.max_users, file=args.file)
    start = time.perf_counter()
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    print(data.describe())
    print(f"data: {data.summary()}")
    print(f"WITG: {graph.num_nodes:,} nodes, {graph.num_edges:,} edges "
          f"({time.perf_counter() - start:.2f} s)")
    config = CourseConfig(epochs=args.epochs, seed=args.seed, legacy=args.legacy)
    run = run_course(data, graph, reference.mmd_loss, reference.recall_at_k,
                     reference.ndcg_at_k, config, device=args.device,
                     max_batches=args.max_batches)
    losses = dict(zip(LOSS_NAMES, run.losses, strict=True))
    print("losses (epoch average): " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()))
    print("test: " + "  ".join(f"{k} {v:.4f}" for k, v in run.metrics.items()))
    print(f"time: train {run.train_seconds:.1f} s, evaluation {run.eval_seconds:.1f} s")
    result = {"dataset": data.dataset.name, "losses": losses, "metrics": run.metrics,
              "train_seconds": run.train_seconds, "eval_seconds": run.eval_seconds,
              "config": run.config}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
