"""A class that mixes both editions: the English twin of three submissions of the hostile
suite (``tests/fixtures/make_submissions.py``) and a Korean "liar", graded in one class run; the
Korean originals are the suite's own, graded by the class command (``suite``). The same code
gets the same points; each student reads their feedback in the language of their notebook,
never in one their kernel claims; ``grades.csv`` and the class report hold both.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import nbformat
import pytest

from grading.instructor.classrun import grade_class
from grading.instructor.common.options import default_options
from grading.instructor.run.course import ASSIGNMENT
from grading.release import RELEASES
from grading.release_translation import HANGUL

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from suite import load_maker  # noqa: E402

pytestmark = pytest.mark.slow  # grades a class with the real nbgrader

TWINS = ("perfect", "partial", "stubs")  # full points, a mistake per TODO, nothing earned
EXPECTED = load_maker().expected()
COLUMNS = [*EXPECTED["parts"], "total", "max"]  # the points columns of grades.csv
#: "liar": the Korean "partial" with this cell after the setup cell; its kernel claims English.
LIE = ('import os\nfrom gcl4sr_helpers import i18n\n'
       'i18n.set_language("en")\nos.environ["GCL4SR_LANG"] = "en"')


def english_twin(korean: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The English release holding the student's code: a cell of ``korean`` that is still as
    the Korean release has it becomes the English release's cell of the same id (prose, setup,
    tests, the code given); every other cell (answers, edits, cells of their own) stays as the
    student wrote it, in its place."""
    released = {cell.id: cell for cell in nbformat.read(RELEASES["ko"], as_version=4).cells}
    english = nbformat.read(RELEASES["en"], as_version=4)
    by_id = {cell.id: cell for cell in english.cells}
    twin = nbformat.v4.new_notebook(metadata=english.metadata)
    for cell in korean.cells:
        same = cell.id in released and cell.source == released[cell.id].source
        twin.cells.append(by_id[cell.id] if same else cell)
    return twin


@pytest.fixture(scope="module")
def mixed(suite, tmp_path_factory):
    """``(results, rows, out)`` of the class run of the twins and the liar; ``rows`` also
    holds the suite's rows of the Korean originals."""
    root = tmp_path_factory.mktemp("mixed")
    originals = suite["submissions"]
    subs = root / "subs"
    for student in TWINS:
        nb = nbformat.read(originals / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
        target = subs / f"{student}-en" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(english_twin(nb), target)
    liar = nbformat.read(originals / "partial" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    liar.cells.insert(1 + next(i for i, c in enumerate(liar.cells)
                               if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"),
                      nbformat.v4.new_code_cell(LIE))
    (subs / "liar" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(liar, subs / "liar" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    options = default_options(2, case_wall=5)  # as the suite's class command
    results = {r.student: r for r in grade_class(subs, root / "out", 2, options, quiet=True)}
    with open(root / "out" / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    rows.update({student: suite["rows"][student] for student in TWINS})
    return results, rows, root / "out"


def test_a_twin_is_the_english_release_with_the_same_code():
    korean = load_maker().solved()
    twin = english_twin(korean)
    assert twin.metadata["gcl4sr"]["lang"] == "en"
    assert [c.id for c in twin.cells] == [c.id for c in korean.cells]
    answers = [c for c in korean.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all(twin.cells[korean.cells.index(c)].source == c.source for c in answers)
    setup = next(c for c in twin.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                 == "setup")
    assert 'set_language("en")' in setup.source
    assert not HANGUL.search("".join(c.source for c in twin.cells if c.cell_type == "markdown"))


@pytest.mark.parametrize("student", TWINS)
def test_the_same_code_gets_the_same_points_in_either_edition(mixed, student):
    results, rows, _ = mixed
    english = results[f"{student}-en"]
    assert english.lang == "en" and english.status == "graded"
    assert [english.scores[p] for p in EXPECTED["parts"]] == \
        EXPECTED["students"][student]["points"]
    assert [rows[f"{student}-en"][c] for c in COLUMNS] == [rows[student][c] for c in COLUMNS]


def test_each_student_reads_the_reasons_in_the_language_of_their_notebook(mixed):
    _, rows, _ = mixed
    for student in ("partial", "stubs"):
        korean, english = rows[student]["reasons"], rows[f"{student}-en"]["reasons"]
        assert HANGUL.search(korean) and "핵심 하위 검사" in korean
        assert english and not HANGUL.search(english), english
        assert "the core sub-check" in english
        assert len(korean.split(" | ")) == len(english.split(" | "))


def test_the_kernels_claim_of_a_language_is_not_evidence(mixed):
    """The liar's kernel says English; the trusted side reads a Korean notebook: Korean reasons,
    the same as its honest twin's, and the same points."""
    results, rows, _ = mixed
    assert results["liar"].lang == "ko"
    assert [rows["liar"][c] for c in COLUMNS] == [rows["partial"][c] for c in COLUMNS]
    assert rows["liar"]["reasons"] == rows["partial"]["reasons"]
    assert "핵심 하위 검사" in rows["liar"]["reasons"]


def test_the_checks_in_an_english_notebook_speak_english(mixed, suite):
    results, _, _ = mixed
    korean = nbformat.read(suite["out"] / "autograded" / "partial" / ASSIGNMENT /
                           f"{ASSIGNMENT}.ipynb", 4)
    printed = {name: "".join(output.get("text", "") for cell in notebook.cells
                             for output in cell.get("outputs", []))
               for name, notebook in (("partial", korean),
                                      ("partial-en", results["partial-en"].autograded))}
    assert "── WITG 점검 ──" in printed["partial"]
    assert "── WITG check ──" in printed["partial-en"] and "점검 ──" not in printed["partial-en"]


def test_the_class_report_counts_both_editions_together(mixed):
    _, _, out = mixed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["submissions"] == len(TWINS) + 1  # and the liar
    assert report["summary"]["languages"] == {"en": len(TWINS), "ko": 1}
    core = next(r for r in report["subchecks"] if (r["check"], r["id"]) == ("witg", "edges"))
    assert core["ran"] == len(TWINS) + 1 and core["lost"] == 3  # partial-en, stubs-en, liar
    mistakes = {h["mistake"]: h["students"] for h in report["hints"]}
    assert mistakes.get("witg.one_direction") == 2  # the twin of "partial" and the liar


def test_the_report_is_korean_by_default_and_english_when_asked(mixed):
    from grading.instructor.report.class_report import build_report
    from grading.instructor.report.report_page import render

    _, _, out = mixed
    assert "<h2>반 요약</h2>" in (out / "report.html").read_text(encoding="utf-8")
    report = build_report(out, "en")
    page = render(report, "en")
    assert '<html lang="en">' in page and "<h2>Class summary</h2>" in page
    assert "반 요약" not in page and "채점 보고서" not in page
    labels = [row["label"] for row in report["subchecks"]]
    assert "edge set on random sequences" in labels and not HANGUL.search("".join(labels))
    hints = [h["hint"] for h in report["hints"] if h["mistake"] != "other"]
    assert hints and not HANGUL.search("".join(hints))
