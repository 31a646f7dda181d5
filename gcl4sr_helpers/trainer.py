"""Training loop, full-ranking evaluation and checkpoints for GCL4SR."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.sparse import csr_matrix
from torch import Tensor
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler
from tqdm.auto import tqdm

from .blocks import slices
from .data import SequenceDataset
from .model import GCL4SR
from .names import EVAL_KS, LOSS_NAMES
from .runtime import (
    ThreadGovernor,
    disable_onednn,
    release_free_memory,
    select_device,
    tune_cpu_allocator,
)

Metric = Callable[[list[list[int]], list[list[int]], int], float]
SCORE_ROWS = 512  # users ranked at once: a [512, 28,238] score block on Home (58 MB)
TOP_K_WIDTH = 64  # columns per chunk in the first stage of top_k


def make_loader(dataset: SequenceDataset, batch_size: int, shuffle: bool = False,
                seed: int = 0) -> DataLoader:
    """Batches of ``(user_ids, inputs, targets)`` fetched by one tensor index per batch."""
    generator = torch.Generator().manual_seed(seed)
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last=False),
                      batch_size=None)


@dataclass
class EpochResult:
    """Per-batch ``(main, gcl, mmd)`` losses of one epoch and their averages."""

    history: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def averages(self) -> tuple[float, float, float]:
        """Mean of each loss over the epoch's batches, as the course reports them."""
        return tuple(float(np.mean(column)) for column in zip(*self.history, strict=True))


def mask_seen(scores: Tensor, history: csr_matrix, user_ids: Tensor, legacy: bool) -> Tensor:
    """Exclude already-seen items from ranking, in place (padding: see ``score_items``).

    ``legacy`` reproduces the original code: seen items get score 0, so items with a
    negative score rank below seen ones.
    """
    rows = history[user_ids.cpu().numpy()]
    row_index = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    scores[torch.from_numpy(row_index).to(scores.device),
           torch.from_numpy(rows.indices.astype(np.int64)).to(scores.device)] = (
        0.0 if legacy else float("-inf"))
    return scores


def top_k(scores: Tensor, k: int, width: int = TOP_K_WIDTH) -> Tensor:
    """``torch.topk(scores, k).indices`` of each row (largest first), in two stages.

    A row's ``k`` largest entries lie in the ``k`` chunks of ``width`` consecutive columns
    with the largest maxima: only those chunks (and the last, shorter one) are ranked.
    On Home's 28,238 items that is about 1,300 candidates per row, and one pass over the
    scores for the chunk maxima. Among equal scores the indices may differ from ``topk``'s.
    """
    rows, columns = scores.shape
    whole = columns // width * width
    if whole // width <= k:
        return torch.topk(scores, k).indices
    chunks = scores[:, :whole].unflatten(1, (-1, width)).amax(2).topk(k).indices
    offsets = torch.arange(width, device=scores.device)
    candidates = torch.cat([(chunks.unsqueeze(2) * width + offsets).flatten(1),
                            torch.arange(whole, columns, device=scores.device).expand(rows, -1)],
                           1)
    return candidates.gather(1, scores.gather(1, candidates).topk(k).indices)


class Trainer:
    """Runs epochs and evaluations of a GCL4SR model on one device."""

    def __init__(self, model: GCL4SR, optimizer: torch.optim.Optimizer,
                 device: str | torch.device | None = None, progress: bool = True) -> None:
        self.device = torch.device(device) if device else select_device()
        self.threads = ThreadGovernor() if self.device.type == "cpu" else None
        if self.device.type == "cpu":
            disable_onednn()
            tune_cpu_allocator()
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.progress = progress

    def _batches(self, loader: DataLoader, desc: str, limit: int | None):
        total = len(loader) if limit is None else min(limit, len(loader))
        bar = tqdm(loader, desc=desc, total=total, disable=not self.progress, leave=False)
        for step, batch in enumerate(bar):
            if step == total:
                break
            yield bar, tuple(t.to(self.device) for t in batch)

    def train_epoch(self, loader: DataLoader, epoch: int = 0,
                    max_batches: int | None = None) -> EpochResult:
        """One pass over ``loader`` (or its first ``max_batches``); returns the loss history."""
        self.model.train()
        result = EpochResult()
        for bar, batch in self._batches(loader, f"Epoch {epoch}", max_batches):
            result.history.append(self.train_step(*batch))
            bar.set_postfix(dict(zip(LOSS_NAMES, (f"{v:.3f}" for v in result.history[-1]),
                                     strict=True)))
        return result

    def train_step(self, user_ids: Tensor, inputs: Tensor,
                   targets: Tensor) -> tuple[float, float, float]:
        """One optimiser step on a batch (on the model's device); returns its three losses."""
        if self.threads:
            self.threads.update()  # fewer CPU threads while other processes hold cores
        self.optimizer.zero_grad(set_to_none=True)  # last step's gradients freed first
        loss, *parts = self.model.calculate_loss(user_ids, inputs, targets)
        loss.backward()
        self.optimizer.step()
        return tuple(p.item() for p in parts)

    @torch.inference_mode()  # no_grad, and no version counters on the tensors made
    def rank(self, loader: DataLoader, history: csr_matrix, topk: int = 20,
             seed: int = 0) -> tuple[list[list[int]], list[list[int]]]:
        """Top-``topk`` items of every user over the full catalogue, and the true targets.

        Neighbour sampling uses a generator seeded with ``seed``, so ranking is repeatable.
        """
        self.model.eval()
        if self.device.type == "cpu":
            release_free_memory()  # ranking would otherwise grow the heap past training's peak
        generator = torch.Generator(self.device).manual_seed(seed)
        # Results go into buffers allocated up front: small blocks kept from every batch
        # would pin the C heap between the large freed ones and fragment it.
        predicted = torch.empty(len(loader.dataset), topk, dtype=torch.long)
        actual = torch.empty(len(loader.dataset), dtype=torch.long)
        # One score block for all batches: a fresh one costs page faults and is slower to fill.
        block = torch.empty(SCORE_ROWS, self.model.num_items, device=self.device)
        done = 0
        for _, (user_ids, inputs, targets) in self._batches(loader, "Evaluate", None):
            vectors = self.model.sequence_vector(user_ids, inputs, generator)
            for rows in slices(len(user_ids), SCORE_ROWS):  # [rows, items] scores at a time
                scores = self.model.score_items(vectors[rows], block[:rows.stop - rows.start])
                scores = mask_seen(scores, history, user_ids[rows], self.model.legacy)
                predicted[done + rows.start:done + rows.stop] = top_k(scores, topk)
            actual[done:done + len(user_ids)] = targets
            done += len(user_ids)
        return actual[:done].view(-1, 1).tolist(), predicted[:done].tolist()

    def evaluate(self, loader: DataLoader, history: csr_matrix, recall_at_k: Metric,
                 ndcg_at_k: Metric, ks: Sequence[int] = EVAL_KS,
                 seed: int = 0) -> dict[str, float]:
        """Recall@k and NDCG@k for each ``k`` with the given metric functions."""
        actual, predicted = self.rank(loader, history, max(ks), seed)
        return score_ranking(actual, predicted, recall_at_k, ndcg_at_k, ks)


def score_ranking(actual: list[list[int]], predicted: list[list[int]], recall_at_k: Metric,
                  ndcg_at_k: Metric, ks: Sequence[int] = EVAL_KS) -> dict[str, float]:
    """``{"Recall@k": ..., "NDCG@k": ...}`` of a ranking, for each ``k`` in ``ks``."""
    scores = {f"Recall@{k}": float(recall_at_k(actual, predicted, k)) for k in ks}
    scores.update({f"NDCG@{k}": float(ndcg_at_k(actual, predicted, k)) for k in ks})
    return scores


def save_checkpoint(path: str | Path, model: GCL4SR,
                    optimizer: torch.optim.Optimizer | None = None, **meta) -> Path:
    """Write the model (config + weights), optionally the optimiser, and ``meta``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"config": model.config, "model": model.state_dict(), "meta": meta}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def load_checkpoint(path: str | Path, model: GCL4SR,
                    optimizer: torch.optim.Optimizer | None = None) -> dict:
    """Load weights (and optimiser state) saved by :func:`save_checkpoint`; returns ``meta``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != model.config:
        raise ValueError(f"{path}: checkpoint was saved for a model with config "
                         f"{state['config']}, not {model.config}")
    model.load_state_dict(state["model"])
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    return state["meta"]
