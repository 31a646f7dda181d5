"""The two encoders of GCL4SR: a GNN over sampled WITG neighbourhoods and a causal Transformer.

Both compute the same functions as the original PyG/PyTorch modules, organised for speed
on a laptop CPU: weighted sums over each node's edges (``embedding_bag``) instead of
gather/scatter message passing, and a Transformer that skips the left padding (most of a
batch) by running length buckets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint
from torch_geometric.nn import GCNConv, SAGEConv

from .normalize import unit_rows
from .sampler import Adj


class Positions(NamedTuple):
    """The real entries of a padded ``[B, L]`` batch: its shape and their flat indices (in
    the order of ``real.nonzero()``)."""

    shape: tuple[int, int]
    index: Tensor

    @classmethod
    def of(cls, real: Tensor) -> Positions:
        """The ``True`` entries of ``real [B, L]``."""
        return cls((real.shape[0], real.shape[1]), real.flatten().nonzero().squeeze(1))

    def pick(self, padded: Tensor) -> Tensor:
        """``padded [B, L, ...]`` at the real entries: ``[T, ...]``."""
        return padded.flatten(0, 1).index_select(0, self.index)

    def place(self, packed: Tensor) -> Tensor:
        """``packed [T, k]`` in a ``[B, L, k]`` tensor of zeros."""
        zeros = packed.new_zeros(self.shape[0] * self.shape[1], packed.shape[1])
        return zeros.index_copy(0, self.index, packed).view(*self.shape, -1)


class _DropScale(torch.autograd.Function):
    """``x`` times the ``kept`` mask and the scale: one vectorised pass each way (``masked_fill``
    with a bool mask is about 4x slower on CPU)."""

    @staticmethod
    def forward(ctx, x: Tensor, kept: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(kept)  # autograd keeps this 1-byte mask only
        ctx.scale = scale
        return (x * kept).mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (kept,) = ctx.saved_tensors
        return (grad * kept).mul_(ctx.scale), None, None


class Dropout(nn.Module):
    """``nn.Dropout`` with the same law (``p`` rounded to a multiple of 2^-16), its masks
    drawn from random bits: four entries per 64-bit draw, about 3x faster on CPU than
    ``torch.rand`` and 6x faster than ``bernoulli_``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    @property
    def active(self) -> bool:
        """Whether ``forward`` drops anything (training mode and ``p > 0``)."""
        return self.training and self.p > 0.0

    def draw(self, shape: Sequence[int], like: Tensor) -> Tensor | None:
        """A fresh mask of the ``kept`` entries of ``shape``, as ``forward`` draws it (None if
        inactive): an entry is kept when its 16-bit lane of random bits, read as a signed
        number, is at least ``p · 2^16 - 2^15``."""
        if not self.active:
            return None
        count = math.prod(shape)
        bits = torch.empty(-(-count // 4), dtype=torch.int64, device=like.device)
        lanes = bits.random_(-(2**63), 2**63 - 1).view(torch.int16)[:count]
        return (lanes >= round(self.p * 2**16) - 2**15).view(shape)

    @property
    def scale(self) -> float:
        """``1 / (1 - p)``: what the kept entries are multiplied by."""
        return 1.0 / (1.0 - self.p)

    def drop(self, x: Tensor, kept: Tensor | None) -> Tensor:
        """``x`` with the entries not ``kept`` zeroed and the rest scaled (None: ``x``)."""
        if kept is None:
            return x
        return _DropScale.apply(x, kept, self.scale)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(x, self.draw(x.shape, x))

    def packed_draw(self, real: Positions, width: int, like: Tensor) -> Tensor | None:
        """The mask :meth:`draw` makes for a padded ``[B, L, width]`` tensor (the padded
        computation's random stream), at the ``real`` entries: ``[T, width]``."""
        kept = self.draw((*real.shape, width), like)
        return None if kept is None else real.pick(kept)

    def packed(self, x: Tensor, real: Positions) -> Tensor:
        """``forward`` of a padded ``[B, L, d]`` tensor at its ``real`` entries, given as
        ``x [T, d]``."""
        return self.drop(x, self.packed_draw(real, x.shape[-1], x))


def _weighted_bags(index: Tensor, dense: Tensor, offsets: Tensor, weights: Tensor) -> Tensor:
    """Row ``r``: ``Σ_e weights[e] · dense[index[e]]`` over ``e`` in ``[offsets[r], offsets[r+1])``.

    ``embedding_bag``'s weighted sum: on CPU about 2.5x faster than the same product as a
    sparse CSR matrix.
    """
    return F.embedding_bag(index, dense, offsets, mode="sum", per_sample_weights=weights,
                           include_last_offset=True)


def _offsets(index: Tensor, count: int) -> Tensor:
    """Where each of ``count`` groups starts in ``index`` sorted by group, and the end."""
    return F.pad(torch.cumsum(torch.bincount(index, minlength=count), 0), (1, 0))


class _Pattern:
    """A hop's edges grouped by target (the rows of ``A``) and, built once on first use, by
    source (the rows of ``Aᵀ``).

    Both sparse products of a hop share it, so their backward passes group it once.
    """

    def __init__(self, source: Tensor, target: Tensor, n_src: int, n_tgt: int) -> None:
        self.source, self.target, self.n_src = source, target, n_src
        self.offsets = _offsets(target, n_tgt)
        self.counts = self.offsets.diff()
        self._by_source: tuple[Tensor, Tensor, Tensor] | None = None

    def product(self, values: Tensor, dense: Tensor) -> Tensor:
        """``A @ dense`` for the ``[n_tgt, n_src]`` matrix ``A`` with ``values`` on the edges."""
        return _weighted_bags(self.source, dense, self.offsets, values)

    def transposed_product(self, values: Tensor, dense: Tensor) -> Tensor:
        """``Aᵀ @ dense``."""
        if self._by_source is None:  # int32 keys (ids below the item count): the same
            # stable order, faster on CPU (random 0.6 M keys: 9 against 26 ms)
            order = torch.argsort(self.source.to(torch.int32), stable=True)
            self._by_source = (order, _offsets(self.source, self.n_src),
                               self.target.index_select(0, order))
        order, offsets, target = self._by_source
        return _weighted_bags(target, dense, offsets, values.index_select(0, order))


class _SparseProduct(torch.autograd.Function):
    """``A @ dense`` for the sparse matrix ``A`` of a pattern, ``Aᵀ @ grad`` backward
    (``A``'s values are constants: no gradient flows to the WITG weights)."""

    @staticmethod
    def forward(ctx, dense: Tensor, pattern: _Pattern, values: Tensor) -> Tensor:
        ctx.pattern, ctx.values = pattern, values
        return pattern.product(values, dense)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        return ctx.pattern.transposed_product(ctx.values, grad), None, None


class SampledHop:
    """What one sampled hop's convolutions need besides the node features: its edge pattern
    and edge weights (``adj``'s edges grouped by ascending target, as the sampler emits,
    weighted by ``edge_weight``). They depend on the sample only, so the GNN views' backward
    recomputation reuses them.

    ``norm``: GCN's ``D^-1/2 A D^-1/2`` on the edges; ``self_loop``: ``D^-1`` per source node;
    ``mean``: SAGE's ``1 / |N(i)|`` on each edge into target ``i``.
    """

    def __init__(self, adj: Adj, edge_weight: Tensor) -> None:
        (source, target), _, (n_src, n_tgt) = adj
        self.n_src, self.n_tgt = n_src, n_tgt
        self.pattern = _Pattern(source, target, n_src, n_tgt)
        deg = torch.ones(n_src, dtype=edge_weight.dtype, device=edge_weight.device)
        deg[:n_tgt] += torch.zeros_like(deg[:n_tgt]).index_add_(0, target, edge_weight)
        dinv = deg.rsqrt()
        self.norm = dinv.index_select(0, source) * edge_weight * dinv.index_select(0, target)
        self.self_loop = (dinv * dinv).unsqueeze(1)
        self.mean = 1.0 / self.pattern.counts.index_select(0, target).to(edge_weight.dtype)


def sampled_hops(adjs: Sequence[Adj], edge_weight: Tensor) -> list[SampledHop]:
    """The :class:`SampledHop` of each of a sample's ``adjs``, weighted by the graph's
    ``edge_weight`` (indexed by the adjs' ``e_id``)."""
    return [SampledHop(adj, edge_weight.index_select(0, adj.e_id)) for adj in adjs]


def sampled_gcn_sage(gcn: GCNConv, sage: SAGEConv, x: Tensor, hop: SampledHop) -> Tensor:
    """One sampled hop, GCN then SAGE, for the hop's ``n_tgt`` target nodes:

        H    = D^-1/2 (A + I) D^-1/2 X Θ + b,   D_ii = 1 + Σ_j A_ij            (GCN)
        x'_i = n(W_1 · mean_{j ∈ N(i)} H_j + W_2 H_i),   n(v) = v / ‖v‖₂       (SAGE)

    ``A`` is the hop's sampled adjacency weighted by the WITG weights (:class:`SampledHop`),
    ``N(i)`` the sampled neighbours of target ``i``. Equal to PyG's ``GCNConv`` (self-loops of
    weight 1) and ``SAGEConv`` (mean aggregation, root weight, ``normalize=True``), i.e.
    ``sage((h, h[:n_tgt]), edge_index)`` with ``h = gcn(x, edge_index, edge_weight)``, on
    graphs without self-loops, computed as two sparse products (their transposes built
    once per hop for the backward pass).
    """
    xw = gcn.lin(x[:hop.n_src])
    neighbours = _SparseProduct.apply(xw, hop.pattern, hop.norm)
    h = xw * hop.self_loop + gcn.bias + F.pad(neighbours, (0, 0, 0, hop.n_src - hop.n_tgt))
    mean = _SparseProduct.apply(h, hop.pattern, hop.mean)
    return unit_rows(sage.lin_l(mean) + sage.lin_r(h[:hop.n_tgt]))


class GNNEncoder(nn.Module):
    """Per sampled hop ``x ← dropout(relu(SAGE(GCN(x))))`` (no activation after the last hop):
    see :func:`sampled_gcn_sage` for the hop's formula."""

    def __init__(self, hidden_size: int, num_hops: int, dropout: float) -> None:
        super().__init__()
        self.dropout = Dropout(dropout)
        self.gcn = GCNConv(hidden_size, hidden_size)
        self.convs = nn.ModuleList(
            SAGEConv(hidden_size, hidden_size, normalize=True) for _ in range(num_hops))

    def forward(self, x: Tensor, hops: Sequence[SampledHop]) -> Tensor:
        """Encode the targets of the last hop from node features ``x`` (rows of ``n_id``).

        With fewer ``hops`` (:func:`sampled_hops`) than convolutions, the innermost
        convolutions are used.
        """
        layers = list(zip(hops, self.convs[len(self.convs) - len(hops):], strict=True))
        for i, (hop, conv) in enumerate(layers):
            x = sampled_gcn_sage(self.gcn, conv, x, hop)
            if i < len(layers) - 1:
                x = self.dropout(F.relu(x))
        return x

    def padding_masks(self, count: int, num_hops: int, like: Tensor) -> list[Tensor] | None:
        """The dropout draws :meth:`isolated` makes for ``count`` entries, drawn now."""
        if not self.dropout.active:
            return None
        return [self.dropout.draw((count, like.shape[1]), like) for _ in range(num_hops - 1)]

    def isolated(self, x: Tensor, count: int, num_hops: int,
                 kept: Sequence[Tensor] | None = None) -> Tensor:
        """What ``forward`` returns for ``count`` entries of one node without neighbours.

        ``x`` is the node's ``[1, d]`` features. Such a node (the padding item) only sees its
        self-loop, so every hop is a dense map of the previous one. Dropout between hops is
        drawn independently per entry, with the same random draws as in ``forward`` (or
        taken from ``kept``, see :meth:`padding_masks`); a hop after the dropout of a
        constant row is affine in the keep mask, so it costs one ``[count, d] @ [d, d]``
        product instead of two linear layers and their masks.
        """
        convs = self.convs[len(self.convs) - num_hops:]
        if kept is None:
            kept = self.padding_masks(count, num_hops, x)
        x = self._self_loop_hop(convs[0], x)
        for conv, mask in zip(convs[1:], kept or [None] * (num_hops - 1), strict=True):
            x = F.relu(x)
            if mask is not None and x.shape[0] == 1:
                x = self._hop_after_dropout_of_row(conv, x, mask)
            else:
                x = self._self_loop_hop(conv, self.dropout.drop(x, mask))
        return x.expand(count, -1)

    def _self_loop_hop(self, conv: SAGEConv, x: Tensor) -> Tensor:
        h = self.gcn.lin(x) + self.gcn.bias  # self-loop only: degree 1, no neighbour mean
        return unit_rows(conv.lin_l.bias + conv.lin_r(h))

    def _hop_after_dropout_of_row(self, conv: SAGEConv, row: Tensor, kept: Tensor) -> Tensor:
        """``_self_loop_hop(conv, dropout(row.expand(count, -1)))`` as ``keep @ rows``."""
        offset, rows = self._affine_after_dropout(conv, row)
        return unit_rows(offset + kept.to(row.dtype) @ rows)

    def _affine_after_dropout(self, conv: SAGEConv, row: Tensor) -> tuple[Tensor, Tensor]:
        """``(o [d], R [d, d])``: the hop after the dropout of ``row`` is ``unit(o + keep R)``."""
        linear = conv.lin_r.weight @ self.gcn.lin.weight  # h -> lin_r(gcn.lin(h))
        rows = row.view(-1, 1) * linear.T * self.dropout.scale
        return conv.lin_l.bias + conv.lin_r(self.gcn.bias), rows

    def last_hop_after_dropout(self, x: Tensor, num_hops: int) -> tuple[Tensor, Tensor] | None:
        """``(o, R)`` such that :meth:`isolated` is ``unit(o + keep R)`` for the node of features
        ``x [1, d]``, ``keep`` its entries' one dropout mask: with two hops and dropout active;
        None otherwise."""
        if num_hops != 2 or not self.dropout.active:
            return None
        first, last = self.convs[len(self.convs) - 2:]
        return self._affine_after_dropout(last, F.relu(self._self_loop_hop(first, x)))


class EncoderLayer(nn.Module):
    """Post-norm Transformer layer with GELU, as ``nn.TransformerEncoderLayer(batch_first)``."""

    def __init__(self, hidden_size: int, num_heads: int, ff_size: int, dropout: float) -> None:
        super().__init__()
        self.num_heads, self.p = num_heads, dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * hidden_size, hidden_size))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * hidden_size))
        self.out_proj = nn.Linear(hidden_size, hidden_size)
        self.linear1 = nn.Linear(hidden_size, ff_size)
        self.linear2 = nn.Linear(ff_size, hidden_size)
        self.norm1 = nn.LayerNorm(hidden_size)
        self.norm2 = nn.LayerNorm(hidden_size)
        self.dropout = Dropout(dropout)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: Tensor, real: Positions, attn_mask: Tensor) -> Tensor:
        """The layer at the ``real`` entries of a padded ``[B, L, d]`` batch, given packed as
        ``x [T, d]``.

        Attention runs on the padded layout with zero queries, keys and values at padding
        entries (their keys are masked and their outputs unused); the position-wise parts run
        on real entries only. Dropout masks are drawn for the padded shapes, as the padded
        layer draws them.
        """
        batch, length = real.shape
        qkv = real.place(F.linear(x, self.in_proj_weight, self.in_proj_bias))
        q, k, v = qkv.view(batch, length, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.p if self.training else 0.0)
        attn = real.pick(attn.transpose(1, 2))
        x = self.norm1(x + self.dropout.packed(self.out_proj(attn.flatten(1)), real))
        kept = self.dropout.packed_draw(real, self.linear1.out_features, x)
        if torch.is_grad_enabled():  # its [T, 4d] activations recomputed in the backward pass
            ff = checkpoint(self._feed_forward, x, kept, use_reentrant=False,
                            preserve_rng_state=False)
        else:
            ff = self._feed_forward(x, kept)
        return self.norm2(x + self.dropout.packed(ff, real))

    def _feed_forward(self, x: Tensor, kept: Tensor | None) -> Tensor:
        return self.linear2(self.dropout.drop(F.gelu(self.linear1(x)), kept))


def causal_padding_mask(real: Tensor) -> Tensor:
    """Additive ``[B, 1, L, L]`` mask: causal, padding keys hidden, padding queries see themselves.

    A padding query would otherwise have every key masked (left padding + causal mask),
    which is what makes PyTorch's fast path return NaN; real positions are unaffected.
    """
    length = real.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=real.device).tril()
    eye = torch.eye(length, dtype=torch.bool, device=real.device)
    allowed = causal & (real.unsqueeze(1) | eye)
    mask = torch.zeros(allowed.shape, device=real.device).masked_fill(~allowed, -math.inf)
    return mask.unsqueeze(1)


class SequenceEncoder(nn.Module):
    """LayerNorm + dropout of item embeddings, then a stack of causal Transformer layers.

    Sequences are left-padded and the layers have no positional encoding, so cropping a
    row's leading padding does not change its real positions: rows are grouped into
    power-of-two length buckets and each bucket runs on its own crop. Within a crop only
    attention sees the padding entries (:class:`EncoderLayer`).
    """

    def __init__(self, hidden_size: int, num_heads: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.layer_norm = nn.LayerNorm(hidden_size, eps=1e-12)
        self.dropout = Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderLayer(hidden_size, num_heads, 4 * hidden_size, dropout)
            for _ in range(num_layers))

    def forward(self, inputs: Tensor, embed: Callable[[Tensor], Tensor]) -> Tensor:
        """Outputs ``[T, d]`` at the real (non-zero) entries of left-padded ``inputs [B, L]``.

        Rows come in the order of ``(inputs != 0).nonzero()``; ``embed`` maps item ids to
        ``d``-vectors and only sees each bucket's crop.
        """
        real = inputs != 0
        length = inputs.shape[1]
        crops = 2 ** torch.arange(length.bit_length() + 1, device=inputs.device)
        buckets = torch.bucketize(real.sum(1), crops)  # smallest power of two >= length
        rank = torch.full(real.shape, -1, dtype=torch.long, device=inputs.device)
        rank[real] = torch.arange(int(real.sum()), device=inputs.device)
        pieces, ranks = [], []
        for bucket in torch.unique(buckets).tolist():
            rows = (buckets == bucket).nonzero().squeeze(1)
            window = inputs[rows, length - min(length, int(crops[bucket])):]
            in_window = window != 0
            real_in_window = Positions.of(in_window)
            x = self.dropout.packed(self.layer_norm(embed(real_in_window.pick(window))),
                                    real_in_window)
            mask = causal_padding_mask(in_window)
            for layer in self.layers:
                x = layer(x, real_in_window, mask)
            pieces.append(x)
            ranks.append(rank[rows, length - window.shape[1]:][in_window])
        return torch.cat(pieces)[torch.argsort(torch.cat(ranks))]
