"""The MMD targets of a batch's padding entries, fused into one pass each way.

A padding entry is item 0, isolated in the WITG. With two GNN hops and dropout between them,
its gated global view and MMD target are (one row per entry ``e``):

    v_e = unit(o + K1_e R),   g_e = σ(v_e · w_item + u_e),   t_e = s g_e (K2_e ⊙ v_e) · w_g + b_g

with ``K1_e`` the hop dropout's keep mask, ``R`` and ``o`` the last hop applied to the dropped
constant row (``GNNEncoder.last_hop_after_dropout``), ``u_e`` the user gate, ``K2_e`` the gate
dropout's keep mask with its scale ``s``, and ``unit`` the division by the L2 norm. Autograd
would keep (or recompute) a dozen ``[N, d]`` tensors for this; here only the inputs are kept,
and the backward pass recomputes ``v`` and ``g`` block by block.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .blocks import row_blocks
from .normalize import unit_and_norm, unit_backward


def _view_and_gate(keep: Tensor, rows: Tensor, offset: Tensor, user_gate: Tensor,
                   gate_item: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(v, ‖z‖ clamped, g)`` of a block of entries (``keep``: their ``K1`` as floats)."""
    view, norm = unit_and_norm(torch.addmm(offset.unsqueeze(0), keep, rows))
    return view, norm, torch.sigmoid(view @ gate_item + user_gate)


class _PaddingTargets(torch.autograd.Function):
    """``t`` of the module docstring for every entry, its gradient by the chain rule by hand."""

    @staticmethod
    def forward(ctx, kept_hop: Tensor, kept_gate: Tensor, scale: float, user_gate: Tensor,
                rows: Tensor, offset: Tensor, gate_item: Tensor, w_g: Tensor,
                b_g: Tensor) -> Tensor:
        ctx.save_for_backward(kept_hop, kept_gate, user_gate, rows, offset, gate_item, w_g)
        ctx.scale = scale
        out = user_gate.new_empty(user_gate.shape)
        for block in row_blocks(len(user_gate), rows.shape[1]):
            view, _, gate = _view_and_gate(kept_hop[block].to(rows.dtype), rows, offset,
                                           user_gate[block], gate_item)
            kept = kept_gate[block].to(view.dtype)
            out[block] = (view.mul_(kept) @ w_g).mul_(gate).mul_(scale).add_(b_g)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        kept_hop, kept_gate, user_gate, rows, offset, gate_item, w_g = ctx.saved_tensors
        grad_rows, grad_offset = torch.zeros_like(rows), torch.zeros_like(offset)
        grad_gate_item, grad_w_g = torch.zeros_like(gate_item), torch.zeros_like(w_g)
        grad_user_gate = torch.empty_like(user_gate)
        for block in row_blocks(len(user_gate), rows.shape[1]):
            keep = kept_hop[block].to(rows.dtype)
            view, norm, gate = _view_and_gate(keep, rows, offset, user_gate[block], gate_item)
            kept = kept_gate[block].to(view.dtype)
            dropped = view * kept
            up = grad[block] * ctx.scale
            grad_q = up * gate  # t = s g q + b with q = (K2 ⊙ v) · w_g
            grad_a = up * (dropped @ w_g) * gate * (1.0 - gate)  # a = v · w_item + u, g = σ(a)
            grad_w_g += dropped.T @ grad_q
            grad_gate_item += view.T @ grad_a
            grad_user_gate[block] = grad_a
            grad_view = torch.addr(kept.mul_(w_g).mul_(grad_q.unsqueeze(1)), grad_a, gate_item)
            grad_z = unit_backward(grad_view, view, norm)
            grad_offset += grad_z.sum(0)
            grad_rows.addmm_(keep.T, grad_z)
        return (None, None, None, grad_user_gate, grad_rows, grad_offset, grad_gate_item,
                grad_w_g, grad.sum().reshape(1))


def padding_targets(kept_hop: Tensor, kept_gate: Tensor, scale: float, user_gate: Tensor,
                    rows: Tensor, offset: Tensor, gate_item: Tensor, w_g: Tensor,
                    b_g: Tensor) -> Tensor:
    """``t_e`` of the module docstring for every padding entry ``e``, ``[N]``.

    ``kept_hop``, ``kept_gate``: ``[N, d]`` bool masks; ``user_gate``: ``[N]``; ``rows``:
    ``[d, d]``; ``offset``, ``gate_item``, ``w_g``: ``[d]``; ``b_g``: ``[1]``.
    """
    return _PaddingTargets.apply(kept_hop, kept_gate, scale, user_gate, rows, offset,
                                 gate_item, w_g, b_g)
