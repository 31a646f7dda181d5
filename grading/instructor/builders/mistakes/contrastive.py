"""Typical mistakes of the optional TODO 4, the contrastive loss NT-Xent (see the package's
docstring). The TODO is not graded: only the students' check names them, from the properties
each one breaks (``gcl4sr_helpers.checks.contrastive``)."""
from __future__ import annotations

import torch
from torch import Tensor

from . import mistake

# --- NT-Xent: -(1/B) Σ_{i<2B} log softmax_{j≠i}(z_i · z_j / τ)[i ± B], z the unit rows


@mistake("nt_xent.self_included")
def nt_xent_self_included(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = z @ z.T / temperature  # the diagonal is not masked
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.no_normalize")
def nt_xent_raw(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])  # no L2 normalisation
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.temperature")
def nt_xent_times_tau(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T * temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.sign")
def nt_xent_sign(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return (picked - torch.logsumexp(logits, dim=1)).sum() / batch


@mistake("nt_xent.mean_2b")
def nt_xent_mean(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z @ z.T / temperature).fill_diagonal_(float("-inf"))
    partners = (torch.arange(2 * batch) + batch) % (2 * batch)
    picked = logits[torch.arange(2 * batch), partners]
    return -(picked - torch.logsumexp(logits, dim=1)).mean()


@mistake("nt_xent.one_direction")
def nt_xent_one_way(view_a: Tensor, view_b: Tensor, temperature: float = 0.5) -> Tensor:
    batch = view_a.shape[0]
    z = torch.cat([view_a, view_b])
    z = z / z.norm(dim=1, keepdim=True)
    logits = (z[:batch] @ z.T / temperature).fill_diagonal_(float("-inf"))
    picked = logits[torch.arange(batch), torch.arange(batch) + batch]
    return -(picked - torch.logsumexp(logits, dim=1)).sum() / batch
