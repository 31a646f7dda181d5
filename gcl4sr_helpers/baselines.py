"""A most-popular baseline, and the original course notebook's one-epoch numbers.

The baseline only produces rankings; the notebook scores them with the student's own
metric functions, exactly like the model's rankings. The published numbers a dataset is
compared against are its paper figures (:attr:`gcl4sr_helpers.dataset.DatasetInfo.paper`).
"""

from __future__ import annotations

import numpy as np

from .data import SequenceData


def item_popularity(data: SequenceData, drop_last: int = 1) -> np.ndarray:
    """How often each item id occurs in ``seq[:-drop_last]`` of every user.

    For the test split everything before the test target is known (``drop_last=1``),
    for the validation split everything before the validation target (``drop_last=2``).
    """
    counts = np.zeros(data.num_items, dtype=np.int64)
    for seq in data.sequences:
        np.add.at(counts, np.asarray(seq[: len(seq) - drop_last], dtype=np.int64), 1)
    return counts


def most_popular_ranking(data: SequenceData, topk: int = 20,
                         split: str = "test") -> tuple[list[list[int]], list[list[int]]]:
    """``(actual, predicted)`` of the most-popular baseline on the ``test`` or ``valid`` split.

    Every user gets the ``topk`` items most frequent in everyone's known history (all items
    before the split's target) that this user has not seen yet (the same history mask as
    the model's evaluation); ties go to the smaller item id, padding id 0 is never
    recommended. On Home's test split: Recall@10 0.0076, Recall@20 0.0125, NDCG@10 0.0037,
    NDCG@20 0.0050.
    """
    if split not in ("test", "valid"):
        raise ValueError(f"split must be 'test' or 'valid', got {split!r}")
    history = data.test_history if split == "test" else data.valid_history
    popularity = item_popularity(data, drop_last=1 if split == "test" else 2)
    popularity[0] = -1
    order = np.lexsort((np.arange(data.num_items), -popularity))
    order = order[order != 0]
    longest = int(np.diff(history.indptr).max(initial=0))
    candidates = order[: topk + longest]
    seen = history[:, candidates].toarray() > 0
    first_unseen = np.argsort(seen, axis=1, kind="stable")[:, :topk]
    predicted = candidates[first_unseen]
    targets = data.splits[split].targets
    return [[t] for t in targets], predicted.tolist()
