"""Typical mistakes of TODO 2, Recall@k and NDCG@k (see the package's docstring)."""
# ruff: noqa: B905
from __future__ import annotations

import math

from . import mistake

# --- Recall@k: mean |truth ∩ top k| / |truth| over the users with a truth (0.0 if none)

@mistake("recall.precision", "hits / k instead of hits / |truth|", "적중 수를 |정답| 대신 k로 나눔")
def recall_precision(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        if relevant:
            scores.append(len(relevant & set(ranking[:topk])) / topk)  # not / |T|
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.empty_as_zero", "users with no truth counted as 0, not skipped",
         "정답이 빈 사용자를 건너뛰지 않고 0점으로 셈")
def recall_empty(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        scores.append(len(relevant & set(ranking[:topk])) / len(relevant) if relevant else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.no_cut", "the whole ranked list, not its top k", "추천 목록을 k개로 자르지 않음")
def recall_no_cut(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = [len(set(t) & set(p)) / len(set(t)) for t, p in zip(actual, predicted) if t]
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.capped_denominator", "hits / min(k, |truth|)", "min(k, |정답|)으로 나눔")
def recall_capped(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = [len(set(t) & set(p[:topk])) / min(topk, len(set(t)))
              for t, p in zip(actual, predicted) if t]
    return sum(scores) / len(scores) if scores else 0.0



@mistake("recall.truth_as_list", "a repeated truth counted twice (the list, not the set)",
         "정답에 두 번 나온 아이템을 두 번 셈 (집합이 아니라 목록)")
def recall_truth_as_list(actual: list[list[int]], predicted: list[list[int]],
                         topk: int) -> float:
    scores = [sum(item in ranking[:topk] for item in truth) / len(truth)
              for truth, ranking in zip(actual, predicted) if truth]
    return sum(scores) / len(scores) if scores else 0.0


# --- NDCG@k: DCG / IDCG; rank r (from 1) discounted by 1 / log2(r + 1), the ideal list holds
# min(k, |truth|) hits; users without a truth skipped

@mistake("ndcg.idcg_k", "the IDCG of k hits, not of min(k, |truth|)",
         "IDCG를 min(k, |정답|)개가 아니라 k개 적중으로 계산")
def ndcg_idcg_k(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        if not relevant:
            continue
        dcg = sum(1.0 / math.log2(rank + 1)
                  for rank, item in enumerate(ranking[:topk], start=1) if item in relevant)
        idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, topk + 1))  # no min(k, |T|)
        scores.append(dcg / idcg)
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.empty_as_zero", "users with no truth counted as 0, not skipped",
         "정답이 빈 사용자를 건너뛰지 않고 0점으로 셈")
def ndcg_empty(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        dcg = sum(1.0 / math.log2(rank + 1)
                  for rank, item in enumerate(ranking[:topk], start=1) if item in relevant)
        idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(topk, len(relevant)) + 1))
        scores.append(dcg / idcg if idcg else 0.0)  # users without a truth count as 0
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.idcg_truth", "the IDCG of |truth| hits, not of min(k, |truth|)",
         "IDCG를 min(k, |정답|)개가 아니라 |정답|개 적중으로 계산")
def ndcg_idcg_truth(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in range(1, len(relevant) + 1)))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.no_idcg", "the DCG not divided by the IDCG", "DCG를 IDCG로 나누지 않음")
def ndcg_no_idcg(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            scores.append(sum(1 / math.log2(r + 1)
                              for r, i in enumerate(ranked[:topk], 1) if i in relevant))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.rank_from_zero", "a 0-based rank i discounted by 1 / log2(i + 1): log2(1) = 0",
         "0부터 센 순위 i를 1 / log2(i + 1)로 할인 (1등에서 0으로 나눔)")
def ndcg_rank_from_zero(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(i + 1) for i, x in enumerate(ranked[:topk]) if x in relevant)
            scores.append(dcg / sum(1 / math.log2(i + 1) for i in range(min(topk, len(relevant)))))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.rank_plus_two", "rank r (from 1) discounted by 1 / log2(r + 2)",
         "1부터 센 순위 r을 1 / log2(r + 2)로 할인")
def ndcg_rank_plus_two(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 2) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.natural_log_dcg", "a natural log in the DCG, base 2 in the IDCG",
         "DCG에는 자연로그, IDCG에는 밑이 2인 로그")
def ndcg_natural_log(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.no_cut", "the whole ranked list, not its top k", "추천 목록을 k개로 자르지 않음")
def ndcg_no_cut(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked, 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.truth_as_list", "a repeated truth counted twice in the IDCG (the list, not the set)",
         "정답에 두 번 나온 아이템을 IDCG에서 두 번 셈 (집합이 아니라 목록)")
def ndcg_truth_as_list(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if truth:
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in truth)
            idcg = sum(1 / math.log2(r + 1) for r in range(1, min(topk, len(truth)) + 1))
            scores.append(dcg / idcg)
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.idcg_list", "the IDCG capped by the list's length too, min(k, |list|, |truth|)",
         "IDCG를 추천 목록의 길이로도 자름: min(k, |목록|, |정답|)")
def ndcg_idcg_list(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = min(topk, len(ranked), len(relevant))
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in range(1, ideal + 1)))
    return sum(scores) / len(scores) if scores else 0.0
