"""The numbers behind the students' checks.

Built by ``python -m grading.make_check_constants``. Every stored number comes from the
reference answers (:mod:`grading.instructor.checking.reference`) or from the typical mistakes (the
registry :mod:`grading.instructor.builders.mistakes`), so that a check can tell "your value is what
forgetting X gives" without shipping any answer. The engine's
``gcl4sr_helpers/check_constants.json`` holds the public examples' numbers, the same for
every dataset:

* ``metrics`` / ``mmd``: the public examples defined in ``gcl4sr_helpers.checks``.

A dataset's own numbers are stored with it (``<folder>/check_constants.json``; Home's in
``gcl4sr_helpers/home_check_constants.json``, beside its manifest):

* ``witg``: for the quick subset and for the full data, counts and fingerprint of the answer
  graph, and the counts each typical mistake produces;
* ``popularity``: for both, the test metrics of the most-popular baseline;
* ``runs.quick``: losses and test metrics of the quick experiment (the notebook's quick
  mode) with the reference answers for several seeds; the tolerance is derived from the
  measured seed-to-seed spread, which is recorded next to it (``reference_from_seeds``);
* ``runs.full``: the same for the full data. Home's come from the seed runs stored in
  ``grading/instructor/builders/home_seed_runs.json`` (:func:`full_seed_runs` makes them: about
  17 minutes a seed on a 2-core CPU); another dataset's are run by the command.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import types
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch

from gcl4sr_helpers import checks
from gcl4sr_helpers.baselines import most_popular_ranking
from gcl4sr_helpers.data import SequenceData, load_data, read_item_sequences
from gcl4sr_helpers.dataset import CONSTANTS_FILE, HOME_CONSTANTS_PATH, DatasetInfo
from gcl4sr_helpers.download import load_manifest
from gcl4sr_helpers.experiment import CourseConfig, run_course, start_course
from gcl4sr_helpers.graph import convert_to_pyg_data
from gcl4sr_helpers.names import LOSS_NAMES, METRIC_NAMES

from ..checking import reference
from .mistakes import MISTAKES

HOME_SEED_RUNS = Path(__file__).with_name("home_seed_runs.json")
NOTEBOOK_SEED = CourseConfig.seed
QUICK_SEEDS = (NOTEBOOK_SEED, 1, 2, 3, 4, 5)
FULL_SEEDS = (NOTEBOOK_SEED, 1, 2, 3, 4)
MIN_LOSS_TOL = {"main": 0.002, "gcl": 0.005, "mmd": 0.005}
MIN_METRIC_TOL = dict.fromkeys(METRIC_NAMES, 0.001)


# --------------------------------------------------------------------------------------
# The typical mistakes (grading.instructor.builders.mistakes), by the key of their hint
# --------------------------------------------------------------------------------------

def _variant(check: str, kind: str) -> Callable:
    """The registry's function of the mistake ``<check>.<kind>`` (``kind``: its hint's key)."""
    return MISTAKES[f"{check}.{kind}"].function


_recall_variant, _ndcg_variant, _mmd_variant = (partial(_variant, check)
                                                for check in ("recall", "ndcg", "mmd"))


def _solution_adjacency(sequences: Sequence[Sequence[int]],
                        num_nodes: int) -> list[dict[int, float]]:
    """The adjacency the solution notebook's loop builds. Its order (sequence, window,
    position) decides the order of each node's neighbours in the graph, which the neighbour
    sampler (and so the training numbers) depends on."""
    adjacency: list[dict[int, float]] = [{} for _ in range(num_nodes)]
    for seq in sequences:
        for k in (1, 2, 3):
            for t in range(len(seq) - k):
                a, b = seq[t], seq[t + k]
                adjacency[a][b] = adjacency[a].get(b, 0.0) + 1.0 / k
                adjacency[b][a] = adjacency[b].get(a, 0.0) + 1.0 / k
    return adjacency


def _witg_adjacency(sequences: Sequence[Sequence[int]], num_nodes: int,
                    kind: str = "answer") -> list[dict[int, float]]:
    """The adjacency (float64 weights, before the graph's float32) that the solution
    (``answer``) or the registry's mistake ``witg.<kind>`` hands to ``convert_to_pyg_data``,
    built from ``sequences`` instead of a file."""
    if kind == "answer":
        return _solution_adjacency(sequences, num_nodes)
    build = MISTAKES[f"witg.{kind}"].function
    names = {"read_item_sequences": lambda _: (sequences, num_nodes),
             "convert_to_pyg_data": lambda adjacency, _: adjacency}
    rebound = types.FunctionType(build.__code__, {**build.__globals__, **names})
    return rebound("")


def _witg_variant_counts(sequences: Sequence[Sequence[int]], num_nodes: int,
                         kind: str) -> dict:
    """Directed edge count and total weight (in sixths) of one wrong way to build the WITG."""
    adjacency = _witg_adjacency(sequences, num_nodes, kind)
    weights = np.fromiter((w for row in adjacency for w in row.values()), dtype=np.float64)
    return {"edges": int(weights.size), "total_sixths": int(np.rint(weights * 6).sum())}


# --------------------------------------------------------------------------------------
# The public examples
# --------------------------------------------------------------------------------------

def _safe(fn: Callable, *args) -> float | None:
    try:
        return float(fn(*args))
    except ZeroDivisionError:
        return None


def metric_constants() -> dict:
    """Reference and mistake values of both metrics on every public case."""
    out = {}
    for name, ref_fn, variant, hints in (
            ("recall", reference.recall_at_k, _recall_variant, checks.RECALL_HINTS),
            ("ndcg", reference.ndcg_at_k, _ndcg_variant, checks.NDCG_HINTS)):
        cases = {}
        for case_id, actual, predicted, k in checks.METRIC_CASES:
            expected = float(ref_fn(actual, predicted, k))
            mistakes = {kind: value for kind in hints
                        if (value := _safe(variant(kind), actual, predicted, k)) is not None
                        and not math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-6)}
            cases[case_id] = {"expected": _round(expected), "mistakes": _round(mistakes)}
        out[name] = cases
    return out


def mmd_constants() -> dict:
    """Reference and mistake values of the MMD on every public case."""
    out = {}
    for case_id, batch, shift, kwargs in checks.MMD_CASES:
        source, target = checks.mmd_example(batch, shift)
        expected = float(reference.mmd_loss(source, target, **kwargs))
        mistakes = {}
        for kind in checks.MMD_HINTS:
            value = float(_mmd_variant(kind)(source, target, **kwargs))
            if math.isfinite(value) and not math.isclose(value, expected, rel_tol=1e-4,
                                                         abs_tol=1e-6):
                mistakes[kind] = value
        out[case_id] = {"expected": _round(expected), "mistakes": _round(mistakes)}
    return out


# --------------------------------------------------------------------------------------
# The WITG
# --------------------------------------------------------------------------------------

def solution_graph(train_file: Path):
    """The WITG exactly as the solution notebook builds it (same edge order)."""
    sequences, num_nodes = read_item_sequences(str(train_file))
    graph = convert_to_pyg_data(_witg_adjacency(sequences, num_nodes), num_nodes)
    reference_graph = reference.build_weighted_item_transition_graph(str(train_file))
    if checks.graph_summary(graph) != checks.graph_summary(reference_graph):
        raise AssertionError("the solution-style loop and the reference WITG disagree")
    return graph


def witg_constants(train_file: Path) -> dict:
    """Answer-graph summary and the counts of every mistake variant, for one train file."""
    graph = reference.build_weighted_item_transition_graph(str(train_file))
    summary = checks.graph_summary(graph)
    sequences, num_nodes = read_item_sequences(str(train_file))
    mistakes = {}
    for kind in checks.WITG_HINTS:
        counts = _witg_variant_counts(sequences, num_nodes, kind)
        if (counts["edges"], counts["total_sixths"]) != (summary["edges"],
                                                         summary["total_sixths"]):
            mistakes[kind] = counts
    return {**summary, "mistakes": mistakes}


def quick_data(data_dir: str | None, file: str | None = None) -> SequenceData:
    """The notebook's quick-mode data of a dataset folder."""
    mode = checks.course_mode({checks.QUICK_ENV: "1"})
    return load_data(data_dir, max_users=mode.max_users, seed=mode.subset_seed, file=file)


# --------------------------------------------------------------------------------------
# Reference runs
# --------------------------------------------------------------------------------------

def quick_run(data: SequenceData, graph, seed: int, mmd_fn: Callable = reference.mmd_loss,
              evaluate: bool = True) -> dict:
    """The notebook's quick experiment (same calls, same order) with the reference answers."""
    mode = checks.course_mode({checks.QUICK_ENV: "1"})
    run = start_course(data, graph, mmd_fn, CourseConfig(seed=seed), progress=False)
    result = run.train_epoch(0, max_batches=mode.max_batches)
    out = {"losses": dict(zip(LOSS_NAMES, result.averages, strict=True))}
    if evaluate:
        out["metrics"] = run.test(reference.recall_at_k, reference.ndcg_at_k)
    return out


def reference_from_seeds(per_seed: dict[int, dict], names: Sequence[str], floor: dict,
                         mode: str, dataset: str) -> dict:
    """Reference values (the notebook's seed) and tolerances from runs over several seeds.

    A student's run on other hardware behaves like a run with another seed (other random
    draws for sampling and dropout), whose deviation from the reference run has standard
    deviation ``sqrt(2) * sigma``. The tolerance is the larger of the largest measured
    deviation and ``3 * sqrt(2) * sigma`` (sigma: sample standard deviation over the
    seeds), and at least ``floor``.
    """
    seeds = sorted(per_seed, key=lambda s: (s != NOTEBOOK_SEED, s))
    if seeds[0] != NOTEBOOK_SEED or len(seeds) < 3:
        raise ValueError(f"{mode} runs of {dataset}: need seed {NOTEBOOK_SEED} and at least 3 "
                         "seeds")
    base = per_seed[NOTEBOOK_SEED]
    spread, tolerance = {}, {}
    for name in names:
        values = [per_seed[s][name] for s in seeds]
        spread[name] = max(abs(v - base[name]) for v in values)
        tolerance[name] = max(spread[name], 3 * math.sqrt(2) * statistics.stdev(values),
                              floor[name])
    return {"values": _round({n: base[n] for n in names}), "tolerance": _round(tolerance),
            "spread": _round(spread), "seeds": seeds,
            "per_seed": {str(s): _round({n: per_seed[s][n] for n in names}) for s in seeds}}


def quick_runs(data_dir: str | None, file: str | None = None) -> dict:
    """Reference values (seed 2026), seed-to-seed spread and tolerances of the quick mode."""
    data = quick_data(data_dir, file)
    graph = solution_graph(data.train_sequence_file)
    threads = checks.course_mode({checks.QUICK_ENV: "1"}).threads
    if threads:
        torch.set_num_threads(threads)  # as the notebook does in quick mode
    runs = {seed: quick_run(data, graph, seed) for seed in QUICK_SEEDS}
    name = data.dataset.name
    out = {
        "losses": reference_from_seeds({s: r["losses"] for s, r in runs.items()},
                                       LOSS_NAMES, MIN_LOSS_TOL, "quick", name),
        "metrics": reference_from_seeds({s: r["metrics"] for s, r in runs.items()},
                                        METRIC_NAMES, MIN_METRIC_TOL, "quick", name),
    }
    out["losses"]["mistakes"] = _round({
        kind: quick_run(data, graph, NOTEBOOK_SEED, _mmd_variant(kind),
                        evaluate=False)["losses"]["mmd"]
        for kind in ("sign", "no_cross", "sqrt", "unbiased")})
    return out


def full_seed_runs(data_dir: str | None, seeds: Sequence[int],
                   file: str | None = None) -> list[dict]:
    """The course run on a full dataset (Home by default) with the reference answers, once
    per seed."""
    data = load_data(data_dir, file=file)
    graph = solution_graph(data.train_sequence_file)
    runs = []
    for seed in seeds:
        run = run_course(data, graph, reference.mmd_loss, reference.recall_at_k,
                         reference.ndcg_at_k, CourseConfig(seed=seed), progress=False)
        runs.append({"seed": seed, "values": {**dict(zip(LOSS_NAMES, run.losses, strict=True)),
                                              **run.metrics}})
    return runs


def runs_reference(runs: Sequence[dict], dataset: str) -> dict:
    """Reference values and tolerances from full seed runs
    (``[{"seed": s, "values": {"main", "gcl", "mmd", "Recall@10", ...}}, ...]``)."""
    per_seed = {run["seed"]: run["values"] for run in runs}
    return {"losses": reference_from_seeds(per_seed, LOSS_NAMES, MIN_LOSS_TOL, "full", dataset),
            "metrics": reference_from_seeds(per_seed, METRIC_NAMES, MIN_METRIC_TOL, "full",
                                            dataset)}


def full_runs(path: Path = HOME_SEED_RUNS) -> dict:
    """Reference values and tolerances of full Home from the seed runs stored in ``path``."""
    runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    return runs_reference(runs, load_manifest()["name"])


# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------

def _round(value, digits: int = 10):
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, digits)
    return value


def popularity_constants(data: SequenceData) -> dict:
    """MostPop's test metrics (top 20), scored by the reference metrics."""
    actual, predicted = most_popular_ranking(data, topk=20)
    return _round({f"{name}@{k}": float(fn(actual, predicted, k)) for k in (10, 20)
                   for name, fn in (("Recall", reference.recall_at_k),
                                    ("NDCG", reference.ndcg_at_k))})


def engine_constants() -> dict:
    """The public examples' numbers (``gcl4sr_helpers/check_constants.json``)."""
    return {"metrics": metric_constants(), "mmd": mmd_constants()}


def constants_path(dataset: DatasetInfo) -> Path:
    """Where a dataset's numbers are stored: Home's beside the manifest, others in its folder."""
    return HOME_CONSTANTS_PATH if dataset.is_home else dataset.folder / CONSTANTS_FILE


def _generated_by() -> dict:
    return {
        "script": "python -m grading.make_check_constants",
        "torch": torch.__version__.split("+")[0],
        "machine": f"{platform.system()} {platform.machine()}",
        "quick": {"max_users": checks.QUICK_MAX_USERS, "subset_seed": checks.QUICK_SUBSET_SEED,
                  "max_batches": checks.QUICK_MAX_BATCHES, "threads": checks.QUICK_THREADS},
    }


def build_dataset_constants(data_dir: str | None, previous: dict | None, skip_runs: bool,
                            file: str | None = None,
                            full_seeds: Sequence[int] = FULL_SEEDS) -> dict:
    """A dataset's numbers: WITG (quick and full), quick runs, full runs (Home's from
    ``home_seed_runs.json``, another dataset's run here over ``full_seeds``)."""
    data, quick = load_data(data_dir, file=file), quick_data(data_dir, file)
    constants = {"witg": {"quick": witg_constants(quick.train_sequence_file),
                          "full": witg_constants(data.train_sequence_file)},
                 "popularity": {"quick": popularity_constants(quick),
                                "full": popularity_constants(data)}}
    keep = skip_runs and previous
    quick_ref = previous["runs"]["quick"] if keep else quick_runs(data_dir, file)
    if data.dataset.is_home:
        full = full_runs()
    elif keep:
        full = previous["runs"]["full"]
    else:
        full = runs_reference(full_seed_runs(data_dir, full_seeds, file), data.dataset.name)
    constants["runs"] = {"quick": quick_ref, "full": full}
    constants["generated_by"] = (previous["generated_by"] if keep and "generated_by" in previous
                                 else _generated_by())
    return constants


def dump(constants: dict) -> str:
    return json.dumps(constants, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


# How far a regenerated number may sit from the stored one and still be the same number.
# The MMD examples are float32 reductions (a mean of 2B x 2B kernel values): their last bits
# follow the CPU's vector width and the summation order (an AVX-512 machine regenerates
# 4.2204327583 where 4.220433712 is stored, 2 float32 ulps apart). 1e-5 is about 80 float32
# ulps and ten times below the students' check tolerance for the MMD (1e-4), so a stored
# value within it never changes a verdict; a real change (another example, another mistake)
# moves a value by 1e-3 or more. Everything else is float64 arithmetic stored rounded to 10
# decimals: two machines differ by at most one unit in that last decimal.
FLOAT32_REL_TOL = 1e-5
FLOAT64_ABS_TOL = 2e-10


def differences(fresh, stored, rel_tol: float = 0.0, abs_tol: float = FLOAT64_ABS_TOL,
                path: str = "") -> list[str]:
    """Paths where ``fresh`` and ``stored`` differ: another key set, another integer or string,
    or floats farther apart than ``rel_tol`` (relative) and ``abs_tol`` (absolute)."""
    if isinstance(fresh, dict) and isinstance(stored, dict):
        if set(fresh) != set(stored):
            return [f"{path or '.'}: keys {sorted(set(fresh) ^ set(stored))}"]
        return [d for key in sorted(fresh)
                for d in differences(fresh[key], stored[key], rel_tol, abs_tol, f"{path}.{key}")]
    if isinstance(fresh, float) and isinstance(stored, (float, int)) \
            and not isinstance(stored, bool):
        close = math.isclose(fresh, stored, rel_tol=rel_tol, abs_tol=abs_tol)
        return [] if close else [f"{path}: {stored!r} stored, {fresh!r} regenerated"]
    return [] if fresh == stored else [f"{path}: {stored!r} stored, {fresh!r} regenerated"]


def stale_sections(engine: dict, stored: dict, data_dir: str | None,
                   file: str | None = None) -> list[str]:
    """Where the cheap sections (public examples, quick WITG, quick MostPop) regenerate to
    other numbers than the stored ``engine`` and dataset (``stored``) ones (see
    :func:`differences`; the MMD examples within float32 precision)."""
    fresh = engine_constants()
    stale = differences(fresh["metrics"], engine.get("metrics"), path="metrics")
    stale += differences(fresh["mmd"], engine.get("mmd"), FLOAT32_REL_TOL, path="mmd")
    quick = quick_data(data_dir, file)
    for section, value in (("witg", witg_constants(quick.train_sequence_file)),
                           ("popularity", popularity_constants(quick))):
        stale += differences(value, stored.get(section, {}).get("quick"),
                             path=f"{section}.quick")
    return stale
