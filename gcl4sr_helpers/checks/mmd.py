"""The MMD loss check (TODO 3) on the public examples ``MMD_CASES``.

Inputs, with ``g = 0, 1, …, B · dim − 1`` laid out as ``[B, dim]``:
``source = sin(0.37 g) + 0.1 cos(1.3 g)`` and ``target = 1.2 cos(0.23 g + 0.5) + shift``.
Each value must equal the stored reference's to 1e-4; then the properties every MMD has:
``MMD(X, X) = 0``, ``MMD(X, Y) = MMD(Y, X)``, a 0-dimensional tensor that gradients flow
through.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .report import (
    _close,
    _crash_hint,
    _gradient_items,
    _loss_value,
    _mistake_hints,
    _Report,
    load_constants,
)

#: Public MMD examples: (id, description, batch, shift, kwargs).
MMD_CASES: tuple[tuple[str, str, int, float, dict], ...] = (
    ("default", "기본 인자, B=8", 8, 0.5, {}),
    ("other_batch", "배치 크기 B=3", 3, 0.5, {}),
    ("kernel_args", "kernel_mul=3.0, kernel_num=3", 8, 0.5, {"kernel_mul": 3.0, "kernel_num": 3}),
    ("fix_sigma", "fix_sigma=40.0", 8, 0.5, {"fix_sigma": 40.0}),
)

MMD_HINTS = {
    "sign": "부호가 반대입니다. 같은 분포끼리의 블록(K_xx, K_yy)은 더하고, 교차 블록"
            "(K_xy, K_yx)은 뺍니다.",
    "no_cross": "교차 항 K_xy, K_yx를 빼지 않은 것 같아요.",
    "cross_only": "K_xx와 K_yy를 빠뜨린 것 같아요.",
    "sum": "평균(mean) 대신 합(sum)을 쓴 것 같아요.",
    "sqrt": "제곱근을 씌운 것 같아요. 이 과제의 MMD는 제곱 형태 그대로 씁니다.",
    "unbiased": "대각선(자기 자신과의 커널)을 뺀 불편 추정량을 쓴 것 같아요. 이 과제는 블록 "
                "전체의 평균을 씁니다.",
    "ignores_kwargs": "kernel_mul, kernel_num, fix_sigma를 gaussian_kernel에 넘기지 않은 것 "
                      "같아요.",
    "swapped_blocks": "블록을 잘못 나눈 것 같아요. [2B, 2B] 커널 행렬의 행과 열은 source B개, "
                      "target B개 순서입니다: 같은 쪽끼리의 두 블록과 교차하는 두 블록을 "
                      "가려내세요 (B = source의 행 수).",
}


def mmd_example(batch: int, shift: float, dim: int = 50) -> tuple[Tensor, Tensor]:
    """Deterministic ``[batch, dim]`` source and target of the public MMD examples."""
    grid = torch.arange(batch * dim, dtype=torch.float64).view(batch, dim)
    source = torch.sin(0.37 * grid) + 0.1 * torch.cos(1.3 * grid)
    target = torch.cos(0.23 * grid + 0.5) * 1.2 + shift
    return source.float(), target.float()


def check_mmd(mmd_fn: Callable, quiet: bool = False) -> bool:
    """The MMD function on the public examples, plus properties every MMD has."""
    stored = load_constants()["mmd"]
    report = _Report("MMD 손실 점검", quiet)
    for case_id, label, batch, shift, kwargs in MMD_CASES:
        ref = stored[case_id]
        try:
            value = _loss_value(mmd_fn, *mmd_example(batch, shift), **kwargs)
        except Exception as error:  # noqa: BLE001
            report.item(False, f"값 — {label}", "", _crash_hint(error))
            continue
        report.item(_close(value, ref["expected"], 1e-4), f"값 — {label}",
                    f"{value:.6f} (기대 {ref['expected']:.6f})",
                    _mistake_hints(value, ref["mistakes"], MMD_HINTS, 1e-4)
                    or "gaussian_kernel이 돌려주는 [2B, 2B] 행렬의 네 블록을 확인하세요.")
    source, target = mmd_example(8, 0.5)
    try:
        same = _loss_value(mmd_fn, source, source)
        report.item(abs(same) < 1e-5, "같은 분포끼리는 0", f"{same:.2e}",
                    "source와 target이 같으면 네 블록이 모두 같아 MMD는 0이어야 합니다.")
        forward = _loss_value(mmd_fn, source, target)
        backward = _loss_value(mmd_fn, target, source)
        report.item(_close(forward, backward, 1e-4), "대칭: MMD(X, Y) = MMD(Y, X)",
                    f"{forward:.6f} / {backward:.6f}", MMD_HINTS["swapped_blocks"])
        _gradient_items(report, mmd_fn, source, target, name="source")
    except Exception as error:  # noqa: BLE001
        report.item(False, "성질 점검", "", _crash_hint(error))
    return report.done()
