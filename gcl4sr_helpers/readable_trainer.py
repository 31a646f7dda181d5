"""읽기용 학습과 평가: 학습 한 스텝, 이미 본 아이템 가리기, 추천 목록 상위 k.

원본 과제의 학습기가 노트북에 적어 두었던 부분입니다. 노트북의 ``run.train_epoch``는 배치마다
:func:`train_step`과 같은 일을, ``run.test``는 테스트 사용자마다 :func:`rank_batch`와 같은 일을
엔진의 학습기(:class:`~.trainer.Trainer`)로 더 빠르게 합니다. 같은 시드에서 두 구현이 같은
손실, 같은 파라미터, 같은 추천 목록을 낸다는 것은 키트의 테스트가 확인합니다. 평가는 엔진의
기본 모드(``legacy=False``)를 따릅니다.
"""

from __future__ import annotations

import math

import torch
from scipy.sparse import csr_matrix
from torch import Tensor

from . import readable_model as rm
from .model import GCL4SR


def train_step(model: GCL4SR, optimizer: torch.optim.Optimizer, user_ids: Tensor,
               inputs: Tensor, targets: Tensor,
               generator: torch.Generator | None = None) -> tuple[float, float, float]:
    """학습 한 스텝: ``L = L_main + λ_1 L_GCL + λ_2 L_MMD``, ``∇_θ L``, ``θ ← Adam(θ, ∇_θ L)``.

    1. 지난 스텝의 기울기를 지웁니다.
    2. 순전파: 읽기용 모델로 세 손실과 전체 손실 ``L``을 계산합니다 (MMD는 모델에 넣어 둔
       ``model.mmd_loss``).
    3. 역전파: ``L``의 기울기를 모든 파라미터에 대해 구합니다.
    4. 옵티마이저가 파라미터를 한 번 갱신합니다.

    ``(main, gcl, mmd)``를 돌려줍니다. ``run.train_epoch``가 배치마다 기록하는 값입니다.
    """
    optimizer.zero_grad(set_to_none=True)
    loss, main, gcl, mmd = rm.losses(model, user_ids, inputs, targets, model.mmd_loss,
                                     generator)
    loss.backward()
    optimizer.step()
    return main.item(), gcl.item(), mmd.item()


def item_scores(model: GCL4SR, z: Tensor) -> Tensor:
    """``s_{u,i} = z_u · e_i``: 모든 아이템의 점수 ``[B, 아이템 수]``.

    패딩 아이템 0은 정답이 될 수 없으므로 점수를 ``-inf``로 두어 순위에서 뺍니다.
    """
    scores = z @ model.item_embeddings.weight.T
    scores[:, 0] = -math.inf
    return scores


def mask_seen(scores: Tensor, history: csr_matrix, user_ids: Tensor) -> Tensor:
    """이미 본 아이템 가리기: ``history[u, i] ≠ 0``이면 ``s_{u,i} = -inf``.

    ``history``는 사용자 × 아이템 행렬로, 사용자가 입력에서 본 아이템에 표시가 있습니다.
    ``-inf``는 어떤 점수보다도 작으므로 가린 아이템은 추천 목록에 들지 않습니다. 새 텐서를
    돌려줍니다.
    """
    seen = history[user_ids.cpu().numpy()].toarray() != 0
    return scores.masked_fill(torch.from_numpy(seen).to(scores.device), -math.inf)


def top_k(scores: Tensor, k: int) -> Tensor:
    """추천 목록: 점수가 큰 순서로 아이템 ``k``개의 ID, ``[B, k]`` (1위가 첫 열)."""
    return torch.topk(scores, k).indices


@torch.no_grad()
def rank_batch(model: GCL4SR, user_ids: Tensor, inputs: Tensor, history: csr_matrix,
               k: int = 20, generator: torch.Generator | None = None) -> Tensor:
    """배치의 추천 목록: ``top_k(mask_seen(z Eᵀ), k)``, ``[B, k]``.

    평가는 드롭아웃을 끄고(``eval()``) 기울기 없이 합니다. 이웃 샘플링에 시드를 고정한
    ``generator``를 주면 같은 모델은 언제나 같은 목록을 냅니다.
    """
    model.eval()
    z, _, _ = rm.encode(model, user_ids, inputs, generator)
    return top_k(mask_seen(item_scores(model, z), history, user_ids), k)
