"""Loss building blocks given to students: the multi-kernel Gaussian and the GCL loss.

The MMD loss itself is a student exercise and is injected into the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .blocks import row_blocks, slices

TEMPERATURE = 0.5  # of the GCL loss, as in GCL4SR
TILE = 512  # rows and columns of a multi-kernel tile (1 MB): 256 and 1024 measured slower


def _tile_sq_distances(total: Tensor, sq: Tensor, rows: slice, cols: slice) -> Tensor:
    """``|a - b|^2 = |a|^2 + |b|^2 - 2 a.b``, ``a`` in ``total[rows]``, ``b`` in ``total[cols]``."""
    distances = torch.addmm(sq[cols].unsqueeze(0), total[rows], total[cols].T, alpha=-2.0)
    return distances.add_(sq[rows].unsqueeze(1)).clamp_min_(0.0)


def _upper_tiles(n: int) -> list[tuple[slice, slice]]:
    """``(rows, cols)`` square tiles of an ``[n, n]`` symmetric matrix on and above its diagonal."""
    tiles = slices(n, TILE)
    return [(rows, cols) for i, rows in enumerate(tiles) for cols in tiles[i:]]


def _doubling(bandwidths: tuple[float, ...]) -> bool:
    return all(b == 2.0 * a for a, b in zip(bandwidths, bandwidths[1:], strict=False))


def _power_series(distances: Tensor, bandwidths: tuple[float, ...]) -> tuple[Tensor, Tensor]:
    """``(Σ exp(-d / bw), Σ -exp(-d / bw) / bw)`` over bandwidths: the kernel and its slope.

    With doubling bandwidths every term is a square of the next one, so one ``exp`` and
    in-place squarings do (``distances`` is overwritten).
    """
    if not _doubling(bandwidths):
        terms = [torch.exp(distances / -bw) for bw in bandwidths]
        return sum(terms), sum(term / -bw for term, bw in zip(terms, bandwidths, strict=True))
    widest = bandwidths[-1]
    power = distances.mul_(-1.0 / widest).exp_()  # exp(-d / widest)
    kernel, slope = power.clone(), power.clone()
    weight = 1.0
    for _ in bandwidths[:-1]:
        power.mul_(power)  # the kernel of the next narrower bandwidth
        weight *= 2.0
        kernel.add_(power)
        slope.add_(power, alpha=weight)
    return kernel, slope.mul_(-1.0 / widest)


def _transposed(tile: Tensor) -> Tensor:
    """A contiguous copy of ``tile.T``: PyTorch's blocked transpose (which needs contiguous
    tensors) is three times faster on CPU than reading a strided tile transposed."""
    return tile.contiguous().T.contiguous()


class _MultiKernel(torch.autograd.Function):
    """Multi-kernel matrix of ``total``'s rows, tile by tile. The matrix is symmetric, so only
    the tiles on and above the diagonal are computed; the forward pass keeps their slopes
    (``dK / d distance``, a little over half the matrix) for the backward pass, which pairs
    each entry's gradient with its mirror's."""

    @staticmethod
    def forward(ctx, total: Tensor, bandwidths: tuple[float, ...], with_grad: bool) -> Tensor:
        n = total.shape[0]
        sq = (total * total).sum(1)
        out = total.new_empty(n, n)
        slopes = []
        for rows, cols in _upper_tiles(n):
            tile, slope = _power_series(_tile_sq_distances(total, sq, rows, cols), bandwidths)
            out[rows, cols] = tile
            if rows != cols:
                out[cols, rows] = _transposed(tile)
            if with_grad:
                slopes.append(slope)
        if with_grad:
            ctx.save_for_backward(total)
            ctx.slopes = slopes
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:
        (total,) = ctx.saved_tensors
        grad_total = torch.zeros_like(total)
        for (rows, cols), g in zip(_upper_tiles(total.shape[0]), ctx.slopes, strict=True):
            g.mul_(grad[rows, cols] + _transposed(grad[cols, rows]))  # dL/d(distance), both entries
            grad_total[rows] += 2.0 * (g.sum(1, keepdim=True) * total[rows] - g @ total[cols])
            if rows != cols:
                grad_total[cols] += 2.0 * (g.sum(0).unsqueeze(1) * total[cols] - g.T @ total[rows])
        ctx.slopes = None
        return grad_total, None, None


def gaussian_kernel(source: Tensor, target: Tensor, kernel_mul: float = 2.0,
                    kernel_num: int = 5, fix_sigma: float | None = None) -> Tensor:
    """``K(a, b) = Σ_{i<n} exp(-‖a - b‖² / (σ · m^(i - ⌊n/2⌋)))`` over all pairs of
    ``[source; target]`` rows (``n = kernel_num``, ``m = kernel_mul``, ``σ`` the bandwidth).

    ``source`` and ``target`` are ``[B, D]``; the result is ``[2B, 2B]`` with blocks
    ``[[K_xx, K_xy], [K_yx, K_yy]]``. The base bandwidth is the mean off-diagonal squared
    distance (not differentiated) unless ``fix_sigma`` is given; the kernels use
    ``bandwidth * kernel_mul ** (i - kernel_num // 2)`` for ``i`` in ``range(kernel_num)``.

    Same values as the textbook ``exp(-((a - b) ** 2).sum(-1) / bw)`` over a ``[2B, 2B, D]``
    difference tensor, computed block by block from ``|a|^2 + |b|^2 - 2 a.b`` on centred
    rows (distances are translation invariant), so memory stays ``O(B^2)``.
    """
    total = torch.cat([source, target], dim=0)
    n = total.shape[0]
    centred = total - total.mean(0, keepdim=True).detach()
    if fix_sigma:
        bandwidth = float(fix_sigma)
    else:  # sum of all pairwise squared distances = 2n * sum |x_i|^2 for centred rows
        bandwidth = float(2.0 * n * centred.detach().double().pow(2).sum() / (n * n - n))
    base = bandwidth / kernel_mul ** (kernel_num // 2)
    bandwidths = tuple(base * kernel_mul**i for i in range(kernel_num))
    return _MultiKernel.apply(centred, bandwidths, _wants_grad(centred))


def _nll_and_grad(logits: Tensor, targets: Tensor) -> tuple[Tensor, Tensor]:
    """``(Σ_rows -log softmax(logits)[row, targets[row]], its gradient softmax - onehot)``.

    The sum is in float64; the gradient overwrites ``logits`` (one ``exp`` pass for both).
    """
    picked = logits.gather(1, targets.unsqueeze(1)).squeeze(1)
    top = logits.amax(1, keepdim=True)
    probs = logits.sub_(top).exp_()
    total = probs.sum(1, keepdim=True)
    nll = (total.log().add_(top).squeeze(1) - picked).sum(dtype=torch.float64)
    probs.div_(total)
    probs[torch.arange(probs.shape[0], device=logits.device), targets] -= 1.0
    return nll, probs


def _wants_grad(*tensors: Tensor) -> bool:
    """Whether autograd will differentiate a function of ``tensors`` (decided before ``apply``:
    inside ``forward`` grad mode is off and ``needs_input_grad`` ignores ``no_grad``)."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _scaled(grads: Sequence[Tensor | None], grad: Tensor) -> tuple[Tensor | None, ...]:
    """The gradients saved by a forward pass, times the incoming scalar gradient (None: no
    gradient)."""
    return tuple(None if g is None else g * grad for g in grads)


class _Settled(torch.autograd.Function):
    """A scalar whose gradients with respect to ``inputs`` were computed in the forward pass
    (``inputs`` only link the result into their graphs)."""

    @staticmethod
    def forward(ctx, value: Tensor, grads: tuple[Tensor | None, ...], *inputs: Tensor) -> Tensor:
        ctx.grads = grads
        return value.clone()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        return (None, None, *_scaled(ctx.grads, grad))


def with_gradient_now(loss: Callable[..., Tensor], *inputs: Tensor) -> Tensor:
    """``loss(*inputs)`` (a scalar) with its gradients computed now, in the forward pass.

    The backward pass then only scales them, so the loss's graph and its backward pass's
    temporaries are freed here, before later parts of the step allocate theirs. A loss that
    cuts the graph (no gradient, or not a tensor) is returned as it is.
    """
    if not _wants_grad(*inputs):
        return loss(*inputs)
    leaves = [x.detach().requires_grad_() for x in inputs]
    value = loss(*leaves)
    if not isinstance(value, Tensor) or not value.requires_grad:
        return value
    grads = torch.autograd.grad(value, leaves, allow_unused=True)
    return _Settled.apply(value.detach(), grads, *inputs)


class _ChunkedCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy of ``x @ weight.T`` without keeping the ``[B, N]`` logits.

    The loss is a scalar, so its gradients are those of the mean, times the incoming
    scalar: they are computed in the forward pass, from the same logits blocks
    (``[B, d]`` and ``[N, d]`` kept, not the logits).
    """

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, targets: Tensor, with_grad: bool) -> Tensor:
        total = x.new_zeros((), dtype=torch.float64)
        grad_x = torch.empty_like(x) if with_grad else None
        grad_weight = torch.zeros_like(weight) if with_grad else None
        for rows in row_blocks(x.shape[0], weight.shape[0]):
            nll, probs = _nll_and_grad(x[rows] @ weight.T, targets[rows])
            total += nll
            if with_grad:
                grad_x[rows] = probs @ weight
                grad_weight.addmm_(probs.T, x[rows])
        if with_grad:
            ctx.save_for_backward(grad_x.div_(x.shape[0]), grad_weight.div_(x.shape[0]))
        return (total / x.shape[0]).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        return (*_scaled(ctx.saved_tensors, grad), None, None)


def full_softmax_cross_entropy(x: Tensor, weight: Tensor, targets: Tensor) -> Tensor:
    """``L = -(1/B) Σ_b log softmax(x_b Wᵀ)[y_b]``: ``F.cross_entropy(x @ weight.T, targets)``
    computed in row blocks.

    Equal to the straightforward formula within float tolerance, but the ``[B, N]``
    logits (231 MB at B = 2048 on Home) are never all in memory, forward or backward.
    """
    return _ChunkedCrossEntropy.apply(x, weight, targets, _wants_grad(x, weight))


class _NTXent(torch.autograd.Function):
    """NT-Xent of unit rows ``hidden [2B, d]`` in row blocks, its gradient computed in the
    forward pass (as :class:`_ChunkedCrossEntropy`): keeps one ``[2B, d]`` tensor."""

    @staticmethod
    def forward(ctx, hidden: Tensor, temperature: float, with_grad: bool) -> Tensor:
        n = hidden.shape[0]
        total = hidden.new_zeros((), dtype=torch.float64)
        grad_hidden = torch.zeros_like(hidden) if with_grad else None
        for rows, logits in _ntxent_blocks(hidden, temperature):
            nll, g = _nll_and_grad(logits, _partners(rows, n, hidden.device))
            total += nll
            if with_grad:
                grad_hidden[rows] += g @ hidden
                grad_hidden += g.T @ hidden[rows]
        if with_grad:
            ctx.save_for_backward(grad_hidden.div_(n // 2 * temperature))
        return (total / (n // 2)).to(hidden.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:
        return (*_scaled(ctx.saved_tensors, grad), None, None)


def _partners(rows: slice, n: int, device: torch.device) -> Tensor:
    """The other view's copy of each row in ``rows`` (row ``i`` pairs with ``i ± n / 2``)."""
    return (torch.arange(rows.start, rows.stop, device=device) + n // 2) % n


def _ntxent_blocks(hidden: Tensor, temperature: float):
    """``(rows, logits)`` blocks of the similarity matrix, each row's own entry at ``-inf``."""
    for rows in row_blocks(hidden.shape[0]):
        logits = (hidden[rows] @ hidden.T).div_(temperature)
        logits[torch.arange(logits.shape[0], device=hidden.device),
               torch.arange(rows.start, rows.stop, device=hidden.device)] = float("-inf")
        yield rows, logits


def gcl_loss(hidden: Tensor, temperature: float = TEMPERATURE, normalize: bool = True) -> Tensor:
    """NT-Xent between the two halves of ``hidden`` (views a and b, ``[2B, d]``):

        L = -(1/B) Σ_{i<2B} log( exp(z_i · z_p(i) / τ) / Σ_{j≠i} exp(z_i · z_j / τ) )

    with ``z`` the L2-normalised rows (``normalize``), ``p(i) = i ± B`` the same row in the
    other view and ``τ = temperature``: ``loss_a + loss_b`` as in GCL4SR.

    Computed in row blocks of the ``[2B, 2B]`` similarity matrix, so only ``hidden`` is kept
    for the backward pass; equal to the concatenated-logits formula within float tolerance.
    """
    if normalize:
        hidden = F.normalize(hidden, p=2, dim=-1)
    return _NTXent.apply(hidden, temperature, _wants_grad(hidden))
