"""Typical mistakes of the optional TODO 4, the contrastive loss NT-Xent (see the package's
docstring). The TODO is not graded: only the students' check names them, from the properties
each one breaks (``gcl4sr_helpers.checks.contrastive``)."""
from __future__ import annotations

import torch
from torch import Tensor

from . import mistake

# --- NT-Xent: -(1/B) Σ_{i<2B} log softmax_{j≠i}(z_i · z_j / τ)[i ± B], z the unit rows


@mistake("nt_xent.self_included", "each row's similarity with itself left in the denominator",
         "자기 자신과의 유사도를 분모에 남김")
def nt_xent_self_included(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = z @ z.T / temperature  # the diagonal is not masked
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.no_normalize", "dot products of the raw rows instead of cosines",
         "행을 정규화하지 않은 내적")
def nt_xent_raw(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])  # no L2 normalisation
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.temperature", "the similarities multiplied by the temperature",
         "유사도에 온도를 곱함")
def nt_xent_times_tau(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T * temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.sign", "the log-probabilities summed without the minus sign",
         "log 확률에 -를 붙이지 않음")
def nt_xent_sign(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return (picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.mean_2b", "the mean over the 2B rows (SimCLR) instead of their sum over B",
         "2B개 행의 평균 (SimCLR 방식)")
def nt_xent_mean(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).mean()


@mistake("nt_xent.one_direction", "only view_a's rows looking for their pair",
         "view_a 쪽 행만 더함")
def nt_xent_one_way(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z[:batch] @ z.T / temperature).fill_diagonal_(float("-inf"))
    picked = logits[torch.arange(batch), torch.arange(batch) + batch]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch
