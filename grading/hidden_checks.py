"""Hidden checks called by the notebook's hidden test cells (instructor side only).

Each ``grade_*`` function compares a student's function with the reference on inputs the
student never saw, prints one line per lost point and returns the points earned (the cell's
last expression, which nbgrader reads as partial credit).

Minimal version: one hidden input per TODO. The auto-grader issue replaces it with the
full battery (edge cases, isolation from the student's kernel state).
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from . import reference


def _report(points: float, failures: list[str], total: int) -> float:
    for reason in failures:
        print(f"- {reason}")
    return round(points * (total - len(failures)) / total, 4)


def _hidden_sequences(seed: int = 20260) -> list[list[int]]:
    rng = random.Random(seed)
    return [rng.sample(range(1, 40), rng.randint(2, 9)) for _ in range(60)]


def grade_witg(student_fn: Callable[[str], object], points: float) -> float:
    """Graph equality with the reference WITG on a hidden sequence file."""
    sequences = _hidden_sequences()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hidden_train_seq.txt"
        path.write_text("".join(f"{u} {','.join(map(str, s))}\n" for u, s in enumerate(sequences)))
        want = reference.build_weighted_item_transition_graph(str(path))
        try:
            got = student_fn(str(path))
            failures = _graph_differences(got, want)
        except Exception as error:  # noqa: BLE001 - any crash is a lost point, with its reason
            failures = [f"WITG: crashed on hidden input ({type(error).__name__}: {error})"]
    return _report(points, failures, 1)


def _graph_differences(got, want) -> list[str]:
    def edges(graph):
        keys = graph.edge_index[0].long() * graph.num_nodes + graph.edge_index[1].long()
        order = torch.argsort(keys)
        return keys[order], graph.edge_attr.view(-1)[order].double()

    if got.num_nodes != want.num_nodes:
        return [f"WITG: expected {want.num_nodes} nodes, got {got.num_nodes}"]
    got_keys, got_w = edges(got)
    want_keys, want_w = edges(want)
    if not torch.equal(got_keys, want_keys):
        return [f"WITG: edge set differs (expected {want_keys.numel()} edges, "
                f"got {got_keys.numel()})"]
    if not torch.allclose(got_w, want_w, rtol=1e-5, atol=1e-6):
        return ["WITG: edge weights differ"]
    return []


def _metric_case(seed: int = 4242) -> tuple[list[list[int]], list[list[int]]]:
    rng = random.Random(seed)
    actual = [rng.sample(range(1, 60), rng.randint(0, 4)) for _ in range(50)]
    predicted = [rng.sample(range(1, 60), 25) for _ in range(50)]
    return actual, predicted


def _grade_metric(name: str, student_fn, reference_fn, points: float) -> float:
    actual, predicted = _metric_case()
    failures = []
    for k in (1, 5, 20, 30):
        want = reference_fn(actual, predicted, k)
        try:
            got = float(student_fn(actual, predicted, k))
        except Exception as error:  # noqa: BLE001
            failures.append(f"{name}@{k}: crashed ({type(error).__name__}: {error})")
            continue
        if not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            failures.append(f"{name}@{k}: expected {want:.6f}, got {got:.6f}")
    return _report(points, failures, 4)


def grade_recall(student_fn, points: float) -> float:
    """Recall@k on hidden users (several relevant items, empty truths, k beyond the list)."""
    return _grade_metric("Recall", student_fn, reference.recall_at_k, points)


def grade_ndcg(student_fn, points: float) -> float:
    """NDCG@k on the same hidden users."""
    return _grade_metric("NDCG", student_fn, reference.ndcg_at_k, points)


def grade_mmd(student_fn, points: float) -> float:
    """MMD on a hidden pair of batches."""
    gen = torch.Generator().manual_seed(777)
    source, target = torch.randn(37, 50, generator=gen), torch.randn(37, 50, generator=gen) + 0.3
    want = reference.mmd_loss(source, target).item()
    try:
        got = float(student_fn(source.clone(), target.clone()))
        failures = [] if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6) else [
            f"MMD: expected {want:.6f}, got {got:.6f}"]
    except Exception as error:  # noqa: BLE001
        failures = [f"MMD: crashed ({type(error).__name__}: {error})"]
    return _report(points, failures, 1)
