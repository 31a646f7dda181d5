"""The students' sanity checks: pass on the reference answers, name each typical mistake."""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
import torch

from gcl4sr_helpers import baselines, checks, i18n, plots
from gcl4sr_helpers.graph import convert_to_pyg_data
from grading.instructor.builders import check_constants as mcc
from grading.instructor.builders.mistakes import MISTAKES
from grading.instructor.checking import reference

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def quick_data(home_dir, tmp_path_factory):
    mode = checks.course_mode({checks.QUICK_ENV: "1"})
    from gcl4sr_helpers.data import load_data

    return load_data(home_dir, max_users=mode.max_users, seed=mode.subset_seed,
                     cache_dir=tmp_path_factory.mktemp("quick"))


@pytest.fixture(scope="module")
def quick_graph(quick_data):
    return reference.build_weighted_item_transition_graph(str(quick_data.train_sequence_file))


def wrong_graph(data, kind):
    from gcl4sr_helpers.data import read_item_sequences

    sequences, num_nodes = read_item_sequences(str(data.train_sequence_file))
    return convert_to_pyg_data(mcc._witg_adjacency(sequences, num_nodes, kind), num_nodes)


# ---------------------------------------------------------------------------- mode

@pytest.mark.parametrize(("env", "name", "grading"), [
    ({}, "full", False),
    ({"GCL4SR_QUICK": "0"}, "full", False),
    ({"GCL4SR_QUICK": "1"}, "quick", False),
    ({"NBGRADER_EXECUTION": "autograde"}, "quick", True),
    ({"NBGRADER_EXECUTION": "validate", "GCL4SR_QUICK": "0"}, "quick", True),
])
def test_course_mode(env, name, grading):
    mode = checks.course_mode(env)
    assert (mode.name, mode.grading) == (name, grading)
    assert (mode.max_users is None) == (name == "full")
    assert mode.max_batches == {"full": None, "quick": 1 if grading else 3}[name]
    assert mode.run_reference == (None if grading else name)
    assert mode.batch_size == (checks.GRADING_BATCH_SIZE if grading else None)
    assert f"배치 {mode.max_batches}개" in mode.describe() if mode.quick else mode.describe()


# ---------------------------------------------------------------------------- constants

def test_cheap_constants_are_up_to_date(home_dir):
    """Regenerating metrics, mmd and the quick WITG gives the committed file."""
    assert mcc.stale_sections(checks.load_constants(), checks.dataset_constants(),
                              str(home_dir)) == []


def test_staleness_tolerates_float32_rounding_only():
    """Two float32 ulps apart (what an AVX-512 machine regenerates) is the same number; a value
    of another example, a new mistake, another count or fingerprint is not."""
    stored = {"other_batch": {"expected": 4.220433712, "mistakes": {"sign": -4.220433712}}}
    rounding = {"other_batch": {"expected": 4.2204327583, "mistakes": {"sign": -4.2204327583}}}
    assert mcc.differences(rounding, stored, mcc.FLOAT32_REL_TOL) == []
    moved = {"other_batch": {"expected": 4.2205, "mistakes": {"sign": -4.220433712}}}
    assert mcc.differences(moved, stored, mcc.FLOAT32_REL_TOL) == \
        [".other_batch.expected: 4.220433712 stored, 4.2205 regenerated"]
    new_mistake = {"other_batch": {"expected": 4.220433712,
                                   "mistakes": {"sign": -4.220433712, "sqrt": 2.05}}}
    assert mcc.differences(new_mistake, stored, mcc.FLOAT32_REL_TOL) == \
        [".other_batch.mistakes: keys ['sqrt']"]
    # float64 sections: one unit in the 10th decimal, never more
    assert mcc.differences({"r": 0.3333333334}, {"r": 0.3333333333}) == []
    assert mcc.differences({"r": 0.3333334}, {"r": 0.3333333333}) != []
    assert mcc.differences({"edges": 16, "fingerprint": "ab"}, {"edges": 17, "fingerprint": "ab"})
    assert mcc.differences({"edges": 16, "fingerprint": "ac"}, {"edges": 16, "fingerprint": "ab"})


def test_stale_constants_are_named(home_dir):
    """A stored MMD example off by a real amount is reported, by its path."""
    engine = json.loads(json.dumps(checks.load_constants()))
    engine["mmd"]["default"]["expected"] += 1e-3
    stale = mcc.stale_sections(engine, checks.dataset_constants(), str(home_dir))
    assert [line.split(" stored")[0] for line in stale] == \
        [f"mmd.default.expected: {engine['mmd']['default']['expected']!r}"]


def test_constants_have_every_section():
    assert set(checks.load_constants()) == {"metrics", "mmd"}
    constants = checks.dataset_constants()  # Home's, beside the manifest
    assert {"witg", "popularity", "runs", "generated_by"} == set(constants)
    assert set(constants["witg"]) == {"quick", "full"}
    full = constants["witg"]["full"]
    assert (full["nodes"], full["edges"]) == (28238, 1617638)  # the course notebook's WITG
    # the course notebook: 1,135,914.004 as a float64 sum of the float32 weights; exactly 1,135,914
    assert full["total_sixths"] == 6 * 1135914
    quick = constants["runs"]["quick"]
    for kind in ("losses", "metrics"):
        assert all(v > 0 for v in quick[kind]["tolerance"].values())
        assert quick[kind]["spread"]


def test_fingerprint_ignores_edge_order(quick_graph):
    generator = torch.Generator().manual_seed(0)
    perm = torch.randperm(quick_graph.edge_index.shape[1], generator=generator)
    edge_index, edge_attr = quick_graph.edge_index[:, perm], quick_graph.edge_attr[perm]
    shuffled = checks.graph_fingerprint(edge_index, edge_attr)
    assert shuffled == checks.graph_fingerprint(quick_graph.edge_index, quick_graph.edge_attr)


# ---------------------------------------------------------------------------- WITG

def test_check_witg_passes_on_the_answer(quick_graph, capsys):
    assert checks.check_witg(quick_graph, "quick")
    out = capsys.readouterr().out
    assert "❌" not in out and "정답 그래프와 동일" in out


def test_check_witg_detects_mode_from_node_count(quick_graph):
    assert checks.check_witg(quick_graph, quiet=True)


@pytest.mark.parametrize("kind", sorted(checks.WITG_HINTS))
def test_check_witg_names_each_mistake(quick_data, kind, capsys):
    assert not checks.check_witg(wrong_graph(quick_data, kind), "quick")
    out = capsys.readouterr().out
    assert out.count(checks.WITG_HINTS[kind].splitlines()[0]) == 1  # once, however many items


FINGERPRINT_HINT = "개수는 맞지만 어떤 엣지의 가중치가 다릅니다"


def test_the_fingerprint_hint_needs_the_counts_to_match(quick_data, quick_graph, capsys):
    """Two different weights swapped: the counts match, the graph differs, so the hint; a
    mistake that changes the counts gets its own hints, never this one."""
    from torch_geometric.data import Data

    weight = quick_graph.edge_attr.clone().view(-1)
    other = int((weight != weight[0]).nonzero()[0])
    weight[[0, other]] = weight[[other, 0]]
    swapped = Data(x=quick_graph.x, edge_index=quick_graph.edge_index, edge_attr=weight.view(-1, 1))
    assert not checks.check_witg(swapped, "quick")
    out = capsys.readouterr().out
    assert "✅ 엣지 수" in out and "✅ 가중치 합" in out and FINGERPRINT_HINT in out
    assert not checks.check_witg(wrong_graph(quick_data, "overwrite"), "quick")
    out = capsys.readouterr().out
    assert "❌ 가중치 합" in out and "❌ 정답 그래프와 동일" in out and FINGERPRINT_HINT not in out


def test_check_witg_rejects_something_else(capsys):
    assert not checks.check_witg({"not": "a graph"}, "quick")
    assert "convert_to_pyg_data" in capsys.readouterr().out


def test_witg_example_matches_the_notebook_table(tmp_path):
    graph = reference.build_weighted_item_transition_graph(
        str(checks.write_witg_example(tmp_path / "example.txt")))
    got = checks.graph_as_dict(graph)
    assert graph.num_nodes == 7 and len(got) == 19  # 8 pairs × 2, the self-loop, {5, 6} × 2
    assert got[(2, 3)] == got[(3, 2)] == 2.0 and got[(1, 4)] == pytest.approx(1 / 3, abs=1e-4)
    assert got[(5, 5)] == 2.0 and got[(5, 6)] == got[(6, 5)] == 1.5  # [5, 5, 6]


def _public_witg_test(build) -> None:
    """Run the release notebook's visible WITG test cell against ``build``."""
    import nbformat
    from torch_geometric.data import Data

    from grading.release import RELEASE

    cell = next(c.source for c in nbformat.read(RELEASE, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "witg_tests")
    example = checks.write_witg_example(Path(tempfile.mkdtemp()) / "example.txt")
    exec(cell, {"math": math, "Data": Data, "graph_as_dict": checks.graph_as_dict,  # noqa: S102
                "example_file": example, "build_weighted_item_transition_graph": build})


def _self_loops_scaled(factor: float):
    """The reference WITG with every self-loop's weight times ``factor`` (0: dropped)."""
    from torch_geometric.data import Data

    def build(path: str):
        graph = reference.build_weighted_item_transition_graph(path)
        loop = graph.edge_index[0] == graph.edge_index[1]
        weight = graph.edge_attr.clone()
        weight[loop] *= factor
        keep = ~loop | (weight.view(-1) > 0)
        return Data(x=graph.x, edge_index=graph.edge_index[:, keep], edge_attr=weight[keep])
    return build


def test_the_visible_witg_test_passes_the_answer():
    _public_witg_test(reference.build_weighted_item_transition_graph)


@pytest.mark.parametrize("factor", [0.0, 0.5], ids=["no-self-loop", "self-loop-added-once"])
def test_the_visible_witg_test_catches_a_wrong_self_loop_with_a_hint(factor):
    with pytest.raises(AssertionError, match=r"자기 루프 w\(5, 5\) = (0\.0|1\.0), 기대값 2"):
        _public_witg_test(_self_loops_scaled(factor))


# ---------------------------------------------------------------------------- metrics

def test_check_metrics_passes_on_the_answer(capsys):
    assert checks.check_metrics(reference.recall_at_k, reference.ndcg_at_k)
    assert "❌" not in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(checks.RECALL_HINTS))
def test_check_metrics_names_each_recall_mistake(kind, capsys):
    assert not checks.check_metrics(mcc._recall_variant(kind), reference.ndcg_at_k)
    assert checks.RECALL_HINTS[kind] in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(checks.NDCG_HINTS))
def test_check_metrics_names_each_ndcg_mistake(kind, capsys):
    assert not checks.check_metrics(reference.recall_at_k, mcc._ndcg_variant(kind))
    out = capsys.readouterr().out
    if kind == "rank_from_zero":  # log2(1) = 0: the function crashes
        assert "ZeroDivisionError" in out and "1/log₂(1 + 1) = 1" in out
    else:
        assert checks.NDCG_HINTS[kind] in out


def test_the_english_edition_checks_in_english(capsys, monkeypatch):
    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert not checks.check_metrics(mcc._recall_variant("precision"), reference.ndcg_at_k)
    assert not checks.check_mmd(lambda s, t, **kw: reference.mmd_loss(s, t, **kw).sqrt())
    out = capsys.readouterr().out
    assert "── Recall@k / NDCG@k check ──" in out and "── MMD loss check ──" in out
    assert "It looks like you divided the hits by k (that is precision)." in out
    assert "It looks like you took a square root." in out
    assert "→ Read the hints of the failed items." in out
    assert not re.search("[가-힣]", out)


def test_the_reference_note_is_worded_when_shown_in_the_editions_language(capsys, monkeypatch):
    """The constants store the seeds, not a note in one language (the English edition's wheel
    holds no Hangul); the check words the note in the edition's language."""
    stored = checks.dataset_constants()["runs"]
    assert not [(mode, kind) for mode in ("quick", "full") for kind in ("losses", "metrics")
                if "note" in stored[mode][kind]]
    ref = stored["quick"]["losses"]
    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setenv(i18n.LANG_ENV, "ko")
    assert checks.check_losses([ref["values"][name] for name in checks.LOSS_NAMES], "quick")
    assert (f"기준값: 참조 답안으로 강사가 돌린 quick 모드의 seed {ref['seeds'][0]} 실행. "
            f"허용 오차: seed {len(ref['seeds'])}개 실행에서 잰 편차로 정했습니다"
            ) in capsys.readouterr().out
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert checks.check_losses([ref["values"][name] for name in checks.LOSS_NAMES], "quick")
    out = capsys.readouterr().out
    assert "── Loss check (quick) ──" in out and not re.search("[가-힣]", out)
    assert (f"Reference values: a quick-mode run the instructor made with the reference "
            f"answers, seed {ref['seeds'][0]}. Tolerances: the spread measured over "
            f"{len(ref['seeds'])} seeds") in out


def test_check_metrics_explains_no_user_crash(capsys):
    def crashes_without_users(actual, predicted, k):
        pairs = zip(actual, predicted, strict=True)
        scores = [len(set(a) & set(p[:k])) / len(a) for a, p in pairs if a]
        return sum(scores) / len(scores)

    assert not checks.check_metrics(crashes_without_users, reference.ndcg_at_k)
    assert "평가할 사용자가 없으면 0.0" in capsys.readouterr().out


def test_check_metrics_reports_unimplemented(capsys):
    def todo(actual, predicted, k):
        raise NotImplementedError()

    assert not checks.check_metrics(todo, todo)
    assert "NotImplementedError" in capsys.readouterr().out


# ---------------------------------------------------------------------------- MMD

def test_check_mmd_passes_on_the_answer(capsys):
    assert checks.check_mmd(reference.mmd_loss)
    assert "❌" not in capsys.readouterr().out


@pytest.mark.parametrize("kind", sorted(checks.MMD_HINTS))
def test_check_mmd_names_each_mistake(kind, capsys):
    assert not checks.check_mmd(mcc._mmd_variant(kind))
    assert checks.MMD_HINTS[kind] in capsys.readouterr().out


def test_check_mmd_rejects_a_python_float(capsys):
    assert not checks.check_mmd(lambda s, t, **kw: float(reference.mmd_loss(s, t, **kw)))
    assert "스칼라" in capsys.readouterr().out


# ---------------------------------------------------------------------------- NT-Xent

def textbook_nt_xent(view_a, view_b, temperature=0.5):
    """SimCLR's per-row NT-Xent, row by row over ``[view_a; view_b]``, summed over the 2B rows
    and divided by B (the two views' losses added, as in GCL4SR)."""
    rows = torch.cat([view_a, view_b])
    batch, n = view_a.shape[0], rows.shape[0]
    total = 0.0
    for i in range(n):
        cosines = torch.nn.functional.cosine_similarity(rows[i:i + 1], rows, dim=1) / temperature
        others = torch.cat([cosines[:i], cosines[i + 1:]])
        total = total - (cosines[(i + batch) % n] - torch.logsumexp(others, dim=0))
    return total / batch


NT_XENT_MISTAKES = sorted(m for m in MISTAKES if m.startswith("nt_xent."))


def test_check_nt_xent_passes_on_a_textbook_implementation(capsys):
    assert checks.check_nt_xent(textbook_nt_xent)
    out = capsys.readouterr().out
    assert "❌" not in out and "모두 통과했습니다" in out


def test_the_nt_xent_mistakes_are_the_hint_table():
    assert NT_XENT_MISTAKES == sorted(f"nt_xent.{key}" for key in checks.NT_XENT_HINTS)
    assert len(NT_XENT_MISTAKES) >= 3


@pytest.mark.parametrize("mistake_id", NT_XENT_MISTAKES)
def test_check_nt_xent_names_each_mistake(mistake_id, capsys):
    mistake = MISTAKES[mistake_id]
    assert not checks.check_nt_xent(mistake.function)
    out = capsys.readouterr().out
    assert "❌" in out and f"💡 {mistake.hint}" in out
    key = mistake_id.partition(".")[2]
    others = [hint for other, hint in checks.NT_XENT_HINTS.items() if other != key]
    assert not [hint for hint in others if hint in out], "a hint that names another mistake"


def test_check_nt_xent_skips_an_unfilled_todo(capsys):
    def todo(view_a, view_b, temperature=0.5):
        raise NotImplementedError()

    assert not checks.check_nt_xent(todo)
    out = capsys.readouterr().out
    assert "건너뜁니다" in out and "선택 과제" in out and "❌" not in out and "💡" not in out


def test_check_nt_xent_reports_a_crash_and_a_python_float(capsys):
    def crashes(view_a, view_b, temperature=0.5):
        return view_a @ view_b  # [B, d] @ [B, d]

    def as_float(view_a, view_b, temperature=0.5):
        return textbook_nt_xent(view_a, view_b, temperature).item()

    assert not checks.check_nt_xent(crashes)
    assert "RuntimeError" in capsys.readouterr().out
    assert not checks.check_nt_xent(as_float)
    assert "스칼라" in capsys.readouterr().out


def test_the_solution_cells_nt_xent_passes_the_check(capsys):
    from grading.release import SOLUTION

    cell = next(c.source for c in nbformat.read(SOLUTION, as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "nt_xent")
    space = {"torch": torch, "Tensor": torch.Tensor}
    exec(cell, space)  # noqa: S102
    assert checks.check_nt_xent(space["nt_xent"])


# ---------------------------------------------------------------------------- runs

def quick_reference(kind):
    return checks.dataset_constants()["runs"]["quick"][kind]


def test_check_losses_passes_on_the_reference(capsys):
    values = quick_reference("losses")["values"]
    assert checks.check_losses([values[n] for n in checks.LOSS_NAMES], "quick")
    assert "❌" not in capsys.readouterr().out


def test_check_losses_flags_a_negative_mmd(capsys):
    ref = quick_reference("losses")
    values = [ref["values"]["main"], ref["values"]["gcl"], ref["mistakes"]["sign"]]
    assert not checks.check_losses(values, "quick")
    assert checks.MMD_HINTS["sign"] in capsys.readouterr().out


def test_check_losses_names_missing_cross_terms(capsys):
    ref = quick_reference("losses")
    values = [ref["values"]["main"], ref["values"]["gcl"], ref["mistakes"]["no_cross"]]
    assert not checks.check_losses(values, "quick")
    assert checks.MMD_HINTS["no_cross"] in capsys.readouterr().out


def test_check_losses_rejects_nan_and_wrong_shape(capsys):
    assert not checks.check_losses([math.nan, 1.0, 1.0], "quick")
    assert not checks.check_losses([1.0, 2.0], "quick")
    assert "run.train_epoch(...).averages" in capsys.readouterr().out  # the notebook's names
    assert not checks.check_eval({"Recall@10": 0.1}, "quick")
    assert "run.test(...)" in capsys.readouterr().out


def test_missing_full_reference_is_not_a_pass(monkeypatch, capsys):
    constants = json.loads(json.dumps(checks.dataset_constants()))
    constants["runs"].pop("full", None)
    monkeypatch.setattr(checks.runs, "dataset_constants", lambda data=None: constants)
    checks.check_losses([9.9, 15.3, 0.27], "full")
    checks.check_eval({"Recall@10": 0.008, "Recall@20": 0.015, "NDCG@10": 0.004,
                       "NDCG@20": 0.006}, "full")
    out = capsys.readouterr().out
    assert out.count("기준값이 아직 저장되어 있지 않습니다") == 2
    assert "통과로 치지 않습니다" in out and "모두 통과했습니다" not in out


def test_graded_run_has_no_reference_but_keeps_the_consistency_checks(capsys):
    """nbgrader's one-batch run: no comparison with the quick references, said as such; the
    checks that need no reference still fail."""
    checks.check_losses([9.9, 15.3, 0.27], None)
    checks.check_eval({"Recall@10": 0.01, "Recall@20": 0.02, "NDCG@10": 0.005,
                       "NDCG@20": 0.006}, None)
    out = capsys.readouterr().out
    assert out.count("학습 배치 1개만 돌리므로") == 2 and "❌" not in out
    assert out.count("비교는 하지 못했습니다") == 2 and "모두 통과했습니다" not in out
    assert not checks.check_losses([9.9, 15.3, -0.2], None)
    assert "❌" in capsys.readouterr().out


def test_check_eval_passes_on_the_reference(capsys):
    assert checks.check_eval(quick_reference("metrics")["values"], "quick")
    assert "❌" not in capsys.readouterr().out


def test_check_eval_flags_inconsistent_metrics(capsys):
    metrics = {"Recall@10": 0.001, "Recall@20": 0.0005, "NDCG@10": 0.002, "NDCG@20": 0.0004}
    assert not checks.check_eval(metrics, "quick")
    out = capsys.readouterr().out
    assert "k가 커지면" in out and "IDCG = 1" in out


# ---------------------------------------------------------------------------- baseline, plots

def test_check_popularity_compares_mostpop_scored_by_the_students_metrics(quick_data, capsys):
    actual, predicted = baselines.most_popular_ranking(quick_data)
    scores = {f"{name}@{k}": fn(actual, predicted, k) for k in (10, 20)
              for name, fn in (("Recall", reference.recall_at_k), ("NDCG", reference.ndcg_at_k))}
    assert checks.check_popularity(scores, "quick")
    assert "❌" not in capsys.readouterr().out
    precision = mcc._recall_variant("precision")
    wrong = {**scores, **{f"Recall@{k}": precision(actual, predicted, k) for k in (10, 20)}}
    assert not checks.check_popularity(wrong, "quick")
    assert "check_metrics" in capsys.readouterr().out


def test_most_popular_matches_the_course_notebook(home_data):
    actual, predicted = baselines.most_popular_ranking(home_data)
    got = [fn(actual, predicted, k) for fn in (reference.recall_at_k, reference.ndcg_at_k)
           for k in (10, 20)]
    # the course notebook's MostPop
    assert got == pytest.approx([0.0076, 0.0125, 0.0037, 0.0050], abs=5e-5)
    seen = home_data.test_history
    for user in (0, 1, 500):
        assert not set(predicted[user]) & set(seen[user].indices) and 0 not in predicted[user]


# ---------------------------------------------------------------------------- plots

def _all_figures(data, graph):
    history = [(9.2, 16.6, 5.0), (9.1, 16.5, 4.0), (9.0, 16.4, 3.0)]
    return [plots.plot_sequence_lengths(data), plots.plot_graph_distribution(graph),
            plots.plot_losses(history, {"main": 9.18}),
            plots.plot_losses(np.tile(history, (20, 1))),
            plots.plot_metric_comparison({"a": {"Recall@10": 0.1}, "b": {"Recall@10": 0.2}},
                                         "Home"),
            plots.plot_small_graph(graph_of({(1, 2): 1.0, (2, 1): 1.0, (2, 2): 2.0}, 3))]


def _draw_and_close(make) -> tuple[list, list[str]]:
    """The figures ``make()`` returns, each rendered and closed, and the warnings raised while
    making and rendering them (glyphs are looked up by the layout and the drawing)."""
    import io

    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures = make()
        for figure in figures:
            figure.savefig(io.BytesIO(), format="png", dpi=40)
            plt.close(figure)
    return figures, [str(w.message) for w in caught]


def graph_of(weights: dict[tuple[int, int], float], nodes: int):
    from torch_geometric.data import Data

    edges = sorted(weights)
    return Data(x=torch.arange(nodes).view(-1, 1), num_nodes=nodes,
                edge_index=torch.tensor(edges, dtype=torch.long).t().reshape(2, -1),
                edge_attr=torch.tensor([weights[e] for e in edges]).view(-1, 1))


def test_without_a_korean_font_the_plots_are_english_and_miss_no_glyph(quick_data, quick_graph,
                                                                      monkeypatch):
    monkeypatch.setattr(plots, "korean_font", lambda: None)
    figures, caught = _draw_and_close(lambda: _all_figures(quick_data, quick_graph))
    assert caught == []
    assert figures[0].axes[0].get_title() == "Home: sequence lengths of 2,000 users"
    assert figures[4].axes[0].get_title() == "Test metrics on Home (full ranking)"
    assert figures[2].axes[0].get_legend().get_texts()[-1].get_text() == "no learning"


def test_a_hangul_label_without_a_korean_font_would_warn(monkeypatch):
    """What the test above would see if an English path leaked a Korean label."""
    monkeypatch.setattr(plots, "korean_font", lambda: None)
    monkeypatch.setitem(i18n.catalogue("en"), "plot.score", "점수")
    _, caught = _draw_and_close(lambda: [plots.plot_metric_comparison({"a": {"R": 0.1}}, "Home")])
    assert any("Glyph" in message and "missing" in message for message in caught)


def test_with_a_korean_font_the_plots_are_korean_and_miss_no_glyph(quick_data, quick_graph):
    font = plots.korean_font()
    if font is None:
        pytest.skip("no font with Hangul installed here (.ci/run installs fonts-nanum)")
    figures, caught = _draw_and_close(lambda: _all_figures(quick_data, quick_graph))
    assert caught == []
    title = figures[0].axes[0].title
    assert title.get_text() == "Home: 사용자 2,000명의 시퀀스 길이"
    assert title.get_fontfamily()[0] == font
    assert figures[4].axes[0].get_title() == "Home 테스트 지표 (전체 랭킹)"
    assert figures[2].axes[0].get_legend().get_texts()[-1].get_text() == "아무것도 배우지 않았을 때"


@pytest.mark.parametrize("korean", [True, False])
def test_the_results_table_names_its_rows_like_the_chart_and_keeps_its_columns(monkeypatch,
                                                                              korean):
    import unicodedata

    monkeypatch.setattr(plots, "korean_font", lambda: "NanumGothic" if korean else None)
    rows = {plots.label("ours"): {"Recall@10": 0.01, "NDCG@20": 0.005},
            plots.label("mostpop"): {"Recall@10": 0.0076, "NDCG@20": 0.005},
            plots.label("paper", name="GCL4SR"): {"Recall@10": 0.0365, "NDCG@20": 0.0269}}
    lines = plots.metric_table(rows, "Home").splitlines()
    assert [line.split("  ")[0] for line in lines] == ["Home", *rows]
    assert ("GCL4SR (논문)" in rows) == korean and ("GCL4SR (paper)" in rows) != korean
    columns = {sum(1 + (unicodedata.east_asian_width(c) in "WF") for c in line) for line in lines}
    assert len(columns) == 1, lines  # every line as wide on screen: the metrics line up
    assert lines[3].endswith("     0.0365     0.0269")


def test_every_label_has_an_english_form_any_font_draws():
    english, korean = plots.LABELS.in_language("en"), plots.LABELS.in_language("ko")
    assert len(english) > 30 and "lengths_title" in english
    for key in english:
        assert not re.search("[가-힣]", english[key]), key  # DejaVu Sans draws it
        assert korean[key] == english[key] or re.search("[가-힣]", korean[key]), key


def test_the_english_edition_draws_english_labels_with_a_korean_font(monkeypatch):
    monkeypatch.setattr(plots, "korean_font", lambda: "NanumGothic")
    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert plots.label("paper", name="GCL4SR") == "GCL4SR (paper)"
    monkeypatch.setenv(i18n.LANG_ENV, "ko")
    assert plots.label("paper", name="GCL4SR") == "GCL4SR (논문)"


def test_a_font_is_taken_only_if_it_has_hangul(tmp_path):
    from matplotlib import font_manager

    dejavu = font_manager.findfont("DejaVu Sans")
    impostor = font_manager.FontEntry(fname=dejavu, name="NanumGothic")
    assert plots.find_korean_font([impostor], lambda: [dejavu]) is None
    nanum = [path for path in font_manager.findSystemFonts() if "NanumGothic.ttf" in path]
    if nanum:  # a file matplotlib's cache may predate: found among the system's files
        assert plots.find_korean_font([], lambda: nanum) == "NanumGothic"


def test_the_small_graph_shows_each_weight_once_and_the_self_loop(monkeypatch):
    """The worked example's third sequence [5, 5, 6] and a pair linked one way only."""
    monkeypatch.setattr(plots, "korean_font", lambda: None)
    figure = plots.plot_small_graph(graph_of({(5, 5): 2.0, (5, 6): 1.5, (6, 5): 1.5,
                                              (1, 2): 1 / 3, (2, 1): 1 / 3, (3, 4): 0.5}, 7))
    texts = sorted(text.get_text() for text in figure.axes[0].texts)
    assert texts == sorted(["2", "1.5", "1/3", "1/2 / -", *map(str, range(7))])
    patches = figure.axes[0].patches
    assert len([patch for patch in patches if not patch.get_fill()]) == 1  # the self-loop's ring
    white = [patch for patch in patches if patch.get_fill()
             and tuple(patch.get_facecolor()[:3]) == (1.0, 1.0, 1.0)]
    assert len(white) == 1  # node 0, which has no edge, drawn hollow
    assert figure.axes[0].get_title() == "7 nodes, 6 directed edges (line width: weight)"
    with pytest.raises(ValueError, match="31"):
        plots.plot_small_graph(graph_of({(1, 2): 1.0}, 31))


def test_full_reference_comes_from_the_stored_seed_runs(tmp_path):
    names = (*checks.LOSS_NAMES, *checks.METRIC_NAMES)
    runs = [{"seed": seed, "values": {n: 1.0 + 0.01 * i for n in names}}
            for i, seed in enumerate((2026, 1, 2))]
    stored = tmp_path / "home_seed_runs.json"
    stored.write_text(json.dumps({"runs": runs[:2]}))
    with pytest.raises(ValueError, match="at least 3 seeds"):
        mcc.full_runs(stored)
    stored.write_text(json.dumps({"runs": runs}))
    full = mcc.full_runs(stored)
    assert full["losses"]["values"]["main"] == 1.0 and full["losses"]["seeds"] == [2026, 1, 2]
    sigma = 0.01
    assert full["metrics"]["tolerance"]["NDCG@10"] == pytest.approx(3 * math.sqrt(2) * sigma)
    assert full["losses"]["spread"]["mmd"] == pytest.approx(0.02)


def test_graded_runs_draw_no_figure_and_never_import_pyplot():
    """Under nbgrader every plot returns None with a one-line notice, and matplotlib's pyplot is
    never imported (its import and the drawing are CPU time of every graded submission)."""
    code = ("import sys\nfrom gcl4sr_helpers import plots\n"
            "assert plots.plot_lesson({}) is None and plots.plot_losses([]) is None\n"
            "print(sorted(m for m in sys.modules if m.startswith('matplotlib.pyplot')))")
    env = {**os.environ, "NBGRADER_EXECUTION": "autograde", "GCL4SR_LANG": "en"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(The graded run draws no figures; no point depends on "
                                        "them.)"] * 2 + ["[]"]
