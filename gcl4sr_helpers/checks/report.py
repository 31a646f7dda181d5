"""What every check shares: the stored reference numbers and the printer of its verdicts.

A value matches a stored one when ``|a − b| ≤ tol · max(1, |a|, |b|)`` (``tol`` 1e-6 unless a
check says otherwise); a wrong value that matches a stored mistake gets that mistake's hint.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

import torch
from torch import Tensor

from ..data import SequenceData
from ..dataset import home_constants
from ..i18n import text

CONSTANTS_PATH = Path(__file__).parents[1] / "check_constants.json"


@cache
def load_constants(path: str | Path = CONSTANTS_PATH) -> dict:
    """The public examples' reference numbers (the instructor makes them with
    ``python -m grading.make_check_constants``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def dataset_constants(data: SequenceData | None = None) -> dict | None:
    """The stored numbers of ``data``'s dataset (Home's without ``data``), None if it has none."""
    return home_constants() if data is None else data.dataset.constants()


class _Report:
    """Collects pass/fail lines of one check and prints them as they come (a hint line only the
    first time: two failed items with one cause show its hint once)."""

    def __init__(self, title: str, quiet: bool = False) -> None:
        self.ok = True
        self.skipped = False
        self.quiet = quiet
        self._hinted: set[str] = set()
        self._say(f"── {title} ──")

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text)

    def item(self, passed: bool, label: str, detail: str = "", hint: str = "") -> bool:
        self.ok &= bool(passed)
        mark = "✅" if passed else "❌"
        self._say(f"{mark} {label}" + (f": {detail}" if detail else ""))
        if not passed and hint:
            for line in hint.strip().splitlines():
                if line not in self._hinted:
                    self._hinted.add(line)
                    self._say(f"     💡 {line}")
        return bool(passed)

    def info(self, text: str) -> None:
        self._say(f"ℹ️  {text}")

    def done(self) -> bool:
        if not self.ok:
            self._say(text("check.done.failed"))
        elif self.skipped:
            self._say(text("check.done.unchecked"))
        else:
            self._say(text("check.done.passed"))
        return self.ok


def _no_dataset_reference(report: _Report, data: SequenceData | None,
                          measured: Mapping[str, str]) -> bool:
    """Say that the dataset has no reference values, and show what was measured."""
    report.skipped = True
    name = data.dataset.name if data is not None else "?"
    report.info(text("check.no_reference.skipped", notice=text("check.no_reference"), name=name))
    for label, value in measured.items():
        report.info(f"{label}: {value}")
    return report.done()


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _crash_hint(error: BaseException) -> str:
    if isinstance(error, NotImplementedError):
        return text("check.crash.not_implemented")
    return text("check.crash.raised", error=type(error).__name__, message=error)


def _mistake_hints(value: float, mistakes: Mapping[str, float], hints: Mapping[str, str],
                   tol: float = 1e-6) -> str:
    """Hints of every stored mistake whose value equals ``value``."""
    found = [hints[name] for name, wrong in mistakes.items()
             if name in hints and _close(value, wrong, tol)]
    return "\n".join(found)


def _loss_value(fn: Callable, *inputs: Tensor, **kwargs) -> float:
    """``fn`` on copies of ``inputs`` (it may change them in place), as a float."""
    value = fn(*(tensor.clone() for tensor in inputs), **kwargs)
    return float(value.detach() if isinstance(value, Tensor) else value)


def _gradient_items(report: _Report, fn: Callable, *inputs: Tensor, name: str) -> None:
    """What every loss the model trains with must be: ``fn(*inputs)`` a 0-dimensional tensor
    whose gradient reaches the first input (called ``name``) and is finite."""
    leaf = inputs[0].clone().requires_grad_(True)
    value = fn(leaf, *(tensor.clone() for tensor in inputs[1:]))
    scalar = isinstance(value, Tensor) and value.dim() == 0
    report.item(scalar, text("check.loss.scalar"),
                f"{type(value).__name__} {tuple(getattr(value, 'shape', ()))}",
                text("check.loss.scalar.hint"))
    if scalar:
        value.backward()
        flows = leaf.grad is not None and bool(torch.isfinite(leaf.grad).all())
        report.item(flows, text("check.loss.gradient", name=name),
                    hint=text("check.loss.gradient.hint"))
