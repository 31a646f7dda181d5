"""Typical mistakes of TODO 2, Recall@k and NDCG@k (see the package's docstring)."""
# ruff: noqa: B905
from __future__ import annotations

import math

from . import mistake

# --- Recall@k: mean |truth ∩ top k| / |truth| over the users with a truth (0.0 if none)

@mistake("recall.precision")
def recall_precision(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        if relevant:
            scores.append(len(relevant & set(ranking[:topk])) / topk)  # not / |T|
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.empty_as_zero")
def recall_empty(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        scores.append(len(relevant & set(ranking[:topk])) / len(relevant) if relevant else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.no_cut")
def recall_no_cut(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = [len(set(t) & set(p)) / len(set(t)) for t, p in zip(actual, predicted) if t]
    return sum(scores) / len(scores) if scores else 0.0


@mistake("recall.capped_denominator")
def recall_capped(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = [len(set(t) & set(p[:topk])) / min(topk, len(set(t)))
              for t, p in zip(actual, predicted) if t]
    return sum(scores) / len(scores) if scores else 0.0



@mistake("recall.truth_as_list")
def recall_truth_as_list(actual: list[list[int]], predicted: list[list[int]],
                         topk: int) -> float:
    scores = [sum(item in ranking[:topk] for item in truth) / len(truth)
              for truth, ranking in zip(actual, predicted) if truth]
    return sum(scores) / len(scores) if scores else 0.0


# --- NDCG@k: DCG / IDCG; rank r (from 1) discounted by 1 / log2(r + 1), the ideal list holds
# min(k, |truth|) hits; users without a truth skipped

@mistake("ndcg.idcg_k")
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


@mistake("ndcg.empty_as_zero")
def ndcg_empty(actual: list[list[int]], predicted: list[list[int]], topk: int) -> float:
    scores = []
    for truth, ranking in zip(actual, predicted):
        relevant = set(truth)
        dcg = sum(1.0 / math.log2(rank + 1)
                  for rank, item in enumerate(ranking[:topk], start=1) if item in relevant)
        idcg = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(topk, len(relevant)) + 1))
        scores.append(dcg / idcg if idcg else 0.0)  # users without a truth count as 0
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.idcg_truth")
def ndcg_idcg_truth(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in range(1, len(relevant) + 1)))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.no_idcg")
def ndcg_no_idcg(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            scores.append(sum(1 / math.log2(r + 1)
                              for r, i in enumerate(ranked[:topk], 1) if i in relevant))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.rank_from_zero")
def ndcg_rank_from_zero(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(i + 1) for i, x in enumerate(ranked[:topk]) if x in relevant)
            scores.append(dcg / sum(1 / math.log2(i + 1) for i in range(min(topk, len(relevant)))))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.rank_plus_two")
def ndcg_rank_plus_two(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 2) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.natural_log_dcg")
def ndcg_natural_log(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.no_cut")
def ndcg_no_cut(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked, 1) if i in relevant)
            ideal = range(1, min(topk, len(relevant)) + 1)
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in ideal))
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.truth_as_list")
def ndcg_truth_as_list(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if truth:
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in truth)
            idcg = sum(1 / math.log2(r + 1) for r in range(1, min(topk, len(truth)) + 1))
            scores.append(dcg / idcg)
    return sum(scores) / len(scores) if scores else 0.0


@mistake("ndcg.idcg_list")
def ndcg_idcg_list(actual, predicted, topk):
    scores = []
    for truth, ranked in zip(actual, predicted):
        if relevant := set(truth):
            dcg = sum(1 / math.log2(r + 1) for r, i in enumerate(ranked[:topk], 1) if i in relevant)
            ideal = min(topk, len(ranked), len(relevant))
            scores.append(dcg / sum(1 / math.log2(r + 1) for r in range(1, ideal + 1)))
    return sum(scores) / len(scores) if scores else 0.0
