"""Full training as the official GCL4SR code runs it: validation every epoch, early stopping
on validation NDCG@20, StepLR, best checkpoint, test at the end; resumable across sessions.

A run folder holds ``last.pth`` (everything needed to resume), ``best.pth``, ``metrics.jsonl``
(one line per epoch), ``result.json`` (test metrics of the best epoch) and ``curve.png``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib
import torch
from torch_geometric.data import Data

from gcl4sr_helpers.data import SequenceData, SequenceDataset
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
from gcl4sr_helpers.model import MMDLoss
from gcl4sr_helpers.names import LOSS_NAMES, METRIC_NAMES
from gcl4sr_helpers.trainer import (
    Metric,
    Trainer,
    load_checkpoint,
    make_loader,
    save_checkpoint,
)


@dataclass
class FullConfig(CourseConfig):
    """The official full run: batch 1024, StepLR(5, 0.7), patience 10 on valid NDCG@20."""

    epochs: int = 300
    batch_size: int = 1024
    eval_batch_size: int = 2048
    step_size: int = 5
    gamma: float = 0.7
    patience: int = 10
    monitor: str = "NDCG@20"


def _state(run_dir: Path) -> dict:
    path = run_dir / "state.json"
    return json.loads(path.read_text()) if path.exists() else {
        "epoch": -1, "best_epoch": -1, "best": float("-inf"), "bad_epochs": 0, "seconds": 0.0}


def _evaluate(trainer: Trainer, data: SequenceData, split: str, config: FullConfig,
              recall_at_k: Metric, ndcg_at_k: Metric) -> dict[str, float]:
    history = data.valid_history if split == "valid" else data.test_history
    loader = make_loader(SequenceDataset(data.splits[split], config.max_seq_length),
                         config.eval_batch_size)
    return trainer.evaluate(loader, history, recall_at_k, ndcg_at_k, seed=config.seed)


def train_full(data: SequenceData, graph: Data, mmd_loss: MMDLoss, recall_at_k: Metric,
               ndcg_at_k: Metric, config: FullConfig, run_dir: str | Path,
               device: str | None = None, time_budget_minutes: float | None = None,
               progress: bool = True) -> dict:
    """Train (or resume) in ``run_dir`` until early stopping, ``config.epochs`` or the budget.

    Returns the run's state; ``state["finished"]`` is true once the test metrics of the best
    epoch are in ``result.json``.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = _state(run_dir)
    if state.get("finished"):
        return state
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2))
    trainer = build_trainer(build_model(data, graph, mmd_loss, config), config, device, progress)
    scheduler = torch.optim.lr_scheduler.StepLR(trainer.optimizer, config.step_size,
                                                config.gamma)
    if (run_dir / "last.pth").exists():
        meta = load_checkpoint(run_dir / "last.pth", trainer.model, trainer.optimizer)
        scheduler.load_state_dict(meta["scheduler"])
        torch.set_rng_state(meta["rng"])
    train_set = SequenceDataset(data.splits["train"], config.max_seq_length)
    started = time.perf_counter()
    while not state.get("finished") and state["epoch"] + 1 < config.epochs:
        if state["bad_epochs"] >= config.patience:
            break
        epoch = state["epoch"] + 1
        tick = time.perf_counter()
        loader = make_loader(train_set, config.batch_size, shuffle=True, seed=config.seed + epoch)
        losses = trainer.train_epoch(loader, epoch).averages
        scheduler.step()
        valid = _evaluate(trainer, data, "valid", config, recall_at_k, ndcg_at_k)
        improved = valid[config.monitor] > state["best"]
        if improved:
            state.update(best=valid[config.monitor], best_epoch=epoch, bad_epochs=0)
            save_checkpoint(run_dir / "best.pth", trainer.model, epoch=epoch)
        else:
            state["bad_epochs"] += 1
        seconds = time.perf_counter() - tick
        state.update(epoch=epoch, seconds=state["seconds"] + seconds)
        line = {"epoch": epoch, "lr": scheduler.get_last_lr()[0], "seconds": seconds,
                **dict(zip(LOSS_NAMES, losses, strict=True)),
                **{f"valid_{k}": v for k, v in valid.items()}}
        with open(run_dir / "metrics.jsonl", "a") as log:
            log.write(json.dumps(line) + "\n")
        save_checkpoint(run_dir / "last.pth", trainer.model, trainer.optimizer,
                        scheduler=scheduler.state_dict(), rng=torch.get_rng_state())
        (run_dir / "state.json").write_text(json.dumps(state, indent=2))
        if time_budget_minutes and (time.perf_counter() - started) / 60 > time_budget_minutes:
            return _test_best(trainer, data, config, recall_at_k, ndcg_at_k, run_dir, state,
                              finished=False)
    return _test_best(trainer, data, config, recall_at_k, ndcg_at_k, run_dir, state,
                      finished=True)


def _test_best(trainer: Trainer, data: SequenceData, config: FullConfig, recall_at_k: Metric,
               ndcg_at_k: Metric, run_dir: Path, state: dict, finished: bool) -> dict:
    """Test the best checkpoint into ``result.json``; provisional while ``finished`` is false.

    A provisional result (the time budget ran out) leaves the run resumable from ``last.pth``.
    """
    load_checkpoint(run_dir / "best.pth", trainer.model)
    test = _evaluate(trainer, data, "test", config, recall_at_k, ndcg_at_k)
    if finished:
        state.update(finished=True, test=test)
        (run_dir / "state.json").write_text(json.dumps(state, indent=2))
    (run_dir / "result.json").write_text(json.dumps(
        {"dataset": data.dataset.name, "finished": finished, "best_epoch": state["best_epoch"],
         "epochs_run": state["epoch"] + 1, "train_hours": state["seconds"] / 3600,
         "test": test}, indent=2))
    return state


def read_log(run_dir: str | Path) -> list[dict]:
    """The per-epoch lines of ``metrics.jsonl``."""
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def plot_learning_curve(run_dir: Path, dataset: str) -> Path:
    """Losses and validation metrics per epoch on ``dataset``, saved as ``curve.png``."""
    log = read_log(run_dir)
    epochs = [line["epoch"] for line in log]
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in LOSS_NAMES:
        left.plot(epochs, [line[key] for line in log], label=key)
    left.set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log")
    for name in METRIC_NAMES:
        right.plot(epochs, [line[f"valid_{name}"] for line in log], label=name)
    right.set(xlabel="epoch", ylabel="validation metric")
    for ax in (left, right):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"{dataset}: {run_dir.name}")
    fig.tight_layout()
    out = run_dir / "curve.png"
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
