"""``legacy`` keeps the original course code's GNN: only the innermost hop counts.

The original ``gnn_encode`` samples two hops for every flattened entry (padding and
duplicates included) and restarts every hop from the raw sampled embeddings, so the outer
hop's result is thrown away. The legacy model samples and encodes only the inner hop. The
rest of the original forward pass (padded tensors, fixed gates, padding item 0 as a class,
the NT-Xent with its mask, the MMD over all 50 positions) is written out in
:mod:`gcl4sr_helpers.readable_model`, which ``tests/test_readable_model.py`` checks against
the engine in legacy mode.
"""

import torch

from gcl4sr_helpers import readable_model
from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.graph import CSRAdjacency
from gcl4sr_helpers.model import GCL4SR
from gcl4sr_helpers.sampler import NeighborSampler
from grading.instructor.checking.reference import mmd_loss


def original_gnn_encode(model, items, generator):
    """The original ``gnn_encode``: 2 hops sampled, every hop restarts from ``x_all``."""
    adj = CSRAdjacency(model.graph_rowptr, model.graph_col, model.graph_edge_id)
    _, n_id, adjs = NeighborSampler(adj, [20, 20]).sample(items, generator)
    x_all = model.item_embeddings(n_id)
    gnn = model.global_gnn
    for i, (edge_index, e_id, size) in enumerate(adjs):
        x = gnn.gcn(x_all, edge_index, model.graph_weight[e_id])
        x = gnn.convs[i]((x, x[: size[1]]), edge_index)
    return x


def test_legacy_view_and_gradients_equal_the_original_gnn(small_data, small_graph):
    torch.manual_seed(0)
    model = GCL4SR(small_data.num_users, small_data.num_items, small_graph, mmd_loss,
                   legacy=True).eval()
    _, inputs, _ = SequenceDataset(small_data.splits["train"])[torch.arange(96)]
    assert (inputs == 0).any()

    ours = readable_model.global_view(model, inputs, torch.Generator().manual_seed(5))
    theirs = original_gnn_encode(model, inputs.flatten(), torch.Generator().manual_seed(5))
    torch.testing.assert_close(ours.flatten(0, 1), theirs, rtol=1e-5, atol=1e-6)

    params = [model.item_embeddings.weight, *model.global_gnn.parameters()]
    weights = torch.randn_like(theirs)  # a fixed random direction for the gradient
    got = torch.autograd.grad((ours.flatten(0, 1) * weights).sum(), params, allow_unused=True)
    want = torch.autograd.grad((theirs * weights).sum(), params, allow_unused=True)
    for a, b in zip(got, want, strict=True):
        if a is None or b is None:  # the outer hop: unused by both
            assert (a is None or not a.any()) and (b is None or not b.any())
            continue
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
