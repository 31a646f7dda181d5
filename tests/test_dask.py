"""The Dask executor: a local cluster of two worker processes grades the toy class exactly as
the local run does (same ``grades.csv`` rows), and only the parent writes the gradebook."""

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
    local = grade_class(subs, tmp_path / "local", 2, options, source, quiet=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = grade_class(subs, tmp_path / "dask", 2, options, source, quiet=True,
                             scheduler=cluster.scheduler_address)
        workers = len(cluster.scheduler_info["workers"])
    assert workers == 2
    assert [r.student for r in remote] == [r.student for r in local] == ["empty", "good",
                                                                          "wrong"]
    assert _rows(tmp_path / "dask") == _rows(tmp_path / "local")
    assert float(_rows(tmp_path / "dask")["good"]["total"]) == 4.0  # graded, not just equal
    assert remote[1].autograded is not None and remote[1].log
    assert (tmp_path / "dask" / "feedback" / "good" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
