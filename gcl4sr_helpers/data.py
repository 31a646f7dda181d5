"""Reading, validating and splitting user-sequence data (the official GCL4SR layout)."""

from __future__ import annotations

import gc
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import csr_matrix
from torch.utils.data import Dataset

from .dataset import DatasetInfo, describe_dataset
from .download import TRAIN_FILE, locate_data_dir
from .files import atomic_file
from .i18n import text

MAX_LEN = 50


class DataFormatError(ValueError):
    """A data file is malformed; the message reads `file:line: problem`."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic lists.

    Without this, repeated collections over the growing lists make loading Home about 3x slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _is_id(text: str) -> bool:
    """True if `text` is a non-empty run of ASCII digits."""
    return text.isascii() and text.isdigit()


def _is_id_list(text: str) -> bool:
    """True if `text` is comma-separated, non-empty runs of ASCII digits."""
    return (
        _is_id(text.replace(",", ""))
        and not text.startswith(",")
        and not text.endswith(",")
        and ",," not in text
    )


def _bad_id(token: str, what: str) -> str:
    """Describe why `token` is not a valid id."""
    if token.startswith("-") and _is_id(token[1:]):
        return f"{what} {token} is negative"
    return f"{what} {token!r} is not an integer"


def _parse_line(line: str, where: str) -> tuple[str, list[int]]:
    """Parse `user item1,item2,...` (any user label); `where` is the `file:line` prefix."""
    user, _, items_text = line.partition(" ")
    if not items_text or not user:
        raise DataFormatError(f"{where}: missing items (expected 'user item1,item2,...')")
    if not _is_id_list(items_text):
        bad = next(token for token in items_text.split(",") if not _is_id(token))
        raise DataFormatError(f"{where}: {_bad_id(bad, 'item id')}")
    items = list(map(int, items_text.split(",")))
    if 0 in items:
        raise DataFormatError(f"{where}: item id 0 is reserved for padding")
    return user, items


@_gc_paused()
def read_user_sequences(path: str | Path) -> list[tuple[str, list[int]]]:
    """Read `user item1,item2,...` lines into (user label, items) pairs, validating each line.

    A user label is any text without spaces (`0`, `17`, `A2X9`); each may occur once.
    """
    with open(path, encoding="utf-8") as handle:
        text = handle.read().rstrip()
    rows: list[tuple[str, list[int]]] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.split("\n") if text else [], start=1):
        where = f"{path}:{number}"
        line = raw.rstrip()
        if not line:
            raise DataFormatError(f"{where}: empty line")
        user, items = _parse_line(line, where)
        if user in first_line:
            raise DataFormatError(
                f"{where}: duplicate user {user} (first on line {first_line[user]})"
            )
        first_line[user] = number
        rows.append((user, items))
    return rows


def read_item_sequences(file_path: str) -> tuple[list[list[int]], int]:
    """Item sequences of a user-sequence file and `num_nodes = max item id + 1` (0 if empty)."""
    sequences = [items for _, items in read_user_sequences(file_path)]
    return sequences, max((max(items) for items in sequences), default=-1) + 1


@dataclass(frozen=True)
class Split:
    """Samples in the official pkl layout: user ids, input sequences, targets, input lengths."""

    user_ids: list[int]
    inputs: list[list[int]]
    targets: list[int]
    lengths: list[int]

    def __post_init__(self) -> None:
        sizes = {len(self.user_ids), len(self.inputs), len(self.targets), len(self.lengths)}
        if len(sizes) != 1:
            raise ValueError("Split fields must all have the same length")

    def __len__(self) -> int:
        return len(self.targets)

    def as_tuple(self) -> tuple[list[int], list[list[int]], list[int], list[int]]:
        """The four lists, as stored in the official valid.pkl / test.pkl."""
        return self.user_ids, self.inputs, self.targets, self.lengths


def _train_split(sequences: list[list[int]]) -> Split:
    """Every prefix of `seq[:-2]` (longest first) predicting its next item; inputs not truncated."""
    users: list[int] = []
    inputs: list[list[int]] = []
    targets: list[int] = []
    lengths: list[int] = []
    for user, seq in enumerate(sequences):
        train = seq[:-2]
        for k in range(len(train) - 1, 0, -1):
            users.append(user)
            inputs.append(train[:k])
            targets.append(train[k])
            lengths.append(k)
    return Split(users, inputs, targets, lengths)


def _holdout_split(sequences: list[list[int]], cut: int, max_len: int) -> Split:
    """Target `seq[-cut]`, input the last `max_len` items before it, length of that input."""
    inputs = [seq[:-cut][-max_len:] for seq in sequences]
    targets = [seq[-cut] for seq in sequences]
    return Split(list(range(len(sequences))), inputs, targets, [len(x) for x in inputs])


@_gc_paused()
def build_splits(sequences: list[list[int]], max_len: int = MAX_LEN) -> dict[str, Split]:
    """Official train/valid/test splits; the user id is the index in `sequences`."""
    short = next((user for user, seq in enumerate(sequences) if len(seq) < 3), None)
    if short is not None:
        raise ValueError(f"user {short} has fewer than 3 items; every user needs at least 3")
    return {
        "train": _train_split(sequences),
        "valid": _holdout_split(sequences, 2, max_len),
        "test": _holdout_split(sequences, 1, max_len),
    }


def _flatten(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and concatenated items of `sequences`, as int64 arrays."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    flat = np.fromiter(chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    return lengths, flat


@_gc_paused()
def history_matrix(sequences: list[list[int]], num_items: int, drop_last: int) -> csr_matrix:
    """Users x items float32 matrix with 1 for every item in `seq[:-drop_last]`."""
    if drop_last < 0:
        raise ValueError(f"drop_last must be >= 0, got {drop_last}")
    kept = [seq[: max(len(seq) - drop_last, 0)] for seq in sequences]
    counts, cols = _flatten(kept)
    rows = np.repeat(np.arange(len(kept)), counts)
    values = np.ones(len(cols), dtype=np.float32)
    matrix = csr_matrix((values, (rows, cols)), shape=(len(kept), num_items))
    matrix.data[:] = 1.0  # an item repeated within a user still counts once
    return matrix


@_gc_paused()
def left_pad(sequences: list[list[int]], max_len: int,
             dtype: type | None = np.int64) -> np.ndarray:
    """Matrix [n, max_len]: the last `max_len` items of each sequence, left-padded with 0.

    ``dtype=None`` picks the smallest of int16, int32 and int64 that holds every item id.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1, got {max_len}")
    lengths, flat = _flatten([seq[-max_len:] for seq in sequences])
    if dtype is None:
        top = int(flat.max(initial=0))
        dtype = next(t for t in (np.int16, np.int32, np.int64) if top <= np.iinfo(t).max)
    matrix = np.zeros((len(sequences), max_len), dtype=dtype)
    matrix[np.arange(max_len) >= (max_len - lengths)[:, None]] = flat
    return matrix


class SequenceDataset(Dataset):
    """(user id, left-padded input ids [max_len], target) samples of a Split, as LongTensors.

    Inputs are stored in the smallest integer type that holds the item ids (int16 on Home:
    a quarter of int64's 141 MB for the training split) and widened per batch.
    """

    def __init__(self, split: Split, max_len: int = MAX_LEN) -> None:
        self.max_len = max_len
        self.user_ids = torch.as_tensor(split.user_ids, dtype=torch.long)
        self.input_ids = torch.from_numpy(left_pad(split.inputs, max_len, dtype=None))
        self.targets = torch.as_tensor(split.targets, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.user_ids[index], self.input_ids[index].long(), self.targets[index]


@dataclass
class SequenceData:
    """Sequences with their splits and history masks; user ids are list indices.

    ``user_labels[u]`` is user ``u``'s label in the sequence file; ``relabelled`` is True
    when the file's labels were not ``0..n-1`` in file order (the kit numbers users by line).
    """

    sequences: list[list[int]]
    num_users: int
    num_items: int
    splits: dict[str, Split]
    valid_history: csr_matrix
    test_history: csr_matrix
    train_sequence_file: Path
    dataset: DatasetInfo
    user_labels: list[str]
    relabelled: bool

    def summary(self) -> dict:
        """Counts: users, distinct items, num_items (max id + 1), interactions, lengths."""
        lengths, flat = _flatten(self.sequences)
        return {
            "users": self.num_users,
            "items": len(np.unique(flat)),
            "num_items": self.num_items,
            "interactions": int(lengths.sum()),
            "min_length": int(lengths.min()),
            "mean_length": float(lengths.mean()),
            "max_length": int(lengths.max()),
        }

    def user_id_note(self) -> str | None:
        """A line for the notebook (its language) saying how the file's user labels became
        ids, if they were changed."""
        if not self.relabelled:
            return None
        return text("data.user_ids", first=self.user_labels[0], last=self.num_users - 1)

    def describe(self) -> str:
        """One English line for the instructor's commands: dataset, file, users, id mapping."""
        ids = (f"user labels ({self.user_labels[0]!r}, ...) mapped to 0..{self.num_users - 1} "
               "in file order" if self.relabelled else "user ids 0..n-1")
        return (f"dataset {self.dataset.name} ({self.dataset.sequence_file}): "
                f"{self.num_users:,} users, {ids}; train sequences {self.train_sequence_file}")


def _choose_users(count: int, num_users: int, seed: int) -> np.ndarray:
    """Sorted indices of `num_users` users drawn from `count` (seeded)."""
    if not 1 <= num_users <= count:
        raise ValueError(f"num_users must be in 1..{count}, got {num_users}")
    return np.sort(np.random.default_rng(seed).choice(count, num_users, replace=False))


@_gc_paused()
def subset_users(sequences: list[list[int]], num_users: int, seed: int = 0) -> list[list[int]]:
    """`num_users` random users in original order, items re-indexed 1..n by sorted original id."""
    chosen = _choose_users(len(sequences), num_users, seed)
    selected = [sequences[i] for i in chosen]
    short = next((int(i) for i, seq in zip(chosen, selected, strict=True) if len(seq) < 3), None)
    if short is not None:
        raise ValueError(f"user {short} has fewer than 3 items; every user needs at least 3")
    lengths, flat = _flatten(selected)
    new_ids = np.unique(flat, return_inverse=True)[1] + 1
    return [part.tolist() for part in np.split(new_ids, np.cumsum(lengths)[:-1])]


def _write_train_file(path: Path, sequences: list[list[int]]) -> Path:
    """Write `user items` lines of `seq[:-2]` atomically (users numbered 0..n-1)."""
    text = "".join(f"{u} {','.join(map(str, seq[:-2]))}\n" for u, seq in enumerate(sequences))
    with atomic_file(path) as handle:
        handle.write(text)
    return path


def _first_difference(got: list[int], want: list[int]) -> str:
    """Where two item lists first differ, in words."""
    at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    if at is None:
        return f"has {len(got)} items, expected {len(want)}"
    return f"item {at + 1} is {got[at]}, expected {want[at]}"


def _check_train_file(path: Path, rows: list[tuple[str, list[int]]], source: Path) -> None:
    """Require `path` to hold `user seq[:-2]` for every line of `source` (as `rows`)."""
    train = read_user_sequences(path)
    for line, (got, (user, seq)) in enumerate(zip(train, rows, strict=False), start=1):
        if got[0] != user:
            raise DataFormatError(f"{path}:{line}: user {got[0]}, but line {line} of "
                                  f"{source.name} is user {user}")
        if got[1] != seq[:-2]:
            raise DataFormatError(
                f"{path}:{line}: user {user}: {_first_difference(got[1], seq[:-2])} "
                f"({source.name}:{line} without its last two items)")
    if len(train) != len(rows):
        raise DataFormatError(f"{path}:{min(len(train), len(rows)) + 1}: has {len(train)} users, "
                              f"{source.name} has {len(rows)}")


def _assemble(sequences: list[list[int]], train_file: Path, dataset: DatasetInfo,
              labels: list[str], relabelled: bool) -> SequenceData:
    """Build splits and history masks around `sequences`."""
    num_items = max(max(seq) for seq in sequences) + 1
    return SequenceData(
        sequences=sequences,
        num_users=len(sequences),
        num_items=num_items,
        splits=build_splits(sequences),
        valid_history=history_matrix(sequences, num_items, drop_last=2),
        test_history=history_matrix(sequences, num_items, drop_last=1),
        train_sequence_file=train_file,
        dataset=dataset,
        user_labels=labels,
        relabelled=relabelled,
    )


def _cache_dir(dataset: DatasetInfo, what: str) -> Path:
    """A temporary folder for files derived from `dataset` (named by its content hash)."""
    slug = "".join(c if c.isalnum() else "_" for c in dataset.name.lower())
    return Path(tempfile.gettempdir()) / f"gcl4sr_{slug}_{dataset.sha256[:12]}_{what}"


def load_data(
    data_dir: str | Path | None = None,
    max_users: int | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    *,
    file: str | None = None,
    name: str | None = None,
) -> SequenceData:
    """Load a dataset folder (default Home; see :mod:`gcl4sr_helpers.dataset`).

    The folder's ``all_train_seq.txt`` is checked against the sequence file; without one it is
    derived into ``cache_dir`` (default: a temporary folder), as is a ``max_users`` subset's.
    """
    dataset = describe_dataset(locate_data_dir(data_dir), file, name)
    rows = read_user_sequences(dataset.sequence_file)
    if not rows:
        raise DataFormatError(f"{dataset.sequence_file}:1: no users")
    labels = [user for user, _ in rows]
    relabelled = labels != [str(i) for i in range(len(rows))]
    sequences = [items for _, items in rows]
    if max_users is None:
        train_file = dataset.folder / TRAIN_FILE
        if train_file.is_file():
            _check_train_file(train_file, rows, dataset.sequence_file)
        else:
            folder = Path(cache_dir) if cache_dir else _cache_dir(dataset, "train")
            train_file = _write_train_file(folder / TRAIN_FILE, sequences)
        return _assemble(sequences, train_file, dataset, labels, relabelled)
    max_users = min(max_users, len(sequences))
    subset = subset_users(sequences, max_users, seed)
    chosen = _choose_users(len(sequences), max_users, seed)
    folder = Path(cache_dir) if cache_dir else _cache_dir(dataset, f"subset_{max_users}_{seed}")
    return _assemble(subset, _write_train_file(folder / TRAIN_FILE, subset), dataset,
                     [labels[i] for i in chosen], relabelled)
