"""Typical mistakes of TODO 3, the MMD loss (see the package's docstring)."""
# ruff: noqa: B905
from __future__ import annotations

import torch
from torch import Tensor

from gcl4sr_helpers.losses import gaussian_kernel

from . import mistake

# --- MMD: mean(K_xx + K_yy - K_xy - K_yx) over the B x B blocks of the [2B, 2B] kernel matrix

@mistake("mmd.sign", "the opposite sign, mean(K_xy + K_yx - K_xx - K_yy)", "부호가 반대")
def mmd_sign(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
             fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul=kernel_mul, kernel_num=kernel_num,
                              fix_sigma=fix_sigma)
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xy + yx - xx - yy)  # sign error


@mistake("mmd.ignores_kwargs", "kernel_mul, kernel_num, fix_sigma not passed to the kernel",
         "kernel_mul, kernel_num, fix_sigma를 gaussian_kernel에 넘기지 않음")
def mmd_kwargs(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
               fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target)  # the kernel arguments are not passed on
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xx + yy - xy - yx)


@mistake("mmd.no_cross", "the cross terms left out, mean(K_xx + K_yy)", "교차 항을 빼지 않음")
def mmd_no_cross(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[b:, b:])


@mistake("mmd.cross_only", "K_xx and K_yy left out, -mean(K_xy + K_yx)", "K_xx와 K_yy를 빠뜨림")
def mmd_cross_only(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return -torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.sum", "a sum instead of the mean", "평균 대신 합")
def mmd_sum(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sum(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b])


@mistake("mmd.sqrt", "the square root of the answer", "답에 제곱근을 씌움")
def mmd_sqrt(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sqrt(torch.mean(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]))


@mistake("mmd.unbiased", "the diagonals of K_xx and K_yy left out of their means",
         "K_xx, K_yy의 대각선을 뺀 불편 추정량")
def mmd_unbiased(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    xx, yy = k[:b, :b], k[b:, b:]
    same = xx.sum() - xx.diagonal().sum() + yy.sum() - yy.diagonal().sum()
    return same / (b * (b - 1)) - torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.swapped_blocks", "the blocks mixed up, mean(K_xx + K_xy - K_yy - K_yx)",
         "블록을 잘못 나눔")
def mmd_swapped(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[:b, b:] - k[b:, b:] - k[b:, :b])


@mistake("mmd.detached", "the loss cut from the graph (.detach()): no gradient for the model",
         "손실을 그래프에서 떼어 냄 (.detach()): 모델에 기울기가 가지 않음")
def mmd_detached(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean((k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]).detach())


@mistake("mmd.wrong_bandwidth", "an own kernel whose bandwidth counts the diagonal's zeros",
         "직접 만든 커널의 대역폭 평균에 대각선의 0까지 넣음")
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
