"""Uniform multi-hop neighbour sampling in plain PyTorch (CPU and CUDA).

Drop-in for what ``torch_geometric.loader.NeighborSampler`` yields, without
torch-sparse: ``(batch_size, n_id, adjs)`` with one ``Adj(edge_index, e_id, size)``
per hop, outermost hop first, and the batch nodes (duplicates kept) at the front
of ``n_id``. Gathers use ``index_select``: on CPU about 3x faster than ``tensor[index]``
for the long index tensors of a sampled hop.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .graph import CSRAdjacency


class Adj(NamedTuple):
    """One sampled hop: ``edge_index`` is ``[source; target]`` in local ids."""

    edge_index: Tensor
    e_id: Tensor
    size: tuple[int, int]


def floyd_sample(degree: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
    """Draw ``k`` distinct offsets in ``[0, degree[i])`` per row, uniformly (Floyd's algorithm).

    Every row needs ``degree[i] >= k``. Returns a ``[len(degree), k]`` long tensor. Step ``j``
    draws ``t`` in ``[0, degree - k + j]`` and keeps it, or its upper bound if ``t`` was
    already picked. All steps' draws are made at once (the same random numbers as one
    ``rand`` per step); only the duplicate checks run step by step.
    """
    n, device = degree.numel(), degree.device
    upper = degree - k + torch.arange(k, device=device).unsqueeze(1)  # [k, n], inclusive
    u = torch.rand(k, n, generator=generator, device=device, dtype=torch.float64)
    draws = torch.minimum((u * (upper + 1)).long(), upper)
    picks = torch.empty(k, n, dtype=torch.long, device=device)
    for step in range(k):
        taken = (picks[:step] == draws[step]).any(0)
        picks[step] = torch.where(taken, upper[step], draws[step])
    return picks.T


def sample_neighbors(adj: CSRAdjacency, nodes: Tensor, k: int,
                     generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Sample up to ``k`` distinct incoming neighbours of every entry of ``nodes``.

    Returns ``(row, source, edge_id)``: ``row`` indexes ``nodes``, ``source`` is the
    global neighbour id and ``edge_id`` the edge's position in the graph's edge list.
    """
    start = adj.rowptr.index_select(0, nodes)
    degree = adj.rowptr.index_select(0, nodes + 1) - start
    counts = torch.clamp(degree, max=k)
    seg_start = torch.cumsum(counts, 0) - counts
    row = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), counts)
    offset = torch.arange(row.numel(), device=nodes.device) - seg_start.index_select(0, row)
    crowded = (degree > k).nonzero().squeeze(1)
    if crowded.numel():
        first = seg_start.index_select(0, crowded).unsqueeze(1)
        slots = first + torch.arange(k, device=nodes.device)
        offset[slots.flatten()] = floyd_sample(degree.index_select(0, crowded), k,
                                               generator).flatten()
    index = start.index_select(0, row) + offset
    return row, adj.col.index_select(0, index), adj.edge_id.index_select(0, index)


def _relabel(n_id: Tensor, source: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Map global ``source`` ids to local ids, appending unseen nodes to ``n_id``."""
    local = torch.full((num_nodes,), -1, dtype=torch.long, device=n_id.device)
    positions = torch.arange(n_id.numel(), device=n_id.device)
    local.scatter_reduce_(0, n_id, positions, reduce="amax")  # last occurrence, as torch-sparse
    unseen = torch.zeros(num_nodes, dtype=torch.bool, device=n_id.device)
    unseen[source] = True
    unseen[n_id] = False
    new = unseen.nonzero().squeeze(1)  # the sources not in n_id, ascending (no sort)
    local[new] = torch.arange(n_id.numel(), n_id.numel() + new.numel(), device=n_id.device)
    return torch.cat([n_id, new]), local.index_select(0, source)


class NeighborSampler:
    """Uniform sampling without replacement of ``sizes[h]`` neighbours per hop."""

    def __init__(self, adj: CSRAdjacency, sizes: list[int]) -> None:
        self.adj = adj
        self.sizes = list(sizes)
        self.num_nodes = adj.rowptr.numel() - 1

    def sample(self, batch: Tensor,
               generator: torch.Generator | None = None) -> tuple[int, Tensor, list[Adj]]:
        """Return ``(batch_size, n_id, adjs)`` with ``adjs`` ordered outermost hop first."""
        n_id, adjs = batch, []
        for k in self.sizes:
            targets = n_id.numel()
            row, source, e_id = sample_neighbors(self.adj, n_id, k, generator)
            n_id, local_source = _relabel(n_id, source, self.num_nodes)
            adjs.append(Adj(torch.stack([local_source, row]), e_id, (n_id.numel(), targets)))
        return batch.numel(), n_id, adjs[::-1]
