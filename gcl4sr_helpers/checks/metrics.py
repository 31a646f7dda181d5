"""The Recall@k and NDCG@k check (TODO 2) on the public examples ``METRIC_CASES``.

Each value must equal the stored reference's to 1e-6; a value equal to what a typical mistake
gives names that mistake (``RECALL_HINTS``, ``NDCG_HINTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..i18n import Messages, text
from .report import _close, _crash_hint, _mistake_hints, _Report, load_constants

#: Public metric examples: (id, actual, predicted, k), described by ``check.metrics.case.<id>``.
METRIC_CASES: tuple[tuple[str, list, list, int], ...] = (
    ("hand_k1", [[7], [2], [9]], [[3, 7, 1, 9, 4], [2, 5, 8, 6, 1], [4, 1, 6, 3, 5]], 1),
    ("hand_k3", [[7], [2], [9]], [[3, 7, 1, 9, 4], [2, 5, 8, 6, 1], [4, 1, 6, 3, 5]], 3),
    ("multi_k2", [[1, 2, 3, 4], [5, 6]], [[1, 9, 2, 8, 3], [7, 6, 5, 4, 3]], 2),
    ("multi_k5", [[1, 2, 3, 4], [5, 6]], [[1, 9, 2, 8, 3], [7, 6, 5, 4, 3]], 5),
    ("empty_truth", [[7], [], [2]], [[7, 1, 2], [3, 4, 5], [1, 2, 3]], 3),
    ("short_list", [[4], [8]], [[1, 2, 4], [8, 3, 5]], 10),
    ("no_users", [[], []], [[1, 2], [3, 4]], 5),
)

RECALL_HINTS = Messages("check.recall.hint.")
NDCG_HINTS = Messages("check.ndcg.hint.", shared={
    name: RECALL_HINTS.key(name) for name in ("empty_as_zero", "no_cut")})


def _check_metric(report: _Report, name: str, fn: Callable, stored: Mapping,
                  hints: Mapping[str, str]) -> None:
    for case_id, actual, predicted, k in METRIC_CASES:
        ref, label = stored[case_id], text(f"check.metrics.case.{case_id}")
        try:
            value = float(fn([list(a) for a in actual], [list(p) for p in predicted], k))
        except Exception as error:  # noqa: BLE001 - any crash is reported with a hint
            hint = _crash_hint(error)
            if isinstance(error, ZeroDivisionError):
                hint += "\n" + text("check.metrics.no_users.hint" if case_id == "no_users"
                                     else "check.metrics.zero_division.hint")
            report.item(False, f"{name} — {label}", "", hint)
            continue
        report.item(_close(value, ref["expected"]), f"{name} — {label}",
                    text("check.expected", got=f"{value:.4f}", want=f"{ref['expected']:.4f}"),
                    _mistake_hints(value, ref["mistakes"], hints)
                    or text("check.metrics.hint"))


def check_metrics(recall_fn: Callable, ndcg_fn: Callable, quiet: bool = False) -> bool:
    """Both metric functions on the public examples (``METRIC_CASES``)."""
    stored = load_constants()["metrics"]
    report = _Report(text("check.metrics.title"), quiet)
    _check_metric(report, "recall_at_k", recall_fn, stored["recall"], RECALL_HINTS)
    _check_metric(report, "ndcg_at_k", ndcg_fn, stored["ndcg"], NDCG_HINTS)
    return report.done()
