"""Rows divided by their L2 norm (``F.normalize``), with a one-pass backward.

    unit(x) = x / max(‖x‖₂, ε),   ∂L/∂x = (g - unit (g · unit)) / max(‖x‖₂, ε)

(``g / ε`` where the norm is clamped). The GNN's SAGE hops end with it, and so does the
padding entries' fused pass (:mod:`.padding`).
"""

from __future__ import annotations

import torch
from torch import Tensor

NORM_EPS = 1e-12  # the floor of a row's norm in unit_rows, F.normalize's default


def unit_and_norm(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(x / n, n)`` with ``n = max(‖x‖₂, ε)`` per row."""
    norm = x.norm(2.0, -1, keepdim=True).clamp_min_(NORM_EPS)
    return x / norm, norm


def unit_backward(grad: Tensor, unit: Tensor, norm: Tensor) -> Tensor:
    """The gradient through ``unit = x / n``: ``(g - unit (g · unit)) / n`` (``g / ε`` where the
    norm was clamped to ``ε``)."""
    along = (grad * unit).sum(-1, keepdim=True).masked_fill_(norm <= NORM_EPS, 0.0)
    return (grad - unit * along).div_(norm)


class _UnitRows(torch.autograd.Function):
    """:func:`unit_rows`, its backward pass in one fused pass (about 3x faster on CPU than
    autograd's graph of the division)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        unit, norm = unit_and_norm(x)
        ctx.save_for_backward(unit, norm)
        return unit

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return unit_backward(grad, *ctx.saved_tensors)


def unit_rows(x: Tensor) -> Tensor:
    """``F.normalize(x, p=2, dim=-1)``: each row divided by its L2 norm (at least ``1e-12``);
    the same values, a faster backward pass."""
    return _UnitRows.apply(x)
