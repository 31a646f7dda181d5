"""Full GCL4SR training with the reference TODO answers (instructor side), resumable.

    python -m grading.train --run-dir runs/default [--data-dir DIR] [--file NAME] [--legacy]
                            [--lam1 0] [--lam2 0]
                            [--unweighted-graph] [--time-budget-minutes 100] [--device cuda]

Re-running the same command resumes from ``RUN_DIR/last.pth``. Copy the run folder's JSON
files and ``curve.png`` to ``bench/results/full/<name>/``, never ``state.json`` or the
checkpoints; ``python -m bench.full_table`` tabulates the runs there.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gcl4sr_helpers  # noqa: F401  (before torch: it sets libgomp's wait policy)

# isort: split
import torch

from gcl4sr_helpers.data import load_data
from grading.instructor.builders.fulltrain import (
    FullConfig,
    plot_learning_curve,
    read_log,
    train_full,
)
from grading.instructor.checking import reference
from grading.instructor.common.options import add_dataset_options


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, type=Path)
    add_dataset_options(parser)
    parser.add_argument("--max-users", type=int,
                        help="train on a deterministic subset of this many users (smoke runs)")
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--lam1", type=float, default=FullConfig.lam1)
    parser.add_argument("--lam2", type=float, default=FullConfig.lam2)
    parser.add_argument("--unweighted-graph", action="store_true",
                        help="ablation: every WITG edge weight set to 1")
    parser.add_argument("--epochs", type=int, default=FullConfig.epochs)
    parser.add_argument("--seed", type=int, default=FullConfig.seed)
    parser.add_argument("--time-budget-minutes", type=float)
    parser.add_argument("--device")
    args = parser.parse_args(argv)

    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "cli.json").write_text(json.dumps(
        {k: v for k, v in vars(args).items() if k not in ("run_dir", "data_dir")}, indent=2))
    data = load_data(args.data_dir, max_users=args.max_users, file=args.file,
                     cache_dir=args.run_dir / "subset" if args.max_users else None)
    print(data.describe())
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    if args.unweighted_graph:
        graph.edge_attr = torch.ones_like(graph.edge_attr)
    config = FullConfig(epochs=args.epochs, seed=args.seed, legacy=args.legacy,
                        lam1=args.lam1, lam2=args.lam2)
    state = train_full(data, graph, reference.mmd_loss, reference.recall_at_k,
                       reference.ndcg_at_k, config, args.run_dir, device=args.device,
                       time_budget_minutes=args.time_budget_minutes)
    if read_log(args.run_dir):
        plot_learning_curve(args.run_dir, data.dataset.name)
    print(json.dumps(state, indent=2))
    return state


if __name__ == "__main__":
    main()
