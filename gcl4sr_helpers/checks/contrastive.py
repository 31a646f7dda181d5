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

from ..i18n import Messages, text
from ..losses import gcl_loss
from .mmd import mmd_example
from .report import _close, _crash_hint, _gradient_items, _loss_value, _Report

#: Public NT-Xent examples: (id, batch, kwargs), described by ``check.nt_xent.case.<id>``.
NT_XENT_CASES: tuple[tuple[str, int, dict], ...] = (
    ("default", 8, {}),
    ("temperature", 3, {"temperature": 0.2}),
)
#: Temperatures of the identical-views examples, decreasing.
LOW_TEMPERATURES = (1.0, 0.5, 0.2, 0.05)
TOLERANCE = 1e-4

NT_XENT_HINTS = Messages("check.nt_xent.hint.")


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
    return text("check.nt_xent.general_hint")


def _identical_views_hint(value: float) -> str:
    """``2·ln 2`` (or ``ln 2`` over 2B rows) is where the diagonal in the denominator stops
    identical views: the pair's probability is at most 1/2."""
    if any(abs(value - bound) < 1e-2 for bound in (2 * math.log(2), math.log(2))):
        return NT_XENT_HINTS["self_included"]
    return text("check.nt_xent.orthogonal_hint")


def _check_values(report: _Report, fn: Callable) -> None:
    """The public examples' values against the engine's ``gcl_loss``."""
    for case_id, batch, kwargs in NT_XENT_CASES:
        view_a, view_b = nt_xent_example(batch)
        expected = float(gcl_loss(torch.cat([view_a, view_b]), **kwargs))
        value = _loss_value(fn, view_a, view_b, **kwargs)
        report.item(_close(value, expected, TOLERANCE),
                    text("check.value", case=text(f"check.nt_xent.case.{case_id}")),
                    text("check.nt_xent.engine", got=value, want=expected),
                    _value_hint(value, expected))


def _check_identical_views(report: _Report, fn: Callable) -> None:
    """Identical views with orthonormal rows: about 0 at τ = 0.05, less the lower τ is."""
    views = orthogonal_views()
    losses = [_loss_value(fn, *views, temperature=tau) + 0.0  # + 0.0: -0.0 shows as 0
              for tau in LOW_TEMPERATURES]
    report.item(abs(losses[-1]) < 1e-3, text("check.nt_xent.orthogonal", tau=LOW_TEMPERATURES[-1]),
                f"{losses[-1]:.2e}", _identical_views_hint(losses[-1]))
    sizes = [abs(loss) for loss in losses]
    falling = all(low < high - 1e-3 for high, low in zip(sizes, sizes[1:], strict=False))
    report.item(falling, text("check.nt_xent.falling"),
                " → ".join(f"τ={tau}: {loss:.4f}" for tau, loss in zip(LOW_TEMPERATURES, losses,
                                                                      strict=True)),
                NT_XENT_HINTS["temperature"])


def _check_invariances(report: _Report, fn: Callable) -> None:
    """Row lengths, the views' order and the pairs' order change nothing; a gradient flows."""
    view_a, view_b = nt_xent_example(8)
    value = _loss_value(fn, view_a, view_b)
    scaled = _loss_value(fn, 2.5 * view_a, 0.4 * view_b)
    report.item(_close(scaled, value, TOLERANCE), text("check.nt_xent.lengths"),
                f"{scaled:.6f} / {value:.6f}", NT_XENT_HINTS["no_normalize"])
    swapped = _loss_value(fn, view_b, view_a)
    report.item(_close(swapped, value, TOLERANCE), text("check.nt_xent.symmetric"),
                f"{swapped:.6f} / {value:.6f}", NT_XENT_HINTS["one_direction"])
    order = torch.arange(8).roll(3).flip(0)
    reordered = _loss_value(fn, view_a[order], view_b[order])
    report.item(_close(reordered, value, TOLERANCE), text("check.nt_xent.order"),
                f"{reordered:.6f} / {value:.6f}", text("check.nt_xent.order_hint"))
    _gradient_items(report, fn, view_a, view_b, name="view_a")


def check_nt_xent(nt_xent_fn: Callable, quiet: bool = False) -> bool:
    """The student's NT-Xent against the engine's ``gcl_loss`` on the public examples, plus
    the properties every NT-Xent has; an unfilled TODO is skipped (returns False, no ❌)."""
    report = _Report(text("check.nt_xent.title"), quiet)
    try:
        for step in (_check_values, _check_identical_views, _check_invariances):
            step(report, nt_xent_fn)
    except NotImplementedError:
        report.info(text("check.nt_xent.skipped"))
        return False
    except Exception as error:  # noqa: BLE001
        report.item(False, text("check.nt_xent.run"), "", _crash_hint(error))
    return report.done()
