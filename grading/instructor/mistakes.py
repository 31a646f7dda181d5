"""The typical mistakes of the three formula TODOs, each a deliberately wrong variant of the
reference answer; :mod:`.check_constants` stores what each gives, so that a student's check
can say "your value is what forgetting X gives". A variant's kind is the key of its hint in
``gcl4sr_helpers.checks``; any other kind (``answer``) computes the reference's value.

Recall@k (``_recall_variant``):

* ``precision``: hits / k instead of hits / |truth|;
* ``capped_denominator``: hits / min(k, |truth|);
* ``empty_as_zero``: users with no truth counted as 0 instead of skipped;
* ``no_cut``: the whole ranked list instead of its top k.

NDCG@k (``_ndcg_variant``; the discount of 1-based rank r is 1 / log2(r + 1)):

* ``rank_from_zero`` / ``rank_plus_two``: the rank off by one (1 / log2(r), 1 / log2(r + 2));
* ``natural_log_dcg``: a natural log in the DCG, base 2 in the IDCG;
* ``idcg_k`` / ``idcg_truth``: the ideal list of k or of |truth| hits, not min(k, |truth|);
* ``no_idcg``: DCG not divided by the IDCG;
* ``empty_as_zero``, ``no_cut``: as for Recall.

MMD (``_mmd_variant``; the answer is mean(K_xx + K_yy − K_xy − K_yx) over the B x B blocks):

* ``sign``: the opposite sign; ``no_cross``: mean(K_xx + K_yy); ``cross_only``:
  −mean(K_xy + K_yx);
* ``sum``: a sum instead of the mean; ``sqrt``: the square root of the answer;
* ``unbiased``: the diagonals of K_xx and K_yy left out of their means;
* ``ignores_kwargs``: kernel_mul, kernel_num, fix_sigma not passed to the kernel;
* ``swapped_blocks``: the blocks mixed up, mean(K_xx + K_xy − K_yy − K_yx).

WITG (``_witg_adjacency``; the answer adds 1/k to w(a, b) and w(b, a) for every pair
``(s[t], s[t + k])``, k = 1, 2, 3):

* ``one_direction``: only w(a, b); ``overwrite``: the weight set, not added up;
* ``weight_one`` / ``weight_k``: weight 1 or k instead of 1/k;
* ``windows_1_2`` / ``windows_1_4``: k up to 2 or 4;
* ``last_pair_missed``: each sequence's last pair of every window left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from gcl4sr_helpers.losses import gaussian_kernel

# --------------------------------------------------------------------------------------
# Recall@k and NDCG@k
# --------------------------------------------------------------------------------------

def _users(actual, predicted, skip_empty: bool = True) -> Iterator[tuple[set, list]]:
    for truth, pred in zip(actual, predicted, strict=False):
        if skip_empty and not truth:
            continue
        yield set(truth), list(pred)


def _mean(scores: list[float]) -> float:
    return sum(scores) / len(scores) if scores else 0.0


def _recall_variant(kind: str) -> Callable:
    def recall(actual, predicted, k):
        skip = kind != "empty_as_zero"
        scores = []
        for truth, pred in _users(actual, predicted, skip):
            top = set(pred if kind == "no_cut" else pred[:k])
            size = {"precision": k, "capped_denominator": min(k, len(truth))}.get(kind, len(truth))
            scores.append(len(truth & top) / size if size else 0.0)
        return _mean(scores)
    return recall


def _ndcg_variant(kind: str) -> Callable:
    def discount(rank: int, natural: bool = False) -> float:  # rank counts from 1
        position = {"rank_from_zero": rank, "rank_plus_two": rank + 2}.get(kind, rank + 1)
        return 1.0 / (math.log(position) if natural else math.log2(position))

    def ndcg(actual, predicted, k):
        skip = kind != "empty_as_zero"
        scores = []
        for truth, pred in _users(actual, predicted, skip):
            if not truth:
                scores.append(0.0)
                continue
            ranked = pred if kind == "no_cut" else pred[:k]
            dcg = sum(discount(r, kind == "natural_log_dcg")
                      for r, item in enumerate(ranked, 1) if item in truth)
            ideal = {"idcg_k": k, "idcg_truth": len(truth)}.get(kind, min(k, len(truth)))
            idcg = sum(discount(r) for r in range(1, ideal + 1))
            scores.append(dcg if kind == "no_idcg" else dcg / idcg)
        return _mean(scores)
    return ndcg


# --------------------------------------------------------------------------------------
# MMD
# --------------------------------------------------------------------------------------

def _blocks(source: Tensor, target: Tensor, **kwargs) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    batch = source.shape[0]
    k = gaussian_kernel(source, target, **kwargs)
    return k[:batch, :batch], k[batch:, batch:], k[:batch, batch:], k[batch:, :batch]


def _mmd_variant(kind: str) -> Callable:
    def mmd(source, target, **kwargs):
        xx, yy, xy, yx = _blocks(source, target, **({} if kind == "ignores_kwargs" else kwargs))
        if kind == "sign":
            return torch.mean(xy + yx - xx - yy)
        if kind == "no_cross":
            return torch.mean(xx + yy)
        if kind == "cross_only":
            return -torch.mean(xy + yx)
        if kind == "sum":
            return torch.sum(xx + yy - xy - yx)
        if kind == "sqrt":
            return torch.sqrt(torch.mean(xx + yy - xy - yx))
        if kind == "unbiased":
            b = xx.shape[0]
            inner = (xx.sum() - xx.diagonal().sum() + yy.sum() - yy.diagonal().sum())
            return inner / (b * (b - 1)) - torch.mean(xy + yx)
        if kind == "swapped_blocks":
            return torch.mean(xx + xy - yy - yx)
        return torch.mean(xx + yy - xy - yx)
    return mmd


# --------------------------------------------------------------------------------------
# WITG
# --------------------------------------------------------------------------------------

def _witg_adjacency(sequences: Sequence[Sequence[int]], num_nodes: int,
                    kind: str = "answer") -> list[dict[int, float]]:
    """The adjacency a student-style loop builds, correctly (``answer``) or with one mistake.

    The loop order (sequence, then window, then position) is the course solution's: it
    decides the order of each node's neighbours in the graph, which the neighbour sampler
    (and so the training numbers) depends on.
    """
    windows = {"windows_1_2": (1, 2), "windows_1_4": (1, 2, 3, 4)}.get(kind, (1, 2, 3))
    adjacency: list[dict[int, float]] = [{} for _ in range(num_nodes)]
    for seq in sequences:
        for k in windows:
            weight = {"weight_one": 1.0, "weight_k": float(k)}.get(kind, 1.0 / k)
            stop = len(seq) - k - (1 if kind == "last_pair_missed" else 0)
            for t in range(max(stop, 0)):
                a, b = seq[t], seq[t + k]
                pairs = ((a, b),) if kind == "one_direction" else ((a, b), (b, a))
                for u, v in pairs:
                    adjacency[u][v] = weight if kind == "overwrite" else (
                        adjacency[u].get(v, 0.0) + weight)
    return adjacency


def _witg_variant_counts(sequences: Sequence[Sequence[int]], num_nodes: int,
                         kind: str) -> dict:
    """Directed edge count and total weight (in sixths) of one wrong way to build the WITG."""
    adjacency = _witg_adjacency(sequences, num_nodes, kind)
    weights = np.fromiter((w for row in adjacency for w in row.values()), dtype=np.float64)
    return {"edges": int(weights.size), "total_sixths": int(np.rint(weights * 6).sum())}
