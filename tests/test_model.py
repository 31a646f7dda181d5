"""GCL4SR: the original defects are fixed by default and restored by ``legacy``."""

from functools import partial

import pytest
import torch
import torch.nn.functional as F

from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.encoders import sampled_hops
from gcl4sr_helpers.graph import CSRAdjacency
from gcl4sr_helpers.losses import gcl_loss
from gcl4sr_helpers.model import GCL4SR, SCORE_PRODUCT_ROWS
from gcl4sr_helpers.sampler import NeighborSampler
from grading.instructor.checking.reference import mmd_loss


def make_model(data, graph, legacy=False, seed=0):
    torch.manual_seed(seed)
    return GCL4SR(data.num_users, data.num_items, graph, mmd_loss, legacy=legacy)


def batch_of(data, size, start=0):
    dataset = SequenceDataset(data.splits["train"])
    return dataset[torch.arange(start, start + size)]


@pytest.fixture(scope="module")
def trained_step(small_data, small_graph):
    """One optimiser step of each mode on the same batch."""
    out = {}
    for legacy in (False, True):
        model = make_model(small_data, small_graph, legacy)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-5)
        loss, *_ = model.calculate_loss(*batch_of(small_data, 64))
        loss.backward()
        grads = {n: p.grad for n, p in model.named_parameters()}
        optimizer.step()
        out[legacy] = model, grads
    return out


def test_gates_are_trained_and_saved_by_default(trained_step):
    model, grads = trained_step[False]
    names = dict(model.named_parameters())
    assert "gate_item" in names and "gate_user" in names
    assert grads["gate_item"].abs().sum() > 0 and grads["gate_user"].abs().sum() > 0
    assert {"gate_item", "gate_user"} <= set(model.state_dict())


def test_legacy_gates_are_fixed_buffers_still_saved(trained_step):
    model, _ = trained_step[True]
    assert "gate_item" not in dict(model.named_parameters())
    assert {"gate_item", "gate_user"} <= set(model.state_dict())


def test_both_hops_learn_by_default_only_the_inner_hop_in_legacy(trained_step):
    default_grads, legacy_grads = trained_step[False][1], trained_step[True][1]
    outer = [n for n in default_grads if n.startswith("global_gnn.convs.0.")]
    assert outer and all(default_grads[n].abs().sum() > 0 for n in outer)
    assert all(legacy_grads[n] is None for n in outer)
    assert legacy_grads["global_gnn.convs.1.lin_l.weight"].abs().sum() > 0


def test_padding_embedding_stays_zero_by_default_not_in_legacy(trained_step):
    assert trained_step[False][0].item_embeddings.weight[0].abs().sum() == 0
    legacy_norm = trained_step[True][0].item_embeddings.weight[0].norm().item()
    assert 0.4 < legacy_norm < 0.8  # uniform(-1/8, 1/8) in 64 dimensions: about 0.58


def test_legacy_initialisation_is_uniform_everywhere(small_data, small_graph):
    model = make_model(small_data, small_graph, legacy=True)
    bound = 1 / 64**0.5
    for name, param in model.named_parameters():
        assert param.abs().max() <= bound, name
        if param.numel() >= 64:  # a few draws can all land near zero
            assert param.abs().max() > bound / 2, name


def test_no_dead_template_layer(small_data, small_graph):
    model = make_model(small_data, small_graph)
    assert not any("encoder_layer" in name for name, _ in model.named_parameters())
    assert len(model.item_encoder.layers) == 2


@pytest.mark.parametrize("legacy", [False, True])
def test_no_nan_in_train_or_eval_with_or_without_grad(small_data, small_graph, legacy):
    model = make_model(small_data, small_graph, legacy)
    users, inputs, targets = batch_of(small_data, 128)
    for training in (True, False):
        model.train(training)
        for grad in (True, False):
            with torch.set_grad_enabled(grad):
                losses = model.calculate_loss(users, inputs, targets)
                scores = model.score_items(model.sequence_vector(users, inputs))
            assert all(torch.isfinite(x) for x in losses)
            assert torch.isfinite(scores[:, 1:]).all() and not torch.isnan(scores).any()


@pytest.mark.parametrize("legacy", [False, True])
def test_a_batch_of_one_works(small_data, small_graph, legacy):
    model = make_model(small_data, small_graph, legacy)
    loss, *_ = model.calculate_loss(*batch_of(small_data, 1))
    loss.backward()
    model.eval()
    with torch.no_grad():
        users, inputs, _ = batch_of(small_data, 1)
        assert model.score_items(model.sequence_vector(users, inputs)).shape == (
            1, small_data.num_items)


def test_initial_losses_sit_at_their_no_learning_values(small_data, small_graph):
    model = make_model(small_data, small_graph).eval()
    with torch.no_grad():
        _, main, gcl, _ = model.calculate_loss(*batch_of(small_data, 256))
    assert main.item() == pytest.approx(torch.log(torch.tensor(small_data.num_items)).item(),
                                        rel=0.05)
    assert gcl.item() == pytest.approx(2 * torch.log(torch.tensor(511.0)).item(), rel=0.05)


@pytest.mark.parametrize("share, repeats", [(0.0, 0), (1.0, 40), (0.5, None)])
def test_shared_views_repeat_view_a_at_the_requested_rate(small_data, small_graph, share,
                                                           repeats):
    torch.manual_seed(0)
    model = GCL4SR(small_data.num_users, small_data.num_items, small_graph, mmd_loss,
                   legacy=True, shared_views=share).eval()
    users, inputs, _ = batch_of(small_data, 256)  # enough items with degree > 20
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        outs = [model(users, inputs, generator) for _ in range(40)]
    same = sum(torch.equal(out["global_a"], out["global_b"]) for out in outs)
    if repeats is None:
        assert 10 <= same <= 30
    else:
        assert same == repeats


def test_the_injected_mmd_is_what_trains(small_data, small_graph):
    calls = []

    def recording_mmd(source, target):
        calls.append((source.shape, target.shape))
        return mmd_loss(source, target)

    torch.manual_seed(0)
    model = GCL4SR(small_data.num_users, small_data.num_items, small_graph, recording_mmd)
    model.calculate_loss(*batch_of(small_data, 32))
    assert calls == [((32, 50), (32, 50))] * 2


def test_packed_attention_pooling_equals_the_padded_formula(small_data, small_graph):
    model = make_model(small_data, small_graph).eval()
    users, inputs, _ = batch_of(small_data, 64, start=100)
    with torch.no_grad():
        out = model.forward(users, inputs, torch.Generator().manual_seed(0))
        got = model.final_att_net(out["hidden"], out["batch_index"], out["position"], 64)
        # The original computation over the padded [B, L, d] layout (padding rows arbitrary).
        mask = out["real"].unsqueeze(-1).float()
        padded = torch.randn(*inputs.shape, out["hidden"].shape[1])
        padded[out["real"]] = out["hidden"]
        pos = model.position_embeddings.weight[: inputs.shape[1]].expand(64, -1, -1)
        seq_hidden = (padded * mask).sum(1) / mask.sum(1)
        item_hidden = torch.tanh(torch.cat([pos, padded], -1) @ model.w_1)
        score = torch.sigmoid(model.linear_1(item_hidden)
                              + model.linear_2(seq_hidden).unsqueeze(1))
        want = ((score @ model.w_2) * mask * padded).sum(1)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def padded_losses(model, user_ids, inputs, targets, generator):
    """The straightforward computation over padded ``[B, L, d]`` views.

    Padding entries go through ``GNNEncoder.isolated`` (equal to sampling the padding node:
    tests/test_encoders.py); the random draws come in the model's order.
    """
    batch, length = inputs.shape
    real = inputs != 0
    sizes = model.sample_size[:1] if model.legacy else model.sample_size
    adj = CSRAdjacency(model.graph_rowptr, model.graph_col, model.graph_edge_id)
    padding_node = model.item_embeddings(torch.zeros(1, dtype=torch.long))
    views = []
    for _ in range(2):
        _, n_id, adjs = NeighborSampler(adj, sizes).sample(inputs[real], generator)
        hops = sampled_hops(adjs, model.graph_weight)
        encoded = model.global_gnn(model.item_embeddings(n_id), hops)
        view = encoded.new_empty(batch, length, encoded.shape[1])
        view[real] = encoded
        view[~real] = model.global_gnn.isolated(padding_node, int((~real).sum()), len(sizes))
        views.append(view)
    user_gate = model.user_embeddings(user_ids) @ model.gate_user
    gated = [model.gnn_dropout(view * torch.sigmoid(
        (view @ model.gate_item).squeeze(-1) + user_gate).unsqueeze(-1)) for view in views]
    local = torch.zeros(batch, length, model.item_embeddings.embedding_dim)
    local[inputs != 0] = model.item_encoder(inputs, model.item_embeddings)
    hidden = model.linear_transform(torch.cat([local, *gated], -1))[real]
    batch_index, position = real.nonzero(as_tuple=True)
    seq_out = model.dropout(model.final_att_net(hidden, batch_index, position, batch))
    main = F.cross_entropy(model.score_items(seq_out), targets)
    mask = real.unsqueeze(-1).float()
    gcl = gcl_loss(torch.cat([(view * mask).sum(1) / mask.sum(1) for view in views]), 0.5)
    source = model.w_e(model.item_embeddings(inputs)).squeeze(-1)
    mmd = sum(mmd_loss(source, model.w_g(view).squeeze(-1)) for view in gated)
    return main + model.lam1 * gcl + model.lam2 * mmd, main, gcl, mmd


@pytest.mark.parametrize("legacy", [False, True])
def test_training_losses_and_gradients_equal_the_padded_computation(small_data, small_graph,
                                                                    legacy):
    """Real rows only, padding rows recomputed in backward: same numbers, same gradients."""
    model = make_model(small_data, small_graph, legacy).train()
    batch = batch_of(small_data, 48)
    assert (batch[1] == 0).any()
    results = []
    for compute in (model.calculate_loss, partial(padded_losses, model)):
        torch.manual_seed(3)
        losses = compute(*batch, torch.Generator().manual_seed(5))
        params = [p for p in model.parameters() if p.requires_grad]
        grads = torch.autograd.grad(losses[0], params, allow_unused=True)
        results.append((losses, [torch.zeros_like(p) if g is None else g
                                 for p, g in zip(params, grads, strict=True)]))
    (got, got_grads), (want, want_grads) = results
    for a, b, name in zip(got, want, ("loss", "main", "gcl", "mmd"), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    for (name, _), a, b in zip(model.named_parameters(), got_grads, want_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_items_beyond_the_graph_are_isolated_nodes(small_data, small_graph):
    """A subset's WITG can end before the largest item id (one seen only in valid/test)."""
    keep = small_graph.edge_index.max(0).values < small_data.num_items - 1
    graph = small_graph.clone()
    graph.edge_index, graph.edge_attr = small_graph.edge_index[:, keep], small_graph.edge_attr[keep]
    graph.num_nodes = small_data.num_items - 1
    model = make_model(small_data, graph).eval()
    user_ids = torch.tensor([0])
    inputs = torch.zeros(1, model.max_seq_length, dtype=torch.long)
    inputs[0, -2:] = torch.tensor([1, small_data.num_items - 1])
    with torch.no_grad():
        scores = model.score_items(model.sequence_vector(user_ids, inputs))
    assert scores.shape == (1, small_data.num_items) and torch.isfinite(scores[0, 1:]).all()


def test_ranking_scores_into_a_block_equal_one_product(small_data, small_graph):
    """On CPU the rows of a score block are multiplied a few at a time: the same scores, up to
    float rounding (the library may split a product among threads differently)."""
    model = make_model(small_data, small_graph).eval()
    vectors = torch.randn(3 * SCORE_PRODUCT_ROWS + 5, model.item_embeddings.embedding_dim)
    block = torch.empty(len(vectors), small_data.num_items)
    expected = vectors @ model.item_embeddings.weight.T
    expected[:, 0] = -float("inf")
    with torch.no_grad():
        torch.testing.assert_close(model.score_items(vectors, block), expected, rtol=1e-5,
                                   atol=1e-6)
