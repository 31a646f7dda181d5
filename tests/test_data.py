"""Tests of gcl4sr_helpers.data on the real Home files and on small hand-made files."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from gcl4sr_helpers.data import (
    DataFormatError,
    SequenceData,
    SequenceDataset,
    Split,
    build_splits,
    history_matrix,
    load_data,
    read_item_sequences,
    read_user_sequences,
    subset_users,
)

HOME_USERS = 66_519
HOME_INTERACTIONS = 551_682


def _parse(path: Path) -> list[list[int]]:
    """Independent reader for the well-formed official files."""
    lines = path.read_text().splitlines()
    return [[int(item) for item in line.split(" ")[1].split(",")] for line in lines]


@pytest.fixture(scope="module")
def home(home_dir: Path) -> SequenceData:
    return load_data(home_dir)


@pytest.fixture(scope="module")
def raw_sequences(home_dir: Path) -> list[list[int]]:
    return _parse(home_dir / "home.txt")


def _official(home_dir: Path, name: str) -> tuple:
    path = home_dir / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    with open(path, "rb") as handle:
        return pickle.load(handle)


@pytest.mark.parametrize("name", ["valid", "test"])
def test_holdout_split_equals_official_pkl(home: SequenceData, home_dir: Path, name: str) -> None:
    official = _official(home_dir, f"{name}.pkl")
    assert isinstance(official, tuple) and len(official) == 4
    assert home.splits[name].as_tuple() == official


def test_official_lengths_are_truncated_input_lengths(home_dir: Path, raw_sequences) -> None:
    lengths = _official(home_dir, "test.pkl")[3]
    assert lengths == [min(len(seq) - 1, 50) for seq in raw_sequences]
    assert sum(len(seq) - 1 > 50 for seq in raw_sequences) == 256


def test_train_split_count_and_order(home: SequenceData, raw_sequences) -> None:
    train = home.splits["train"]
    assert len(train) == 352_125 == sum(max(len(seq) - 3, 0) for seq in raw_sequences)
    assert train.inputs[:5] == [[1, 2, 3, 4, 5], [1, 2, 3, 4], [1, 2, 3], [1, 2], [1]]
    assert train.targets[:5] == [6, 5, 4, 3, 2]
    assert train.lengths[:5] == [5, 4, 3, 2, 1]
    assert train.user_ids[:7] == [0, 0, 0, 0, 0, 1, 1]
    assert train.inputs[5:7] == [[5, 9], [5]] and train.targets[5:7] == [10, 9]
    assert train.lengths == [len(x) for x in train.inputs]
    assert max(train.lengths) == max(len(seq) for seq in raw_sequences) - 3  # not truncated


def test_all_train_seq_is_home_without_last_two(home_dir: Path, raw_sequences) -> None:
    assert _parse(home_dir / "all_train_seq.txt") == [seq[:-2] for seq in raw_sequences]


def test_user_ids_are_line_indices(home_dir: Path, home: SequenceData) -> None:
    rows = read_user_sequences(home_dir / "home.txt")
    assert [user for user, _ in rows] == [str(i) for i in range(HOME_USERS)]
    assert not home.relabelled and home.user_id_note() is None
    assert home.dataset.name == "Home" and home.dataset.is_home


def test_load_data_summary(home: SequenceData, home_dir: Path) -> None:
    assert home.summary() == {
        "users": HOME_USERS,
        "items": 28_237,
        "num_items": 28_238,
        "interactions": HOME_INTERACTIONS,
        "min_length": 5,
        "mean_length": pytest.approx(HOME_INTERACTIONS / HOME_USERS),
        "max_length": 277,
    }
    assert home.num_users == HOME_USERS and home.num_items == 28_238
    assert home.train_sequence_file == home_dir / "all_train_seq.txt"


@pytest.mark.parametrize(("name", "drop_last"), [("test_history", 1), ("valid_history", 2)])
def test_history_matrices(home: SequenceData, raw_sequences, name: str, drop_last: int) -> None:
    matrix = getattr(home, name)
    expected = {(u, item) for u, seq in enumerate(raw_sequences) for item in seq[:-drop_last]}
    assert matrix.shape == (HOME_USERS, 28_238)
    assert matrix.nnz == len(expected) == HOME_INTERACTIONS - drop_last * HOME_USERS
    assert set(zip(*(idx.tolist() for idx in matrix.nonzero()), strict=True)) == expected
    assert np.all(matrix.data == 1)


def test_history_matrix_counts_repeats_once() -> None:
    matrix = history_matrix([[1, 2, 1, 3], [2, 2, 4]], num_items=5, drop_last=1)
    assert matrix.toarray().tolist() == [[0, 1, 1, 0, 0], [0, 0, 1, 0, 0]]


MALFORMED = [
    ("0 1,2\n1\n", 2, "missing items"),
    ("0 1,2\n1 \n", 2, "missing items"),
    ("0 1,a,3\n", 1, "item id 'a' is not an integer"),
    ("0 1,2\n1 1.5,2\n", 2, "item id '1.5' is not an integer"),
    ("0 1,,3\n", 1, "item id '' is not an integer"),
    ("0 1,2,\n", 1, "item id '' is not an integer"),
    ("0 1, 2\n", 1, "item id ' 2' is not an integer"),
    ("0 1,2\n1 3,0,4\n", 2, "item id 0 is reserved for padding"),
    ("0 1,-4,3\n", 1, "item id -4 is negative"),
    ("0 1,2\n1 3\n0 4\n", 3, "duplicate user 0 (first on line 1)"),
    ("u7 1,2\nu8 3\nu7 4\n", 3, "duplicate user u7 (first on line 1)"),
    (" 1,2\n", 1, "missing items"),
    ("0 1,2\n\n1 3,4\n", 2, "empty line"),
]


@pytest.mark.parametrize(("text", "line", "problem"), MALFORMED)
def test_malformed_lines(tmp_path: Path, text: str, line: int, problem: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(DataFormatError) as info:
        read_user_sequences(path)
    assert f"bad.txt:{line}: {problem}" in str(info.value)


def test_trailing_blank_lines_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_bytes(b"0 1,2\r\n1 3,4,5\r\n\n\n")
    assert read_user_sequences(path) == [("0", [1, 2]), ("1", [3, 4, 5])]


def test_read_item_sequences(tmp_path: Path) -> None:
    path = tmp_path / "seq.txt"
    path.write_text("0 4,2\n1 7\n")
    assert read_item_sequences(str(path)) == ([[4, 2], [7]], 8)
    path.write_text("")
    assert read_item_sequences(str(path)) == ([], 0)


def test_build_splits_small() -> None:
    splits = build_splits([[1, 2, 3, 4, 5], [6, 7, 8]], max_len=2)
    assert splits["train"].as_tuple() == ([0, 0], [[1, 2], [1]], [3, 2], [2, 1])
    assert splits["valid"].as_tuple() == ([0, 1], [[2, 3], [6]], [4, 7], [2, 1])
    assert splits["test"].as_tuple() == ([0, 1], [[3, 4], [6, 7]], [5, 8], [2, 2])
    with pytest.raises(ValueError, match="user 1 has fewer than 3 items"):
        build_splits([[1, 2, 3], [4, 5]])


def _tiny_split() -> Split:
    inputs = [[1, 2, 3], list(range(1, 8)), [9]]
    return Split([0, 1, 2], inputs, [4, 8, 10], [len(x) for x in inputs])


def test_sequence_dataset_pads_left_and_keeps_last_items() -> None:
    dataset = SequenceDataset(_tiny_split(), max_len=5)
    assert len(dataset) == 3
    user, inputs, target = dataset[1]
    assert user.dtype == inputs.dtype == target.dtype == torch.long
    assert user.dim() == target.dim() == 0 and inputs.shape == (5,)
    assert (user.item(), target.item()) == (1, 8)
    assert inputs.tolist() == [3, 4, 5, 6, 7]
    assert dataset[0][1].tolist() == [0, 0, 1, 2, 3]
    assert dataset[2][1].tolist() == [0, 0, 0, 0, 9]


@pytest.mark.parametrize("top, stored", [(32767, torch.int16), (32768, torch.int32),
                                         (2**31, torch.int64)])
def test_sequence_dataset_stores_the_smallest_type_that_holds_the_ids(top, stored) -> None:
    dataset = SequenceDataset(Split([0, 1], [[top, 1], [2]], [3, 4], [2, 1]), max_len=3)
    assert dataset.input_ids.dtype == stored
    assert dataset[torch.arange(2)][1].tolist() == [[0, top, 1], [0, 0, 2]]
    assert dataset[0][1].dtype == torch.long


def test_dataloader_with_spawn_worker_matches_main_process() -> None:
    dataset = SequenceDataset(_tiny_split(), max_len=4)
    main = next(iter(DataLoader(dataset, batch_size=3)))
    spawned = next(
        iter(DataLoader(dataset, batch_size=3, num_workers=1, multiprocessing_context="spawn"))
    )
    assert all(torch.equal(a, b) for a, b in zip(main, spawned, strict=True))


def test_subset_users_is_deterministic_and_reindexed(raw_sequences) -> None:
    subset = subset_users(raw_sequences, 300, seed=3)
    assert subset == subset_users(raw_sequences, 300, seed=3)
    assert subset != subset_users(raw_sequences, 300, seed=4)
    chosen = np.sort(np.random.default_rng(3).choice(len(raw_sequences), 300, replace=False))
    originals = [raw_sequences[i] for i in chosen]
    old_ids = sorted({item for seq in originals for item in seq})
    new_id = {old: new for new, old in enumerate(old_ids, start=1)}
    assert subset == [[new_id[item] for item in seq] for seq in originals]
    assert sorted({item for seq in subset for item in seq}) == list(range(1, len(old_ids) + 1))


def test_subset_users_rejects_bad_requests() -> None:
    with pytest.raises(ValueError, match="fewer than 3 items"):
        subset_users([[1, 2], [3, 4, 5]], 2)
    with pytest.raises(ValueError, match="num_users"):
        subset_users([[1, 2, 3]], 2)


def test_load_data_subset_writes_its_train_file(home_dir: Path, tmp_path: Path) -> None:
    data = load_data(home_dir, max_users=400, seed=1, cache_dir=tmp_path)
    assert data.train_sequence_file == tmp_path / "all_train_seq.txt"
    assert [p.name for p in tmp_path.iterdir()] == ["all_train_seq.txt"]
    rows = read_user_sequences(data.train_sequence_file)
    assert rows == [(str(u), seq[:-2]) for u, seq in enumerate(data.sequences)]
    summary = data.summary()
    assert summary["users"] == data.num_users == 400
    assert data.num_items == summary["items"] + 1
    assert len(data.splits["test"]) == 400 and data.test_history.shape == (400, data.num_items)


def _write_dir(folder: Path, home: str, train: str) -> Path:
    folder.mkdir()
    (folder / "home.txt").write_text(home)
    (folder / "all_train_seq.txt").write_text(train)
    return folder


def test_load_data_rejects_mismatching_train_file(tmp_path: Path) -> None:
    home = "0 1,2,3,4\n1 5,6,7\n2 8,9,10,11\n"
    good = _write_dir(tmp_path / "good", home, "0 1,2\n1 5\n2 8,9\n")
    assert load_data(good).num_items == 12
    cases = {
        "item": ("0 1,2\n1 5\n2 8,10\n", r"all_train_seq\.txt:3: user 2: item 2 is 10, expected 9 "
                 r"\(home\.txt:3 without its last two items\)"),
        "length": ("0 1,2\n1 5,6\n2 8,9\n", r"all_train_seq\.txt:2: user 1: has 2 items, "
                   "expected 1"),
        "user": ("0 1,2\n7 5\n2 8,9\n", r"all_train_seq\.txt:2: user 7, but line 2 of home\.txt "
                 "is user 1"),
        "short": ("0 1,2\n1 5\n", r"all_train_seq\.txt:3: has 2 users, home\.txt has 3"),
    }
    for name, (train, message) in cases.items():
        with pytest.raises(DataFormatError, match=message):
            load_data(_write_dir(tmp_path / name, home, train))


def test_load_data_maps_any_user_labels_to_line_indices(tmp_path: Path) -> None:
    folder = _write_dir(tmp_path / "d", "7 1,2,3\nA2 4,5,6\n-1 1,6,2\n",
                        "7 1\nA2 4\n-1 1\n")
    data = load_data(folder)
    assert data.user_labels == ["7", "A2", "-1"] and data.relabelled
    assert data.splits["test"].user_ids == [0, 1, 2]
    assert "0..2" in data.user_id_note() and "'7'" in data.describe()


def test_load_data_derives_a_missing_train_file(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "clicks.txt").write_text("1 3,1,3,2\n2 2,2,4\n")
    data = load_data(folder, cache_dir=tmp_path / "cache")
    assert data.train_sequence_file == tmp_path / "cache" / "all_train_seq.txt"
    assert data.train_sequence_file.read_text() == "0 3,1\n1 2\n"
    assert data.dataset.name == "clicks" and not list(folder.glob("all_train_seq.txt"))
    assert load_data(folder).train_sequence_file.read_text() == "0 3,1\n1 2\n"  # temp folder


def test_a_subset_larger_than_the_data_takes_every_user(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "clicks.txt").write_text("1 30,10,30,20\n2 20,20,40\n")
    data = load_data(folder, max_users=2000, cache_dir=tmp_path / "cache")
    assert data.sequences == [[3, 1, 3, 2], [2, 2, 4]] and data.user_labels == ["1", "2"]
