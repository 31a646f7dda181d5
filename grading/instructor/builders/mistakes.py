"""The registry of typical mistakes: id -> what it gets wrong (English, Korean) -> its code.

Each mistake is a deliberately wrong answer to one TODO written as a student would write it: a
notebook function with the TODO's signature, using only names the notebook has (``math``,
``torch``, ``Tensor``, ``Data``, ``read_item_sequences``, ``convert_to_pyg_data``,
``gaussian_kernel``; ``zip`` without ``strict``). Its id is ``<check>.<key>``; where the
students' checks name the mistake, ``key`` is its hint's key in ``gcl4sr_helpers.checks
.HINT_TABLES`` (the id is the one :mod:`grading.instructor.report.hints` reports,
:attr:`Mistake.hint` the text). Those without a hint (``mmd.detached``,
``mmd.wrong_bandwidth``) only the hidden checks catch.
Nothing else restates a mistake: :mod:`.check_constants` stores what each hinted one gives,
the hostile submissions (``tests/fixtures/make_submissions.py``) put a mistake's source,
renamed to the notebook's function (:meth:`Mistake.source`), into a TODO cell, and the tests
take their mistakes here.
"""
# ruff: noqa: B905

from __future__ import annotations

import ast
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from gcl4sr_helpers.data import read_item_sequences
from gcl4sr_helpers.graph import convert_to_pyg_data
from gcl4sr_helpers.losses import gaussian_kernel

if TYPE_CHECKING:
    from torch_geometric.data import Data


@dataclass(frozen=True)
class Mistake:
    """One typical mistake: ``id`` (``<check>.<key>``), what it gets wrong, its function."""

    id: str
    en: str
    ko: str
    function: Callable

    @property
    def check(self) -> str:
        return self.id.partition(".")[0]

    @property
    def hint(self) -> str | None:
        """The hint the students' check prints for this mistake (``None``: it has none)."""
        from gcl4sr_helpers.checks import HINT_TABLES

        return HINT_TABLES.get(self.check, {}).get(self.id.partition(".")[2])

    def source(self, name: str | None = None) -> str:
        """The function as a notebook cell holds it: no decorator, renamed to ``name`` (the
        continuation lines of its signature moved to stay aligned)."""
        text = inspect.getsource(self.function)
        node = ast.parse(text).body[0]
        lines = text.splitlines(keepends=True)[node.lineno - 1:]
        if name:
            old, shift = self.function.__name__, len(name) - len(self.function.__name__)
            lines[0] = lines[0].replace(f"def {old}(", f"def {name}(", 1)
            for index in range(1, node.body[0].lineno - node.lineno):
                if shift < 0 and lines[index][:-shift].strip():
                    raise ValueError(f"{self.id}: cannot move {lines[index]!r} left")
                lines[index] = " " * shift + lines[index] if shift >= 0 else lines[index][-shift:]
        return "".join(lines)


MISTAKES: dict[str, Mistake] = {}


def mistake(mistake_id: str, en: str, ko: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the mistake ``mistake_id``."""
    def register(function: Callable) -> Callable:
        if mistake_id in MISTAKES:
            raise ValueError(f"mistake {mistake_id!r} registered twice")
        MISTAKES[mistake_id] = Mistake(mistake_id, en, ko, function)
        return function
    return register


# --- WITG: the answer adds 1/k to w(a, b) and w(b, a) for each pair (s[t], s[t + k]), k = 1..3

@mistake("witg.one_direction", "only w(a, b) is added, never w(b, a)",
         "w(a, b)에만 더하고 반대 방향 w(b, a)에는 더하지 않음")
def witg_one_direction(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.windows_1_2", "windows k = 1, 2 only", "거리 k = 1, 2만 사용 (3을 빠뜨림)")
def witg_windows_1_2(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2):  # distance 3 forgotten
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.windows_1_4", "windows k = 1..4", "거리 k = 4까지 사용")
def witg_windows_1_4(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3, 4):  # one distance too many
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.weight_one", "weight 1 instead of 1/k", "거리와 상관없이 가중치 1")
def witg_weight_one(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0  # not 1 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.weight_k", "weight k instead of 1/k", "가중치 1/k 대신 k")
def witg_weight_k(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + window  # not 1 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.last_pair_missed", "each sequence's last pair of every window left out",
         "시퀀스마다 거리별 마지막 쌍을 빠뜨림 (off-by-one)")
def witg_last_pair(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for t in range(len(sequence) - window - 1):  # one position short
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.overwrite", "a repeated pair's weight set, not added up",
         "같은 쌍이 다시 나오면 가중치를 누적하지 않고 덮어씀")
def witg_overwrite(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[b][a] = 1.0 / window  # set, not added
    return convert_to_pyg_data(adjacency_list, num_nodes)


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


# --- MMD: mean(K_xx + K_yy - K_xy - K_yx) over the B x B blocks of the [2B, 2B] kernel matrix

@mistake("mmd.sign", "the opposite sign, mean(K_xy + K_yx - K_xx - K_yy)", "부호가 반대")
def mmd_sign(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
             fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target, kernel_mul=kernel_mul, kernel_num=kernel_num,
                              fix_sigma=fix_sigma)
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xy + yx - xx - yy)  # sign error


@mistake("mmd.ignores_kwargs", "kernel_mul, kernel_num, fix_sigma not passed to the kernel",
         "kernel_mul, kernel_num, fix_sigma를 gaussian_kernel에 넘기지 않음")
def mmd_kwargs(source: Tensor, target: Tensor, kernel_mul: float = 2.0, kernel_num: int = 5,
               fix_sigma: float | None = None) -> Tensor:
    batch_size = source.shape[0]
    kernels = gaussian_kernel(source, target)  # the kernel arguments are not passed on
    xx, yy = kernels[:batch_size, :batch_size], kernels[batch_size:, batch_size:]
    xy, yx = kernels[:batch_size, batch_size:], kernels[batch_size:, :batch_size]
    return torch.mean(xx + yy - xy - yx)


@mistake("mmd.no_cross", "the cross terms left out, mean(K_xx + K_yy)", "교차 항을 빼지 않음")
def mmd_no_cross(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[b:, b:])


@mistake("mmd.cross_only", "K_xx and K_yy left out, -mean(K_xy + K_yx)", "K_xx와 K_yy를 빠뜨림")
def mmd_cross_only(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return -torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.sum", "a sum instead of the mean", "평균 대신 합")
def mmd_sum(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sum(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b])


@mistake("mmd.sqrt", "the square root of the answer", "답에 제곱근을 씌움")
def mmd_sqrt(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.sqrt(torch.mean(k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]))


@mistake("mmd.unbiased", "the diagonals of K_xx and K_yy left out of their means",
         "K_xx, K_yy의 대각선을 뺀 불편 추정량")
def mmd_unbiased(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    xx, yy = k[:b, :b], k[b:, b:]
    same = xx.sum() - xx.diagonal().sum() + yy.sum() - yy.diagonal().sum()
    return same / (b * (b - 1)) - torch.mean(k[:b, b:] + k[b:, :b])


@mistake("mmd.swapped_blocks", "the blocks mixed up, mean(K_xx + K_xy - K_yy - K_yx)",
         "블록을 잘못 나눔")
def mmd_swapped(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean(k[:b, :b] + k[:b, b:] - k[b:, b:] - k[b:, :b])


@mistake("mmd.detached", "the loss cut from the graph (.detach()): no gradient for the model",
         "손실을 그래프에서 떼어 냄 (.detach()): 모델에 기울기가 가지 않음")
def mmd_detached(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    b, k = source.shape[0], gaussian_kernel(source, target, kernel_mul, kernel_num, fix_sigma)
    return torch.mean((k[:b, :b] + k[b:, b:] - k[:b, b:] - k[b:, :b]).detach())


@mistake("mmd.wrong_bandwidth", "an own kernel whose bandwidth counts the diagonal's zeros",
         "직접 만든 커널의 대역폭 평균에 대각선의 0까지 넣음")
def mmd_bandwidth(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    batch = source.shape[0]
    total = torch.cat([source, target])
    n = total.shape[0]
    distances = ((total.unsqueeze(0) - total.unsqueeze(1)) ** 2).sum(2)
    bandwidth = fix_sigma or distances.detach().sum() / (n * n)  # the diagonal's zeros counted
    base = bandwidth / kernel_mul ** (kernel_num // 2)
    kernels = sum(torch.exp(-distances / (base * kernel_mul**i)) for i in range(kernel_num))
    xx, yy = kernels[:batch, :batch], kernels[batch:, batch:]
    xy, yx = kernels[:batch, batch:], kernels[batch:, :batch]
    return torch.mean(xx + yy - xy - yx)
