"""The given loss blocks against their textbook formulas."""

import math

import pytest
import torch

from gcl4sr_helpers.losses import (
    full_softmax_cross_entropy,
    gaussian_kernel,
    gcl_loss,
    with_gradient_now,
)


def naive_kernel(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    """The course's original formula, with its [2B, 2B, D] difference tensor."""
    total = torch.cat([source, target])
    n = total.shape[0]
    distances = ((total.unsqueeze(0) - total.unsqueeze(1)) ** 2).sum(2)
    bandwidth = fix_sigma if fix_sigma else distances.detach().sum() / (n * n - n)
    bandwidth = bandwidth / kernel_mul ** (kernel_num // 2)
    return sum(torch.exp(-distances / (bandwidth * kernel_mul**i)) for i in range(kernel_num))


CASES = [((64, 50), {}), ((300, 7), {}), ((5, 3), {"fix_sigma": 4.0}),
         ((40, 12), {"kernel_mul": 3.0, "kernel_num": 4}), ((1, 50), {}),
         ((700, 50), {})]  # 700 rows: several blocks


@pytest.mark.parametrize(("shape", "kwargs"), CASES)
def test_gaussian_kernel_matches_the_naive_formula(shape, kwargs):
    gen = torch.Generator().manual_seed(shape[0])
    source = (torch.randn(*shape, generator=gen) * 3 + 5).requires_grad_()
    target = torch.randn(*shape, generator=gen).requires_grad_()
    fast, slow = gaussian_kernel(source, target, **kwargs), naive_kernel(source, target, **kwargs)
    assert fast.shape == (2 * shape[0], 2 * shape[0])
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)
    weights = torch.randn(fast.shape, generator=gen)
    fast_grads = torch.autograd.grad((fast * weights).sum(), (source, target))
    slow_grads = torch.autograd.grad((slow * weights).sum(), (source, target))
    for got, want in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * want.abs().max().item())


def test_gaussian_kernel_is_accurate_far_from_the_origin():
    gen = torch.Generator().manual_seed(0)
    source = torch.randn(200, 50, generator=gen) + 1000.0
    target = torch.randn(200, 50, generator=gen) + 1000.0
    torch.testing.assert_close(gaussian_kernel(source, target),
                               naive_kernel(source.double(), target.double()).float(),
                               rtol=1e-5, atol=1e-6)


def seed_style_gcl(hidden, temperature):
    """The original NT-Xent with a large-constant mask, written out."""
    hidden = torch.nn.functional.normalize(hidden, dim=-1)
    a, b = torch.split(hidden, hidden.shape[0] // 2)
    n = a.shape[0]
    labels, masks = torch.arange(n), torch.eye(n) * 1e9
    aa, bb = a @ a.T / temperature - masks, b @ b.T / temperature - masks
    ab, ba = a @ b.T / temperature, b @ a.T / temperature
    ce = torch.nn.functional.cross_entropy
    return ce(torch.cat([ab, aa], 1), labels) + ce(torch.cat([ba, bb], 1), labels)


@pytest.mark.parametrize("batch", [1, 33, 1100])  # 1100: several row blocks
def test_gcl_loss_and_its_gradient_match_the_original_formula(batch):
    hidden = torch.randn(2 * batch, 16, generator=torch.Generator().manual_seed(batch),
                         requires_grad=True)
    got, want = gcl_loss(hidden, 0.5), seed_style_gcl(hidden, 0.5)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(torch.autograd.grad(got * 3, hidden)[0],
                               torch.autograd.grad(want * 3, hidden)[0], rtol=1e-5, atol=1e-7)


def test_gcl_loss_without_learning_is_two_log_two_b_minus_one():
    batch = 2048
    hidden = torch.ones(2 * batch, 8)
    assert gcl_loss(hidden, 0.5).item() == pytest.approx(2 * math.log(2 * batch - 1), rel=1e-5)


def test_gcl_loss_handles_a_batch_of_one():
    assert torch.isfinite(gcl_loss(torch.randn(2, 8), 0.5))


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_full_softmax_cross_entropy_matches_the_straightforward_formula(rows):
    gen = torch.Generator().manual_seed(rows)
    x = torch.randn(rows, 16, generator=gen, requires_grad=True)
    weight = torch.randn(5000, 16, generator=gen, requires_grad=True)
    targets = torch.randint(0, 5000, (rows,), generator=gen)
    got = full_softmax_cross_entropy(x, weight, targets)
    x64, weight64 = x.double(), weight.double()  # the formula in float64: the truth
    want = torch.nn.functional.cross_entropy(x64 @ weight64.T, targets)
    torch.testing.assert_close(got, want.float())
    for g, w in zip(torch.autograd.grad(got * 3, (x, weight)),
                    torch.autograd.grad(want * 3, (x64, weight64)), strict=True):
        assert_close_to_float64(g, w)


def assert_close_to_float64(got: torch.Tensor, want: torch.Tensor) -> None:
    """``got`` (float32) within float32 rounding of ``want`` (float64), relative to its scale:
    a gradient's entries cancel (softmax minus one-hot), so small ones carry the rounding of
    the large terms they are sums of."""
    torch.testing.assert_close(got, want.float(), rtol=1e-5,
                               atol=1e-5 * float(want.abs().max()))


def test_with_gradient_now_gives_autograd_s_gradients_and_frees_the_graph():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, generator=gen, requires_grad=True)
    y = torch.randn(6, 4, generator=gen, requires_grad=True)

    def loss(a, b):
        return ((a * b).sum() ** 2 + a.exp().mean()) / 3

    early = with_gradient_now(loss, x * 2, y)
    assert early.grad_fn is not None and early.grad_fn.next_functions  # the inputs' graphs
    got = torch.autograd.grad(5 * early, (x, y))
    want = torch.autograd.grad(5 * loss(x * 2, y), (x, y))
    torch.testing.assert_close(early, loss(x * 2, y))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cut", [lambda a, b: float((a - b).sum()),
                                 lambda a, b: (a - b).sum().detach()])
def test_with_gradient_now_returns_a_loss_that_cuts_the_graph_as_it_is(cut):
    x = torch.ones(3, requires_grad=True)
    value = with_gradient_now(cut, x, x * 0)
    assert float(value) == 3.0
    assert not isinstance(value, torch.Tensor) or not value.requires_grad


def test_with_gradient_now_without_autograd_only_evaluates():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        value = with_gradient_now(lambda a: a.sum() * 2, x)
    assert value.item() == 6.0 and value.grad_fn is None
