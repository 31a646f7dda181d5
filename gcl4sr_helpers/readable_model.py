"""읽기용 GCL4SR: 논문의 부품 하나를 짧은 함수 하나로 옮겨 적었습니다.

Zhang et al., *Enhancing Sequential Recommendation with Graph Contrastive Learning*, IJCAI
2022. 모든 함수는 엔진 모델(:class:`~.model.GCL4SR`)의 파라미터를 그대로 쓰고, 패딩까지
포함한 ``[B, L, ...]`` 텐서를 블록 나누기도 다시 계산하기도 없이 계산합니다. 값과 기울기는
엔진이 더 빠르게 계산하는 것과 같습니다 (키트의 테스트가 확인합니다). MMD 손실은 과제이므로
인자로 받습니다. 두 전역 뷰에 같은 이웃 샘플링을 쓰는 엔진의 실험(``shared_views``)은 여기서
뺐습니다.
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
    """그래프 기반 증강 + 공유 GNN: ``inputs``의 전역 뷰 하나 ``H' [B, L, d]``.

    배치의 모든 칸(이웃이 없는 패딩 아이템 0도)마다 WITG 이웃을 한 홉에 20개씩 따로 뽑고,
    GNN이 바깥 홉부터 안쪽으로 인코딩합니다. legacy는 원본 코드처럼 안쪽 홉만 씁니다.
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
    """``h = D^-1/2 (A + I) D^-1/2 X W + b`` (가중치 GCN), 이어서
    ``h_v = normalize(W_l mean_{u in N(v)} h_u + W_r h_v)`` (GraphSAGE): 뽑힌 홉 하나.

    ``A``는 뽑힌 엣지의 WITG 가중치, ``x``는 이 홉의 출발 노드들의 행입니다. 결과는 도착
    노드마다 한 행입니다 (도착 노드는 출발 노드의 앞쪽 행들입니다).
    """
    edge_index, e_id, (_, num_targets) = adj
    h = model.global_gnn.gcn(x, edge_index, model.graph_weight[e_id])
    return conv((h, h[:num_targets]), edge_index)


def gate_values(model: GCL4SR, view: Tensor, user_ids: Tensor) -> Tensor:
    """사용자별 게이트 값: ``g = σ(H' g_item + p_u G_user)``, ``[B, L]``, 0과 1 사이.

    위치마다 숫자 하나로, 아이템의 전역 뷰(``H' g_item``)와 사용자(``p_u G_user``)에 따라
    정해집니다.
    """
    return torch.sigmoid((view @ model.gate_item).squeeze(-1)
                         + model.user_embeddings(user_ids) @ model.gate_user)


def user_gating(model: GCL4SR, view: Tensor, user_ids: Tensor) -> Tensor:
    """사용자별 게이트: ``Q = H' ⊙ g`` (게이트 뷰), ``[B, L, d]``.

    위치마다 전역 뷰를 게이트 값 ``g``(:func:`gate_values`)만큼만 남깁니다.
    """
    gate = gate_values(model, view, user_ids)
    return F.dropout(view * gate.unsqueeze(-1), model.gnn_dropout.p, model.training)


def transformer_layer(layer: EncoderLayer, x: Tensor, mask: Tensor) -> Tensor:
    """``x = LN(x + MultiHead(x, x, x))``, 이어서 ``x = LN(x + W_2 GELU(W_1 x))`` (post-norm)."""
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
    """시퀀스 인코더: 지역 표현 ``H = Transformer(Dropout(LN(E[s])))``, ``[B, L, d]``.

    위치 ``t``는 ``t``까지의 실제 아이템만 봅니다 (인과 마스크). 패딩 위치는 자기 자신만 보므로
    그 행도 유한한 값이고, 뒤의 단계에서 빠집니다.
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
    """``α_t = w_2ᵀ σ(W_1' tanh([p_t ‖ h_t] W_1) + W_2' h̄)``, ``z = Σ_t α_t h_t`` (실제 위치 t).

    ``hidden [B, L, d]``은 합친 표현, ``h̄``는 그 실제 위치의 평균, ``p_t``는 위치 임베딩입니다.
    시퀀스 벡터 ``z [B, d]``를 돌려줍니다.
    """
    mask = real.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    positions = model.position_embeddings.weight[:hidden.shape[1]].expand_as(hidden)
    item_hidden = torch.tanh(torch.cat([positions, hidden], -1) @ model.w_1)
    score = torch.sigmoid(model.linear_1(item_hidden) + model.linear_2(mean).unsqueeze(1))
    return ((score @ model.w_2) * hidden * mask).sum(1)


def sequence_vector(model: GCL4SR, local: Tensor, gated: list[Tensor], real: Tensor) -> Tensor:
    """``z = AttentionPooling([H ‖ Q' ‖ Q''] W_T)``: 세 표현을 합친 시퀀스 벡터 ``[B, d]``.

    ``[B, L, 3d]``를 선형 변환 ``W_T``로 ``[B, L, d]``에 되돌린 뒤 :func:`attention_pooling`.
    """
    hidden = model.linear_transform(torch.cat([local, *gated], -1))
    return attention_pooling(model, hidden, real)


def encode(model: GCL4SR, user_ids: Tensor, inputs: Tensor,
           generator: torch.Generator | None = None) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """``H', H''`` → ``Q', Q''`` → ``z``: 시퀀스 벡터, 두 전역 뷰, 두 게이트 뷰.

    이웃을 두 번 뽑아 전역 뷰 두 개를 만들고, 지역 표현 ``H``와 합쳐 ``z``를 계산합니다.
    """
    views = [global_view(model, inputs, generator) for _ in range(2)]
    gated = [user_gating(model, view, user_ids) for view in views]
    z = sequence_vector(model, local_view(model, inputs), gated, inputs != 0)
    return z, views, gated


def main_loss(model: GCL4SR, z: Tensor, targets: Tensor) -> Tensor:
    """예측 손실: ``-log softmax(z Eᵀ)[정답]``의 배치 평균.

    기본 모드에서 패딩 아이템 0은 후보가 아닙니다. legacy는 원본처럼 0도 후보로 둡니다.
    """
    z = F.dropout(z, model.dropout.p, model.training)
    items = model.item_embeddings.weight
    if model.legacy:
        return F.cross_entropy(z @ items.T, targets)
    return F.cross_entropy(z @ items[1:].T, targets - 1)


def contrastive_loss(view_a: Tensor, view_b: Tensor, real: Tensor,
                     temperature: float = 0.5) -> Tensor:
    """대조 손실 (NT-Xent): ``-log exp(cos(z'_i, z''_i)/τ) / Σ_{j≠i} exp(cos(z_i, z_j)/τ)``.

    ``z'``, ``z''``는 두 전역 뷰를 실제 위치에서 평균한 것이고, 두 뷰의 다른 시퀀스는 모두
    음성(negative)입니다. H' 쪽 행의 평균과 H'' 쪽 행의 평균을 더해 돌려줍니다.
    """
    mask = real.unsqueeze(-1).to(view_a.dtype)
    means = [(view * mask).sum(1) / mask.sum(1) for view in (view_a, view_b)]
    z = F.normalize(torch.cat(means), dim=-1)
    logits = (z @ z.T / temperature).fill_diagonal_(-math.inf)
    batch = view_a.shape[0]
    partners = (torch.arange(2 * batch, device=z.device) + batch) % (2 * batch)
    return 2.0 * F.cross_entropy(logits, partners)


def mmd_term(model: GCL4SR, inputs: Tensor, gated: list[Tensor], mmd_loss: MMDLoss) -> Tensor:
    """``Σ_Q MMD(w_e(E[s]), w_g(Q))``: 사영한 아이템 임베딩과 사영한 게이트 뷰, 각각 ``[B, L]``.

    위치마다(패딩 위치 포함) 숫자 하나입니다. 지역 표현 ``H``가 아니라 Transformer에 들어가기
    전의 아이템 임베딩 ``E[s]``를 사영합니다 (원본 과제 코드와 같습니다).
    """
    local = model.w_e(model.item_embeddings(inputs)).squeeze(-1)
    return sum(mmd_loss(local, model.w_g(view).squeeze(-1)) for view in gated)


def losses(model: GCL4SR, user_ids: Tensor, inputs: Tensor, targets: Tensor,
           mmd_loss: MMDLoss, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
    """``L = L_main + λ_1 L_GCL + λ_2 L_MMD``; ``(L, L_main, L_GCL, L_MMD)``를 돌려줍니다."""
    z, views, gated = encode(model, user_ids, inputs, generator)
    main = main_loss(model, z, targets)
    gcl = contrastive_loss(*views, inputs != 0)
    mmd = mmd_term(model, inputs, gated, mmd_loss)
    return main + model.lam1 * gcl + model.lam2 * mmd, main, gcl, mmd
