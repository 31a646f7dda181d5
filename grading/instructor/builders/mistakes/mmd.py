"""Typical mistakes of TODO 3, the MMD loss (see the package's docstring)."""
# ruff: noqa: B905
from __future__ import annotations

import torch
from torch import Tensor

from gcl4sr_helpers.losses import gaussian_kernel

from . import mistake

# --- MMD: mean(K_xx + K_yy - K_xy - K_yx) over the B x B blocks of the [2B, 2B] kernel matrix

@mistake("mmd.sign")
def mmd_sign(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
             fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul=kernel_mul, kernel_num=kernel_num,
                              fix_sigma=fix_sigma)
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xy + yx - xx - yy)  # sign error


@mistake("mmd.ignores_kwargs")
def mmd_kwargs(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
               fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target)  # the kernel arguments are not passed on
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xx + yy - xy - yx)


@mistake("mmd.no_cross")
def mmd_no_cross(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[b:, b:])


@mistake("mmd.cross_only")
def mmd_cross_only(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return -torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.sum")
def mmd_sum(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sum(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b])


@mistake("mmd.sqrt")
def mmd_sqrt(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sqrt(torch.mean(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]))


@mistake("mmd.unbiased")
def mmd_unbiased(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    xx, yy = k[:b, :b], k[b:, b:]
    same = xx.sum() - xx.diagonal().sum() + yy.sum() - yy.diagonal().sum()
    return same / (b * (b - 1)) - torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.swapped_blocks")
def mmd_swapped(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[:b, b:] - k[b:, b:] - k[b:, :b])


@mistake("mmd.detached")
def mmd_detached(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean((k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]).detach())


@mistake("mmd.wrong_bandwidth")
def mmd_bandwidth(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    batch = source.shape[0]
    total = torch.cat([source, target])
    n = total.shape[0]
    distances = ((total.unsqueeze(0) - total.unsqueeze(1)) ** 2).sum(2)
    bandwidth = fix_sigma or distances.detach().sum() / (n * n)  # the diagonal's zeros counted
    base = bandwidth / kernel_mul ** (kernel_num // 2)
    kernels = sum(torch.exp(-distances / (base * kernel_mul**i)) for i in range(kernel_num))
    xx, yy = kernels[:batch, :batch], kernels[batch:, batch:]
    xy, yx = kernels[:batch, batch:], kernels[batch:, :batch]
    return torch.mean(xx + yy - xy - yx)
