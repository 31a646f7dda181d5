"""A whole course through nbgrader's own commands and exchange, with a course id.

Instructor: generate_assignment, release_assignment. Students (``--student``, as nbgrader's
exchange documents): fetch_assignment, fill, submit. alice submits twice (the last counts) and
completes everything; bob fills TODO 1 only; carol renames a notebook of another release (an
edited locked cell, a cell that release did not have) and fills nothing. Instructor: collect,
plain ``nbgrader autograde`` with the course's configuration only, the kit's
``grading.grade_class`` on the collected course (same points), generate_feedback,
release_feedback. Students: fetch_feedback. Then the instructor releases grade_class's feedback
instead (``nbgrader release_feedback`` in its output course) and the students fetch again.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from grading.instructor.common.procs import run_logged
from grading.instructor.run.course import ASSIGNMENT
from grading.instructor.run.grade_one import forget_foreign_cells, release_differences
from grading.instructor.run.warm import nbgrader_starter
from grading.release import SOLUTION

REPO = Path(__file__).resolve().parents[1]
COURSE_ID = "gcl4sr-2026"
FILLED = {"alice": ("witg", "recall", "ndcg", "mmd"), "bob": ("witg",), "carol": ()}
RENAMED = "gcl4sr (older copy).ipynb"
#: The points each student must end with: the test cells of the TODOs they filled.
EXPECTED = {"alice": 20.0, "bob": 2.0 + 4.0, "carol": 0.0}


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solutions() -> dict[str, str]:
    """The course's own answers, as a student would type them (markers removed)."""
    nb = nbformat.read(SOLUTION, as_version=4)
    return {_grade_id(c): "\n".join(line for line in c.source.splitlines()
                                    if "### BEGIN SOLUTION" not in line
                                    and "### END SOLUTION" not in line)
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without PYTHONPATH: what the course configuration must provide
    for the hidden cells is not smuggled in by the test."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def nbgrader(cwd: Path, *args: str, ok: bool = True) -> str:
    """The instructor's ``nbgrader *args`` in ``cwd``: a new Python, as typed in a shell."""
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=900)
    assert (done.returncode == 0) == ok, \
        f"nbgrader {' '.join(args)} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def student_nbgrader(home: Path, *args: str) -> str:
    """A student's ``nbgrader *args`` (fetch, submit: their own config, no course code): the
    same command line, folder and environment, forked from a Python that already imported
    nbgrader (:mod:`grading.instructor.run.warm`) to save its 2 s import, 13 times a run."""
    log = home.parent / f"{home.name}-nbgrader.log"
    done = run_logged([sys.executable, "-m", "nbgrader", *args], home, log, 900, _env(),
                      start_with=nbgrader_starter({}))
    text = log.read_text()
    assert done.code == 0, f"nbgrader {' '.join(args)} (exit {done.code}):\n{text}"
    return text


def fill(path: Path, todos: tuple[str, ...]) -> None:
    nb = nbformat.read(path, as_version=4)
    answers = _solutions()
    for cell in nb.cells:
        if _grade_id(cell) in todos:
            cell.source = answers[_grade_id(cell)]
    nbformat.write(nb, path)


def make_other_release(path: Path) -> None:
    """What a notebook of an earlier release looks like: a locked cell worded differently and a
    markdown cell this release does not have."""
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if _grade_id(c) == "setup")
    setup.source = setup.source.replace("import warnings\n", "import warnings  # v0\n")
    extra = nbformat.v4.new_markdown_cell("## 예전 배포판에만 있던 설명")
    extra.metadata["nbgrader"] = {"grade": False, "grade_id": "md_old", "locked": True,
                                  "schema_version": 3, "solution": False, "task": False}
    nb.cells.insert(1, extra)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def course(tmp_path_factory, home_dir) -> dict:
    root = tmp_path_factory.mktemp("lifecycle")
    exchange, instructor = root / "exchange", root / "course"
    exchange.mkdir()
    (instructor / "solutions" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy2(SOLUTION, instructor / "solutions" / ASSIGNMENT)
    (instructor / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(REPO / 'grading' / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(instructor)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n")
    nbgrader(instructor, "generate_assignment", ASSIGNMENT)
    nbgrader(instructor, "release_assignment", ASSIGNMENT)

    homes = {}
    for student, todos in FILLED.items():
        home = homes[student] = root / student
        home.mkdir()
        (home / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n"
            f"c.Exchange.cache = {str(home / '.nbgrader-cache')!r}\n")
        student_nbgrader(home, "fetch_assignment", ASSIGNMENT)
        notebook = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        if student == "alice":  # a first, empty submission; the complete one comes later
            student_nbgrader(home, "submit", ASSIGNMENT, f"--student={student}")
        if student == "carol":
            make_other_release(notebook)
            notebook = notebook.rename(notebook.with_name(RENAMED))
        fill(notebook, todos)
        student_nbgrader(home, "submit", ASSIGNMENT, f"--student={student}")

    nbgrader(instructor, "collect", ASSIGNMENT)
    # nbgrader itself grades no renamed notebook: it fails carol's submission, grades the rest
    autograde_log = nbgrader(instructor, "autograde", ASSIGNMENT, ok=False)
    graded = root / "graded"
    done = subprocess.run([sys.executable, "-m", "grading.grade_class", str(instructor),
                           "--out", str(graded), "--jobs", "2"],
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    nbgrader(instructor, "generate_feedback", ASSIGNMENT)
    nbgrader(instructor, "release_feedback", ASSIGNMENT)
    plain_feedback = fetch_feedback(homes)
    nbgrader(graded, "release_feedback", ASSIGNMENT)  # replaces those pages in the exchange
    with open(graded / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    return {"course": instructor, "homes": homes, "grades": rows, "graded": graded,
            "autograde_log": autograde_log, "plain_feedback": plain_feedback,
            "class_feedback": fetch_feedback(homes)}


def fetch_feedback(homes: dict[str, Path]) -> dict[str, dict[str, str]]:
    """Every student runs ``nbgrader fetch_feedback``; their feedback pages afterwards, as
    path under the assignment folder -> text."""
    pages = {}
    for student, home in homes.items():
        student_nbgrader(home, "fetch_feedback", ASSIGNMENT, f"--student={student}")
        pages[student] = {str(p.relative_to(home / ASSIGNMENT)): p.read_text(encoding="utf-8")
                          for p in sorted((home / ASSIGNMENT).glob("feedback/*/*.html"))}
    return pages


def _gradebook(course_root: Path) -> dict[str, float]:
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def test_collect_takes_each_students_last_submission(course):
    submitted = course["course"] / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted(FILLED)
    alice = nbformat.read(submitted / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    witg = next(c for c in alice.cells if _grade_id(c) == "witg")
    assert "NotImplementedError" not in witg.source


def test_plain_autograde_gives_the_expected_points(course):
    """The course configuration alone lets the hidden cells run; a renamed notebook is the one
    nbgrader cannot grade (it says so for that student only) and counts 0."""
    assert _gradebook(course["course"]) == EXPECTED
    failed = re.findall(r"error processing assignment '\w+' for student '(\w+)'",
                        course["autograde_log"])
    assert failed == ["carol"]
    assert "Skipping unknown notebook" in course["autograde_log"]


def test_grade_class_agrees_on_the_collected_course(course):
    rows = course["grades"]
    assert {s: float(r["total"]) for s, r in rows.items()} == EXPECTED
    assert rows["alice"]["status"] == rows["bob"]["status"] == "graded"


def test_a_notebook_of_another_release_gets_a_status_and_reason(course):
    carol = course["grades"]["carol"]
    assert carol["status"] == "other release"
    assert "md_old" in carol["reasons"] and "setup" in carol["reasons"]
    assert RENAMED in carol["reasons"]  # graded although renamed, and said so


def _stamp(course: dict, student: str) -> str:
    """The timestamp of the student's collected (last) submission."""
    path = course["course"] / "submitted" / student / ASSIGNMENT / "timestamp.txt"
    return path.read_text().strip()


def test_each_student_fetches_their_own_feedback(course):
    """One page each, for their last submission (its timestamp names the folder), with their
    score; alice's first submission has none."""
    for student in ("alice", "bob"):
        [(path, text)] = course["plain_feedback"][student].items()
        assert path == f"feedback/{_stamp(course, student)}/{ASSIGNMENT}.html"
        assert f"{ASSIGNMENT} (Score: {EXPECTED[student]:.1f} / 20.0)" in text


def test_a_renamed_notebook_gets_feedback_from_the_class_command(course):
    """nbgrader has no feedback for carol's renamed notebook; grade_class wrote one."""
    assert course["plain_feedback"]["carol"] == {}
    page = course["graded"] / "feedback" / "carol" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert "Score: 0" in page.read_text(encoding="utf-8")


def test_grade_class_feedback_travels_through_the_exchange(course):
    """``nbgrader release_feedback`` in grade_class's output course (it has the collected
    course's exchange settings) releases the pages grade_class wrote: each student fetches
    exactly that page, with grade_class's points, for their last submission (replacing plain
    nbgrader's), carol under her renamed notebook's name."""
    graded = course["graded"]
    for student in FILLED:
        written = graded / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        name = Path(RENAMED).stem if student == "carol" else ASSIGNMENT
        page = written.read_text(encoding="utf-8")
        assert course["class_feedback"][student] == {
            f"feedback/{_stamp(course, student)}/{name}.html": page}, student
        assert f"{ASSIGNMENT} (Score: {EXPECTED[student]:.1f} / 20.0)" in page
    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gb:
        assert {s.student.id: s.timestamp for s in gb.assignment_submissions(ASSIGNMENT)} == \
            {student: parse_utc(_stamp(course, student)) for student in FILLED}


def test_release_differences_name_the_cells(tmp_path):
    """Unit level: a copy of the release has none; an edited locked cell and a foreign cell
    are named; an edited solution cell is no difference."""
    release = nbformat.read(REPO / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    course = SimpleNamespace(release_nb=release)
    assert release_differences(nbformat.from_dict(release), course) is None
    answered = nbformat.from_dict(json.loads(json.dumps(release)))
    fill_path = tmp_path / "answered.ipynb"
    nbformat.write(answered, fill_path)
    fill(fill_path, FILLED["alice"])
    assert release_differences(nbformat.read(fill_path, 4), course) is None
    make_other_release(fill_path)
    reason = release_differences(nbformat.read(fill_path, 4), course)
    assert "locked cells changed: setup" in reason
    assert "cells this release does not have: md_old" in reason
    other = nbformat.read(fill_path, 4)
    forget_foreign_cells(other, course)
    assert [c.source for c in other.cells if "nbgrader" not in c.metadata] == \
        ["## 예전 배포판에만 있던 설명"] + [c.source for c in release.cells
                                   if "nbgrader" not in c.metadata]
