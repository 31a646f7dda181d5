"""The hidden checks by name: title, sub-check labels, the core sub-check and the scoring rule
(read by both sides).

A check's name is the suffix of its ``grade_<name>`` function; the instructor side maps
each sub-check to the hidden cases behind it (:mod:`grading.instructor.checking.battery`).
Sub-checks are named by ids; their labels, what students read in their feedback, are the
catalogue's (:mod:`.i18n`), in the graded notebook's language.

Points only for evidence: a part earns points only when its **core** sub-check passes, the
general case on random inputs; then each passed sub-check earns an equal share. Stubs pass
only degenerate sub-checks (the node count, "no user with a ground truth gives 0.0",
identical batches), and the classic mistakes (one-direction edges, windows 1-2 only, IDCG
over k, dividing by k, counting users with an empty truth, a wrong bandwidth) fail the core
while passing an edge case or two: all of them score 0. A mistake confined to one rule
(kernel arguments ignored, a detached MMD, unweighted edges) loses only the sub-checks that
test that rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .i18n import text


@dataclass(frozen=True)
class Check:
    """One hidden check: ``grade_<name>``, shown as ``title``, worth six equal sub-checks (by
    id; each labelled by the catalogue's ``subcheck.<name>.<id>``), which count only when
    ``core`` (one of them) passes."""

    name: str
    title: str
    subchecks: tuple[str, ...]
    core: str

    def __post_init__(self) -> None:
        if self.core not in self.subchecks:
            raise ValueError(f"core sub-check {self.core!r} is not a sub-check of {self.name}")

    def label(self, subcheck: str, lang: str) -> str:
        """What a student reads for ``subcheck`` in ``lang``."""
        return text(f"subcheck.{self.name}.{subcheck}", lang)


CHECKS: dict[str, Check] = {check.name: check for check in (
    Check("witg", "WITG", ("nodes", "edges", "weights", "length2", "repeats", "gaps_long"),
          core="edges"),
    Check("recall", "Recall@k", ("random", "one_target", "several", "k_beyond", "empty_truth",
                                 "no_users"), core="random"),
    Check("ndcg", "NDCG@k", ("random", "one_target_k1", "one_target", "several", "k_beyond",
                             "no_users"), core="random"),
    Check("mmd", "MMD", ("batch16", "batch2", "fix_sigma", "kernel_args", "identical", "model"),
          core="batch16"),
)}

GRADE_FUNCTION = re.compile(r"grade_(" + "|".join(CHECKS) + r")")
"""The name of a ``grade_*`` function; group 1 is the check's name."""


def fraction(check: str, verdicts: list[dict]) -> float:
    """passed / total if the core sub-check passed, else 0; ``verdicts`` are the server's
    ``{"id", "label", "passed", "reason"}`` records, one per sub-check."""
    core = next(v for v in verdicts if v["id"] == CHECKS[check].core)
    return sum(v["passed"] for v in verdicts) / len(verdicts) if core["passed"] else 0.0


def explain(check: str, verdicts: list[dict], points: float, lang: str) -> list[str]:
    """The lines a student sees, in ``lang``, for the points of ``check`` (worth ``points``)
    it lost; the reasons are the verdicts' own (worded in the submission's language)."""
    spec = CHECKS[check]
    title, core = spec.title, spec.label(spec.core, lang)
    failed = [v for v in verdicts if not v["passed"]]
    if len(failed) == len(verdicts) > 1 and len({v["reason"] for v in failed}) == 1:
        # one reason for everything (refused, tampered, the same crash on every case)
        return [text("explain.all", lang, points=points, title=title, reason=failed[0]["reason"])]
    if fraction(check, verdicts) > 0:
        share = points / len(verdicts)
        return [text("explain.lost", lang, points=share, title=title,
                     label=spec.label(v["id"], lang), reason=v["reason"]) for v in failed]
    return [text("explain.core", lang, points=points, title=title, core=core),
            *(text("explain.also", lang, title=title, label=spec.label(v["id"], lang),
                   reason=v["reason"]) for v in failed)]
