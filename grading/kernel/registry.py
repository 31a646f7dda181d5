"""The hidden checks by name: title and sub-check labels (read by both sides).

A check's name is the suffix of its ``grade_<name>`` function; the instructor side maps
each sub-check label to the hidden cases behind it (:mod:`grading.instructor.battery`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One hidden check: ``grade_<name>``, shown as ``title``, worth six equal sub-checks."""

    name: str
    title: str
    subchecks: tuple[str, ...]


CHECKS: dict[str, Check] = {check.name: check for check in (
    Check("witg", "WITG", (
        "node count on every hidden sequence set",
        "edge set on random sequences",
        "edge weights on random sequences",
        "length-2 sequences",
        "repeated pairs and an item repeated inside a sequence",
        "gaps in item ids and a long sequence")),
    Check("recall", "Recall@k", (
        "random users, k=20",
        "one target per user, k=10",
        "several relevant items per user, k=5",
        "k beyond the length of the recommendation lists",
        "users with an empty ground truth are skipped",
        "no user with a ground truth gives 0.0")),
    Check("ndcg", "NDCG@k", (
        "random users, k=20",
        "one target per user, k=1",
        "one target per user, k=10",
        "more relevant items than k",
        "k beyond the length of the recommendation lists",
        "no user with a ground truth gives 0.0")),
    Check("mmd", "MMD", (
        "[16, 50] batches, default kernels",
        "[2, 50] batches",
        "fixed sigma, [12, 50] batches",
        "kernel_mul=3, kernel_num=3, [10, 20] batches",
        "identical batches",
        "inside the model: loss and gradient on a fixed batch")),
)}

GRADE_FUNCTION = re.compile(r"grade_(" + "|".join(CHECKS) + r")")
"""The name of a ``grade_*`` function; group 1 is the check's name."""
