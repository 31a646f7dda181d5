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

import grading.grade_class as class_command
from grading.instructor.classrun import grade_class
from grading.instructor.common.options import default_options
from grading.instructor.common.records import Result
from grading.instructor.run.course import ASSIGNMENT, Course, hidden_calls
from grading.instructor.run.discover import discover
from grading.instructor.run.grade_one import read_notebook, restore_missing_cells
from grading.instructor.run.verify import annotate_claims, trusted_scores
from grading.kernel.registry import CHECKS
from grading.release import SOLUTION

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from suite import load_maker  # noqa: E402

NOTEBOOK = f"{ASSIGNMENT}.ipynb"  # the assignment's notebook file: its name is the assignment's

EXPECTED = json.loads((REPO / "tests" / "fixtures" / "submissions" / "expected.json").read_text())


# --------------------------------------------------------------------------- discovery
def _nb(path: Path, text: str = "x = 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)]), path)
    return path


def test_both_layouts_are_discovered(tmp_path):
    _nb(tmp_path / "ann" / ASSIGNMENT / NOTEBOOK)
    _nb(tmp_path / "bob" / ASSIGNMENT / "my copy.ipynb")
    _nb(tmp_path / "cy" / ASSIGNMENT / "a.ipynb")
    _nb(tmp_path / "cy" / ASSIGNMENT / "b.ipynb")
    _nb(tmp_path / "dee_gcl4sr.ipynb")
    _nb(tmp_path / "eve_attempt_2.ipynb")
    _nb(tmp_path / "ann_extra.ipynb")
    (tmp_path / "fay" / ASSIGNMENT).mkdir(parents=True)
    subs = {s.student: s for s in discover(tmp_path)}
    assert sorted(subs) == ["ann", "bob", "cy", "dee", "eve", "fay"]
    assert subs["ann"].path.name == NOTEBOOK and "ignored ann_extra.ipynb" in \
        subs["ann"].notes[0]
    assert subs["bob"].notes == [f"graded bob/my copy.ipynb as {ASSIGNMENT}.ipynb"]
    assert subs["cy"].path is None and "several notebooks" in subs["cy"].problem
    assert subs["dee"].path.name == "dee_gcl4sr.ipynb" and not subs["dee"].notes
    assert subs["eve"].notes == [f"graded eve_attempt_2.ipynb as {ASSIGNMENT}.ipynb"]
    assert subs["fay"].problem.startswith("no notebook")


def test_a_course_root_with_submitted_is_accepted(tmp_path):
    _nb(tmp_path / "submitted" / "ann" / ASSIGNMENT / NOTEBOOK)
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


def _records(fraction, status="ok", public=True, reason="틀렸습니다"):
    """A server record of the recall check: the core and ``6 * fraction - 1`` others pass."""
    passed = round(6 * fraction)
    return [{"check": "recall", "fraction": fraction, "status": status,
             "public": {"id": "public", "label": "공개", "passed": public,
                        "reason": "" if public else reason},
             "verdicts": [{"id": sub, "label": sub, "passed": i < passed, "reason": reason}
                          for i, sub in enumerate(CHECKS["recall"].subchecks)]}]


def test_scores_come_from_the_server_records_alone():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    result = Result("s")
    trusted_scores(result, _records(0.5), course)
    assert result.scores == {"t_tests": 2.0, "t_hidden": 1.0}
    result = Result("s")
    trusted_scores(result, _records(1.0, public=False, reason="'hand_k1' 예제: 값이 틀렸습니다"),
                   course)
    assert result.scores == {"t_tests": 0.0, "t_hidden": 2.0}
    assert "t_tests: 채점 서버의 공개 테스트: 'hand_k1' 예제: 값이 틀렸습니다" in result.reasons


def test_a_check_that_never_reached_the_server_scores_zero_with_the_reason():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    for records, why in (([], ""), (None, " (채점 서버가 멈췄습니다)")):
        result = Result("s")
        trusted_scores(result, records, course)
        assert result.scores == {"t_tests": 0.0, "t_hidden": 0.0}
        assert f"t_hidden: 숨은 테스트(Recall@k)가 실행되지 않았습니다{why}" in result.reasons
        assert any(r.startswith("t_tests: ") and "확인하지 못했습니다" in r
                   for r in result.reasons)


def test_an_english_submission_gets_its_reasons_and_notes_in_english():
    cells = [_visible("t_tests", "assert f() == 1"), _cell("t_hidden", True)]
    result = Result("s", autograded=nbformat.v4.new_notebook(cells=copy.deepcopy(cells)),
                    lang="en")
    trusted_scores(result, _records(0.0, public=False, reason="wrong value (you returned 0)"),
                   _course(cells))
    annotate_claims(result, {"t_tests": 2.0}, _course(cells))
    assert result.reasons == [
        "t_hidden: -2 Recall@k [every sub-check]: wrong value (you returned 0)",
        "t_tests: the check server's public test: wrong value (you returned 0)",
        "t_tests: Grading: this cell showed 2 points in the kernel, but the check server "
        "confirmed 0. The server's score counts."]
    for records in ([], None):
        result = Result("s", lang="en")
        trusted_scores(result, records, _course(cells))
        assert result.reasons[0] == "t_hidden: the hidden test (Recall@k) did not run" + (
            " (the check server stopped)" if records is None else "")


def test_only_the_first_record_of_a_check_counts():
    course = _course([_cell("t_tests", True), _cell("t_hidden", True)])
    result = Result("s")
    trusted_scores(result, _records(0.0, public=False) + _records(1.0), course)
    assert result.scores == {"t_tests": 0.0, "t_hidden": 0.0}


def _visible(grade_id, source):
    cell = _cell(grade_id, True, source)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="공개 테스트 통과 ✅\n")]
    return cell


def test_a_cell_that_showed_more_than_the_server_gave_says_so_first():
    cells = [_visible("t_tests", "assert f() == 1"), _cell("t_hidden", True)]
    result = Result("s", autograded=nbformat.v4.new_notebook(cells=copy.deepcopy(cells)))
    trusted_scores(result, _records(0.5, status="tamper", public=False,
                                    reason="점수 표시를 바꿨습니다"), _course(cells))
    annotate_claims(result, {"t_tests": 2.0, "t_hidden": 2.0}, _course(cells))
    visible, hidden = result.autograded.cells
    assert "커널에서 2점을 보였지만 채점 서버가 확인한 점수는 0점" in visible.outputs[0].text
    assert visible.outputs[1].text == "공개 테스트 통과 ✅\n"  # the kernel's own, after the note
    assert "확인한 점수는 1점" in hidden.outputs[0].text
    assert hidden.outputs[1].data["text/plain"] == "1.0"
    assert any("점수 표시를 바꿨습니다" in r for r in result.reasons)


def test_each_visible_test_cell_is_judged_by_the_check_after_it():
    source = nbformat.read(SOLUTION, as_version=4)
    graded = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    parts = [c.metadata["nbgrader"]["grade_id"] for c in graded]
    hidden = {c.metadata["nbgrader"]["grade_id"]: hidden_calls(c.source, 1.0) for c in graded
              if hidden_calls(c.source, 1.0)}
    course = Course(Path("."), "source", "release", ASSIGNMENT, ASSIGNMENT, parts,
                    dict.fromkeys(parts, 1.0), hidden, source)
    assert course.visible == {"witg_tests": "witg", "recall_tests": "recall",
                              "ndcg_tests": "ndcg", "mmd_tests": "mmd"}


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
    path = folder / ASSIGNMENT / NOTEBOOK
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path.parent


def _toy_student(source_nb: Path, path: Path, answer: str | None = None,
                 extra: str | None = None, last: str | None = None) -> None:
    nb = nbformat.read(source_nb, as_version=4)
    for cell in nb.cells:
        cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n?", "", cell.source,
                             flags=re.M)
        if cell.metadata["nbgrader"]["grade_id"] == "recall" and answer:
            cell.source = answer
    if extra:
        nb.cells.insert(1, nbformat.v4.new_code_cell(extra))
    if last:
        nb.cells.append(nbformat.v4.new_code_cell(last))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    source = _toy_source(root / "source")
    subs = root / "subs"
    nb = source / NOTEBOOK
    _toy_student(nb, subs / "good" / ASSIGNMENT / NOTEBOOK)
    _toy_student(nb, subs / "wrong" / ASSIGNMENT / NOTEBOOK,
                 answer="def recall_at_k(actual, predicted, topk):\n    return 0.0")
    _toy_student(nb, subs / "sleepy_gcl4sr.ipynb", extra="import time\ntime.sleep(3600)")
    # after every test, an endless loop whose bare except swallows the cell-timeout interrupt
    _toy_student(nb, subs / "looper_gcl4sr.ipynb", last="import time\nwhile True:\n    try:\n"
                 "        time.sleep(1)\n    except BaseException:\n        pass")
    # the wall clock is only a backstop (the memory hog and the CPU limit have their own test
    # below): 30 s, ten times what "good" takes quiet (no torch in the toy kernel), leaves a
    # loaded machine room for the others; "sleepy" and "looper" reach it
    options = default_options(2, cell_timeout=300, timeout=30, mem_mib=2048,
                              check_wall=40, case_wall=10)
    results = grade_class(subs, root / "out", 2, options, source, quiet=True)
    return {r.student: r for r in results}, root / "out"


def test_toy_class_scores_and_outputs(toy_run):
    results, out = toy_run
    assert results["good"].scores == {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert results["wrong"].scores == {"recall_tests": 0.0, "recall_hidden": 0.0}  # a stub
    assert results["sleepy"].status == "time limit"
    assert results["sleepy"].scores == {"recall_tests": 0.0, "recall_hidden": 0.0}
    assert results["looper"].status == "time limit"
    assert results["looper"].scores == {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert any("recorded before it are kept" in r for r in results["looper"].reasons)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["wrong"]["recall_hidden"] == "0" and "Recall@k: 핵심 하위 검사" in rows["wrong"][
        "reasons"]
    assert "longer than 30 s" in rows["sleepy"]["reasons"]
    for student in results:
        assert (out / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        total = {student: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).score
                 for student in results}
    assert total == {"good": 4.0, "wrong": 0.0, "sleepy": 0.0, "looper": 4.0}


# --------------------------------------------------------------------------- hostile suite
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
        html = out / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert html.is_file() and html.stat().st_size > 200
    assert "perfect" in suite["stdout"] and "total" in suite["stdout"]  # the summary table
    perfect = (out / "feedback" / "perfect" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "20 / 20" in perfect or "20.0 / 20.0" in perfect


@pytest.mark.slow
def test_no_visible_cell_shows_a_pass_under_zero_without_a_reason(suite):
    """A visible test that passed in the kernel but scores 0 (the server's run of the public
    examples failed) says why, first, in the autograded cell that the feedback shows."""
    annotated = set()
    for student, want in EXPECTED["students"].items():
        path = suite["out"] / "autograded" / student / ASSIGNMENT / NOTEBOOK
        if not path.is_file():
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id not in EXPECTED["parts"] or grade_id.endswith("_hidden"):
                continue
            text = "".join(o.get("text", "") for o in cell.get("outputs", []))
            if want["points"][EXPECTED["parts"].index(grade_id)] == 0 and "통과 ✅" in text:
                assert "채점 서버가 확인한 점수는 0점" in text, (student, grade_id)
                annotated.add((student, grade_id))
    assert {("stubs", "witg_tests"), ("patcher", "recall_tests"), ("liar", "recall_tests")} \
        <= annotated
    feedback = (suite["out"] / "feedback" / "stubs" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "채점 서버가 확인한 점수는 0점" in html.unescape(feedback)


@pytest.mark.slow
def test_no_grade_is_lost_or_changed_by_a_neighbour(suite):
    """The vandal and the peek (which writes every gradebook it finds) ran in parallel with
    the others: the master gradebook holds every student with exactly the CSV's points."""
    from nbgrader.api import Gradebook

    out = suite["out"]
    stored = {}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student in EXPECTED["students"]:
            notebook = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            stored.update({(student, g.name): g.score for g in notebook.grades})
    for student, want in EXPECTED["students"].items():
        for part, points in zip(EXPECTED["parts"], want["points"], strict=True):
            assert stored[(student, part)] == pytest.approx(points, abs=1e-6)
    assert (suite["submissions"] / "perfect" / ASSIGNMENT / NOTEBOOK).is_file()
    assert (REPO / "grading" / "nbgrader_config.py").is_file()


@pytest.mark.slow
def test_nothing_outlives_the_class_command(suite):
    """The daemon student's double-forked setsid processes (from its kernel and from inside a
    hidden check) and every sandbox, kernel and server are gone once the command has exited,
    and it left no folder in its temporary folder."""
    mark = load_maker().DAEMON_MARK
    alive = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if mark in command or str(suite["tmp"]) in command:
            alive.append(command)
    assert not alive
    # `import torch` (2.13) makes an empty $TMPDIR/torchinductor_<user> in any process
    left = [p for p in suite["tmp"].rglob("*") if not p.name.startswith("torchinductor_")]
    assert not left


@pytest.mark.slow
def test_the_server_tells_nothing_and_the_feedback_stays_small(suite):
    """The everything student's probes of the check server (a file outside its folder that
    exists, one that does not, a traversal) got one identical reply, and its 40 MB line left
    a feedback page under 1 MiB."""
    out = suite["out"]
    nb = nbformat.read(out / "autograded" / "everything" / ASSIGNMENT / NOTEBOOK, 4)
    flood = next(c for c in nb.cells if c.get("id") == "student-flood")
    assert "distinct replies to probes: 1" in "".join(o.get("text", "") for o in flood.outputs)
    page = out / "feedback" / "everything" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 1 << 20


# --------------------------------------------------------------------------- limits under load
@pytest.mark.slow
def test_cpu_time_is_the_work_limit_and_a_hog_meets_the_memory_limit(tmp_path):
    """A busy loop is stopped after ``--cpu`` seconds of CPU time however busy the machine
    is, and a memory hog gets ``MemoryError`` in its own cell: with a generous wall clock,
    the load never decides a grade."""
    source = _toy_source(tmp_path / "source")
    subs = tmp_path / "subs"
    _toy_student(source / NOTEBOOK, subs / "spinner" / ASSIGNMENT / NOTEBOOK,
                 extra="while True:\n    pass")
    _toy_student(source / NOTEBOOK, subs / "hog" / ASSIGNMENT / NOTEBOOK,
                 extra="blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 28))")
    options = default_options(2, cell_timeout=1800, timeout=1800, cpu=10, mem_mib=2048,
                              check_wall=40, case_wall=10)  # a toy grading uses ~2 CPU-s
    results = {r.student: r for r in grade_class(subs, tmp_path / "out", 2, options, source,
                                                 quiet=True)}
    spinner, hog = results["spinner"], results["hog"]
    assert spinner.status == "CPU limit" and 10 < spinner.seconds < 1800
    assert "more than 10 s of CPU time" in spinner.reasons[-1]
    assert spinner.scores == {"recall_tests": 0.0, "recall_hidden": 0.0}
    assert hog.scores == {"recall_tests": 2.0, "recall_hidden": 2.0}  # graded, not stopped
    assert "MemoryError" in json.dumps(hog.autograded)


@pytest.mark.parametrize("via_env", [False, True])
def test_a_missing_data_folder_is_refused_up_front(tmp_path, monkeypatch, capsys, via_env):
    missing = tmp_path / "no-such-data"
    args = [str(tmp_path), "--out", str(tmp_path / "out")]
    if via_env:
        monkeypatch.setenv("GCL4SR_DATA", str(missing))
    else:
        args += ["--data", str(missing)]
    with pytest.raises(SystemExit) as exit_:
        class_command.main(args)
    assert exit_.value.code == 2
    assert f"the data folder {missing}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
