"""The class command: layouts, verification of hidden parts, limits, and the hostile suite.

The end-to-end test grades every submission of ``tests/fixtures`` with the real
``nbgrader autograde`` (through ``python -m grading.grade_class --jobs 2``) and asserts each
student's points per part exactly as listed in ``tests/fixtures/submissions/expected.json``.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from grading.instructor.classrun import grade_class
from grading.instructor.course import Course
from grading.instructor.discover import discover
from grading.instructor.grade_one import Result, read_notebook, restore_missing_cells
from grading.instructor.options import default_options
from grading.instructor.verify import affected_cells, verify_hidden
from grading.kernel.registry import CHECKS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from suite import graded_suite, load_maker  # noqa: E402

EXPECTED = json.loads((REPO / "tests" / "fixtures" / "submissions" / "expected.json").read_text())


# --------------------------------------------------------------------------- discovery
def _nb(path: Path, text: str = "x = 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)]), path)
    return path


def test_both_layouts_are_discovered(tmp_path):
    _nb(tmp_path / "ann" / "gcl4sr" / "gcl4sr.ipynb")
    _nb(tmp_path / "bob" / "gcl4sr" / "my copy.ipynb")
    _nb(tmp_path / "cy" / "gcl4sr" / "a.ipynb")
    _nb(tmp_path / "cy" / "gcl4sr" / "b.ipynb")
    _nb(tmp_path / "dee_gcl4sr.ipynb")
    _nb(tmp_path / "eve_attempt_2.ipynb")
    _nb(tmp_path / "ann_extra.ipynb")
    (tmp_path / "fay" / "gcl4sr").mkdir(parents=True)
    subs = {s.student: s for s in discover(tmp_path)}
    assert sorted(subs) == ["ann", "bob", "cy", "dee", "eve", "fay"]
    assert subs["ann"].path.name == "gcl4sr.ipynb" and "ignored ann_extra.ipynb" in \
        subs["ann"].notes[0]
    assert subs["bob"].notes == ["graded bob/my copy.ipynb as gcl4sr.ipynb"]
    assert subs["cy"].path is None and "several notebooks" in subs["cy"].problem
    assert subs["dee"].path.name == "dee_gcl4sr.ipynb" and not subs["dee"].notes
    assert subs["eve"].notes == ["graded eve_attempt_2.ipynb as gcl4sr.ipynb"]
    assert subs["fay"].problem.startswith("no notebook")


def test_a_course_root_with_submitted_is_accepted(tmp_path):
    _nb(tmp_path / "submitted" / "ann" / "gcl4sr" / "gcl4sr.ipynb")
    assert [s.student for s in discover(tmp_path)] == ["ann"]


@pytest.mark.parametrize("content", [b"", b"{\"cells\": [", b"\x89PNG\r\n", b"[]",
                                     b'{"cells": 3, "nbformat": 4}'])
def test_anything_but_a_notebook_is_refused_with_a_reason(tmp_path, content):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        read_notebook(path)
    assert str(error.value)


# --------------------------------------------------------------------------- cells, points
def _course(cells) -> Course:
    release = nbformat.v4.new_notebook(cells=cells)
    parts = [c.metadata["nbgrader"]["grade_id"] for c in cells
             if c.metadata.get("nbgrader", {}).get("grade")]
    return Course(Path("."), "source", "release", "a", "a", parts,
                  {p: 2.0 for p in parts}, {"t_hidden": [("recall", 2.0)]}, release)


def _cell(grade_id, grade=False, source=""):
    cell = nbformat.v4.new_code_cell(source or grade_id)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "grade": grade, "locked": True,
                                 "solution": False, "schema_version": 3, "task": False}
    if grade:
        cell.metadata["nbgrader"]["points"] = 2
    return cell


def test_deleted_test_cells_are_restored_in_place():
    course = _course([_cell("sol"), _cell("t_tests", True), _cell("t_hidden", True),
                      _cell("md"), _cell("u_tests", True)])
    student = nbformat.v4.new_notebook(cells=[_cell("sol"), nbformat.v4.new_code_cell("mine"),
                                              _cell("md")])
    notes = restore_missing_cells(student, course)
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in student.cells]
    assert order == ["sol", "t_tests", "t_hidden", None, "md", "u_tests"]
    assert len(notes) == 3


def _records(fraction, status="ok", integrity=()):
    """A server record of the recall check: the core and ``6 * fraction - 1`` others pass."""
    labels = CHECKS["recall"].subchecks
    passed = round(6 * fraction)
    return [{"check": "recall", "fraction": fraction, "status": status,
             "integrity": list(integrity),
             "verdicts": [{"label": label, "passed": i < passed, "reason": "틀렸습니다"}
                          for i, label in enumerate(labels)]}]


def test_hidden_part_is_capped_by_the_server_record():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    result = Result("s", autograded=nbformat.v4.new_notebook(cells=[_cell("t_hidden", True)]))
    scores = {"t_tests": 2.0, "t_hidden": 2.0}
    verify_hidden(result, scores, _records(0.5), course)
    assert scores == {"t_tests": 0.0, "t_hidden": 1.0}  # tampering: visible tests distrusted
    assert any("숨은 검사는 1점을 주었습니다" in r for r in result.reasons)
    assert "숨은 검사가 준 점수는 1점입니다" in result.autograded.cells[0].outputs[0].text


def test_honest_scores_are_kept_and_missing_checks_score_zero():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    result = Result("s", autograded=nbformat.v4.new_notebook())
    scores = {"t_tests": 2.0, "t_hidden": 1.0}
    verify_hidden(result, scores, _records(0.5), course)
    assert scores == {"t_tests": 2.0, "t_hidden": 1.0}
    scores = {"t_tests": 2.0, "t_hidden": 0.0}  # e.g. NameError before the check ran
    verify_hidden(result, scores, [], course)
    assert scores == {"t_tests": 2.0, "t_hidden": 0.0}
    scores = {"t_tests": 2.0, "t_hidden": 2.0}  # full marks shown, but no check ran
    verify_hidden(result, scores, [], course)
    assert scores == {"t_tests": 0.0, "t_hidden": 0.0}
    assert "t_hidden: 숨은 검사(Recall@k)가 실행되지 않았습니다" in result.reasons


def test_replaced_test_helpers_void_the_visible_tests():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    result = Result("s", autograded=nbformat.v4.new_notebook())
    scores = {"t_tests": 2.0, "t_hidden": 2.0}
    verify_hidden(result, scores, _records(1.0, integrity=["math.isclose"]),
                               course)
    assert scores == {"t_tests": 0.0, "t_hidden": 2.0}
    assert "math.isclose" in result.reasons[-1]


def _visible(grade_id, source):
    cell = _cell(grade_id, True, source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="공개 테스트 통과 ✅\n")]
    return cell


def test_a_rebound_helper_costs_only_the_cells_that_call_it_with_the_reason_shown():
    cells = [_visible("a_tests", "assert graph_as_dict(g) == {(1, 2): 1.0}"),
             _visible("b_tests", "assert recall_at_k([[1]], [[1]], 1) == 1.0"),
             _cell("t_hidden", True)]
    course = _course(cells)
    result = Result("s", autograded=nbformat.v4.new_notebook(cells=copy.deepcopy(cells)))
    scores = {"a_tests": 2.0, "b_tests": 2.0, "t_hidden": 2.0}
    verify_hidden(result, scores, _records(1.0, integrity=["graph_as_dict", "graph_summary"]),
                  course)
    assert scores == {"a_tests": 0.0, "b_tests": 2.0, "t_hidden": 2.0}
    first, second = (c.outputs[0].text for c in result.autograded.cells[:2])
    assert "0점" in first and "graph_as_dict" in first and "graph_summary" not in first
    assert second == "공개 테스트 통과 ✅\n"
    assert any(r.startswith("a_tests: ") and "graph_as_dict" in r for r in result.reasons)


def test_tampering_reason_is_shown_in_every_visible_cell():
    cells = [_visible("a_tests", "assert f() == 1"), _visible("b_tests", "assert g() == 1"),
             _cell("t_hidden", True)]
    result = Result("s", autograded=nbformat.v4.new_notebook(cells=copy.deepcopy(cells)))
    scores = {"a_tests": 2.0, "b_tests": 2.0, "t_hidden": 2.0}
    verify_hidden(result, scores, _records(1.0, status="tamper"), _course(cells))
    assert scores == {"a_tests": 0.0, "b_tests": 0.0, "t_hidden": 2.0}
    for cell in result.autograded.cells[:2]:
        assert "점수 표시를 바꿨습니다" in cell.outputs[0].text


def test_only_test_cells_that_call_a_name_are_affected_by_it():
    release = nbformat.read(REPO / "notebooks" / "gcl4sr" / "gcl4sr.ipynb", as_version=4)
    parts = [c.metadata["nbgrader"]["grade_id"] for c in release.cells
             if c.metadata.get("nbgrader", {}).get("grade")]
    course = Course(Path("."), "source", "release", "gcl4sr", "gcl4sr", parts,
                    dict.fromkeys(parts, 1.0),
                    {p: [] for p in parts if p.endswith("_hidden")}, release)
    own = ["graph_summary", "check_witg", "load_constants", "course_mode", "write_witg_example"]
    assert affected_cells(course, own) == {}
    assert affected_cells(course, ["graph_as_dict", "check_mmd", *own]) == {
        "witg_tests": ["graph_as_dict"], "mmd_tests": ["check_mmd"]}


# --------------------------------------------------------------------------- toy course
TOY_SOLUTION = """def recall_at_k(actual, predicted, topk):
    ### BEGIN SOLUTION
    scores = [len(set(a) & set(p[:topk])) / len(set(a)) for a, p in zip(actual, predicted) if a]
    return sum(scores) / len(scores) if scores else 0.0
    ### END SOLUTION"""


def _toy_source(folder: Path) -> Path:
    """A tiny assignment (no torch in the kernel): one TODO, a visible and a hidden test."""
    cells = [_cell("setup", source="import math"),
             _cell("recall", source=TOY_SOLUTION),
             _cell("recall_tests", True, "assert recall_at_k([[1]], [[1, 2]], 1) == 1.0"),
             _cell("recall_hidden", True, "_ = recall_at_k([[1]], [[1]], 1)\n"
                   "### BEGIN HIDDEN TESTS\nfrom grading.kernel import grade_recall\n"
                   "grade_recall(recall_at_k, 2)\n### END HIDDEN TESTS")]
    cells[1].metadata["nbgrader"].update(solution=True, locked=False)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "gcl4sr" / "gcl4sr.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path.parent


def _toy_student(source_nb: Path, path: Path, answer: str | None = None,
                 extra: str | None = None) -> None:
    nb = nbformat.read(source_nb, as_version=4)
    for cell in nb.cells:
        cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n?", "", cell.source,
                             flags=re.M)
        if cell.metadata["nbgrader"]["grade_id"] == "recall" and answer:
            cell.source = answer
    if extra:
        nb.cells.insert(1, nbformat.v4.new_code_cell(extra))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    source = _toy_source(root / "source")
    subs = root / "subs"
    nb = source / "gcl4sr.ipynb"
    _toy_student(nb, subs / "good" / "gcl4sr" / "gcl4sr.ipynb")
    _toy_student(nb, subs / "wrong" / "gcl4sr" / "gcl4sr.ipynb",
                 answer="def recall_at_k(actual, predicted, topk):\n    return 0.0")
    _toy_student(nb, subs / "sleepy_gcl4sr.ipynb", extra="import time\ntime.sleep(3600)")
    # the wall clock is only a backstop (the memory hog and the CPU limit have their own test
    # below): 120 s leaves a loaded machine room for the others, only "sleepy" reaches it
    options = default_options(2, cell_timeout=300, timeout=120, mem_mib=2048,
                              check_wall=40, case_wall=10)
    results = grade_class(subs, root / "out", 2, options, source, quiet=True)
    return {r.student: r for r in results}, root / "out"


def test_toy_class_scores_and_outputs(toy_run):
    results, out = toy_run
    assert results["good"].scores == {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert results["wrong"].scores == {"recall_tests": 0.0, "recall_hidden": 0.0}  # a stub
    assert results["sleepy"].status == "time limit"
    assert results["sleepy"].scores == {"recall_tests": 0.0, "recall_hidden": 0.0}
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["wrong"]["recall_hidden"] == "0" and "Recall@k: 핵심 하위 검사" in rows["wrong"][
        "reasons"]
    assert "longer than 120 s" in rows["sleepy"]["reasons"]
    for student in results:
        assert (out / "feedback" / student / "gcl4sr" / "gcl4sr.html").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        total = {student: gb.find_submission_notebook("gcl4sr", "gcl4sr", student).score
                 for student in results}
    assert total == {"good": 4.0, "wrong": 0.0, "sleepy": 0.0}


# --------------------------------------------------------------------------- hostile suite
@pytest.fixture(scope="module")
def suite(home_dir):
    return graded_suite(str(home_dir))


def test_suite_fixtures_cover_the_expected_table():
    assert set(load_maker().SUBMISSIONS) == set(EXPECTED["students"])


@pytest.mark.slow
@pytest.mark.parametrize("student", sorted(EXPECTED["students"]))
def test_hostile_suite_scores_exactly(suite, student):
    want = EXPECTED["students"][student]
    row = suite["rows"][student]
    got = [float(row[part]) for part in EXPECTED["parts"]]
    assert row["status"] == want["status"], row["reasons"]
    assert got == pytest.approx(want["points"], abs=1e-6), row["reasons"]
    assert float(row["total"]) == pytest.approx(sum(want["points"]), abs=1e-5)
    assert float(row["max"]) == sum(EXPECTED["max"])
    for text in want.get("reasons", []):
        assert text in row["reasons"]
    if want["status"] != "graded" or sum(want["points"]) < sum(EXPECTED["max"]):
        assert row["reasons"], "every lost point needs a reason"


@pytest.mark.slow
def test_hostile_suite_outputs_for_every_student(suite):
    out = suite["out"]
    header = next(csv.reader(open(out / "grades.csv")))
    assert header == ["student", "status", *EXPECTED["parts"], "total", "max", "reasons"]
    for student in EXPECTED["students"]:
        html = out / "feedback" / student / "gcl4sr" / "gcl4sr.html"
        assert html.is_file() and html.stat().st_size > 200
    assert "perfect" in suite["stdout"] and "total" in suite["stdout"]  # the summary table
    perfect = (out / "feedback" / "perfect" / "gcl4sr" / "gcl4sr.html").read_text()
    assert "20 / 20" in perfect or "20.0 / 20.0" in perfect


@pytest.mark.slow
def test_no_visible_cell_shows_a_pass_under_zero_without_a_reason(suite):
    """A visible test that passed in the kernel but scores 0 (tampering) says why, first, in
    the autograded cell that the feedback shows."""
    annotated = set()
    for student, want in EXPECTED["students"].items():
        path = suite["out"] / "autograded" / student / "gcl4sr" / "gcl4sr.ipynb"
        if not path.is_file():
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in EXPECTED["parts"] or grade_id.endswith("_hidden"):
                continue
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            if want["points"][EXPECTED["parts"].index(grade_id)] == 0 and "통과 ✅" in text:
                assert "이 공개 테스트는 믿을 수 없어 0점" in text, (student, grade_id)
                annotated.add((student, grade_id))
    assert ("stubs", "witg_tests") in annotated and ("patcher", "recall_tests") in annotated
    feedback = (suite["out"] / "feedback" / "stubs" / "gcl4sr" / "gcl4sr.html").read_text()
    assert "다시 정의했습니다: graph_as_dict" in html.unescape(feedback)


@pytest.mark.slow
def test_no_grade_is_lost_or_changed_by_a_neighbour(suite):
    """The vandal ran in parallel with the others: the master gradebook still holds every
    student with exactly the CSV's points."""
    from nbgrader.api import Gradebook

    out = suite["out"]
    stored = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student in EXPECTED["students"]:
            notebook = gb.find_submission_notebook("gcl4sr", "gcl4sr", student)
            stored.update({(student, g.name): g.score for g in notebook.grades})
    for student, want in EXPECTED["students"].items():
        for part, points in zip(EXPECTED["parts"], want["points"], strict=True):
            assert stored[(student, part)] == pytest.approx(points, abs=1e-6)
    assert (suite["submissions"] / "perfect" / "gcl4sr" / "gcl4sr.ipynb").is_file()
    assert (REPO / "grading" / "nbgrader_config.py").is_file()


# --------------------------------------------------------------------------- limits under load
def test_cpu_time_is_the_work_limit_and_a_hog_meets_the_memory_limit(tmp_path):
    """A busy loop is stopped after ``--cpu`` seconds of CPU time however busy the machine
    is, and a memory hog gets ``MemoryError`` in its own cell: with a generous wall clock,
    the load never decides a grade."""
    source = _toy_source(tmp_path / "source")
    subs = tmp_path / "subs"
    _toy_student(source / "gcl4sr.ipynb", subs / "spinner" / "gcl4sr" / "gcl4sr.ipynb",
                 extra="while True:\n    pass")
    _toy_student(source / "gcl4sr.ipynb", subs / "hog" / "gcl4sr" / "gcl4sr.ipynb",
                 extra="blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 28))")
    options = default_options(2, cell_timeout=1800, timeout=1800, cpu=30, mem_mib=2048,
                              check_wall=40, case_wall=10)
    results = {r.student: r for r in grade_class(subs, tmp_path / "out", 2, options, source,
                                                 quiet=True)}
    spinner, hog = results["spinner"], results["hog"]
    assert spinner.status == "CPU limit" and 30 < spinner.seconds < 1800
    assert "more than 30 s of CPU time" in spinner.reasons[-1]
    assert spinner.scores == {"recall_tests": 0.0, "recall_hidden": 0.0}
    assert hog.scores == {"recall_tests": 2.0, "recall_hidden": 2.0}  # graded, not stopped
    assert "MemoryError" in json.dumps(hog.autograded)
