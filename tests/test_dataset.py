"""Any dataset: how a folder is described, and a generated dataset unlike Home (1-based user
ids, another item count and file name, repeated items, no train-sequence file) run through
the reference run, full training, the check constants, the notebook with and without them,
and class grading."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gcl4sr_helpers import checks
from gcl4sr_helpers.data import load_data
from gcl4sr_helpers.dataset import CONSTANTS_FILE, HOME_CONSTANTS_PATH, describe_dataset
from gcl4sr_helpers.download import ChecksumError, sha256_file
from grading import reference_run, train
from grading.instructor.checking import reference
from grading.instructor.run.course import ASSIGNMENT
from grading.release import SOLUTION

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

from generated_dataset import FILE, NAME, USERS, write_dataset  # noqa: E402

NO_REFERENCE = "이 데이터셋에는 기준값이 없습니다"  # the Korean notice, no constants

POINTS = 20  # every graded cell of the notebook (tests/test_notebooks.py lists them)


# ---------------------------------------------------------------------------- the folder

def test_a_folder_without_dataset_json_uses_its_only_sequence_file(tmp_path):
    (tmp_path / "beauty.txt").write_text("a 1,2,3\n")
    (tmp_path / "all_train_seq.txt").write_text("a 1\n")
    dataset = describe_dataset(tmp_path)
    assert (dataset.name, dataset.sequence_file) == ("beauty", tmp_path / "beauty.txt")
    assert dataset.paper == {} and dataset.constants() is None and not dataset.is_home
    assert describe_dataset(tmp_path, name="Beauty 2014").name == "Beauty 2014"


def test_several_or_no_sequence_files_ask_for_a_name(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no \*\.txt sequence file.*dataset\.json"):
        describe_dataset(tmp_path)
    (tmp_path / "a.txt").write_text("0 1,2,3\n")
    (tmp_path / "b.txt").write_text("0 1,2,3\n")
    with pytest.raises(FileNotFoundError, match=r"several candidates \(a\.txt, b\.txt\)"):
        describe_dataset(tmp_path)
    assert describe_dataset(tmp_path, file="b.txt").sequence_file.name == "b.txt"
    with pytest.raises(FileNotFoundError, match="has no c.txt"):
        describe_dataset(tmp_path, file="c.txt")


def test_dataset_json_names_file_checksum_and_paper_figures(tmp_path):
    (tmp_path / "seq.txt").write_text("0 1,2,3\n")
    (tmp_path / "other.txt").write_text("0 1,2,3\n")
    meta = {"name": "Toys", "file": "seq.txt", "sha256": sha256_file(tmp_path / "seq.txt"),
            "paper": {"source": "a table", "results": {"SASRec": {"Recall@10": 0.05}}}}
    (tmp_path / "dataset.json").write_text(json.dumps(meta))
    dataset = describe_dataset(tmp_path)
    assert (dataset.name, dataset.sequence_file.name) == ("Toys", "seq.txt")
    assert dataset.paper == {"SASRec": {"Recall@10": 0.05}} and dataset.paper_source == "a table"
    (tmp_path / "seq.txt").write_text("0 1,2,4\n")
    with pytest.raises(ChecksumError, match="differs from"):
        describe_dataset(tmp_path)


@pytest.mark.parametrize("meta", [{"name": "x"}, {"file": ""}, {"file": "seq.txt",
                                                                  "paper": {"results": [1]}}])
def test_a_bad_dataset_json_is_explained(tmp_path, meta):
    (tmp_path / "seq.txt").write_text("0 1,2,3\n")
    (tmp_path / "dataset.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="dataset.json"):
        describe_dataset(tmp_path)


def test_home_is_recognised_by_its_checksum(home_dir):
    dataset = describe_dataset(home_dir)
    assert dataset.name == "Home" and dataset.is_home
    assert dataset.constants_path == HOME_CONSTANTS_PATH
    assert dataset.paper["GCL4SR"] == {"Recall@10": 0.0313, "Recall@20": 0.0422,
                                       "NDCG@10": 0.0190, "NDCG@20": 0.0218}  # paper, Table 2


# ---------------------------------------------------------------------------- checks

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data")


def test_checks_without_constants_measure_and_never_blame(tiny, capsys):
    data = load_data(tiny, cache_dir=tiny.parent / "cache")
    assert data.dataset.constants() is None and data.relabelled
    graph = reference.build_weighted_item_transition_graph(str(data.train_sequence_file))
    assert checks.check_witg(graph, "full", data=data)
    assert checks.check_losses([5.1, 16.0, 5.4], "full", data=data)
    assert checks.check_eval({"Recall@10": 0.05, "Recall@20": 0.09, "NDCG@10": 0.02,
                              "NDCG@20": 0.03}, "full", data=data)
    out = capsys.readouterr().out
    assert "❌" not in out and "💡" not in out and out.count(NO_REFERENCE) == 3
    assert f"엣지 수 (방향 포함): {graph.num_edges:,}" in out and "main 손실: 5.1000" in out
    from gcl4sr_helpers.graph import convert_to_pyg_data
    from grading.instructor.builders.check_constants import _witg_adjacency

    sequences = [seq[:-2] for seq in data.sequences]
    one_way = convert_to_pyg_data(_witg_adjacency(sequences, graph.num_nodes, "one_direction"),
                                  graph.num_nodes)
    assert not checks.check_witg(one_way, "full", data=data)
    fewer = convert_to_pyg_data(_witg_adjacency(sequences, graph.num_nodes), graph.num_nodes - 1)
    assert not checks.check_witg(fewer, "full", data=data)
    out = capsys.readouterr().out
    assert checks.WITG_HINTS["one_direction"] in out and f"(기대 {graph.num_nodes:,})" in out


# ---------------------------------------------------------------------------- commands

@pytest.mark.slow
def test_reference_run_and_full_training_on_the_generated_data(tiny, tmp_path):
    result = reference_run.main(["--data-dir", str(tiny), "--json", str(tmp_path / "r.json")])
    assert result["dataset"] == NAME and 0.0 <= result["metrics"]["NDCG@20"] <= 1.0
    state = train.main(["--run-dir", str(tmp_path / "run"), "--data-dir", str(tiny),
                        "--epochs", "2"])
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert state["finished"] and saved["dataset"] == NAME and saved["epochs_run"] == 2
    assert (tmp_path / "run" / "curve.png").is_file()


def _env(data: Path) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER")}
    environ.update(PYTHONPATH=str(REPO), GCL4SR_DATA=str(data), GCL4SR_QUICK="1",
                   PYTHONIOENCODING="utf-8", MPLBACKEND="Agg")
    return environ


def _run(command: list[str], data: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=REPO, env=_env(data), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _check_outputs(data: Path, out: Path) -> list[str]:
    """Execute the solution notebook on ``data`` (quick mode); the text of its check cells."""
    _run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
          str(SOLUTION), "--output-dir", str(out), "--ExecutePreprocessor.timeout=600"], data)
    cells = nbformat.read(out / SOLUTION.name, as_version=4).cells
    return ["".join(o.get("text", "") for o in c.outputs) for c in cells
            if c.cell_type == "code" and (re.search(r"\bcheck_\w+\(", c.source)
                                          or "most_popular_ranking" in c.source
                                          or "load_data(" in c.source)]


@pytest.fixture(scope="module")
def without_constants(tiny, tmp_path_factory):
    return _check_outputs(tiny, tmp_path_factory.mktemp("nb_without"))


def test_notebook_on_a_dataset_without_constants_shows_no_mistake(without_constants):
    text = "\n".join(without_constants)
    assert "❌" not in text and "💡" not in text
    assert text.count(NO_REFERENCE) == 4  # WITG, losses, test metrics, MostPop
    assert f"데이터셋: {NAME} ({FILE}; 점검 기준값 없음, 논문 수치 없음)" in text
    assert f"0..{USERS - 1}로 바꿔 씁니다" in text
    assert "(paper)" not in text and "(논문)" not in text  # the results table's paper rows
    assert f"{NAME} 데이터셋에는 논문 수치가 없어" in text


@pytest.fixture(scope="module")
def with_constants(tiny, without_constants, tmp_path_factory):
    _run([sys.executable, "-m", "grading.make_check_constants", "--data-dir", str(tiny),
          "--full-seeds", "2026", "1", "2"], tiny)
    return _check_outputs(tiny, tmp_path_factory.mktemp("nb_with"))


def test_constants_are_stored_with_the_dataset(tiny, with_constants):
    stored = json.loads((tiny / CONSTANTS_FILE).read_text())
    data = load_data(tiny)
    assert stored["witg"]["full"]["nodes"] == data.num_items  # every item id occurs early
    assert set(stored["runs"]) == set(stored["popularity"]) == {"quick", "full"}
    assert stored["runs"]["full"]["losses"]["seeds"] == [2026, 1, 2]


def test_notebook_checks_pass_on_the_constants_built_for_it(with_constants):
    text = "\n".join(with_constants)
    assert "❌" not in text and NO_REFERENCE not in text
    # WITG, metrics, MMD, the optional NT-Xent, losses, test, MostPop
    assert text.count("→ 모두 통과했습니다.") == 7
    assert "정답 그래프와 동일 (지문 비교)" in text
    assert f"데이터셋: {NAME} ({FILE}; 점검 기준값 있음, 논문 수치 없음)" in text


def test_grading_on_the_generated_data(tiny, with_constants, tmp_path):
    """The solution graded on the generated data gets every point (every visible and hidden
    test passes there, as ``nbgrader validate`` would say of it)."""
    student = tmp_path / "subs" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    student.parent.mkdir(parents=True)
    shutil.copyfile(SOLUTION, student)
    _run([sys.executable, "-m", "grading.grade_class", str(tmp_path / "subs"), "--out",
          str(tmp_path / "out"), "--data", str(tiny)], tiny)
    rows = list(csv.DictReader(open(tmp_path / "out" / "grades.csv", encoding="utf-8")))
    assert len(rows) == 1 and float(rows[0]["total"]) == POINTS, rows
