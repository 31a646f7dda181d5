"""Neighbour sampling law and PyG-compatible structure."""

import itertools
from collections import Counter

import pytest
import torch

from gcl4sr_helpers.graph import incoming_csr
from gcl4sr_helpers.sampler import NeighborSampler, floyd_sample, sample_neighbors

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA"))]


def random_graph(num_nodes=60, num_edges=900, seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(1, num_nodes, (num_edges,), generator=g)
    dst = torch.randint(1, num_nodes, (num_edges,), generator=g)
    keep = src != dst
    pairs = torch.unique(torch.stack([src[keep], dst[keep]]), dim=1)
    return torch.cat([pairs, pairs.flip(0)], 1).unique(dim=1), num_nodes


def test_floyd_sample_is_uniform_over_subsets():
    gen = torch.Generator().manual_seed(1)
    draws = floyd_sample(torch.full((30000,), 5), 2, gen)
    assert (draws[:, 0] != draws[:, 1]).all()
    assert draws.min() >= 0 and draws.max() <= 4
    counts = Counter(tuple(sorted(row)) for row in draws.tolist())
    assert set(counts) == set(itertools.combinations(range(5), 2))
    expected = 30000 / 10
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 27.9  # 9 degrees of freedom, p = 0.001


@pytest.mark.parametrize("device", DEVICES)
def test_sample_neighbors_law(device):
    edge_index, n = random_graph()
    adj = incoming_csr(edge_index.to(device), n)
    nodes = torch.arange(n, device=device).repeat(3)
    row, source, e_id = sample_neighbors(adj, nodes, 7,
                                         torch.Generator(device).manual_seed(0))
    assert all(t.device.type == device for t in (*adj, row, source, e_id))
    nodes, row, source, e_id = nodes.cpu(), row.cpu(), source.cpu(), e_id.cpu()
    degree = torch.bincount(edge_index[1], minlength=n)
    edges = set(map(tuple, edge_index.T.tolist()))
    for r in range(nodes.numel()):
        picked = source[row == r].tolist()
        assert len(picked) == min(int(degree[nodes[r]]), 7)
        assert len(set(picked)) == len(picked), "neighbours must be distinct"
        assert all((s, int(nodes[r])) in edges for s in picked)
    assert torch.equal(edge_index[0, e_id], source)
    assert torch.equal(edge_index[1, e_id], nodes[row])


@pytest.mark.parametrize("device", DEVICES)
def test_sample_neighbors_is_roughly_uniform(device):
    edge_index = torch.stack([torch.arange(1, 11), torch.zeros(10, dtype=torch.long)])
    adj = incoming_csr(edge_index.to(device), 11)
    _, source, _ = sample_neighbors(adj, torch.zeros(5000, dtype=torch.long, device=device), 3,
                                    torch.Generator(device).manual_seed(3))
    counts = torch.bincount(source.cpu(), minlength=11)[1:].float()
    expected = 5000 * 3 / 10
    assert ((counts - expected).abs() / expected).max() < 0.08


def test_sampler_returns_pyg_layout():
    edge_index, n = random_graph(seed=4)
    sampler = NeighborSampler(incoming_csr(edge_index, n), [5, 4])
    batch = torch.tensor([3, 0, 3, 17, 0, 42])
    batch_size, n_id, adjs = sampler.sample(batch, torch.Generator().manual_seed(0))
    assert batch_size == 6 and torch.equal(n_id[:6], batch)
    (outer, inner) = adjs
    assert inner.size[1] == 6 and inner.size[0] == outer.size[1]
    assert outer.size[0] == n_id.numel()
    for adj in adjs:
        src, dst = adj.edge_index
        assert src.max() < adj.size[0] and dst.max() < adj.size[1]
        assert torch.equal(edge_index[0, adj.e_id], n_id[src])
        assert torch.equal(edge_index[1, adj.e_id], n_id[dst])
        assert (dst[1:] >= dst[:-1]).all(), "edges are grouped by target"
    assert (inner.edge_index[1] == 1).sum() == 0, "padding node 0 is isolated here"


def test_sampler_is_repeatable_with_a_seeded_generator():
    edge_index, n = random_graph(seed=5)
    sampler = NeighborSampler(incoming_csr(edge_index, n), [20, 20])
    batch = torch.arange(n)
    first = sampler.sample(batch, torch.Generator().manual_seed(9))
    second = sampler.sample(batch, torch.Generator().manual_seed(9))
    assert torch.equal(first[1], second[1])
    pairs = zip(first[2], second[2], strict=True)
    assert all(torch.equal(a.edge_index, b.edge_index) for a, b in pairs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_sampler_runs_on_cuda():
    edge_index, n = random_graph(seed=6)
    sampler = NeighborSampler(incoming_csr(edge_index.cuda(), n), [5, 5])
    _, n_id, adjs = sampler.sample(torch.arange(n, device="cuda"),
                                   torch.Generator("cuda").manual_seed(0))
    assert n_id.is_cuda and all(a.edge_index.is_cuda for a in adjs)
