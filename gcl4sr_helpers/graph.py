"""Graph utilities for the Weighted Item Transition Graph (WITG).

The WITG itself is a student exercise: this module only converts a finished
adjacency into PyG's ``Data`` layout and indexes a graph for sampling.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data


def convert_to_pyg_data(adjacency_list: list[dict[int, float]], num_nodes: int) -> Data:
    """Turn ``adj[src] = {dst: weight}`` into ``Data(x, edge_index, edge_attr)``.

    Same layout as the course notebook: ``x`` holds the node ids ``[N, 1]``,
    ``edge_index`` is ``[2, E]`` long, ``edge_attr`` is ``[E, 1]`` float32, and each
    source's neighbours are ordered by descending weight (ties keep insertion order).
    """
    sizes = (len(neighbours) for neighbours in adjacency_list)
    counts = np.fromiter(sizes, dtype=np.int64, count=len(adjacency_list))
    total = int(counts.sum())
    src = np.repeat(np.arange(len(adjacency_list), dtype=np.int64), counts)
    dst = np.fromiter((d for n in adjacency_list for d in n), dtype=np.int64, count=total)
    weight = np.fromiter((w for n in adjacency_list for w in n.values()), dtype=np.float64,
                         count=total)
    order = np.lexsort((np.arange(total), -weight, src))
    return Data(
        x=torch.arange(num_nodes, dtype=torch.long).view(-1, 1),
        edge_index=torch.from_numpy(np.stack([src[order], dst[order]])),
        edge_attr=torch.from_numpy(weight[order].astype(np.float32)).view(-1, 1),
    )


class CSRAdjacency(NamedTuple):
    """Incoming edges per node: sources of ``node`` are ``col[rowptr[node]:rowptr[node + 1]]``."""

    rowptr: Tensor
    col: Tensor
    edge_id: Tensor


def incoming_csr(edge_index: Tensor, num_nodes: int) -> CSRAdjacency:
    """Index ``edge_index`` by target node, keeping each edge's id into the original list.

    The index lives on ``edge_index``'s device.
    """
    target = edge_index[1]
    order = torch.argsort(target, stable=True)
    counts = torch.bincount(target, minlength=num_nodes)
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(counts, 0)
    return CSRAdjacency(rowptr, edge_index[0, order].contiguous(), order)
