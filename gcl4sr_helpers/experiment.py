"""The course's experiment in one place: hyper-parameters, model construction, one run.

:func:`start_course` is how every course run begins (the notebook, the reference run, the
check-constant builder, the benchmarks); :func:`run_course` runs one from start to test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch.utils.data import DataLoader
from torch_geometric.data import Data

from .data import MAX_LEN, SequenceData, SequenceDataset
from .model import GCL4SR, MMDLoss
from .runtime import seed_everything, select_device
from .trainer import EpochResult, Metric, Trainer, make_loader


@dataclass
class CourseConfig:
    """Hyper-parameters of the course run (the original notebook's; do not tune)."""

    epochs: int = 1
    batch_size: int = 2048
    hidden_size: int = 64
    max_seq_length: int = MAX_LEN
    num_layers: int = 2
    num_heads: int = 2
    sample_size: list[int] = field(default_factory=lambda: [20, 20])
    dropout: float = 0.5
    lam1: float = 1.0
    lam2: float = 0.1
    lr: float = 1e-3
    weight_decay: float = 5e-5
    seed: int = 2026
    legacy: bool = False
    shared_views: float = 0.0  # fidelity experiments only: see GCL4SR's docstring, item 10


def build_model(data: SequenceData, graph: Data, mmd_loss: MMDLoss,
                config: CourseConfig) -> GCL4SR:
    """A freshly initialised GCL4SR for ``data`` after seeding with ``config.seed``."""
    seed_everything(config.seed)
    return GCL4SR(data.num_users, data.num_items, graph, mmd_loss,
                  hidden_size=config.hidden_size, max_seq_length=config.max_seq_length,
                  num_layers=config.num_layers, num_heads=config.num_heads,
                  sample_size=config.sample_size, dropout=config.dropout, lam1=config.lam1,
                  lam2=config.lam2, legacy=config.legacy,
                  shared_views=config.shared_views)


def build_trainer(model: GCL4SR, config: CourseConfig, device: str | None = None,
                  progress: bool = True) -> Trainer:
    """Adam with the course's learning rate and weight decay, wrapped in a :class:`Trainer`.

    On CPU and CUDA Adam runs fused (one kernel over all parameters: on CPU a step takes
    about a tenth of the per-parameter loop's time); the update is the same up to rounding.
    """
    device = select_device(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr,
                                 weight_decay=config.weight_decay,
                                 fused=device.type in ("cpu", "cuda"))
    return Trainer(model, optimizer, device=device, progress=progress)


@dataclass
class CourseRun:
    """A course run in progress: its trainer and the loaders of its train and test splits."""

    config: CourseConfig
    data: SequenceData
    trainer: Trainer
    train_loader: DataLoader
    test_loader: DataLoader

    def train_epoch(self, epoch: int = 0, max_batches: int | None = None) -> EpochResult:
        """One epoch over the shuffled training split (the first ``max_batches`` batches)."""
        return self.trainer.train_epoch(self.train_loader, epoch, max_batches)

    def test(self, recall_at_k: Metric, ndcg_at_k: Metric) -> dict[str, float]:
        """Recall@k and NDCG@k on the test split (full ranking, seeded sampling)."""
        return self.trainer.evaluate(self.test_loader, self.data.test_history, recall_at_k,
                                     ndcg_at_k, seed=self.config.seed)

    def validate(self, recall_at_k: Metric, ndcg_at_k: Metric) -> dict[str, float]:
        """Recall@k and NDCG@k on the validation split (each user's second-to-last item,
        ranked with only what came before it: what choosing the number of epochs may see)."""
        loader = make_loader(SequenceDataset(self.data.splits["valid"],
                                             self.config.max_seq_length), self.config.batch_size)
        return self.trainer.evaluate(loader, self.data.valid_history, recall_at_k, ndcg_at_k,
                                     seed=self.config.seed)


def start_course(data: SequenceData, graph: Data, mmd_loss: MMDLoss,
                 config: CourseConfig | None = None, device: str | None = None,
                 progress: bool = True, train_batch_size: int | None = None) -> CourseRun:
    """A seeded, freshly initialised model, its trainer and the course's loaders;
    ``train_batch_size`` replaces ``config.batch_size`` for training (nbgrader's short run,
    ``CourseMode.batch_size``)."""
    config = config or CourseConfig()
    trainer = build_trainer(build_model(data, graph, mmd_loss, config), config, device,
                            progress)
    train_loader = make_loader(SequenceDataset(data.splits["train"], config.max_seq_length),
                               train_batch_size or config.batch_size, shuffle=True,
                               seed=config.seed)
    test_loader = make_loader(SequenceDataset(data.splits["test"], config.max_seq_length),
                              config.batch_size)
    return CourseRun(config, data, trainer, train_loader, test_loader)


@dataclass
class RunResult:
    """Losses, test metrics and wall times of :func:`run_course`."""

    epochs: list[EpochResult]
    metrics: dict[str, float]
    train_seconds: float
    eval_seconds: float
    config: dict

    @property
    def losses(self) -> tuple[float, float, float]:
        """Average ``(main, gcl, mmd)`` of the last epoch."""
        return self.epochs[-1].averages


def run_course(data: SequenceData, graph: Data, mmd_loss: MMDLoss, recall_at_k: Metric,
               ndcg_at_k: Metric, config: CourseConfig | None = None,
               device: str | None = None, max_batches: int | None = None,
               progress: bool = True,
               on_epoch: Callable[[int, EpochResult], None] | None = None) -> RunResult:
    """Train ``config.epochs`` epochs and evaluate on the test split (full ranking)."""
    run = start_course(data, graph, mmd_loss, config, device, progress)
    start, epochs = time.perf_counter(), []
    for epoch in range(run.config.epochs):
        epochs.append(run.train_epoch(epoch, max_batches))
        if on_epoch:
            on_epoch(epoch, epochs[-1])
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    metrics = run.test(recall_at_k, ndcg_at_k)
    return RunResult(epochs, metrics, train_seconds, time.perf_counter() - start,
                     asdict(run.config))
