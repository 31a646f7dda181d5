"""Training loop, ranking, masking and checkpoints."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from scipy.sparse import csr_matrix

from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
from gcl4sr_helpers.trainer import load_checkpoint, make_loader, mask_seen, save_checkpoint, top_k
from grading.instructor.checking.reference import mmd_loss, ndcg_at_k, recall_at_k

CONFIG = CourseConfig(batch_size=128, seed=11)


@pytest.fixture(scope="module")
def trained(small_data, small_graph, tmp_path_factory):
    model = build_model(small_data, small_graph, mmd_loss, CONFIG)
    trainer = build_trainer(model, CONFIG, device="cpu", progress=False)
    loader = make_loader(SequenceDataset(small_data.splits["train"]), 128, shuffle=True, seed=1)
    result = trainer.train_epoch(loader, max_batches=3)
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.pth", model,
                           trainer.optimizer, epoch=0)
    return trainer, result, path


def test_train_epoch_records_each_batch(trained):
    _, result, _ = trained
    assert len(result.history) == 3
    assert all(np.isfinite(v) for row in result.history for v in row)
    columns = list(zip(*result.history, strict=True))
    assert result.averages == pytest.approx(tuple(sum(c) / 3 for c in columns))


def test_mask_seen_uses_minus_infinity_or_legacy_zero():
    history = csr_matrix(np.array([[0, 1, 0, 1], [0, 0, 1, 0]], dtype=np.float32))
    scores = torch.full((2, 4), -5.0)
    mask_seen(scores, history, torch.tensor([1, 0]), legacy=False)
    assert scores.tolist() == [[-5, -5, -np.inf, -5], [-5, -np.inf, -5, -np.inf]]
    legacy = torch.full((2, 4), -5.0)
    mask_seen(legacy, history, torch.tensor([1, 0]), legacy=True)
    assert legacy.tolist() == [[-5, -5, 0, -5], [-5, 0, -5, 0]]


@pytest.mark.parametrize("columns", [28238, 640, 1301, 90, 19])  # chunked, exact, tail, few
def test_top_k_equals_torch_topk(columns):
    gen = torch.Generator().manual_seed(columns)
    scores = torch.randn(37, columns, generator=gen)
    scores[torch.rand(scores.shape, generator=gen) < 0.3] = float("-inf")  # seen items
    k = min(20, columns)
    assert torch.equal(top_k(scores, k), torch.topk(scores, k).indices)


def test_top_k_keeps_the_largest_values_among_ties():
    scores = torch.randint(0, 5, (64, 5000), generator=torch.Generator().manual_seed(0)).float()
    scores[3, :] = float("-inf")  # a row with nothing left but its last item
    scores[3, -1] = 1.0
    assert torch.equal(scores.gather(1, top_k(scores, 20)), torch.topk(scores, 20).values)
    assert top_k(scores, 20)[3, 0] == 4999


def test_ranking_is_repeatable_and_excludes_seen_items(trained, small_data):
    trainer, _, _ = trained
    loader = make_loader(SequenceDataset(small_data.splits["test"]), 128)
    actual, predicted = trainer.rank(loader, small_data.test_history, seed=3)
    assert (actual, predicted) == trainer.rank(loader, small_data.test_history, seed=3)
    for user, top in enumerate(predicted):
        seen = set(small_data.sequences[user][:-1])
        assert not seen & set(top) and 0 not in top
        assert actual[user] == [small_data.sequences[user][-1]]


def test_checkpoint_reloads_in_a_new_process_to_the_same_numbers(trained, small_data, home_dir,
                                                                  tmp_path):
    trainer, _, path = trained
    loader = make_loader(SequenceDataset(small_data.splits["test"]), 128)
    here = trainer.evaluate(loader, small_data.test_history, recall_at_k, ndcg_at_k, seed=5)
    script = textwrap.dedent(f"""
        import json
        from gcl4sr_helpers.data import SequenceDataset, load_data
        from gcl4sr_helpers.experiment import CourseConfig, build_model, build_trainer
        from gcl4sr_helpers.trainer import load_checkpoint, make_loader
        from grading.instructor.checking.reference import (
            build_weighted_item_transition_graph, mmd_loss, ndcg_at_k, recall_at_k)
        data = load_data({str(home_dir)!r}, max_users=400, seed=7, cache_dir={str(tmp_path)!r})
        graph = build_weighted_item_transition_graph(str(data.train_sequence_file))
        config = CourseConfig(batch_size=128, seed=99)  # another seed: weights must come from disk
        model = build_model(data, graph, mmd_loss, config)
        load_checkpoint({str(path)!r}, model)
        trainer = build_trainer(model, config, device="cpu", progress=False)
        loader = make_loader(SequenceDataset(data.splits["test"]), 128)
        scores = trainer.evaluate(loader, data.test_history, recall_at_k, ndcg_at_k, seed=5)
        print(json.dumps(scores))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here
    assert any(v > 0 for v in here.values()), "a trained model should hit some targets"


def test_checkpoint_refuses_a_different_model(trained, small_data, small_graph):
    _, _, path = trained
    other = build_model(small_data, small_graph, mmd_loss, CourseConfig(legacy=True))
    with pytest.raises(ValueError, match="config"):
        load_checkpoint(path, other)


def test_fused_adam_updates_as_the_plain_loop(small_data, small_graph):
    """build_trainer's fused Adam (CPU) takes the same steps as the per-parameter loop."""
    models = [build_model(small_data, small_graph, mmd_loss, CONFIG) for _ in range(2)]
    fused = build_trainer(models[0], CONFIG, device="cpu", progress=False).optimizer
    plain = torch.optim.Adam(models[1].parameters(), lr=CONFIG.lr,
                             weight_decay=CONFIG.weight_decay)
    assert fused.defaults["fused"] and not plain.defaults["fused"]
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):  # the same gradients for both, as varied as a model's
        grads = [torch.randn(p.shape, generator=generator) * 10.0 ** torch.randint(
            -6, 1, (), generator=generator) for p in models[0].parameters()]
        for model, optimizer in zip(models, (fused, plain), strict=True):
            for param, grad in zip(model.parameters(), grads, strict=True):
                param.grad = grad.clone()
            optimizer.step()
    for (name, a), b in zip(models[0].named_parameters(), models[1].parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7, msg=name)
