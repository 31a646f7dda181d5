"""Hidden inputs, reference outputs and sub-check verdicts (trusted side, instructor only).

Each check (``witg``, ``recall``, ``ndcg``, ``mmd``) has six sub-checks worth the same share
of the cell's points, counted only when the check's core sub-check passes (the rule and the
lines students see: :mod:`grading.kernel.registry`). Inputs are generated here,
deterministically, at grading time; they never appear in anything students receive. Expected
outputs come from :mod:`~grading.instructor.checking.reference` through the same
:func:`~grading.instructor.checking.cases.run_cases` path as the student's outputs, inside the
trusted check server. Reasons never quote an expected value: they name the case and describe
the student's output, in the submission's language (the catalogue's ``reason.*``).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from gcl4sr_helpers import checks
from gcl4sr_helpers.data import MAX_LEN as SEQ_LEN
from grading.kernel.i18n import DEFAULT, text
from grading.kernel.registry import CHECKS

from . import reference


@dataclass(frozen=True)
class SubCheck:
    id: str
    cases: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """A sub-check's verdict, as recorded: its id, then its label and reason in the
    submission's language."""

    id: str
    label: str
    passed: bool
    reason: str = ""


CASES: dict[str, tuple[tuple[str, ...], ...]] = {  # the cases behind each sub-check
    "witg": (("random", "length2", "repeated_pairs", "repeat_inside", "gaps", "long"),
             ("random",), ("random",), ("length2",), ("repeated_pairs", "repeat_inside"),
             ("gaps", "long")),
    "recall": (("random",), ("one_target",), ("several", "duplicates"), ("k_beyond",),
               ("empty_truth",), ("no_users",)),
    "ndcg": (("random",), ("one_target_k1",), ("one_target", "duplicates"), ("several",),
             ("k_beyond", "short_list"), ("no_users",)),
    "mmd": (("batch16",), ("batch2",), ("fix_sigma",), ("kernel_args",), ("identical",),
            ("model",)),
}
SUBCHECKS: dict[str, tuple[SubCheck, ...]] = {
    name: tuple(SubCheck(sub, cases)
                for sub, cases in zip(check.subchecks, CASES[name], strict=True))
    for name, check in CHECKS.items()}

WITG_SEED, METRIC_SEED, MMD_SEED = 91_733, 52_019, 30_881

PUBLIC = "public"
"""The id of a check's public verdict: the visible test cell's points."""
PUBLIC_PREFIX = "public_"
NARROW_MMD = (6, 0.5, 20)  # the MMD visible test's [6, 20] example: mmd_example(6, 0.5, dim=20)


# --------------------------------------------------------------------------- inputs
def _write_sequences(path: Path, sequences: list[list[int]]) -> str:
    path.write_text("".join(f"{user} {','.join(map(str, seq))}\n"
                            for user, seq in enumerate(sequences, start=1)))
    return str(path)


def witg_sequence_sets() -> dict[str, list[list[int]]]:
    """The hidden sequence sets (edge cases named as in the sub-checks)."""
    rng = random.Random(WITG_SEED)
    sets = {"random": [rng.sample(range(1, 45), rng.randint(2, 11)) for _ in range(70)]}
    sets["length2"] = [rng.sample(range(1, 25), 2) for _ in range(25)]
    pair_pool = [rng.sample(range(1, 15), rng.randint(2, 4)) for _ in range(5)]
    sets["repeated_pairs"] = [list(rng.choice(pair_pool)) for _ in range(30)]
    sets["repeat_inside"] = [[4, 7, 4, 9, 7, 4], [5, 5, 6], [8, 2, 8, 2, 8, 3],
                             [rng.randint(1, 6) for _ in range(12)], [9, 1, 9]]
    sets["gaps"] = [[3, 57, 7], [57, 121, 3, 200], [7, 121], [233]]
    sets["long"] = [[rng.randint(1, 30) for _ in range(60)]]
    return sets


def _users(rng: random.Random, count: int, truth_sizes: tuple[int, int], list_len: int,
           catalogue: int = 60, hit_rate: float = 0.5) -> tuple[list[list[int]],
                                                                list[list[int]]]:
    actual, predicted = [], []
    for _ in range(count):
        truth = rng.sample(range(1, catalogue), rng.randint(*truth_sizes))
        pred = rng.sample(range(1, catalogue), list_len)
        for item in truth:  # plant hits at random ranks, so values are far from 0
            if rng.random() < hit_rate and item not in pred:
                pred[rng.randrange(list_len)] = item
        actual.append(truth)
        predicted.append(pred)
    return actual, predicted


def metric_cases(check: str) -> list[dict]:
    rng = random.Random(METRIC_SEED + (check == "ndcg"))

    def case(name, users, k):
        return {"name": name, "actual": users[0], "predicted": users[1], "k": k}

    cases = [case("random", _users(rng, 80, (0, 4), 30), 20)]
    if check == "ndcg":
        cases.append(case("one_target_k1", _users(rng, 40, (1, 1), 20, hit_rate=0.6), 1))
    cases += [
        case("one_target", _users(rng, 60, (1, 1), 20), 10),
        case("several", _users(rng, 50, (6, 9) if check == "ndcg" else (3, 6), 20,
                                hit_rate=0.4), 4 if check == "ndcg" else 5),
        case("k_beyond", _users(rng, 40, (1, 3), 8, hit_rate=0.7), 25),
    ]
    if check == "recall":
        actual, predicted = _users(rng, 60, (1, 3), 20)
        for index in range(0, 60, 2):
            actual[index] = []
        cases.append(case("empty_truth", (actual, predicted), 10))
    # T_u is a set: each truth written twice or three times (Recall: several targets, k=5;
    # NDCG: one target, k=10, where a list would make the IDCG hold more hits than one)
    actual, predicted = _users(rng, 40, (2, 4) if check == "recall" else (1, 1), 20)
    cases.append(case("duplicates", ([[item for item in truth for _ in range(rng.randint(2, 3))]
                                      for truth in actual], predicted),
                      5 if check == "recall" else 10))
    if check == "ndcg":  # the IDCG holds min(k, |T_u|) hits, more than the list's length
        cases.append(case("short_list", _users(rng, 40, (4, 6), 3, hit_rate=0.7), 10))
    cases.append(case("no_users", ([[], [], []], [[1, 2, 3], [4, 5], [6]]), 5))
    return cases


def mmd_cases() -> list[dict]:
    gen = torch.Generator().manual_seed(MMD_SEED)

    def pair(batch, dim=SEQ_LEN, shift=0.4):
        source = torch.randn(batch, dim, generator=gen)
        return source, torch.randn(batch, dim, generator=gen) + shift

    cases = []
    for name, batch, dim, kwargs in (("batch16", 16, SEQ_LEN, {}), ("batch2", 2, SEQ_LEN, {}),
                                     ("fix_sigma", 12, SEQ_LEN, {"fix_sigma": 30.0}),
                                     ("kernel_args", 10, 20, {"kernel_mul": 3.0,
                                                              "kernel_num": 3})):
        source, target = pair(batch, dim)
        cases.append({"name": name, "source": source, "target": target, "kwargs": kwargs})
    same = torch.randn(8, SEQ_LEN, generator=gen)
    cases.append({"name": "identical", "source": same, "target": same.clone(), "kwargs": {}})
    cases.append({"name": "model", "model": model_spec()})
    return cases


def model_spec() -> dict:
    """A fixed batch and a small WITG for one forward of GCL4SR."""
    rng = random.Random(MMD_SEED)
    sequences = [rng.sample(range(1, 40), rng.randint(3, 12)) for _ in range(24)]
    graph = reference.witg_from_sequences(sequences, 40)
    batch = sequences[:6]
    inputs = torch.zeros(len(batch), SEQ_LEN, dtype=torch.long)
    for row, seq in enumerate(batch):
        inputs[row, SEQ_LEN - len(seq) + 1:] = torch.tensor(seq[:-1])
    return {"seed": MMD_SEED, "num_nodes": graph.num_nodes, "num_users": len(sequences),
            "hidden_size": 32, "edge_index": graph.edge_index, "edge_attr": graph.edge_attr,
            "user_ids": torch.arange(len(batch)), "inputs": inputs,
            "targets": torch.tensor([seq[-1] for seq in batch])}


def public_cases(check: str, workdir: Path) -> list[dict]:
    """The public examples the visible test cell relies on, as cases judged here: the engine's
    own (``checks.WITG_EXAMPLE``, ``checks.METRIC_CASES``, ``checks.MMD_CASES``), plus for the
    MMD the visible test's properties (identical batches, symmetry, a [6, 20] input)."""
    if check == "witg":
        path = checks.write_witg_example(workdir / "public_example.txt")
        return [{"name": f"{PUBLIC_PREFIX}example", "path": str(path)}]
    if check in ("recall", "ndcg"):
        return [{"name": f"{PUBLIC_PREFIX}{case_id}", "actual": actual, "predicted": predicted,
                 "k": k} for case_id, actual, predicted, k in checks.METRIC_CASES]
    if check != "mmd":
        raise KeyError(check)
    cases = []
    for case_id, batch, shift, kwargs in checks.MMD_CASES:
        source, target = checks.mmd_example(batch, shift)
        cases.append({"name": f"{PUBLIC_PREFIX}{case_id}", "source": source, "target": target,
                      "kwargs": kwargs})
    source, target = checks.mmd_example(8, 0.5)
    batch, shift, dim = NARROW_MMD
    narrow = checks.mmd_example(batch, shift, dim=dim)
    for name, pair in (("identical", (source, source.clone())), ("swapped", (target, source)),
                       ("narrow", narrow)):
        cases.append({"name": f"{PUBLIC_PREFIX}{name}", "source": pair[0], "target": pair[1],
                      "kwargs": {}})
    return cases


def make_inputs(check: str, workdir: Path) -> dict:
    """The public cases, then the hidden inputs of ``check`` (public first: a time-out on a
    hidden input skips the cases after it); WITG sequence files are written into ``workdir``."""
    if check == "witg":
        hidden = [{"name": name, "path": _write_sequences(workdir / f"seq_{name}.txt", sequences)}
                  for name, sequences in witg_sequence_sets().items()]
    elif check in ("recall", "ndcg"):
        hidden = metric_cases(check)
    elif check == "mmd":
        hidden = mmd_cases()
    else:
        raise KeyError(check)
    return {"cases": public_cases(check, workdir) + hidden}


def reference_function(check: str) -> Callable:
    return {"witg": reference.build_weighted_item_transition_graph,
            "recall": reference.recall_at_k, "ndcg": reference.ndcg_at_k,
            "mmd": reference.mmd_loss}[check]


# --------------------------------------------------------------------------- verdicts
Problem = dict
"""Why an output is wrong: ``{"key", "fields"}``, a message of the catalogue whose fields may
be problems too, worded in the submission's language by :func:`judge` (:func:`_word`)."""


def _says(key: str, **fields: object) -> Problem:
    return {"key": key, "fields": fields}


def _word(problem: Problem, lang: str) -> str:
    fields = {name: _word(value, lang) if isinstance(value, dict) else value
              for name, value in problem["fields"].items()}
    return text(problem["key"], lang, **fields)


def _edge_keys(out: dict) -> tuple[torch.Tensor, torch.Tensor] | Problem:
    n, edge_index, weight = out["num_nodes"], out["edge_index"], out["edge_attr"]
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n):
        return _says("reason.edge_range")
    if weight.numel() != edge_index.shape[1]:
        return _says("reason.weight_count", edges=edge_index.shape[1], weights=weight.numel())
    keys = edge_index[0] * max(n, 1) + edge_index[1]
    order = torch.argsort(keys)
    return keys[order], weight[order]


def _symmetry_hint(keys: torch.Tensor, n: int) -> Problem | str:
    reverse = (keys % max(n, 1)) * max(n, 1) + keys // max(n, 1)
    if not torch.isin(reverse, keys).all():
        return _says("reason.edges.one_way")
    if torch.unique(keys).numel() != keys.numel():
        return _says("reason.edges.repeated")
    return ""


_TIMED_OUT = re.compile(r"timed out \(no result within (\S+) s\)")


def _failure(got: dict) -> Problem:
    """The sandbox's error of a case, as a reason (the student's exception text is kept)."""
    error = got["error"]
    timed_out = _TIMED_OUT.fullmatch(error)
    if timed_out:
        return _says("reason.timeout", seconds=timed_out.group(1))
    if error.startswith("skipped"):
        return _says("reason.skipped")
    return _says("reason.error", error=error)


def graph_problem(want: dict, got: dict, aspect: str = "all") -> Problem | None:
    """Why ``got`` is not the reference graph (``None`` if equal); never quotes ``want``."""
    if not got["ok"]:
        return _failure(got)
    if got["num_nodes"] != want["num_nodes"]:
        return _says("reason.nodes", nodes=got["num_nodes"])
    if aspect == "nodes":
        return None
    got_edges = _edge_keys(got)
    if isinstance(got_edges, dict):
        return got_edges
    want_keys, want_weight = _edge_keys(want)
    got_keys, got_weight = got_edges
    if got_keys.shape != want_keys.shape or not torch.equal(got_keys, want_keys):
        count = (_says("reason.edges.returned", count=got_keys.numel())
                 if got_keys.shape != want_keys.shape else _says("reason.edges.same_count"))
        return _says("reason.edges", count=count,
                     hint=_symmetry_hint(got_keys, got["num_nodes"]))
    if aspect == "edges":
        return None
    if not torch.allclose(got_weight, want_weight, rtol=1e-5, atol=1e-6):
        return _says("reason.weights")
    return None


def _value_problem(want: dict, got: dict, rel: float, abs_: float) -> Problem | None:
    if not got["ok"]:
        return _failure(got)
    value = got["value"]
    if not math.isclose(value, want["value"], rel_tol=rel, abs_tol=abs_):
        return _says("reason.value", value=f"{value:.6g}")
    if "loss" in want:
        if not math.isclose(got["loss"], want["loss"], rel_tol=rel, abs_tol=abs_):
            return _says("reason.loss", value=f"{got['loss']:.6g}")
        if not math.isclose(got["grad"], want["grad"], rel_tol=1e-3, abs_tol=1e-7):
            return _says("reason.gradient")
    return None


def case_problem(check: str, subcheck: SubCheck, case: str, want: dict,
                 got: dict) -> Problem | None:
    if check == "witg":
        aspect = {"nodes": "nodes", "edges": "edges"}.get(subcheck.id, "all")
        return graph_problem(want, got, aspect)
    if check == "mmd":
        return _value_problem(want, got, 1e-4, 1e-6)
    return _value_problem(want, got, 1e-6, 1e-9)


def _public_problem(check: str, want: dict, got: dict) -> Problem | None:
    if check == "witg":
        if got["ok"] and not got.get("is_data"):
            return _says("reason.not_data")
        return graph_problem(want, got)
    if check == "mmd":
        if got["ok"] and not got.get("tensor0"):
            return _says("reason.not_scalar")
        return _value_problem(want, got, 1e-4, 1e-5)  # the visible test's |MMD(X, X)| < 1e-5
    return case_problem(check, SUBCHECKS[check][0], "", want, got)


def _problem(case: str, expected: dict[str, dict], got: dict[str, dict], missing: str,
             judge_case: Callable[[dict, dict], Problem | None], lang: str) -> str | None:
    """Why the output of ``case`` is wrong, in ``lang`` (``None``: it is right): no output, no
    function, or what ``judge_case(want, got)`` says; a malformed output loses the case."""
    if "__bundle__" in got:
        return text("reason.bundle", lang, error=got["__bundle__"]["error"])
    if case not in got:
        return missing
    try:
        problem = judge_case(expected[case], got[case])
    except Exception as error:  # noqa: BLE001
        problem = _says("reason.malformed", error=type(error).__name__)
    return None if problem is None else _word(problem, lang)


def missing_reason(lang: str) -> str:
    """The reason of a case without a result, when nothing says why."""
    return text("reason.missing", lang)


def judge_public(check: str, expected: dict[str, dict], got: dict[str, dict],
                 missing: str | None = None, lang: str = DEFAULT) -> Verdict:
    """The visible test's verdict: every public case equals the reference's output."""
    label = text("public.label", lang)
    for case in (name for name in expected if name.startswith(PUBLIC_PREFIX)):
        problem = _problem(case, expected, got, missing or missing_reason(lang),
                           lambda want, out: _public_problem(check, want, out), lang)
        if problem:
            return Verdict(PUBLIC, label, False,
                           text("reason.public", lang, case=case[len(PUBLIC_PREFIX):],
                                problem=problem))
    return Verdict(PUBLIC, label, True)


def judge(check: str, expected: dict[str, dict], got: dict[str, dict],
          missing: str | None = None, lang: str = DEFAULT) -> list[Verdict]:
    """One verdict per sub-check, worded in ``lang``; ``got`` may lack cases (timeout) or hold
    a bundle error. ``missing`` is the reason given for a case without a result (e.g. the
    time limit)."""
    verdicts = []
    for sub in SUBCHECKS[check]:
        problem = None
        for case in sub.cases:
            problem = _problem(case, expected, got, missing or missing_reason(lang),
                               lambda want, out, sub=sub, case=case:
                               case_problem(check, sub, case, want, out), lang)
            if problem:
                if len(sub.cases) > 1:
                    problem = text("reason.in_case", lang, case=case, problem=problem)
                break
        verdicts.append(Verdict(sub.id, CHECKS[check].label(sub.id, lang), problem is None,
                                problem or ""))
    return verdicts
