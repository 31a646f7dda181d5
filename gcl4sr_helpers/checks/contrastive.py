"""The check of the optional TODO 4 (ungraded): the contrastive loss NT-Xent, written by the
student as ``nt_xent(view_a, view_b, temperature=0.5)``:

    L = -(1/B) Σ_{i<2B} log( exp(z_i · z_p(i) / τ) / Σ_{j≠i} exp(z_i · z_j / τ) )

with ``z`` the L2-normalised rows of ``[view_a; view_b]`` (``[2B, d]``) and ``p(i) = i ± B``.

The other checks compare with stored numbers because their answers never ship with the
engine. This loss is the engine's own: the model trains with
:func:`gcl4sr_helpers.losses.gcl_loss`, whose docstring gives the formula, and the notebook
prints its readable form (``readable_model.contrastive_loss``) right after the exercise. So the
values are compared with ``gcl_loss`` itself, which reveals nothing students do not already
have. The hints never come from a wrong variant computed here, only from properties every
NT-Xent has: the rows' lengths do not matter (cosine similarity); identical views whose rows
are orthogonal cost almost nothing at a low temperature, and less the lower it is; the loss is
symmetric in the two views, does not depend on the order of the pairs, is never negative and
is a 0-dimensional tensor gradients flow through.

A student who left the TODO unfilled (``NotImplementedError``) is told that the check was
skipped, with no ❌: the exercise is optional and the notebook goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..losses import gcl_loss
from .mmd import mmd_example
from .report import _close, _crash_hint, _gradient_items, _loss_value, _Report

#: Public NT-Xent examples: (id, description, batch, kwargs).
NT_XENT_CASES: tuple[tuple[str, str, int, dict], ...] = (
    ("default", "기본 인자 (τ=0.5), B=8", 8, {}),
    ("temperature", "τ=0.2, B=3", 3, {"temperature": 0.2}),
)
#: Temperatures of the identical-views examples, decreasing.
LOW_TEMPERATURES = (1.0, 0.5, 0.2, 0.05)
TOLERANCE = 1e-4

NT_XENT_HINTS = {
    "self_included": "자기 자신과의 유사도(유사도 행렬의 대각선)를 분모에서 빼지 않은 것 "
                     "같아요. 대각선이 분모에 들어가면 양성 쌍의 확률이 1/2을 넘지 못해, "
                     "손실이 2·ln 2 아래로 내려가지 않습니다.",
    "no_normalize": "행을 L2 정규화하지 않은 것 같아요. 유사도는 길이 1로 맞춘 행끼리의 내적, "
                    "즉 코사인 유사도라서 행의 길이를 바꿔도 손실은 그대로여야 합니다.",
    "temperature": "온도 τ의 쓰임을 확인하세요. 유사도를 τ로 나누고(곱하지 않고), 받은 "
                   "temperature 인자를 그대로 씁니다. τ가 작을수록 양성 쌍이 두드러져 같은 "
                   "뷰의 손실이 줄어듭니다.",
    "sign": "손실이 음수입니다. 양성 쌍의 확률 p에 대해 -log p를 더하세요: 확률은 1 이하라서 "
            "-log p는 언제나 0 이상입니다.",
    "mean_2b": "2B개 행의 평균을 낸 것 같아요 (SimCLR의 방식). GCL4SR은 두 뷰 쪽의 손실을 "
               "더하므로 2B개 행의 합을 B로 나눕니다.",
    "one_direction": "한 뷰 쪽의 행 B개만 더한 것 같아요. view_a의 행이 view_b에서 짝을 찾는 "
                     "손실과 view_b의 행이 view_a에서 짝을 찾는 손실을 모두 더해야 두 뷰를 "
                     "바꿔도 값이 같습니다.",
}
GENERAL_HINT = ("두 뷰를 위아래로 붙인 [2B, 2B] 유사도 행렬의 행마다, 자기 자신을 뺀 나머지에 "
                "대한 softmax에서 양성 쌍(i와 i ± B)의 확률을 구하는 순서를 다시 따라가 "
                "보세요.")
ORDER_HINT = ("양성 쌍은 같은 행 번호끼리입니다: view_a의 i번 행과 view_b의 i번 행 (붙인 "
              "행렬에서 i와 B + i).")
ORTHOGONAL_HINT = ("두 뷰가 같고 행끼리 직교하면 양성 쌍의 코사인 유사도는 1, 나머지는 "
                   "0입니다. 그러면 τ가 작을 때 양성 쌍의 확률이 1에 가까워 손실이 0에 "
                   "가까워야 합니다.")


def nt_xent_example(batch: int, dim: int = 16) -> tuple[Tensor, Tensor]:
    """Deterministic ``[batch, dim]`` views of the public examples: ``view_b`` is ``view_a``
    plus a smaller wave, so each row is nearest its own pair but not identical to it."""
    view_a, wave = mmd_example(batch, 0.0, dim)
    return view_a, view_a + 0.5 * wave


def orthogonal_views(batch: int = 4, dim: int = 8) -> tuple[Tensor, Tensor]:
    """Two identical views whose rows are orthonormal: each pair's cosine is 1, others 0."""
    rows = torch.eye(batch, dim)
    return rows, rows.clone()


def _value_hint(value: float, expected: float) -> str:
    """The hint of a wrong value: a negative loss, half the loss, else the general one."""
    if value < 0:
        return NT_XENT_HINTS["sign"]
    if _close(value, expected / 2, TOLERANCE):
        return NT_XENT_HINTS["mean_2b"]
    return GENERAL_HINT


def _identical_views_hint(value: float) -> str:
    """``2·ln 2`` (or ``ln 2`` over 2B rows) is where the diagonal in the denominator stops
    identical views: the pair's probability is at most 1/2."""
    if any(abs(value - bound) < 1e-2 for bound in (2 * math.log(2), math.log(2))):
        return NT_XENT_HINTS["self_included"]
    return ORTHOGONAL_HINT


def _check_values(report: _Report, fn: Callable) -> None:
    """The public examples' values against the engine's ``gcl_loss``."""
    for _, label, batch, kwargs in NT_XENT_CASES:
        view_a, view_b = nt_xent_example(batch)
        expected = float(gcl_loss(torch.cat([view_a, view_b]), **kwargs))
        value = _loss_value(fn, view_a, view_b, **kwargs)
        report.item(_close(value, expected, TOLERANCE), f"값 — {label}",
                    f"{value:.6f} (엔진의 gcl_loss {expected:.6f})", _value_hint(value, expected))


def _check_identical_views(report: _Report, fn: Callable) -> None:
    """Identical views with orthonormal rows: about 0 at τ = 0.05, less the lower τ is."""
    views = orthogonal_views()
    losses = [_loss_value(fn, *views, temperature=tau) + 0.0  # + 0.0: -0.0 shows as 0
              for tau in LOW_TEMPERATURES]
    report.item(abs(losses[-1]) < 1e-3, f"같은 뷰, 직교하는 행, τ={LOW_TEMPERATURES[-1]}: 손실 ≈ 0",
                f"{losses[-1]:.2e}", _identical_views_hint(losses[-1]))
    sizes = [abs(loss) for loss in losses]
    falling = all(low < high - 1e-3 for high, low in zip(sizes, sizes[1:], strict=False))
    report.item(falling, "τ가 작을수록 같은 뷰의 손실이 줄어듦",
                " → ".join(f"τ={tau}: {loss:.4f}" for tau, loss in zip(LOW_TEMPERATURES, losses,
                                                                      strict=True)),
                NT_XENT_HINTS["temperature"])


def _check_invariances(report: _Report, fn: Callable) -> None:
    """Row lengths, the views' order and the pairs' order change nothing; a gradient flows."""
    view_a, view_b = nt_xent_example(8)
    value = _loss_value(fn, view_a, view_b)
    scaled = _loss_value(fn, 2.5 * view_a, 0.4 * view_b)
    report.item(_close(scaled, value, TOLERANCE), "행의 길이와 무관 (코사인 유사도)",
                f"{scaled:.6f} / {value:.6f}", NT_XENT_HINTS["no_normalize"])
    swapped = _loss_value(fn, view_b, view_a)
    report.item(_close(swapped, value, TOLERANCE), "대칭: 두 뷰를 바꿔도 같음",
                f"{swapped:.6f} / {value:.6f}", NT_XENT_HINTS["one_direction"])
    order = torch.arange(8).roll(3).flip(0)
    reordered = _loss_value(fn, view_a[order], view_b[order])
    report.item(_close(reordered, value, TOLERANCE), "쌍의 순서와 무관 (두 뷰의 행을 같이 섞음)",
                f"{reordered:.6f} / {value:.6f}", ORDER_HINT)
    _gradient_items(report, fn, view_a, view_b, name="view_a")


def check_nt_xent(nt_xent_fn: Callable, quiet: bool = False) -> bool:
    """The student's NT-Xent against the engine's ``gcl_loss`` on the public examples, plus
    the properties every NT-Xent has; an unfilled TODO is skipped (returns False, no ❌)."""
    report = _Report("대조 손실(NT-Xent) 점검: 선택 과제", quiet)
    try:
        for step in (_check_values, _check_identical_views, _check_invariances):
            step(report, nt_xent_fn)
    except NotImplementedError:
        report.info("nt_xent를 채우지 않아 점검을 건너뜁니다. 채점하지 않는 선택 과제이니 넘어가도 "
                    "됩니다. 도전하려면 `raise NotImplementedError()`를 지우고 채운 뒤 다시 "
                    "실행하세요.")
        return False
    except Exception as error:  # noqa: BLE001
        report.item(False, "함수 실행", "", _crash_hint(error))
    return report.done()
