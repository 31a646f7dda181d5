"""The fast encoders compute what PyG's and PyTorch's modules compute."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GCNConv, SAGEConv

from gcl4sr_helpers.encoders import (
    Dropout,
    EncoderLayer,
    GNNEncoder,
    SampledHop,
    SequenceEncoder,
    causal_padding_mask,
    sampled_gcn_sage,
    sampled_hops,
)
from gcl4sr_helpers.graph import CSRAdjacency, incoming_csr
from gcl4sr_helpers.normalize import unit_rows
from gcl4sr_helpers.sampler import NeighborSampler


def test_sampled_convolutions_equal_pyg_message_passing(small_graph):
    torch.manual_seed(0)
    gcn, sage = GCNConv(16, 16), SAGEConv(16, 16, normalize=True)
    sampler = NeighborSampler(incoming_csr(small_graph.edge_index, small_graph.num_nodes), [6, 4])
    batch = torch.randint(0, small_graph.num_nodes, (300,))
    _, n_id, adjs = sampler.sample(batch, torch.Generator().manual_seed(1))
    weight = small_graph.edge_attr.view(-1)
    x = torch.randn(n_id.numel(), 16, requires_grad=True)
    for adj in adjs:
        n_src, n_tgt = adj.size
        h = gcn(x[:n_src], adj.edge_index, weight[adj.e_id])
        want = sage((h, h[:n_tgt]), adj.edge_index)
        got = sampled_gcn_sage(gcn, sage, x, SampledHop(adj, weight[adj.e_id]))
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        grad_got = torch.autograd.grad(got.square().sum(), x)[0]
        grad_want = torch.autograd.grad(want.square().sum(), x)[0]
        torch.testing.assert_close(grad_got, grad_want, rtol=1e-4, atol=1e-6)


def copy_layer(ours: EncoderLayer, theirs: nn.TransformerEncoderLayer) -> None:
    with torch.no_grad():
        ours.in_proj_weight.copy_(theirs.self_attn.in_proj_weight)
        ours.in_proj_bias.copy_(theirs.self_attn.in_proj_bias)
        for name in ("linear1", "linear2", "norm1", "norm2"):
            getattr(ours, name).load_state_dict(getattr(theirs, name).state_dict())
        ours.out_proj.load_state_dict(theirs.self_attn.out_proj.state_dict())


def left_padded_batch(lengths, length=12, vocab=50, seed=0):
    gen = torch.Generator().manual_seed(seed)
    rows = [[0] * (length - n) + torch.randint(1, vocab, (n,), generator=gen).tolist()
            for n in lengths]
    return torch.tensor(rows)


def test_sequence_encoder_equals_pytorch_transformer_on_real_positions():
    torch.manual_seed(0)
    ours = SequenceEncoder(16, 2, 2, dropout=0.0).eval()
    layer = nn.TransformerEncoderLayer(16, 2, 64, 0.0, activation="gelu", batch_first=True)
    theirs = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).train()
    for mine, reference in zip(ours.layers, theirs.layers, strict=True):
        copy_layer(mine, reference)
    inputs = left_padded_batch([1, 2, 3, 5, 8, 12, 7, 4])
    embed = nn.Embedding(50, 16)
    real = inputs != 0
    got = ours(inputs, embed)
    normed = ours.layer_norm(embed(inputs))
    causal = torch.triu(torch.ones(12, 12, dtype=torch.bool), diagonal=1)
    want = theirs(normed, mask=causal, src_key_padding_mask=~real)
    torch.testing.assert_close(got, want[real], rtol=1e-5, atol=1e-5)


def padded_layer(layer: EncoderLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The layer on the whole padded ``[B, L, d]`` batch, each dropout drawing its own mask."""
    batch, length, hidden = x.shape
    qkv = F.linear(x, layer.in_proj_weight, layer.in_proj_bias)
    q, k, v = qkv.view(batch, length, 3, layer.num_heads, -1).permute(2, 0, 3, 1, 4)
    attn = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=layer.p)
    x = layer.norm1(x + layer.dropout(layer.out_proj(attn.transpose(1, 2).flatten(2))))
    ff = layer.linear2(layer.dropout(F.gelu(layer.linear1(x))))
    return layer.norm2(x + layer.dropout(ff))


def test_sequence_encoder_trains_as_the_padded_layers_with_the_same_random_draws():
    """Only attention sees the padding, yet the dropout draws are those of the padded batch."""
    torch.manual_seed(0)
    encoder = SequenceEncoder(16, 2, 2, dropout=0.3).train()
    inputs = left_padded_batch([5, 8, 7, 6, 8, 5], length=8)  # one bucket: the whole width
    assert inputs.shape[1] == 8
    embed = nn.Embedding(50, 16)
    real = inputs != 0
    torch.manual_seed(1)
    got = encoder(inputs, embed)
    after = torch.rand(1)
    torch.manual_seed(1)
    x = encoder.dropout(encoder.layer_norm(embed(inputs)))
    for layer in encoder.layers:
        x = padded_layer(layer, x, causal_padding_mask(real))
    assert torch.equal(torch.rand(1), after)  # as many random numbers drawn
    torch.testing.assert_close(got, x[real], rtol=1e-5, atol=1e-6)


def test_sequence_encoder_is_nan_free_in_every_mode():
    encoder = SequenceEncoder(16, 2, 2, dropout=0.5)
    inputs = left_padded_batch([1, 1, 2, 12, 3], seed=1)
    embed = nn.Embedding(50, 16)
    for training in (True, False):
        encoder.train(training)
        for grad in (True, False):
            with torch.set_grad_enabled(grad):
                assert torch.isfinite(encoder(inputs, embed)).all()


def test_dropout_has_the_law_of_nn_dropout():
    drop = Dropout(0.3)
    x = torch.ones(200_000)
    y = drop(x)
    assert abs((y == 0).float().mean().item() - 0.3) < 0.01
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.7))
    assert torch.equal(drop.eval()(x), x)
    x.requires_grad_()
    torch.manual_seed(3)
    y = drop.train()(x)
    y.backward(torch.full_like(y, 2.0))
    torch.testing.assert_close(x.grad, torch.where(y == 0, 0.0, 2.0 / 0.7))


def test_dropout_masks_drop_entries_independently():
    """Four entries share one 64-bit draw: neighbours must still be independent."""
    torch.manual_seed(0)
    kept = Dropout(0.5).draw((1_000_000,), torch.empty(0)).float()
    for gap in (1, 2, 3, 4):
        both = (kept[:-gap] * kept[gap:]).mean().item()
        assert abs(both - 0.25) < 0.003, (gap, both)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_refuses_a_probability_outside_zero_to_one(p):
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(p)


@pytest.mark.parametrize("num_hops", [1, 2, 3])
def test_isolated_entries_equal_the_sampled_forward_in_train_mode(num_hops):
    """Dropout draws, values and gradients of the padding shortcut match ``forward``."""
    torch.manual_seed(0)
    encoder = GNNEncoder(16, num_hops, dropout=0.5).train()
    features = torch.randn(1, 16)
    count = 300
    items = torch.zeros(count, dtype=torch.long)
    rowptr = torch.zeros(2, dtype=torch.long)  # one node, no edges
    empty = torch.empty(0, dtype=torch.long)
    _, n_id, adjs = NeighborSampler(CSRAdjacency(rowptr, empty, empty),
                                    [20] * num_hops).sample(items)
    weights = torch.randn(count, 16)
    results = []
    for path in ("forward", "isolated"):
        torch.manual_seed(1)
        x = features.clone().requires_grad_()
        if path == "forward":
            out = encoder(x[n_id], sampled_hops(adjs, torch.empty(0)))
        else:
            out = encoder.isolated(x, count, num_hops)
        (out * weights).sum().backward()
        grads = [x.grad] + [torch.zeros_like(p) if p.grad is None else p.grad.clone()
                            for p in encoder.parameters()]  # None: the path skips a zero term
        encoder.zero_grad(set_to_none=True)
        results.append((out.detach(), grads))
    (want, want_grads), (got, got_grads) = results
    distinct = want.unique(dim=0).shape[0]
    assert distinct == 1 if num_hops == 1 else distinct > count // 4  # per-entry dropout
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    for a, b in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_unit_rows_equal_f_normalize_values_and_gradients():
    """Including a zero row and one below ``eps``, where the norm is clamped."""
    torch.manual_seed(0)
    x = torch.randn(300, 64, dtype=torch.float64)
    x[3], x[4] = 0.0, x[4] * 1e-14
    x.requires_grad_()
    grad = torch.randn_like(x)
    expected = F.normalize(x, p=2.0, dim=-1)
    assert torch.equal(unit_rows(x), expected)
    (want,) = torch.autograd.grad(expected, x, grad)
    (got,) = torch.autograd.grad(unit_rows(x), x, grad)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=0.0)
