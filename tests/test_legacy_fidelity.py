"""``legacy`` computes the original course code's losses and gradients, end to end.

The reference below follows the original notebook's forward pass line by line (PyG
``GCNConv``/``SAGEConv`` modules on a 2-hop sample of every flattened entry, padding and
duplicates included; each hop restarting from the raw embeddings; padded ``[B, L, d]``
tensors; the NT-Xent loss with its ``LARGE_NUM`` mask; the MMD over all 50 positions). It
runs in eval mode, so dropout is off and both computations see the same random draws.
"""

import numpy as np
import torch
import torch.nn.functional as F

from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.graph import CSRAdjacency
from gcl4sr_helpers.model import GCL4SR
from gcl4sr_helpers.sampler import NeighborSampler
from grading.reference import mmd_loss


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


def original_gcl_loss(hidden, temperature):
    batch = hidden.shape[0] // 2
    hidden = F.normalize(hidden, p=2, dim=-1)
    h1, h2 = hidden[:batch], hidden[batch:]
    labels = torch.arange(batch)
    masks = F.one_hot(torch.arange(batch), batch)
    logits_aa = h1 @ h1.T / temperature - masks * 1e9
    logits_bb = h2 @ h2.T / temperature - masks * 1e9
    logits_ab, logits_ba = h1 @ h2.T / temperature, h2 @ h1.T / temperature
    return (F.cross_entropy(torch.cat([logits_ab, logits_aa], 1), labels)
            + F.cross_entropy(torch.cat([logits_ba, logits_bb], 1), labels))


def original_losses(model, user_ids, inputs, targets, state_a, state_b):
    batch, length = inputs.shape
    seq = inputs.flatten()
    seq_mask = 1.0 - (inputs == 0).float().unsqueeze(-1)
    views = []
    for state in (state_a, state_b):
        generator = torch.Generator()
        generator.set_state(state)
        views.append(original_gnn_encode(model, seq, generator).view(batch, length, -1))
    local = torch.zeros(batch, length, model.item_embeddings.embedding_dim)
    local[inputs != 0] = model.item_encoder(inputs, model.item_embeddings)
    user_emb = model.user_embeddings(user_ids)
    gated = []
    for view in views:
        score = torch.sigmoid((view @ model.gate_item.unsqueeze(0)).squeeze(-1)
                              + user_emb @ model.gate_user)
        gated.append(view * score.unsqueeze(2))
    hidden = model.linear_transform(torch.cat([local, *gated], -1))

    pos_emb = model.position_embeddings.weight[:length].unsqueeze(0).repeat(batch, 1, 1)
    seq_hidden = (hidden * seq_mask).sum(-2) / seq_mask.sum(1)
    item_hidden = torch.tanh(torch.cat([pos_emb, hidden], -1) @ model.w_1)
    score = torch.sigmoid(model.linear_1(item_hidden)
                          + model.linear_2(seq_hidden.unsqueeze(-2).repeat(1, length, 1)))
    seq_out = ((score @ model.w_2) * seq_mask * hidden).sum(1)
    main = F.cross_entropy(seq_out @ model.item_embeddings.weight.T, targets)

    means = [(view * seq_mask).sum(1) / seq_mask.sum(1) for view in views]
    gcl = original_gcl_loss(torch.cat(means, 0), temperature=0.5)
    source = model.w_e(model.item_embeddings(inputs)).squeeze(-1)
    mmd = sum(mmd_loss(source, model.w_g(view).squeeze(-1)) for view in gated)
    return main + model.lam1 * gcl + model.lam2 * mmd, main, gcl, mmd


def inner_hop_states(model, inputs, seed):
    """Generator states before each view's sampling in the legacy model (inner hop only)."""
    adj = CSRAdjacency(model.graph_rowptr, model.graph_col, model.graph_edge_id)
    generator = torch.Generator().manual_seed(seed)
    real = inputs.flatten()[inputs.flatten() != 0]
    state_a = generator.get_state()
    NeighborSampler(adj, [20]).sample(real, generator)
    return state_a, generator.get_state()


def test_legacy_losses_and_gradients_equal_the_original_computation(small_data, small_graph):
    torch.manual_seed(0)
    model = GCL4SR(small_data.num_users, small_data.num_items, small_graph, mmd_loss,
                   legacy=True).eval()
    user_ids, inputs, targets = SequenceDataset(small_data.splits["train"])[torch.arange(96)]
    assert (inputs == 0).any() and len(np.unique(inputs[inputs != 0])) < (inputs != 0).sum()

    ours = model.calculate_loss(user_ids, inputs, targets, torch.Generator().manual_seed(5))
    theirs = original_losses(model, user_ids, inputs, targets,
                             *inner_hop_states(model, inputs, seed=5))
    for got, want, name in zip(ours, theirs, ("loss", "main", "gcl", "mmd"), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=name)

    params = [p for p in model.parameters() if p.requires_grad]
    got = torch.autograd.grad(ours[0], params, allow_unused=True)
    want = torch.autograd.grad(theirs[0], params, allow_unused=True)
    for (name, _), a, b in zip(model.named_parameters(), got, want, strict=True):
        if a is None or b is None:
            assert a is None or not a.any(), name  # unused on our side: zero on theirs
            assert b is None or not b.any(), name
            continue
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
