"""Typical mistakes of TODO 1, the WITG (see the package's docstring)."""
# ruff: noqa: B905
from __future__ import annotations

from typing import TYPE_CHECKING

from gcl4sr_helpers.data import read_item_sequences
from gcl4sr_helpers.graph import convert_to_pyg_data

from . import mistake

if TYPE_CHECKING:
    from torch_geometric.data import Data


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


@mistake("witg.self_loop_skipped", "a pair of one item (s[t] = s[t + k]) left out: no self-loop",
         "같은 아이템끼리의 쌍(s[t] = s[t + k])을 건너뜀: 자기 루프가 없음")
def witg_self_loop_skipped(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                if a == b:
                    continue  # the self-loop is a pair too
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.self_loop_once", "a self-loop gets 1/k once, not 2/k (both directions are one slot)",
         "자기 루프에 1/k를 한 번만 더함 (두 방향이 한 칸이라 2/k)")
def witg_self_loop_once(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                if a != b:  # w(a, a) must get both directions' 1/k
                    adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)
