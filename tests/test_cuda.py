"""The engine on CUDA: same losses and gradients as on CPU, training, ranking, checkpoints.

Skipped where no CUDA device is present (CI); run on a GPU machine to check the GPU path.
"""

import pytest
import torch

from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
from gcl4sr_helpers.model import GCL4SR
from gcl4sr_helpers.trainer import load_checkpoint, make_loader, save_checkpoint
from grading.instructor.checking.reference import mmd_loss

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _losses_and_grads(model, batch, device):
    model = model.to(device)
    losses = model.calculate_loss(*(t.to(device) for t in batch))
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(losses[0], params, allow_unused=True)
    return ([loss.cpu() for loss in losses],
            [torch.zeros_like(p).cpu() if g is None else g.cpu() for p, g in zip(params, grads,
                                                                                  strict=True)])


@pytest.mark.parametrize("legacy", [False, True])
def test_losses_and_gradients_on_cuda_equal_cpu(small_data, small_graph, legacy):
    """Without randomness (no dropout, every neighbour sampled) both devices agree."""
    torch.manual_seed(0)
    model = GCL4SR(small_data.num_users, small_data.num_items, small_graph, mmd_loss,
                   sample_size=(10_000, 10_000), dropout=0.0, legacy=legacy).train()
    batch = SequenceDataset(small_data.splits["train"])[torch.arange(96)]
    cpu_losses, cpu_grads = _losses_and_grads(model, batch, "cpu")
    gpu_losses, gpu_grads = _losses_and_grads(model, batch, "cuda")
    for a, b, name in zip(gpu_losses, cpu_losses, ("loss", "main", "gcl", "mmd"), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    for (name, _), a, b in zip(model.named_parameters(), gpu_grads, cpu_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5, msg=name)


def test_trainer_trains_ranks_and_reloads_on_cuda(small_data, small_graph, tmp_path):
    config = CourseConfig(batch_size=128, seed=5)
    trainer = build_trainer(build_model(small_data, small_graph, mmd_loss, config), config,
                            device="cuda", progress=False)
    loader = make_loader(SequenceDataset(small_data.splits["train"]), 128, shuffle=True, seed=1)
    history = trainer.train_epoch(loader, max_batches=3).history
    assert next(trainer.model.parameters()).is_cuda and len(history) == 3
    assert all(torch.isfinite(torch.tensor(row)).all() for row in history)
    test = make_loader(SequenceDataset(small_data.splits["test"]), 128)
    ranking = trainer.rank(test, small_data.test_history, seed=3)
    assert ranking == trainer.rank(test, small_data.test_history, seed=3)

    path = save_checkpoint(tmp_path / "model.pth", trainer.model)
    fresh = build_trainer(build_model(small_data, small_graph, mmd_loss,
                                      CourseConfig(batch_size=128, seed=99)),
                          config, device="cuda", progress=False)
    load_checkpoint(path, fresh.model)
    assert fresh.rank(test, small_data.test_history, seed=3) == ranking
