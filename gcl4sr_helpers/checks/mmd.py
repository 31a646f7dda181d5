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

from ..i18n import Messages, text
from .report import (
    _close,
    _crash_hint,
    _gradient_items,
    _loss_value,
    _mistake_hints,
    _Report,
    load_constants,
)

#: Public MMD examples: (id, batch, shift, kwargs), described by ``check.mmd.case.<id>``.
MMD_CASES: tuple[tuple[str, int, float, dict], ...] = (
    ("default", 8, 0.5, {}),
    ("other_batch", 3, 0.5, {}),
    ("kernel_args", 8, 0.5, {"kernel_mul": 3.0, "kernel_num": 3}),
    ("fix_sigma", 8, 0.5, {"fix_sigma": 40.0}),
)

MMD_HINTS = Messages("check.mmd.hint.")


def mmd_example(batch: int, shift: float, dim: int = 50) -> tuple[Tensor, Tensor]:
    """Deterministic ``[batch, dim]`` source and target of the public MMD examples."""
    grid = torch.arange(batch * dim, dtype=torch.float64).view(batch, dim)
    source = torch.sin(0.37 * grid) + 0.1 * torch.cos(1.3 * grid)
    target = torch.cos(0.23 * grid + 0.5) * 1.2 + shift
    return source.float(), target.float()


def check_mmd(mmd_fn: Callable, quiet: bool = False) -> bool:
    """The MMD function on the public examples, plus properties every MMD has."""
    stored = load_constants()["mmd"]
    report = _Report(text("check.mmd.title"), quiet)
    for case_id, batch, shift, kwargs in MMD_CASES:
        ref, label = stored[case_id], text("check.value", case=text(f"check.mmd.case.{case_id}"))
        try:
            value = _loss_value(mmd_fn, *mmd_example(batch, shift), **kwargs)
        except Exception as error:  # noqa: BLE001
            report.item(False, label, "", _crash_hint(error))
            continue
        report.item(_close(value, ref["expected"], 1e-4), label,
                    text("check.expected", got=f"{value:.6f}", want=f"{ref['expected']:.6f}"),
                    _mistake_hints(value, ref["mistakes"], MMD_HINTS, 1e-4)
                    or text("check.mmd.hint"))
    source, target = mmd_example(8, 0.5)
    try:
        same = _loss_value(mmd_fn, source, source)
        report.item(abs(same) < 1e-5, text("check.mmd.same"), f"{same:.2e}",
                    text("check.mmd.same.hint"))
        forward = _loss_value(mmd_fn, source, target)
        backward = _loss_value(mmd_fn, target, source)
        report.item(_close(forward, backward, 1e-4), text("check.mmd.symmetric"),
                    f"{forward:.6f} / {backward:.6f}", MMD_HINTS["swapped_blocks"])
        _gradient_items(report, mmd_fn, source, target, name="source")
    except Exception as error:  # noqa: BLE001
        report.item(False, text("check.mmd.properties"), "", _crash_hint(error))
    return report.done()
