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

@mistake("witg.one_direction")
def witg_one_direction(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for t in range(len(sequence) - window):
                a, b = sequence[t], sequence[t + window]
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.windows_1_2")
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


@mistake("witg.windows_1_4")
def witg_windows_1_4(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3, 4):  # one distance too many
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0 / window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.weight_one")
def witg_weight_one(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + 1.0  # not 1 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + 1.0
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.weight_k")
def witg_weight_k(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[a].get(b, 0.0) + window  # not 1 / window
                adjacency_list[b][a] = adjacency_list[b].get(a, 0.0) + window
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.last_pair_missed")
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


@mistake("witg.overwrite")
def witg_overwrite(train_sequence_file: str) -> Data:
    user_sequences, num_nodes = read_item_sequences(train_sequence_file)
    adjacency_list: list[dict[int, float]] = [dict() for _ in range(num_nodes)]
    for sequence in user_sequences:
        for window in (1, 2, 3):
            for a, b in zip(sequence, sequence[window:]):
                adjacency_list[a][b] = adjacency_list[b][a] = 1.0 / window  # set, not added
    return convert_to_pyg_data(adjacency_list, num_nodes)


@mistake("witg.self_loop_skipped")
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


@mistake("witg.self_loop_once")
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
