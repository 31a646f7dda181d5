"""The readable trainer computes what the engine's trainer computes.

One training step from the same seed gives the same losses, gradients and parameters as
``Trainer.train_step``; masking gives the same scores as ``mask_seen`` (default mode); the
top-k lists of a batch of test users are those of ``Trainer.rank``. The model runs in eval
mode (no dropout) as in ``test_readable_model``: the two implementations draw dropout masks in
a different order, but the same neighbour samples from the same seed.
"""

import statistics

import pytest
import torch

from gcl4sr_helpers import readable_model, readable_trainer
from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
from gcl4sr_helpers.trainer import make_loader, mask_seen
from grading.instructor.checking.reference import mmd_loss

CONFIG = CourseConfig(batch_size=128, seed=11)
USERS = 128  # test users ranked: one batch


def model_and_trainer(data, graph):
    model = build_model(data, graph, mmd_loss, CONFIG).eval()  # seeded: the same every call
    return model, build_trainer(model, CONFIG, device="cpu", progress=False)


def test_one_training_step_equals_the_engines(small_data, small_graph):
    (engine, trainer), (readable, twin) = (model_and_trainer(small_data, small_graph)
                                           for _ in range(2))
    before = [p.detach().clone() for p in readable.parameters()]
    users, inputs, targets = SequenceDataset(small_data.splits["train"])[torch.arange(96)]
    torch.manual_seed(3)
    want = trainer.train_step(users, inputs, targets)
    torch.manual_seed(3)
    got = readable_trainer.train_step(readable, twin.optimizer, users, inputs, targets)
    assert got == pytest.approx(want, rel=1e-5)

    moved = []
    for (name, a), b, start in zip(readable.named_parameters(), engine.parameters(), before,
                                   strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6, msg=name)
        # Adam's first step is about lr * g / (|g| + eps): float noise in a gradient near
        # eps = 1e-8 moves it by up to a few percent of lr, never more than lr / 50
        torch.testing.assert_close(a, b, rtol=0, atol=CONFIG.lr / 50, msg=name)
        moved.append((a - start).abs().median().item())
    assert statistics.median(moved) > CONFIG.lr / 2  # the step moved: the tolerance is sharp


def test_masking_equals_the_engines(small_data):
    history = small_data.test_history
    users = torch.arange(USERS).flip(0)
    scores = torch.randn(USERS, small_data.num_items, generator=torch.Generator().manual_seed(0))
    got = readable_trainer.mask_seen(scores, history, users)
    want = mask_seen(scores.clone(), history, users, legacy=False)
    assert torch.equal(got, want)
    seen = torch.from_numpy(history[users.numpy()].toarray() != 0)
    assert seen.any() and torch.equal(got.isneginf(), seen)


def test_top_k_lists_equal_the_engines_ranking(small_data, small_graph):
    model, trainer = model_and_trainer(small_data, small_graph)
    test = SequenceDataset(small_data.splits["test"])
    loader = make_loader(torch.utils.data.Subset(test, range(USERS)), USERS)
    _, want = trainer.rank(loader, small_data.test_history, topk=20, seed=3)
    users, inputs, _ = test[torch.arange(USERS)]
    got = readable_trainer.rank_batch(model, users, inputs, small_data.test_history, 20,
                                      torch.Generator().manual_seed(3))
    assert got.tolist() == want

    # the masking matters: without it, some lists hold items the user has already seen
    with torch.no_grad():
        z, _, _ = readable_model.encode(model, users, inputs, torch.Generator().manual_seed(3))
    unmasked = readable_trainer.top_k(readable_trainer.item_scores(model, z), 20)
    seen = torch.from_numpy(small_data.test_history[users.numpy()].toarray() != 0)
    assert seen.gather(1, unmasked).any()

