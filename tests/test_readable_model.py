"""The readable model computes what the engine computes: losses and every gradient.

Both run in eval mode (no dropout) on the same generator seed, so they draw the same
neighbour samples; the batch has left padding and items repeated inside a sequence. In
legacy mode this also checks the original course code's semantics (every parameter
initialised uniformly, fixed gates, only the inner hop, padding item 0 a class), which
the readable model writes out the way the original notebook computed them.
"""

import inspect
import re

import pytest
import torch

from gcl4sr_helpers import readable_model, readable_trainer
from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.model import GCL4SR
from grading.instructor.checking.reference import mmd_loss

NAMES = ("loss", "main", "gcl", "mmd")


def engine_and_readable(data, graph, legacy, size=96, seed=5):
    torch.manual_seed(0)
    model = GCL4SR(data.num_users, data.num_items, graph, mmd_loss, legacy=legacy).eval()
    users, inputs, targets = SequenceDataset(data.splits["train"])[torch.arange(size)]
    real = inputs[inputs != 0]
    assert (inputs == 0).any() and torch.unique(real).numel() < real.numel()
    engine = model.calculate_loss(users, inputs, targets, torch.Generator().manual_seed(seed))
    readable = readable_model.losses(model, users, inputs, targets, mmd_loss,
                                     torch.Generator().manual_seed(seed))
    return model, engine, readable


@pytest.mark.parametrize("legacy", [False, True], ids=["default", "legacy"])
def test_losses_and_gradients_equal_the_engine(small_data, small_graph, legacy):
    model, engine, readable = engine_and_readable(small_data, small_graph, legacy)
    for got, want, name in zip(readable, engine, NAMES, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=name)

    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    got = torch.autograd.grad(readable[0], params, allow_unused=True)
    want = torch.autograd.grad(engine[0], params, allow_unused=True)
    compared = 0
    for (name, _), a, b in zip(named, got, want, strict=True):
        if a is None or b is None:  # legacy: the outer hop is unused on both sides
            assert a is None and b is None, name
            continue
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
        compared += 1
    assert compared >= len(named) - (6 if legacy else 0)


def test_another_sample_fails_the_comparison(small_data, small_graph):
    """The comparison is sharp: another neighbour sample moves the GNN's gradient."""
    model, engine, _ = engine_and_readable(small_data, small_graph, legacy=False)
    users, inputs, targets = SequenceDataset(small_data.splits["train"])[torch.arange(96)]
    other = readable_model.losses(model, users, inputs, targets, mmd_loss,
                                  torch.Generator().manual_seed(6))
    weight = model.global_gnn.gcn.lin.weight
    (got,), (want,) = (torch.autograd.grad(x[0], [weight]) for x in (other, engine))
    assert not torch.allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("module, count", [(readable_model, 12), (readable_trainer, 5)],
                         ids=["readable_model", "readable_trainer"])
def test_every_readable_function_is_short_with_a_korean_docstring(module, count):
    """The notebook prints these functions (docstrings included) inside a Korean lesson."""
    functions = [f for _, f in inspect.getmembers(module, inspect.isfunction)
                 if f.__module__ == module.__name__]
    assert len(functions) >= count
    for function in functions:
        assert re.search("[가-힣]", function.__doc__ or ""), function.__name__
        assert len(inspect.getsource(function).splitlines()) <= 25, function.__name__
