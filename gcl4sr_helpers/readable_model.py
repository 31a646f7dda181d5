"""GCL4SR written to be read: one short function per part of the paper.

Zhang et al., *Enhancing Sequential Recommendation with Graph Contrastive Learning*, IJCAI
2022. Every function takes the parameters of an engine model (:class:`~.model.GCL4SR`) and
works on padded ``[B, L, ...]`` tensors, with no blocking and no recomputation: the numbers
and gradients are those the engine computes faster (the kit's tests check it). The
MMD loss is passed in: it is an exercise of the course. Views shared between the two
samples (``shared_views``) are a sampling experiment of the engine and are left out here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import SAGEConv

from .encoders import EncoderLayer
from .graph import CSRAdjacency
from .model import GCL4SR, MMDLoss
from .sampler import Adj, NeighborSampler


def global_view(model: GCL4SR, inputs: Tensor,
                generator: torch.Generator | None = None) -> Tensor:
    """Graph-based augmentation + shared GNN: one global view ``H' [B, L, d]`` of ``inputs``.

    Every entry (padding item 0 included: it has no neighbour) gets its own random sample of
    WITG neighbours, 20 per hop; the GNN then encodes it from the outermost hop inwards.
    Legacy, like the original code, keeps only the innermost hop.
    """
    adj = CSRAdjacency(model.graph_rowptr, model.graph_col, model.graph_edge_id)
    _, n_id, adjs = NeighborSampler(adj, model._hops()).sample(inputs.flatten(), generator)
    gnn = model.global_gnn
    x = model.item_embeddings(n_id)
    for i, (adj_hop, conv) in enumerate(zip(adjs, gnn.convs[-len(adjs):], strict=True)):
        x = gnn_hop(model, conv, x, adj_hop)
        if i < len(adjs) - 1:
            x = F.dropout(F.relu(x), gnn.dropout.p, model.training)
    return x.view(*inputs.shape, -1)


def gnn_hop(model: GCL4SR, conv: SAGEConv, x: Tensor, adj: Adj) -> Tensor:
    """``h = D^-1/2 (A + I) D^-1/2 X W + b`` (weighted GCN), then
    ``h_v = normalize(W_l mean_{u in N(v)} h_u + W_r h_v)`` (GraphSAGE) on one sampled hop.

    ``A`` holds the WITG weights of the sampled edges, ``x`` the rows of the hop's sources;
    the result has one row per target (the first rows of the sources).
    """
    edge_index, e_id, (_, num_targets) = adj
    h = model.global_gnn.gcn(x, edge_index, model.graph_weight[e_id])
    return conv((h, h[:num_targets]), edge_index)


def user_gating(model: GCL4SR, view: Tensor, user_ids: Tensor) -> Tensor:
    """User-specific gating: ``Q = H' ⊙ σ(H' g_item + p_u G_user)``, ``[B, L, d]``.

    Each position keeps a share of its global view that depends on the item and the user.
    """
    gate = torch.sigmoid((view @ model.gate_item).squeeze(-1)
                         + model.user_embeddings(user_ids) @ model.gate_user)
    return F.dropout(view * gate.unsqueeze(-1), model.gnn_dropout.p, model.training)


def transformer_layer(layer: EncoderLayer, x: Tensor, mask: Tensor) -> Tensor:
    """``x = LN(x + MultiHead(x, x, x))``, then ``x = LN(x + W_2 GELU(W_1 x))`` (post-norm)."""
    batch, length, hidden = x.shape
    p = layer.p if layer.training else 0.0
    q, k, v = F.linear(x, layer.in_proj_weight, layer.in_proj_bias).chunk(3, dim=-1)
    q, k, v = (t.view(batch, length, layer.num_heads, -1).transpose(1, 2) for t in (q, k, v))
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask, dim=-1)
    heads = (F.dropout(weights, p, layer.training) @ v).transpose(1, 2).reshape(x.shape)
    x = layer.norm1(x + F.dropout(layer.out_proj(heads), p, layer.training))
    ff = layer.linear2(F.dropout(F.gelu(layer.linear1(x)), p, layer.training))
    return layer.norm2(x + F.dropout(ff, p, layer.training))


def local_view(model: GCL4SR, inputs: Tensor) -> Tensor:
    """Basic sequence encoder: ``H = Transformer(Dropout(LN(E[s])))``, ``[B, L, d]``.

    Position ``t`` attends to the real items up to ``t`` (causal mask). A padding position
    attends to itself only, so its row stays finite; later steps mask it out.
    """
    real = inputs != 0
    length = inputs.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=inputs.device).tril()
    allowed = causal & (real.unsqueeze(1) | torch.eye(length, dtype=torch.bool,
                                                      device=inputs.device))
    mask = torch.zeros(allowed.shape, device=inputs.device).masked_fill(~allowed, -math.inf)
    encoder = model.item_encoder
    x = F.dropout(encoder.layer_norm(model.item_embeddings(inputs)), encoder.dropout.p,
                  model.training)
    for layer in encoder.layers:
        x = transformer_layer(layer, x, mask.unsqueeze(1))
    return x


def attention_pooling(model: GCL4SR, hidden: Tensor, real: Tensor) -> Tensor:
    """``α_t = w_2ᵀ σ(W_1' tanh([p_t ‖ h_t] W_1) + W_2' h̄)``, ``z = Σ_t α_t h_t`` (real t).

    ``hidden [B, L, d]`` is the fused sequence; ``h̄`` its mean over real positions and
    ``p_t`` the position embedding. Returns the sequence vector ``z [B, d]``.
    """
    mask = real.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    positions = model.position_embeddings.weight[:hidden.shape[1]].expand_as(hidden)
    item_hidden = torch.tanh(torch.cat([positions, hidden], -1) @ model.w_1)
    score = torch.sigmoid(model.linear_1(item_hidden) + model.linear_2(mean).unsqueeze(1))
    return ((score @ model.w_2) * hidden * mask).sum(1)


def main_loss(model: GCL4SR, z: Tensor, targets: Tensor) -> Tensor:
    """Prediction loss: ``-log softmax(z Eᵀ)[target]``, averaged over the batch.

    Padding item 0 is no candidate by default; legacy keeps it, as the original.
    """
    z = F.dropout(z, model.dropout.p, model.training)
    items = model.item_embeddings.weight
    if model.legacy:
        return F.cross_entropy(z @ items.T, targets)
    return F.cross_entropy(z @ items[1:].T, targets - 1)


def contrastive_loss(view_a: Tensor, view_b: Tensor, real: Tensor,
                     temperature: float = 0.5) -> Tensor:
    """GCL loss (NT-Xent): ``-log exp(cos(z'_i, z''_i)/τ) / Σ_{j≠i} exp(cos(z_i, z_j)/τ)``.

    ``z'``, ``z''`` are the means of the two views over real positions; every other sequence
    of both views is a negative. Returns the mean over view-a rows plus view-b rows.
    """
    mask = real.unsqueeze(-1).to(view_a.dtype)
    means = [(view * mask).sum(1) / mask.sum(1) for view in (view_a, view_b)]
    z = F.normalize(torch.cat(means), dim=-1)
    logits = (z @ z.T / temperature).fill_diagonal_(-math.inf)
    batch = view_a.shape[0]
    partners = (torch.arange(2 * batch, device=z.device) + batch) % (2 * batch)
    return 2.0 * F.cross_entropy(logits, partners)


def mmd_term(model: GCL4SR, inputs: Tensor, gated: list[Tensor], mmd_loss: MMDLoss) -> Tensor:
    """``Σ_view MMD(w_e(E[s]), w_g(Q_view))``: each ``[B, L]``, one number per position."""
    local = model.w_e(model.item_embeddings(inputs)).squeeze(-1)
    return sum(mmd_loss(local, model.w_g(view).squeeze(-1)) for view in gated)


def losses(model: GCL4SR, user_ids: Tensor, inputs: Tensor, targets: Tensor,
           mmd_loss: MMDLoss, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
    """``L = L_main + λ_1 L_GCL + λ_2 L_MMD``; returns ``(L, L_main, L_GCL, L_MMD)``."""
    real = inputs != 0
    views = [global_view(model, inputs, generator) for _ in range(2)]
    gated = [user_gating(model, view, user_ids) for view in views]
    hidden = model.linear_transform(torch.cat([local_view(model, inputs), *gated], -1))
    main = main_loss(model, attention_pooling(model, hidden, real), targets)
    gcl = contrastive_loss(*views, real)
    mmd = mmd_term(model, inputs, gated, mmd_loss)
    return main + model.lam1 * gcl + model.lam2 * mmd, main, gcl, mmd
