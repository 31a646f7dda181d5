"""Figures of the course notebook (matplotlib; labels in English so no font is needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .data import SequenceData


def plot_sequence_lengths(data: SequenceData, bins: int = 60) -> Figure:
    """Histogram of user sequence lengths (log count axis) with mean and median."""
    lengths = np.fromiter(map(len, data.sequences), dtype=np.int64, count=len(data.sequences))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(lengths, bins=bins, color="#4C72B0")
    ax.set_yscale("log")
    ax.axvline(lengths.mean(), color="#C44E52", ls="--", label=f"mean {lengths.mean():.2f}")
    median = float(np.median(lengths))
    ax.axvline(median, color="#55A868", ls=":", label=f"median {median:.0f}")
    ax.set_xlabel("items per user (sequence length)")
    ax.set_ylabel("users (log scale)")
    ax.set_title(f"{data.dataset.name}: sequence lengths of {len(lengths):,} users")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_graph_distribution(graph) -> Figure:
    """Node degree (log-log) and edge weight distributions of a WITG."""
    src = graph.edge_index[0].cpu().numpy()
    weight = graph.edge_attr.detach().cpu().double().view(-1).numpy()
    degree = np.bincount(src, minlength=int(graph.num_nodes))[1:]  # node 0 is padding
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    positive = degree[degree > 0]
    if positive.size:
        edges = np.unique(np.logspace(0, math.log10(positive.max() + 1), 40).astype(int))
        left.hist(positive, bins=edges, color="#4C72B0")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("degree (neighbours per item)")
    left.set_ylabel("items")
    left.set_title(f"Degree: mean {degree.mean():.1f}, max {degree.max(initial=0):,}")
    sixths = np.rint(weight * 6).astype(np.int64)
    values, counts = np.unique(sixths[sixths <= 36], return_counts=True)
    right.bar(values / 6.0, counts, width=0.12, color="#DD8452")
    right.set_yscale("log")
    right.set_xlabel("edge weight (shown up to 6)")
    right.set_ylabel("directed edges (log scale)")
    right.set_title(f"Edge weights: {weight.size:,} edges, max {weight.max(initial=0):.2f}")
    fig.tight_layout()
    return fig


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or values.size < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def plot_losses(history: Sequence[Sequence[float]], baselines: Mapping[str, float] | None = None,
                smooth: int = 10) -> Figure:
    """Per-batch ``(main, gcl, mmd)`` losses; ``baselines`` draws no-learning levels."""
    values = np.asarray(history, dtype=np.float64).reshape(-1, 3)
    baselines = baselines or {}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    window = max(1, min(smooth, values.shape[0] // 5))
    for ax, column, name in zip(axes, values.T, ("main", "gcl", "mmd"), strict=True):
        steps = np.arange(1, column.size + 1)
        ax.plot(steps, column, color="#4C72B0", alpha=0.35 if window > 1 else 1.0,
                marker="o" if column.size < 20 else None, label="per batch")
        if window > 1:
            ax.plot(steps[window - 1:], _smooth(column, window), color="#4C72B0",
                    label=f"moving average ({window})")
        if name in baselines:
            ax.axhline(baselines[name], color="#C44E52", ls="--", label="no learning")
        ax.set_title(f"{name} loss (epoch average {column.mean():.4f})")
        ax.set_xlabel("batch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_metric_comparison(rows: Mapping[str, Mapping[str, float]], dataset: str) -> Figure:
    """Grouped bars of Recall@k / NDCG@k for each named result on the named dataset."""
    names = list(rows)
    metrics = list(next(iter(rows.values())))
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(metrics))
    for i, name in enumerate(names):
        ax.bar(x + i * width - 0.4 + width / 2, [rows[name][m] for m in metrics], width,
               label=name)
    ax.set_xticks(x, metrics)
    ax.set_ylabel("score")
    ax.set_title(f"Test metrics on {dataset} (full ranking)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
