"""The course run on full Home, as the step benchmarks start and time it (``start_course``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import gcl4sr_helpers  # noqa: F401  (before torch: it sets libgomp's wait policy)

# isort: split
import torch

from gcl4sr_helpers.data import load_data
from gcl4sr_helpers.experiment import CourseConfig, CourseRun, start_course
from gcl4sr_helpers.trainer import Trainer
from grading.instructor.checking import reference


def course_run(data_dir: str | None, legacy: bool = False, device: str = "cpu") -> CourseRun:
    """Full Home, the reference WITG and a fresh course run (batch 2048), model in train mode."""
    data = load_data(data_dir)
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    run = start_course(data, graph, reference.mmd_loss, CourseConfig(legacy=legacy), device,
                       progress=False)
    run.trainer.model.train()
    return run


def timed_step(trainer: Trainer, batch: tuple) -> float:
    """Seconds of one training step, waiting for the device to finish."""
    start = time.perf_counter()
    trainer.train_step(*(t.to(trainer.device) for t in batch))
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def warmed_steps(data_dir: str | None, threads: int, warmup: int,
                 legacy: bool = False) -> tuple[Trainer, Iterator[tuple]]:
    """A fresh course run's trainer on ``threads`` threads whatever the load (no governor) and
    its batch stream, after ``warmup`` steps (the heap grows and its pages are faulted in)."""
    torch.set_num_threads(threads)
    run = course_run(data_dir, legacy=legacy)
    trainer, stream = run.trainer, iter(run.train_loader)
    trainer.threads = None
    for _ in range(warmup):
        timed_step(trainer, next(stream))
    return trainer, stream
