"""The Recall@k and NDCG@k check (TODO 2) on the public examples ``METRIC_CASES``.

Each value must equal the stored reference's to 1e-6; a value equal to what a typical mistake
gives names that mistake (``RECALL_HINTS``, ``NDCG_HINTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .report import _close, _crash_hint, _mistake_hints, _Report, load_constants

#: Public metric examples: (id, description, actual, predicted, k).
METRIC_CASES: tuple[tuple[str, str, list, list, int], ...] = (
    ("hand_k1", "손으로 푼 예제, k=1",
     [[7], [2], [9]], [[3, 7, 1, 9, 4], [2, 5, 8, 6, 1], [4, 1, 6, 3, 5]], 1),
    ("hand_k3", "손으로 푼 예제, k=3",
     [[7], [2], [9]], [[3, 7, 1, 9, 4], [2, 5, 8, 6, 1], [4, 1, 6, 3, 5]], 3),
    ("multi_k2", "정답이 k보다 많은 사용자, k=2",
     [[1, 2, 3, 4], [5, 6]], [[1, 9, 2, 8, 3], [7, 6, 5, 4, 3]], 2),
    ("multi_k5", "정답이 여러 개, k=5",
     [[1, 2, 3, 4], [5, 6]], [[1, 9, 2, 8, 3], [7, 6, 5, 4, 3]], 5),
    ("empty_truth", "정답이 빈 사용자 포함, k=3",
     [[7], [], [2]], [[7, 1, 2], [3, 4, 5], [1, 2, 3]], 3),
    ("short_list", "추천 목록이 k보다 짧음, k=10",
     [[4], [8]], [[1, 2, 4], [8, 3, 5]], 10),
    ("no_users", "평가할 사용자가 없음, k=5", [[], []], [[1, 2], [3, 4]], 5),
)

RECALL_HINTS = {
    "precision": "적중 수를 k로 나눈 것 같아요 (precision). "
                 "Recall은 |정답 ∩ top-k| / |정답|입니다.",
    "empty_as_zero": "정답이 빈 사용자까지 평균에 넣은 것 같아요 (0점으로 세거나 전체 사용자 수로 "
                     "나누기). 그런 사용자는 건너뛰고, 평가한 사용자 수로 나눕니다.",
    "no_cut": "추천 목록을 전부 본 것 같아요. 지표는 추천 목록의 상위 k개만 봅니다.",
    "capped_denominator": "min(k, |정답|)으로 나눈 것 같아요. 이 과제의 Recall은 |정답|으로 "
                          "나눕니다.",
}

NDCG_HINTS = {
    "idcg_k": "IDCG를 k개 전부 맞힌 경우로 계산한 것 같아요. 이상적인 목록의 적중 수는 "
              "min(k, |정답|)입니다 (정답이 1개면 IDCG = 1).",
    "idcg_truth": "IDCG를 |정답|개로 계산한 것 같아요. k보다 정답이 많으면 min(k, |정답|)개로 "
                  "잘라야 합니다.",
    "no_idcg": "DCG를 IDCG로 나누지 않은 것 같아요 (정답이 여러 개일 때 1을 넘을 수 있음).",
    "rank_from_zero": "할인의 순위가 하나 밀렸어요. 순위는 1부터 세므로 1등의 할인은 "
                      "1/log₂(1 + 1) = 1입니다: 0부터 세는 위치를 그대로 순위로 쓰지 않았는지 "
                      "확인하세요.",
    "rank_plus_two": "할인의 순위가 하나 밀렸어요. 1등의 할인이 1/log₂(1 + 1) = 1인지 확인하세요.",
    "natural_log_dcg": "DCG와 IDCG의 로그 밑이 다른 것 같아요. 둘 다 밑이 2인 로그를 쓰세요.",
    "empty_as_zero": RECALL_HINTS["empty_as_zero"],
    "no_cut": RECALL_HINTS["no_cut"],
}


def _check_metric(report: _Report, name: str, fn: Callable, stored: Mapping,
                  hints: Mapping[str, str]) -> None:
    for case_id, label, actual, predicted, k in METRIC_CASES:
        ref = stored[case_id]
        try:
            value = float(fn([list(a) for a in actual], [list(p) for p in predicted], k))
        except Exception as error:  # noqa: BLE001 - any crash is reported with a hint
            hint = _crash_hint(error)
            if isinstance(error, ZeroDivisionError):
                hint += ("\n평가할 사용자가 없으면 0.0을 반환하세요." if case_id == "no_users"
                         else "\n0으로 나눴어요: log₂(1) = 0입니다. 순위는 1부터 세므로 1등의 "
                              "할인은 1/log₂(1 + 1) = 1입니다.")
            report.item(False, f"{name} — {label}", "", hint)
            continue
        report.item(_close(value, ref["expected"]), f"{name} — {label}",
                    f"{value:.4f} (기대 {ref['expected']:.4f})",
                    _mistake_hints(value, ref["mistakes"], hints)
                    or "수식을 이 예제에 손으로 적용해 보고 어느 사용자에서 다른지 찾아보세요.")


def check_metrics(recall_fn: Callable, ndcg_fn: Callable, quiet: bool = False) -> bool:
    """Both metric functions on the public examples (``METRIC_CASES``)."""
    stored = load_constants()["metrics"]
    report = _Report("Recall@k / NDCG@k 점검", quiet)
    _check_metric(report, "recall_at_k", recall_fn, stored["recall"], RECALL_HINTS)
    _check_metric(report, "ndcg_at_k", ndcg_fn, stored["ndcg"], NDCG_HINTS)
    return report.done()
