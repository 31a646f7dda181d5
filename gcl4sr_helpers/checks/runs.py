"""The checks of a run: one epoch's losses, the test metrics and the MostPop baseline.

A loss or metric passes when ``|value − reference| ≤ tolerance``, both stored for the mode
from reference runs over several seeds (the tolerance from their seed-to-seed spread);
MostPop's rankings are deterministic, so its metrics must equal the reference's to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..data import SequenceData
from ..download import load_manifest
from ..i18n import text
from ..names import LOSS_NAMES, METRIC_NAMES
from .mmd import MMD_HINTS
from .mode import GRADING_MAX_BATCHES
from .report import _close, _mistake_hints, _no_dataset_reference, _Report, dataset_constants


def _reference(constants: dict, kind: str, mode: str) -> dict | None:
    return constants.get("runs", {}).get(mode, {}).get(kind)


def reference_note(mode: str, dataset: str, seeds: list[int], lang: str | None = None) -> str:
    """How the reference values of ``mode`` were made: the run of ``seeds[0]`` (the notebook's
    seed), tolerances from the spread over ``seeds``. The constants store it in Korean; a
    check words it in the edition's language (``lang``)."""
    source = (text("check.runs.source.quick", lang) if mode == "quick"
              else text("check.runs.source.full", lang, dataset=dataset))
    return text("check.runs.note", lang, source=source, seed=seeds[0], seeds=len(seeds))


def _note(ref: dict, mode: str, data: SequenceData | None) -> str:
    name = data.dataset.name if data is not None else load_manifest()["name"]  # Home's
    return reference_note(mode, name, ref["seeds"])


def _no_reference(report: _Report, what: str, mode: str | None) -> None:
    report.skipped = True
    if mode is None:
        report.info(text("check.runs.grading_run", batches=GRADING_MAX_BATCHES, what=what))
        return
    report.info(text("check.runs.not_stored", mode=mode, what=what))


def _title(what: str, mode: str | None) -> str:
    return f"{what} ({mode or text('check.runs.grading')})"


def check_losses(losses: Sequence[float], mode: str | None = "full", quiet: bool = False,
                 data: SequenceData | None = None) -> bool:
    """Epoch-average ``(main, gcl, mmd)`` losses against the reference run of ``mode`` on
    ``data``'s dataset (Home without ``data``); ``None`` (nbgrader's shorter run,
    :attr:`CourseMode.run_reference`): the consistency checks only."""
    report = _Report(_title(text("check.losses.title"), mode), quiet)
    try:
        values = [float(v) for v in losses]
        if len(values) != 3:
            raise ValueError(f"expected 3 values, got {len(values)}")
    except (TypeError, ValueError) as error:
        report.item(False, text("check.losses.three"), str(error), text("check.losses.three.hint"))
        return report.done()
    finite = all(math.isfinite(v) for v in values)
    report.item(finite, text("check.losses.finite"), ", ".join(f"{v:.4f}" for v in values),
                text("check.losses.finite.hint"))
    if not finite:
        return report.done()
    report.item(values[2] >= 0.0, text("check.losses.mmd_positive"), f"{values[2]:.4f}",
                text("check.losses.mmd_positive.hint", sign=MMD_HINTS["sign"]))
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {
            text("check.losses.loss", name=name): f"{value:.4f}"
            for name, value in zip(LOSS_NAMES, values, strict=True)})
    ref = _reference(constants, "losses", mode)
    if ref is None:
        _no_reference(report, text("check.losses.what"), mode)
        return report.done()
    report.info(_note(ref, mode, data))
    for name, value in zip(LOSS_NAMES, values, strict=True):
        want, tol = ref["values"][name], ref["tolerance"][name]
        hint = ""
        if name == "mmd":
            hint = _mistake_hints(value, ref.get("mistakes", {}), MMD_HINTS, 1e-3)
        if name != "mmd" or not hint:
            hint = text("check.losses.hint")
        report.item(abs(value - want) <= tol, text("check.losses.loss", name=name),
                    text("check.runs.within", got=value, want=want, tol=tol), hint)
    return report.done()


def _metric_values(report: _Report, metrics: Mapping[str, float],
                   hint: str) -> dict[str, float] | None:
    """The four metrics as floats, or None (reported with ``hint``) if any is missing."""
    missing = [name for name in METRIC_NAMES if name not in metrics]
    if missing:
        report.item(False, text("check.eval.names"), text("check.eval.missing", missing=missing),
                    hint)
        return None
    return {name: float(metrics[name]) for name in METRIC_NAMES}


def check_eval(metrics: Mapping[str, float], mode: str | None = "full", quiet: bool = False,
               data: SequenceData | None = None) -> bool:
    """Test metrics: internal consistency, then the reference run of ``mode`` on ``data``'s
    dataset (Home without ``data``; ``None``: no reference, as :func:`check_losses`)."""
    report = _Report(_title(text("check.eval.title"), mode), quiet)
    m = _metric_values(report, metrics, text("check.eval.names.hint"))
    if m is None:
        return report.done()
    report.item(all(0.0 <= v <= 1.0 for v in m.values()), text("check.eval.range"),
                hint=text("check.eval.range.hint"))
    report.item(m["Recall@20"] >= m["Recall@10"] and m["NDCG@20"] >= m["NDCG@10"],
                text("check.eval.growing"), hint=text("check.eval.growing.hint"))
    report.item(m["NDCG@10"] <= m["Recall@10"] + 1e-12 and m["NDCG@20"] <= m["Recall@20"] + 1e-12,
                text("check.eval.ndcg_below"), hint=text("check.eval.ndcg_below.hint"))
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {name: f"{m[name]:.4f}"
                                                    for name in METRIC_NAMES})
    ref = _reference(constants, "metrics", mode)
    if ref is None:
        _no_reference(report, text("check.eval.what"), mode)
        return report.done()
    report.info(_note(ref, mode, data))
    for name in METRIC_NAMES:
        want, tol = ref["values"][name], ref["tolerance"][name]
        report.item(abs(m[name] - want) <= tol, name,
                    text("check.runs.within", got=m[name], want=want, tol=tol),
                    text("check.eval.hint"))
    return report.done()


def check_popularity(scores: Mapping[str, float], mode: str = "full", quiet: bool = False,
                     data: SequenceData | None = None) -> bool:
    """MostPop's test metrics as the student's functions score them, against the same
    rankings scored by the reference metrics on ``data``'s dataset (Home without ``data``).

    The rankings are deterministic, so the values must agree to rounding.
    """
    report = _Report(text("check.popularity.title", mode=mode), quiet)
    got = _metric_values(report, scores, text("check.popularity.names.hint"))
    if got is None:
        return report.done()
    constants = dataset_constants(data)
    if constants is None:
        return _no_dataset_reference(report, data, {n: f"{v:.4f}" for n, v in got.items()})
    ref = constants.get("popularity", {}).get(mode)
    if ref is None:
        _no_reference(report, "MostPop", mode)
        return report.done()
    for name in METRIC_NAMES:
        report.item(_close(got[name], ref[name]), name,
                    text("check.runs.reference", got=got[name], want=ref[name]),
                    text("check.popularity.hint"))
    return report.done()
