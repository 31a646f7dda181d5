"""The course's training step on full Home, as every step benchmark builds and times it."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import gcl4sr_helpers  # noqa: E402, F401  (before torch: it sets libgomp's wait policy)

# isort: split
import torch  # noqa: E402

from gcl4sr_helpers.data import SequenceData, SequenceDataset, load_data  # noqa: E402
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer  # noqa: E402
from gcl4sr_helpers.trainer import Trainer, make_loader  # noqa: E402
from grading.instructor import reference  # noqa: E402


def course_trainer(data_dir: str | None, legacy: bool = False,
                   device: str = "cpu") -> tuple[SequenceData, CourseConfig, Trainer]:
    """Full Home, the reference WITG and a fresh course-configured trainer (batch 2048)."""
    data = load_data(data_dir)
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    config = CourseConfig(legacy=legacy)
    trainer = build_trainer(build_model(data, graph, reference.mmd_loss, config), config,
                            device=device, progress=False)
    trainer.model.train()
    return data, config, trainer


def train_batches(data: SequenceData, config: CourseConfig) -> Iterator[tuple]:
    """The course's shuffled training batches, in the course's order."""
    return iter(make_loader(SequenceDataset(data.splits["train"]), config.batch_size,
                            shuffle=True, seed=config.seed))


def timed_step(trainer: Trainer, batch: tuple) -> float:
    """Seconds of one training step, waiting for the device to finish."""
    start = time.perf_counter()
    trainer.train_step(*(t.to(trainer.device) for t in batch))
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start
