"""The hidden checks by name: title, sub-check labels, the core sub-check and the scoring rule
(read by both sides).

A check's name is the suffix of its ``grade_<name>`` function; the instructor side maps
each sub-check label to the hidden cases behind it (:mod:`grading.instructor.checking.battery`).
Labels are the Korean text students see in their feedback.

Points only for evidence: a part earns points only when its **core** sub-check passes, the
general case on random inputs; then each passed sub-check earns an equal share. Stubs pass
only degenerate sub-checks (the node count, "no user with a ground truth gives 0.0",
identical batches), and the classic mistakes (one-direction edges, windows 1-2 only, IDCG
over k, dividing by k, counting users with an empty truth, a wrong bandwidth) fail the core
while passing an edge case or two: all of them score 0. A mistake confined to one rule
(kernel arguments ignored, a detached MMD, unweighted edges) loses only the sub-checks that
test that rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One hidden check: ``grade_<name>``, shown as ``title``, worth six equal sub-checks,
    which count only when ``core`` (one of them) passes."""

    name: str
    title: str
    subchecks: tuple[str, ...]
    core: str

    def __post_init__(self) -> None:
        if self.core not in self.subchecks:
            raise ValueError(f"core sub-check {self.core!r} is not a sub-check of {self.name}")


CHECKS: dict[str, Check] = {check.name: check for check in (
    Check("witg", "WITG", (
        "모든 숨은 시퀀스 집합의 노드 수",
        "무작위 시퀀스의 엣지 집합",
        "무작위 시퀀스의 엣지 가중치",
        "길이 2인 시퀀스",
        "반복되는 쌍과 한 시퀀스 안에서 반복되는 아이템",
        "아이템 번호의 빈틈과 긴 시퀀스"),
        core="무작위 시퀀스의 엣지 집합"),
    Check("recall", "Recall@k", (
        "무작위 사용자, k=20",
        "사용자마다 정답 1개, k=10",
        "사용자마다 정답 여러 개 (중복 포함), k=5",
        "k가 추천 목록보다 긴 경우",
        "정답이 빈 사용자는 건너뜀",
        "정답이 있는 사용자가 없으면 0.0"),
        core="무작위 사용자, k=20"),
    Check("ndcg", "NDCG@k", (
        "무작위 사용자, k=20",
        "사용자마다 정답 1개, k=1",
        "사용자마다 정답 1개 (중복 포함), k=10",
        "정답이 k개보다 많은 경우",
        "k가 추천 목록보다 긴 경우 (정답이 목록보다 많을 때 포함)",
        "정답이 있는 사용자가 없으면 0.0"),
        core="무작위 사용자, k=20"),
    Check("mmd", "MMD", (
        "[16, 50] 배치, 기본 커널",
        "[2, 50] 배치",
        "고정 sigma, [12, 50] 배치",
        "kernel_mul=3, kernel_num=3, [10, 20] 배치",
        "똑같은 두 배치",
        "모델 안에서: 고정 배치의 손실과 기울기"),
        core="[16, 50] 배치, 기본 커널"),
)}

GRADE_FUNCTION = re.compile(r"grade_(" + "|".join(CHECKS) + r")")
"""The name of a ``grade_*`` function; group 1 is the check's name."""


def fraction(check: str, verdicts: list[dict]) -> float:
    """passed / total if the core sub-check passed, else 0; ``verdicts`` are the server's
    ``{"label", "passed", "reason"}`` records, one per sub-check."""
    core = next(v for v in verdicts if v["label"] == CHECKS[check].core)
    return sum(v["passed"] for v in verdicts) / len(verdicts) if core["passed"] else 0.0


def explain(check: str, verdicts: list[dict], points: float) -> list[str]:
    """The lines a student sees for the points of ``check`` (worth ``points``) it lost."""
    title, core = CHECKS[check].title, CHECKS[check].core
    failed = [v for v in verdicts if not v["passed"]]
    if len(failed) == len(verdicts) > 1 and len({v["reason"] for v in failed}) == 1:
        # one reason for everything (refused, tampered, the same crash on every case)
        return [f"-{points:.3g} {title} [모든 하위 검사]: {failed[0]['reason']}"]
    if fraction(check, verdicts) > 0:
        share = points / len(verdicts)
        return [f"-{share:.3g} {title} [{v['label']}]: {v['reason']}" for v in failed]
    return [f"-{points:.3g} {title}: 핵심 하위 검사 [{core}]에서 틀려 이 부분은 0점입니다. "
            "다른 하위 검사는 핵심 검사를 통과해야 점수가 됩니다.",
            *(f"  {title} [{v['label']}]: {v['reason']}" for v in failed)]
