"""Full GCL4SR training with the reference TODO answers (instructor side), resumable.

    python -m grading.train --run-dir runs/default [--legacy] [--lam1 0] [--lam2 0]
                            [--unweighted-graph] [--time-budget-minutes 100] [--device cuda]

Re-running the same command resumes from ``RUN_DIR/last.pth``. Commit the run folder's
JSON files and ``curve.png``, never its checkpoints; ``bench/full_table.py`` tabulates the
runs under ``bench/results/full/``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from gcl4sr_helpers.data import load_data  # noqa: E402
from gcl4sr_helpers.fulltrain import FullConfig, read_log, train_full  # noqa: E402

from . import reference  # noqa: E402


def plot_learning_curve(run_dir: Path) -> Path:
    """Losses and validation metrics per epoch, saved as ``curve.png``."""
    log = read_log(run_dir)
    epochs = [line["epoch"] for line in log]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("main", "gcl", "mmd"):
        left.plot(epochs, [line[key] for line in log], label=key)
    left.set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log")
    for key in ("valid_Recall@20", "valid_NDCG@20", "valid_Recall@10", "valid_NDCG@10"):
        right.plot(epochs, [line[key] for line in log], label=key.removeprefix("valid_"))
    right.set(xlabel="epoch", ylabel="validation metric")
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(run_dir.name)
    fig.tight_layout()
    out = run_dir / "curve.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--data-dir")
    parser.add_argument("--max-users", type=int,
                        help="train on a deterministic subset of this many users (smoke runs)")
    parser.add_argument("--legacy", action="store_true")
    parser.add_argument("--lam1", type=float, default=1.0)
    parser.add_argument("--lam2", type=float, default=0.1)
    parser.add_argument("--unweighted-graph", action="store_true",
                        help="ablation: every WITG edge weight set to 1")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--time-budget-minutes", type=float)
    parser.add_argument("--device")
    args = parser.parse_args(argv)

    args.run_dir.mkdir(parents=True, exist_ok=True)
    (args.run_dir / "cli.json").write_text(json.dumps(
        {k: v for k, v in vars(args).items() if k not in ("run_dir", "data_dir")}, indent=2))
    data = load_data(args.data_dir, max_users=args.max_users,
                     cache_dir=args.run_dir / "subset" if args.max_users else None)
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    if args.unweighted_graph:
        graph.edge_attr = torch.ones_like(graph.edge_attr)
    config = FullConfig(epochs=args.epochs, seed=args.seed, legacy=args.legacy,
                        lam1=args.lam1, lam2=args.lam2)
    state = train_full(data, graph, reference.mmd_loss, reference.recall_at_k,
                       reference.ndcg_at_k, config, args.run_dir, device=args.device,
                       time_budget_minutes=args.time_budget_minutes)
    if read_log(args.run_dir):
        plot_learning_curve(args.run_dir)
    print(json.dumps(state, indent=2))
    return state


if __name__ == "__main__":
    main()
