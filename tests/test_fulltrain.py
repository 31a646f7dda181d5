"""Full training: early-stopping loop, logs, and a resume that continues the same run."""

import json

import pytest

from grading.instructor.builders.fulltrain import FullConfig, read_log, train_full
from grading.instructor.checking.reference import mmd_loss, ndcg_at_k, recall_at_k

CONFIG = FullConfig(epochs=2, batch_size=512, eval_batch_size=512, seed=3)


def run(data, graph, run_dir, **kwargs):
    return train_full(data, graph, mmd_loss, recall_at_k, ndcg_at_k, CONFIG, run_dir,
                      device="cpu", progress=False, **kwargs)


def test_full_run_logs_every_epoch_and_tests_the_best(small_data, small_graph, tmp_path):
    state = run(small_data, small_graph, tmp_path / "whole")
    log = read_log(tmp_path / "whole")
    assert [line["epoch"] for line in log] == [0, 1]
    assert state["finished"] and state["epoch"] == 1
    result = json.loads((tmp_path / "whole" / "result.json").read_text())
    assert result["finished"] is True
    assert set(result["test"]) == {"Recall@10", "Recall@20", "NDCG@10", "NDCG@20"}
    assert result["best_epoch"] in (0, 1)
    assert log[1]["lr"] == pytest.approx(CONFIG.lr)  # StepLR(5) has not stepped down yet
    assert (tmp_path / "whole" / "best.pth").exists() and (tmp_path / "whole" / "last.pth").exists()


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_numbers(small_data, small_graph, tmp_path):
    first = run(small_data, small_graph, tmp_path / "split", time_budget_minutes=1e-9)
    assert not first.get("finished") and first["epoch"] == 0
    provisional = json.loads((tmp_path / "split" / "result.json").read_text())
    assert provisional["finished"] is False and provisional["epochs_run"] == 1
    run(small_data, small_graph, tmp_path / "split")
    run(small_data, small_graph, tmp_path / "whole")
    split, whole = read_log(tmp_path / "split"), read_log(tmp_path / "whole")
    assert [line["epoch"] for line in split] == [0, 1]
    for a, b in zip(split, whole, strict=True):
        for key in ("main", "gcl", "mmd", "valid_NDCG@20", "valid_Recall@20"):
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-6), key
