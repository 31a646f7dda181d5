"""GCL4SR (Zhang et al., IJCAI 2022) with the original code's defects fixed.

``legacy=True`` restores the original course code's semantics for comparison:

1. Gating vectors are fixed random tensors (buffers, never trained); by default they
   are ``nn.Parameter`` and trained. Either way they are saved in the ``state_dict``.
2. The original GNN encoder restarts every hop from the raw sampled embeddings, so
   only the innermost (1-hop) block contributes. Legacy computes just that block (the
   discarded outer hop is not computed at all); the default really stacks both hops.
3. No template ``TransformerEncoderLayer`` is registered beside its copies (both modes).
4. The original initialisation re-runs a uniform(-1/sqrt(d), 1/sqrt(d)) loop over every
   parameter once per module, so in the end *all* parameters are uniform and the
   padding embedding is not zero. Legacy reproduces that end state (computed once); the
   default initialises each parameter once (Xavier-normal for ``Embedding``/``Linear``,
   zero biases, unit ``LayerNorm``, uniform for the rest) and keeps padding at zero.
6. Evaluation masking (seen items scored 0, padding not masked) lives in the trainer and
   :meth:`GCL4SR.score_items`; ``no_grad`` and seeded sampling apply to both modes.
7. Attention never sees a fully masked query row (left padding + causal mask): padding
   queries attend to themselves, so no NaN in train or eval, with or without
   ``no_grad``; real positions are unaffected.
8. Shapes are explicit, so a batch of one works.
10. The original samples each view through torch-sparse, whose ``sample_adj`` reseeds C
    ``rand()`` from the wall clock (``srand(time(NULL) + 1000 * getpid())``, one-second
    resolution) on every call. When both views of a batch are sampled within the same
    second they are the same subgraph, and in legacy (no dropout on the GNN path) the same
    view: the contrastive task then compares a view with itself. ``shared_views=q`` makes
    view b a copy of view a with probability ``q`` per batch, to reproduce that; how often
    it happened in the original depends on the machine's speed. The default ``0.0`` draws
    two independent views, as the paper describes.

Memory: padding entries (most of a left-padded batch) matter only to the MMD loss, through
one scalar each. The encoders and gates run on real positions only, and the padding
entries' MMD targets are recomputed in the backward pass from their dropout draws instead
of being kept (for the course's two-hop model, by hand in one pass: :mod:`.padding`). The
GNN views' activations (about 150 MB at batch 2048 on Home) are recomputed in the backward
pass too, for about 5 % more time per step. The MMD loss and its gradient are computed right
after the gated views, before the Transformer, so that its ``[2B, 2B]`` kernel matrices are
gone before the Transformer's activations exist. The numbers and gradients are those of the
padded ``[B, L, d]`` computation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.profiler import record_function
from torch.utils.checkpoint import checkpoint
from torch_geometric.data import Data

from .blocks import row_blocks, slices
from .data import MAX_LEN
from .encoders import Dropout, GNNEncoder, SampledHop, SequenceEncoder, sampled_hops
from .graph import CSRAdjacency, incoming_csr
from .losses import full_softmax_cross_entropy, gcl_loss, with_gradient_now
from .padding import padding_targets
from .sampler import NeighborSampler

MMDLoss = Callable[[Tensor, Tensor], Tensor]
SCORE_PRODUCT_ROWS = 32  # rows of one [rows, d] @ [d, N] score product on CPU: at 512 rows
# MKL took 1.6x as long per row (23 against 15 ms per 512 rows, d = 64, N = 28,238)
PARTS = ("sampler", "GNN views", "Transformer", "gates and pooling", "main loss",
         "contrastive loss", "MMD")
"""The parts of a training step, as ``torch.profiler`` sees them: each is a
``record_function("gcl4sr: <part>")`` around its forward code (``bench.profile_step``
credits a backward node to the part of its forward operator)."""


def part(name: str) -> record_function:
    """The profiler label of one of :data:`PARTS` (nothing is recorded unless profiling)."""
    return record_function(f"gcl4sr: {name}")


def segment_mean(values: Tensor, index: Tensor, size: int) -> Tensor:
    """Mean of the rows of ``values`` that share an ``index`` (``[size, d]``; empty → 0)."""
    sums = values.new_zeros(size, values.shape[1]).index_add(0, index, values)
    counts = torch.bincount(index, minlength=size).clamp(min=1)
    return sums / counts.unsqueeze(1).to(values.dtype)


class GCL4SR(nn.Module):
    """Graph contrastive learning for sequential recommendation.

    ``mmd_loss(source, target)`` receives two ``[B, max_seq_length]`` tensors and returns
    a scalar; the course injects the student's implementation here.
    """

    def __init__(self, num_users: int, num_items: int, graph: Data, mmd_loss: MMDLoss,
                 hidden_size: int = 64, max_seq_length: int = MAX_LEN, num_layers: int = 2,
                 num_heads: int = 2, sample_size: Sequence[int] = (20, 20),
                 dropout: float = 0.5, lam1: float = 1.0, lam2: float = 0.1,
                 legacy: bool = False, shared_views: float = 0.0) -> None:
        super().__init__()
        self.config = dict(num_users=num_users, num_items=num_items, hidden_size=hidden_size,
                           max_seq_length=max_seq_length, num_layers=num_layers,
                           num_heads=num_heads, sample_size=list(sample_size), dropout=dropout,
                           lam1=lam1, lam2=lam2, legacy=legacy)
        self.num_items, self.max_seq_length = num_items, max_seq_length
        self.lam1, self.lam2, self.legacy = lam1, lam2, legacy
        self.shared_views = shared_views  # a sampling experiment, not saved with the weights
        self.mmd_loss = mmd_loss
        self._register_graph(graph, num_items, list(sample_size))

        self.user_embeddings = nn.Embedding(num_users, hidden_size)
        self.item_embeddings = nn.Embedding(num_items, hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(max_seq_length, hidden_size)
        self.global_gnn = GNNEncoder(hidden_size, len(sample_size), dropout)
        self.item_encoder = SequenceEncoder(hidden_size, num_heads, num_layers, dropout)
        self.dropout = Dropout(dropout)
        self.gnn_dropout = Dropout(dropout)
        self.linear_transform = nn.Linear(3 * hidden_size, hidden_size, bias=False)
        self.w_1 = nn.Parameter(torch.empty(2 * hidden_size, hidden_size))
        self.w_2 = nn.Parameter(torch.empty(hidden_size, 1))
        self.linear_1 = nn.Linear(hidden_size, hidden_size)
        self.linear_2 = nn.Linear(hidden_size, hidden_size, bias=False)
        self.w_g = nn.Linear(hidden_size, 1)
        self.w_e = nn.Linear(hidden_size, 1)
        self._init_parameters(hidden_size)
        gate_item = nn.init.xavier_uniform_(torch.empty(hidden_size, 1))
        gate_user = nn.init.xavier_uniform_(torch.empty(hidden_size, max_seq_length))
        if legacy:
            self.register_buffer("gate_item", gate_item)
            self.register_buffer("gate_user", gate_user)
        else:
            self.gate_item = nn.Parameter(gate_item)
            self.gate_user = nn.Parameter(gate_user)

    def _register_graph(self, graph: Data, num_items: int, sample_size: list[int]) -> None:
        # A graph built from the training sequences of a user subset may end before the
        # largest item id (one seen only as a validation or test item): such items are isolated.
        adj = incoming_csr(graph.edge_index, max(graph.num_nodes, num_items))
        self.register_buffer("graph_rowptr", adj.rowptr, persistent=False)
        self.register_buffer("graph_col", adj.col, persistent=False)
        self.register_buffer("graph_edge_id", adj.edge_id, persistent=False)
        self.register_buffer("graph_weight", graph.edge_attr.view(-1).float(), persistent=False)
        self.sample_size = sample_size

    def _init_parameters(self, hidden_size: int) -> None:
        stdv = 1.0 / math.sqrt(hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -stdv, stdv)
        if self.legacy:
            return
        for module in self.modules():
            if isinstance(module, (nn.Embedding, nn.Linear)):
                nn.init.xavier_normal_(module.weight)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        with torch.no_grad():
            self.item_embeddings.weight[0].zero_()

    def gnn_encode(self, items: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """One augmented global view of real (non-padding) ``items``: a fresh 2-hop sample.

        With autograd on, the encoder's activations are recomputed in the backward pass
        from the sampled subgraph, with the same dropout draws (``checkpoint``); the hops'
        edge weights (:class:`~.encoders.SampledHop`) are kept, not recomputed.
        """
        adj = CSRAdjacency(self.graph_rowptr, self.graph_col, self.graph_edge_id)
        with part("sampler"):
            _, n_id, adjs = NeighborSampler(adj, self._hops()).sample(items, generator)
        with part("GNN views"):  # the sample's constants: kept, not recomputed
            hops = sampled_hops(adjs, self.graph_weight)
        if not torch.is_grad_enabled():
            return self._encode_sample(n_id, hops)
        return checkpoint(self._encode_sample, n_id, hops, use_reentrant=False)

    def _encode_sample(self, n_id: Tensor, hops: list[SampledHop]) -> Tensor:
        with part("GNN views"):
            return self.global_gnn(self.item_embeddings(n_id), hops)

    def _hops(self) -> list[int]:
        return self.sample_size[:1] if self.legacy else self.sample_size  # legacy: inner hop

    def forward(self, user_ids: Tensor, inputs: Tensor,
                generator: torch.Generator | None = None) -> dict:
        """Encode a batch: two gated global (GNN) views, then the local (Transformer) one.

        Every output lists only the real (non-padding) positions, ``[T, ...]``, by
        ``batch_index`` and ``position``. Padding entries matter only to the MMD loss;
        ``padding`` holds what :meth:`_mmd_targets` needs to compute them (the dropout
        draws, made here so the random stream is that of the padded computation).
        """
        return self._with_local(self._global_views(user_ids, inputs, generator), inputs)

    def _global_views(self, user_ids: Tensor, inputs: Tensor,
                      generator: torch.Generator | None) -> dict:
        """The two sampled GNN views of the batch's real positions, gated per user."""
        batch, length = inputs.shape
        real = inputs != 0
        batch_index, position = real.nonzero(as_tuple=True)
        items, num_padding = inputs[real], int(batch * length - batch_index.numel())
        global_a = self.gnn_encode(items, generator)
        with part("MMD"):  # the padding entries' dropout draws (their MMD targets)
            masks_a = self.global_gnn.padding_masks(num_padding, len(self._hops()), global_a)
        if self._views_shared(generator):
            global_b, masks_b = global_a, masks_a
        else:
            global_b = self.gnn_encode(items, generator)
            with part("MMD"):
                masks_b = self.global_gnn.padding_masks(num_padding, len(self._hops()),
                                                        global_b)
        with part("gates and pooling"):
            user_gate = self.user_embeddings(user_ids) @ self.gate_user  # [B, L]
            kept_a = self.gnn_dropout.draw((batch, length, global_a.shape[1]), global_a)
            kept_b = self.gnn_dropout.draw((batch, length, global_b.shape[1]), global_b)
            gated_a = self._gated(global_a, user_gate[real], _rows(kept_a, real))
            gated_b = self._gated(global_b, user_gate[real], _rows(kept_b, real))
        padding = dict(user_gate=user_gate[~real], masks=(masks_a, masks_b),
                       kept=(kept_a, kept_b))
        return dict(batch_index=batch_index, position=position, gated_a=gated_a,
                    gated_b=gated_b, global_a=global_a, global_b=global_b, real=real,
                    padding=padding)

    def _with_local(self, out: dict, inputs: Tensor) -> dict:
        """``out`` with ``hidden``: the local view and both gated views, mixed per position."""
        with part("Transformer"):
            local = self.item_encoder(inputs, self.item_embeddings)
        with part("gates and pooling"):
            out["hidden"] = self.linear_transform(
                torch.cat([local, out["gated_a"], out["gated_b"]], -1))
        return out

    def _gated(self, view: Tensor, user_gate: Tensor, kept: Tensor | None) -> Tensor:
        """``dropout(g ⊙ v)`` with ``g = σ(v · w_item + (e_u W_user)_t)``, one scalar gate per
        position ``t`` of user ``u``: the user-gated view ``[n, d]`` (``kept``: the dropout
        mask, None for no dropout)."""
        gate = torch.sigmoid((view @ self.gate_item).squeeze(-1) + user_gate).unsqueeze(-1)
        return self.gnn_dropout.drop(view * gate, kept)

    def _views_shared(self, generator: torch.Generator | None) -> bool:
        """Whether view b repeats view a in this batch (docstring item 10); no draw at 0."""
        if self.shared_views <= 0.0:
            return False
        draw = torch.rand((), generator=generator, device=self.graph_rowptr.device)
        return bool(draw < self.shared_views)

    def final_att_net(self, hidden: Tensor, batch_index: Tensor, position: Tensor,
                      batch_size: int) -> Tensor:
        """Attention pooling of each sequence's real positions ``hidden [T, d]`` into ``[B, d]``:

            s = mean_t h_t,  α_t = σ(W_a tanh([p_t ; h_t] W_1) + W_b s),  z = Σ_t (α_t W_2) ⊙ h_t

        with ``p_t`` the position embedding (``W_a``, ``W_b``: ``linear_1``, ``linear_2``).
        """
        seq_hidden = segment_mean(hidden, batch_index, batch_size)
        pos_emb = self.position_embeddings.weight[position]
        item_hidden = torch.tanh(torch.cat([pos_emb, hidden], -1) @ self.w_1)
        score = torch.sigmoid(self.linear_1(item_hidden) + self.linear_2(seq_hidden)[batch_index])
        weighted = (score @ self.w_2) * hidden
        return hidden.new_zeros(batch_size, hidden.shape[1]).index_add(0, batch_index, weighted)

    def _pooled(self, out: dict[str, Tensor], batch_size: int) -> Tensor:
        return self.final_att_net(out["hidden"], out["batch_index"], out["position"], batch_size)

    def sequence_vector(self, user_ids: Tensor, inputs: Tensor,
                        generator: torch.Generator | None = None) -> Tensor:
        """The sequence representation used for ranking (evaluation path)."""
        return self._pooled(self.forward(user_ids, inputs, generator), inputs.shape[0])

    def score_items(self, seq_vector: Tensor, out: Tensor | None = None) -> Tensor:
        """Scores of every item id for each sequence vector (written into ``out`` if given).

        Padding item 0 is never a target: by default it scores ``-inf`` (so its embedding
        gets no gradient and stays zero); legacy scores it like any item, as the original.
        """
        weight = self.item_embeddings.weight
        if out is None or out.device.type != "cpu":
            scores = torch.mm(seq_vector, weight.T, out=out)
        else:  # the product a few rows at a time: faster on CPU (SCORE_PRODUCT_ROWS)
            for rows in slices(len(seq_vector), SCORE_PRODUCT_ROWS):
                torch.mm(seq_vector[rows], weight.T, out=out[rows])
            scores = out
        if not self.legacy:
            scores[:, 0] = -math.inf
        return scores

    def calculate_loss(self, user_ids: Tensor, inputs: Tensor, targets: Tensor,
                       generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """Return ``(loss, main_loss, gcl_loss, mmd_loss)`` for one training batch.

        The MMD loss and its gradient are computed as soon as the gated views exist, before
        the Transformer: its ``[2B, 2B]`` kernel matrices and their gradients are freed
        before the rest of the step's activations are made (a lower memory peak).
        """
        out = self._global_views(user_ids, inputs, generator)
        batch = inputs.shape[0]
        with part("MMD"):
            # w_e of every item once, then looked up: the MMD source without a [B, L, d] tensor
            all_items = torch.arange(self.num_items, device=inputs.device)
            local = self.w_e(self.item_embeddings(all_items)).squeeze(-1)[inputs]
            mmd = sum(with_gradient_now(self.mmd_loss, local, self._mmd_targets(out, view))
                      for view in (0, 1))
        out = self._with_local(out, inputs)
        with part("gates and pooling"):
            seq_out = self.dropout(self._pooled(out, batch))
        with part("main loss"):
            if self.legacy:  # padding item 0 is one more class, as in the original
                main = full_softmax_cross_entropy(seq_out, self.item_embeddings.weight, targets)
            else:
                main = full_softmax_cross_entropy(seq_out, self.item_embeddings.weight[1:],
                                                  targets - 1)
        with part("contrastive loss"):
            index = out["batch_index"]
            mean_a = segment_mean(out["global_a"], index, batch)
            mean_b = segment_mean(out["global_b"], index, batch)
            gcl = gcl_loss(torch.cat([mean_a, mean_b], 0))
        return main + self.lam1 * gcl + self.lam2 * mmd, main, gcl, mmd

    def _mmd_targets(self, out: dict, view: int) -> Tensor:
        """``w_g`` of a gated view at every position ``[B, L]``, padding included.

        Padding entries are recomputed in the backward pass (``checkpoint``) from their
        dropout draws, instead of keeping their ``[B * L - T, d]`` activations.
        """
        real, padding = out["real"], out["padding"]
        targets = out["gated_a"].new_empty(real.shape)
        targets[real] = self.w_g(out[("gated_a", "gated_b")[view]]).squeeze(-1)
        user_gate = padding["user_gate"]
        if user_gate.numel():
            targets[~real] = self._padding_targets(user_gate, padding["masks"][view],
                                                   _rows(padding["kept"][view], ~real))
        return targets

    def _padding_targets(self, user_gate: Tensor, masks: list[Tensor] | None,
                         kept: Tensor | None) -> Tensor:
        """``w_g`` of the gated view at padding entries (item 0, isolated in the WITG).

        With two hops and dropout (the course's model in training), one fused pass each way
        (:mod:`.padding`); otherwise the encoder's general path in chunks, recomputed in the
        backward pass.
        """
        node = self.item_embeddings(user_gate.new_zeros(1, dtype=torch.long))
        hop = self.global_gnn.last_hop_after_dropout(node, len(self._hops()))
        if hop is not None and kept is not None:
            offset, rows = hop
            return padding_targets(masks[0], kept, self.gnn_dropout.scale, user_gate, rows,
                                   offset, self.gate_item.view(-1), self.w_g.weight.view(-1),
                                   self.w_g.bias)
        return torch.cat([checkpoint(self._padding_chunk, user_gate[rows], _rows(masks, rows),
                                     _rows(kept, rows), use_reentrant=False,
                                     preserve_rng_state=False)
                          for rows in row_blocks(user_gate.numel(), node.shape[1])])

    def _padding_chunk(self, user_gate: Tensor, masks: list[Tensor] | None,
                       kept: Tensor | None) -> Tensor:
        node = self.item_embeddings(user_gate.new_zeros(1, dtype=torch.long))
        view = self.global_gnn.isolated(node, user_gate.numel(), len(self._hops()), masks)
        return self.w_g(self._gated(view, user_gate, kept)).squeeze(-1)


def _rows(x: Tensor | list[Tensor] | None,
          rows: Tensor | slice) -> Tensor | list[Tensor] | None:
    """``x[rows]`` for a tensor, each tensor's rows for a list, None for None."""
    if x is None:
        return None
    return [t[rows] for t in x] if isinstance(x, list) else x[rows]

