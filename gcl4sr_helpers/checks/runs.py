"""The checks of a run: one epoch's losses, the test metrics and the MostPop baseline.

A loss or metric passes when ``|value − reference| ≤ tolerance``, both stored for the mode
from reference runs over several seeds (the tolerance from their seed-to-seed spread);
MostPop's rankings are deterministic, so its metrics must equal the reference's to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..data import SequenceData
from ..names import LOSS_NAMES, METRIC_NAMES
from .mmd import MMD_HINTS
from .mode import GRADING_MAX_BATCHES
from .report import _close, _mistake_hints, _no_dataset_reference, _Report, dataset_constants


def _reference(constants: dict, kind: str, mode: str) -> dict | None:
    return constants.get("runs", {}).get(mode, {}).get(kind)


def _no_reference(report: _Report, what: str, mode: str | None) -> None:
    report.skipped = True
    if mode is None:
        report.info(f"채점 실행은 학습 배치 {GRADING_MAX_BATCHES}개만 돌리므로 {what}의 기준값이 "
                    "없습니다: 기준값 비교는 건너뜁니다 (점수와 무관합니다).")
        return
    report.info(f"{mode} 모드의 {what} 기준값이 아직 저장되어 있지 않습니다: 기준값 비교는 "
                "건너뜁니다 (통과로 치지 않습니다).")


def _title(what: str, mode: str | None) -> str:
    return f"{what} ({mode or '채점 실행'})"


def check_losses(losses: Sequence[float], mode: str | None = "full", quiet: bool = False,
                 data: SequenceData | None = None) -> bool:
    """Epoch-average ``(main, gcl, mmd)`` losses against the reference run of ``mode`` on
    ``data``'s dataset (Home without ``data``); ``None`` (nbgrader's shorter run,
    :attr:`CourseMode.run_reference`): the consistency checks only."""
    report = _Report(_title("손실 점검", mode), quiet)
    try:
        values = [float(v) for v in losses]
        if len(values) != 3:
            raise ValueError(f"expected 3 values, got {len(values)}")
    except (TypeError, ValueError) as error:
        report.item(False, "(main, gcl, mmd) 세 값", str(error),
                    "run.train_epoch(...).averages를 넘기세요.")
        return report.done()
    finite = all(math.isfinite(v) for v in values)
    report.item(finite, "모든 손실이 유한한 값", ", ".join(f"{v:.4f}" for v in values),
                "NaN/inf가 나왔어요: MMD에서 0으로 나누거나 log를 쓰지 않았는지 확인하세요.")
    if not finite:
        return report.done()
    report.item(values[2] >= 0.0, "MMD 평균 ≥ 0", f"{values[2]:.4f}",
                "MMD² = ‖평균 φ(x) − 평균 φ(y)‖² 는 음수가 될 수 없습니다: " + MMD_HINTS["sign"])
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {
            f"{name} 손실": f"{value:.4f}" for name, value in zip(LOSS_NAMES, values,
                                                                   strict=True)})
    ref = _reference(constants, "losses", mode)
    if ref is None:
        _no_reference(report, "손실", mode)
        return report.done()
    report.info(ref.get("note", ""))
    for name, value in zip(LOSS_NAMES, values, strict=True):
        want, tol = ref["values"][name], ref["tolerance"][name]
        hint = ""
        if name == "mmd":
            hint = _mistake_hints(value, ref.get("mistakes", {}), MMD_HINTS, 1e-3)
        if name != "mmd" or not hint:
            hint = ("MMD 점검(check_mmd)을 먼저 통과했는지 확인하세요. 통과했는데도 벗어나면 "
                    "하이퍼파라미터(CourseConfig)를 바꾸지 않았는지 확인하세요.")
        report.item(abs(value - want) <= tol, f"{name} 손실",
                    f"{value:.4f} (기준 {want:.4f} ± {tol:.4f})", hint)
    return report.done()


def _metric_values(report: _Report, metrics: Mapping[str, float],
                   hint: str) -> dict[str, float] | None:
    """The four metrics as floats, or None (reported with ``hint``) if any is missing."""
    missing = [name for name in METRIC_NAMES if name not in metrics]
    if missing:
        report.item(False, "지표 이름", f"없음: {missing}", hint)
        return None
    return {name: float(metrics[name]) for name in METRIC_NAMES}


def check_eval(metrics: Mapping[str, float], mode: str | None = "full", quiet: bool = False,
               data: SequenceData | None = None) -> bool:
    """Test metrics: internal consistency, then the reference run of ``mode`` on ``data``'s
    dataset (Home without ``data``; ``None``: no reference, as :func:`check_losses`)."""
    report = _Report(_title("평가 지표 점검", mode), quiet)
    m = _metric_values(report, metrics, "run.test(...)가 돌려준 dict를 그대로 넘기세요.")
    if m is None:
        return report.done()
    report.item(all(0.0 <= v <= 1.0 for v in m.values()), "모든 값이 [0, 1] 안",
                hint="평균을 사용자 수로 나눴는지 확인하세요.")
    report.item(m["Recall@20"] >= m["Recall@10"] and m["NDCG@20"] >= m["NDCG@10"],
                "k가 커지면 지표가 줄지 않음",
                hint="추천 목록의 상위 k개만 보는지 확인하세요.")
    report.item(m["NDCG@10"] <= m["Recall@10"] + 1e-12 and m["NDCG@20"] <= m["Recall@20"] + 1e-12,
                "NDCG@k ≤ Recall@k (정답이 하나일 때)",
                hint="정답이 하나면 NDCG@k는 적중했을 때 1/log₂(순위 + 1) ≤ 1이므로 Recall@k를 "
                     "넘을 수 없습니다: IDCG = 1인지, 1등의 할인이 1인지 확인하세요.")
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {name: f"{m[name]:.4f}"
                                                    for name in METRIC_NAMES})
    ref = _reference(constants, "metrics", mode)
    if ref is None:
        _no_reference(report, "평가 지표", mode)
        return report.done()
    report.info(ref.get("note", ""))
    for name in METRIC_NAMES:
        want, tol = ref["values"][name], ref["tolerance"][name]
        report.item(abs(m[name] - want) <= tol, name,
                    f"{m[name]:.4f} (기준 {want:.4f} ± {tol:.4f})",
                    "check_metrics를 먼저 통과했는지, 학습 손실 점검을 통과했는지 확인하세요.")
    return report.done()


def check_popularity(scores: Mapping[str, float], mode: str = "full", quiet: bool = False,
                     data: SequenceData | None = None) -> bool:
    """MostPop's test metrics as the student's functions score them, against the same
    rankings scored by the reference metrics on ``data``'s dataset (Home without ``data``).

    The rankings are deterministic, so the values must agree to rounding.
    """
    report = _Report(f"MostPop 점검 ({mode})", quiet)
    got = _metric_values(report, scores,
                         "Recall@10, Recall@20, NDCG@10, NDCG@20을 모두 담은 dict를 넘기세요.")
    if got is None:
        return report.done()
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {n: f"{v:.4f}" for n, v in got.items()})
    ref = constants.get("popularity", {}).get(mode)
    if ref is None:
        _no_reference(report, "MostPop", mode)
        return report.done()
    for name in METRIC_NAMES:
        report.item(_close(got[name], ref[name]), name,
                    f"{got[name]:.4f} (기준 {ref[name]:.4f})",
                    "같은 추천 목록을 참조 지표로 채점한 값과 다릅니다: check_metrics를 먼저 "
                    "통과했는지 확인하세요.")
    return report.done()
