"""The full-training command end to end on a small subset, and the results table built from it."""

import importlib.util
import json
from pathlib import Path

from grading import train

REPO_BENCH = Path(__file__).resolve().parents[1] / "bench" / "full_table.py"


def load_full_table():
    spec = importlib.util.spec_from_file_location("full_table", REPO_BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_command_writes_logs_curve_and_a_table_row(home_dir, tmp_path):
    run_dir = tmp_path / "full" / "lam1_0"
    train.main(["--run-dir", str(run_dir), "--data-dir", str(home_dir), "--max-users", "300",
                "--epochs", "2", "--lam1", "0", "--unweighted-graph"])
    for name in ("cli.json", "config.json", "metrics.jsonl", "result.json", "curve.png"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "config.json").read_text())["lam1"] == 0.0
    full_table = load_full_table()
    rows = full_table.run_rows(tmp_path / "full")
    assert [row["name"] for row in rows] == ["lam1_0"]
    assert rows[0]["label"] == "GCL4SR fixed (default), λ1 = 0, λ2 = 0.1, unweighted WITG"
    assert rows[0]["finished"] and rows[0]["epochs_run"] == 2
    popular = dict.fromkeys(full_table.METRIC_NAMES, 0.0)
    markdown = full_table.table(rows, popular)
    assert "| paper: GCL4SR |" in markdown and "`lam1_0`" in markdown
    assert f"{rows[0]['test']['NDCG@20']:.4f}" in markdown.splitlines()[-1]


def test_table_labels_runs_made_on_a_gpu(tmp_path):
    cli = {"legacy": True, "lam1": 1.0, "lam2": 0.1, "unweighted_graph": False}
    describe = load_full_table().describe
    for device, label in ((None, "GCL4SR legacy"), ("cpu", "GCL4SR legacy"),
                          ("cuda", "GCL4SR legacy on GPU"), ("cuda:1", "GCL4SR legacy on GPU")):
        (tmp_path / "cli.json").write_text(json.dumps({**cli, "device": device}))
        assert describe(tmp_path) == label
