"""Full-training results table and validation curves from the committed run folders.

    python -m bench.full_table [--data-dir DIR]

Reads every ``bench/results/full/<run>/`` (the result files of a ``python -m grading.train``
run, without its resume state), prints a markdown table (test metrics of each run's best
epoch, beside the paper's Table 2 and a most-popular baseline on the same test protocol) and
writes ``bench/results/full/table.md`` and ``bench/results/full/valid_curves.png``. A run
whose time budget ran out is reported as provisional: its row is the test score of its best
epoch so far.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from matplotlib.figure import Figure

from gcl4sr_helpers.baselines import most_popular_ranking
from gcl4sr_helpers.data import load_data
from gcl4sr_helpers.download import load_manifest
from gcl4sr_helpers.names import METRIC_NAMES
from gcl4sr_helpers.trainer import score_ranking
from grading.instructor.builders.fulltrain import read_log
from grading.instructor.checking.reference import ndcg_at_k, recall_at_k

REPO = Path(__file__).resolve().parents[1]
FULL = REPO / "bench" / "results" / "full"
ON_GPU = " on GPU"  # label suffix of runs made with --device cuda
PAPER_HOME = load_manifest()["paper"]["results"]  # the runs here are on Home


def describe(run_dir: Path) -> str:
    """A run's model and ablation, from the ``cli.json`` that ``grading.train`` writes."""
    cli = json.loads((run_dir / "cli.json").read_text())
    parts = ["legacy" if cli["legacy"] else "fixed (default)"]
    if cli["lam1"] != 1.0 or cli["lam2"] != 0.1:
        parts.append(f"λ1 = {cli['lam1']:g}, λ2 = {cli['lam2']:g}")
    if cli["unweighted_graph"]:
        parts.append("unweighted WITG")
    on_gpu = ON_GPU if (cli.get("device") or "cpu").startswith("cuda") else ""
    return "GCL4SR " + ", ".join(parts) + on_gpu


def run_rows(root: Path = FULL) -> list[dict]:
    """Every run folder under ``root`` that has a (final or provisional) ``result.json``."""
    rows = []
    for run_dir in sorted(p for p in root.iterdir() if (p / "result.json").exists()):
        result = json.loads((run_dir / "result.json").read_text())
        rows.append({"name": run_dir.name, "label": describe(run_dir), **result,
                     "log": read_log(run_dir)})
    return sorted(rows, key=lambda row: row["label"].endswith(ON_GPU))  # CPU runs first


def most_popular(data_dir: str | None) -> dict[str, float]:
    actual, predicted = most_popular_ranking(load_data(data_dir), topk=20)
    return score_ranking(actual, predicted, recall_at_k, ndcg_at_k)


def table(rows: list[dict], popular: dict[str, float]) -> str:
    """Markdown: the paper's Table 2, the most-popular baseline, then every run."""
    head = "| model | epochs run (best) | train h | status | " + " | ".join(METRIC_NAMES) + " |"
    lines = [head, "|---" * (len(METRIC_NAMES) + 4) + "|"]
    for name, scores in PAPER_HOME.items():
        lines.append(f"| paper: {name} | | | published | "
                     + " | ".join(f"{scores[k]:.4f}" for k in METRIC_NAMES) + " |")
    lines.append("| most popular (this protocol) | | | | "
                 + " | ".join(f"{popular[k]:.4f}" for k in METRIC_NAMES) + " |")
    for row in rows:
        status = "converged" if row["finished"] else "provisional (budget ended)"
        lines.append(f"| {row['label']} (`{row['name']}`) | {row['epochs_run']} "
                     f"({row['best_epoch'] + 1}) | {row['train_hours']:.2f} | {status} | "
                     + " | ".join(f"{row['test'][k]:.4f}" for k in METRIC_NAMES) + " |")
    return "\n".join(lines) + "\n"


def plot_curves(rows: list[dict], out: Path) -> None:
    """Validation NDCG@20 per epoch of every run, against the paper's test figure."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    colours: dict[str, str] = {}  # one colour per configuration; GPU runs dashed
    for row in rows:
        config = row["label"].removesuffix(ON_GPU)
        on_gpu = config != row["label"]
        ax.plot([line["epoch"] for line in row["log"]],
                [line["valid_NDCG@20"] for line in row["log"]],
                color=colours.setdefault(config, f"C{len(colours)}"),
                linestyle="--" if on_gpu else "-", marker="x" if on_gpu else "o",
                markersize=4, label=row["label"])
    ax.axhline(PAPER_HOME["GCL4SR"]["NDCG@20"], color="grey", linestyle="--",
               label="paper GCL4SR (test)")
    ax.set(xlabel="epoch", ylabel="validation NDCG@20", title="Full training on Home")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    rows = run_rows()
    markdown = table(rows, most_popular(args.data_dir))
    (FULL / "table.md").write_text(markdown)
    plot_curves(rows, FULL / "valid_curves.png")
    print(markdown)


if __name__ == "__main__":
    main()
