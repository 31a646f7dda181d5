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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from .encoders import Dropout, GNNEncoder, SequenceEncoder
from .graph import CSRAdjacency, incoming_csr
from .losses import full_softmax_cross_entropy, gcl_loss
from .sampler import NeighborSampler

MMDLoss = Callable[[Tensor, Tensor], Tensor]


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
                 hidden_size: int = 64, max_seq_length: int = 50, num_layers: int = 2,
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
        """One augmented global view: a fresh 2-hop sample around every entry of ``items``.

        Padding entries (item 0, isolated in the WITG) take the dense shortcut of
        :meth:`GNNEncoder.isolated` instead of the sampled graph: same values, a fraction
        of the memory (most entries of a left-padded batch are padding).
        """
        adj = CSRAdjacency(self.graph_rowptr, self.graph_col, self.graph_edge_id)
        sizes = self.sample_size[:1] if self.legacy else self.sample_size  # legacy: inner hop only
        real = items != 0
        _, n_id, adjs = NeighborSampler(adj, sizes).sample(items[real], generator)
        encoded = self.global_gnn(self.item_embeddings(n_id), adjs, self.graph_weight)
        padding = self.global_gnn.isolated(self.item_embeddings(items.new_zeros(1)),
                                           int((~real).sum()), len(sizes))
        out = encoded.new_empty(items.shape[0], encoded.shape[1])
        out[real] = encoded
        out[~real] = padding
        return out

    def forward(self, user_ids: Tensor, inputs: Tensor,
                generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Encode a batch: local (Transformer) and two gated global (GNN) views.

        ``hidden`` holds only the real (non-padding) positions, ``[T, d]``, listed by
        ``batch_index`` and ``position``; everything downstream of it is masked anyway.
        """
        batch, length = inputs.shape
        real = inputs != 0
        batch_index, position = real.nonzero(as_tuple=True)
        flat = inputs.reshape(-1)
        global_a = self.gnn_encode(flat, generator).view(batch, length, -1)
        global_b = (global_a if self._views_shared(generator)
                    else self.gnn_encode(flat, generator).view(batch, length, -1))

        local = self.item_encoder(self.item_embeddings(inputs), real)

        user_gate = self.user_embeddings(user_ids) @ self.gate_user  # [B, L]
        gated_a = self.gnn_dropout(global_a * self._gate(global_a, user_gate))
        gated_b = self.gnn_dropout(global_b * self._gate(global_b, user_gate))
        hidden = self.linear_transform(torch.cat([local[real], gated_a[real], gated_b[real]], -1))
        return dict(hidden=hidden, batch_index=batch_index, position=position, gated_a=gated_a,
                    gated_b=gated_b, global_a=global_a, global_b=global_b, real=real)

    def _views_shared(self, generator: torch.Generator | None) -> bool:
        """Whether view b repeats view a in this batch (docstring item 10); no draw at 0."""
        if self.shared_views <= 0.0:
            return False
        draw = torch.rand((), generator=generator, device=self.graph_rowptr.device)
        return bool(draw < self.shared_views)

    def _gate(self, global_view: Tensor, user_gate: Tensor) -> Tensor:
        return torch.sigmoid((global_view @ self.gate_item).squeeze(-1) + user_gate).unsqueeze(-1)

    def final_att_net(self, hidden: Tensor, batch_index: Tensor, position: Tensor,
                      batch_size: int) -> Tensor:
        """Attention pooling of each sequence's real positions ``hidden [T, d]`` into ``[B, d]``."""
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

    def score_items(self, seq_vector: Tensor) -> Tensor:
        """Scores of every item id for each sequence vector.

        Padding item 0 is never a target: by default it scores ``-inf`` (so its embedding
        gets no gradient and stays zero); legacy scores it like any item, as the original.
        """
        if self.legacy:
            return seq_vector @ self.item_embeddings.weight.T
        scores = seq_vector @ self.item_embeddings.weight[1:].T
        return F.pad(scores, (1, 0), value=-math.inf)

    def calculate_loss(self, user_ids: Tensor, inputs: Tensor, targets: Tensor,
                       generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """Return ``(loss, main_loss, gcl_loss, mmd_loss)`` for one training batch."""
        out = self.forward(user_ids, inputs, generator)
        batch = inputs.shape[0]
        seq_out = self.dropout(self._pooled(out, batch))
        if self.legacy:  # padding item 0 is one more class, as in the original
            main = full_softmax_cross_entropy(seq_out, self.item_embeddings.weight, targets)
        else:
            main = full_softmax_cross_entropy(seq_out, self.item_embeddings.weight[1:],
                                              targets - 1)

        real, index = out["real"], out["batch_index"]
        mean_a = segment_mean(out["global_a"][real], index, batch)
        mean_b = segment_mean(out["global_b"][real], index, batch)
        gcl = gcl_loss(torch.cat([mean_a, mean_b], 0), temperature=0.5)

        local = self.w_e(self.item_embeddings(inputs)).view(batch, -1)
        mmd = (self.mmd_loss(local, self.w_g(out["gated_a"]).view(batch, -1))
               + self.mmd_loss(local, self.w_g(out["gated_b"]).view(batch, -1)))
        return main + self.lam1 * gcl + self.lam2 * mmd, main, gcl, mmd
