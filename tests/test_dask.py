"""The Dask executor: a local cluster of two worker processes grades the toy class with the
points and statuses the local run's test pins
(``test_grade_class.test_toy_class_scores_and_outputs``), and only the parent writes the
gradebook."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_grade_class import NOTEBOOK, _toy_source, _toy_student

from grading.instructor.classrun import grade_class
from grading.instructor.common.options import default_options
from grading.instructor.run.course import ASSIGNMENT

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # a Dask cluster grading a class


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_a_dask_cluster_grades_like_the_local_run(tmp_path):
    source = _toy_source(tmp_path / "source")
    subs = tmp_path / "subs"
    _toy_student(source / NOTEBOOK, subs / "good" / ASSIGNMENT / NOTEBOOK)
    _toy_student(source / NOTEBOOK, subs / "wrong_gcl4sr.ipynb",
                 answer="def recall_at_k(actual, predicted, topk):\n    return 0.0")
    (subs / "empty" / ASSIGNMENT).mkdir(parents=True)  # no notebook: graded all the same
    options = default_options(2, cell_timeout=120, timeout=900)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = grade_class(subs, tmp_path / "dask", 2, options, source, quiet=True,
                             scheduler=cluster.scheduler_address)
        workers = len(cluster.scheduler_info["workers"])
    assert workers == 2
    assert [r.student for r in remote] == ["empty", "good", "wrong"]
    # the points the local run gets for the same two notebooks (test_grade_class's toy class)
    assert remote[1].scores == {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert remote[2].scores == {"recall_tests": 0.0, "recall_hidden": 0.0}
    rows = _rows(tmp_path / "dask")
    assert [float(rows[s]["total"]) for s in ("empty", "good", "wrong")] == [0.0, 4.0, 0.0]
    assert rows["empty"]["status"] == remote[0].status != "graded"
    assert "Recall@k" in rows["wrong"]["reasons"]
    assert remote[1].autograded is not None and remote[1].log
    assert (tmp_path / "dask" / "feedback" / "good" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
