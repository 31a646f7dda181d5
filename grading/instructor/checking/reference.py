"""Reference answers to the notebook's TODOs. Instructor side only: never shipped.

These are what the hidden checks compare student functions against, and what
instructor tools (benchmarks, the reference run) use in place of student code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor
from torch_geometric.data import Data

from gcl4sr_helpers.data import read_item_sequences
from gcl4sr_helpers.losses import gaussian_kernel

WINDOWS = (1, 2, 3)


def witg_from_sequences(sequences: Sequence[Sequence[int]], num_nodes: int) -> Data:
    """Vectorised WITG: ``w(s[t], s[t+k]) += 1/k`` both ways for ``k`` in 1..3.

    Weights are accumulated as integer multiples of ``1/6`` and divided once, so the
    result is exact up to the final float32 cast.
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter((i for s in sequences for i in s), dtype=np.int64, count=int(lengths.sum()))
    seq_id = np.repeat(np.arange(len(sequences)), lengths)
    sources, targets, sixths = [], [], []
    for k in WINDOWS:
        same = seq_id[:-k] == seq_id[k:]
        head, tail = flat[:-k][same], flat[k:][same]
        sources += [head, tail]
        targets += [tail, head]
        sixths += [np.full(2 * head.size, 6 // k, dtype=np.int64)]
    adj = sp.coo_matrix(
        (np.concatenate(sixths), (np.concatenate(sources), np.concatenate(targets))),
        shape=(num_nodes, num_nodes)).tocsr()
    adj.sum_duplicates()
    src = np.repeat(np.arange(num_nodes), np.diff(adj.indptr))
    weight = adj.data / 6.0
    order = np.lexsort((adj.indices, -weight, src))
    return Data(
        x=torch.arange(num_nodes, dtype=torch.long).view(-1, 1),
        edge_index=torch.from_numpy(np.stack([src[order], adj.indices[order].astype(np.int64)])),
        edge_attr=torch.from_numpy(weight[order].astype(np.float32)).view(-1, 1),
    )


def build_weighted_item_transition_graph(train_sequence_file: str) -> Data:
    """Reference for TODO 1, with the notebook's signature."""
    sequences, num_nodes = read_item_sequences(train_sequence_file)
    return witg_from_sequences(sequences, num_nodes)


def recall_at_k(actual: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]],
                topk: int) -> float:
    """Reference for TODO 2a: mean ``|truth ∩ top-k| / |truth|`` over users with a truth."""
    scores = [len(set(truth) & set(list(pred)[:topk])) / len(set(truth))
              for truth, pred in zip(actual, predicted, strict=False) if len(truth)]
    return sum(scores) / len(scores) if scores else 0.0


def ndcg_at_k(actual: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]],
              topk: int) -> float:
    """Reference for TODO 2b: mean ``DCG@k / IDCG@k`` with the ideal list capped at ``|truth|``."""
    scores = []
    for truth, pred in zip(actual, predicted, strict=False):
        relevant = set(truth)
        if not relevant:
            continue
        dcg = sum(1.0 / math.log2(rank + 2)
                  for rank, item in enumerate(list(pred)[:topk]) if item in relevant)
        idcg = sum(1.0 / math.log2(rank + 2) for rank in range(min(topk, len(relevant))))
        scores.append(dcg / idcg)
    return sum(scores) / len(scores) if scores else 0.0


def mmd_loss(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
             fix_sigma: float | None = None) -> Tensor:
    """Reference for TODO 3: ``mean(K_xx + K_yy - K_xy - K_yx)`` over ``[B, D]`` batches."""
    batch = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    xx, yy = kernels[:batch, :batch], kernels[batch:, batch:]
    xy, yx = kernels[:batch, batch:], kernels[batch:, :batch]
    return torch.mean(xx + yy - xy - yx)
