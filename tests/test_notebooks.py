"""The assignment notebooks of both editions: release in sync, nbgrader validation, execution
in quick mode.

Every notebook run is a real subprocess (nbgrader, pytest --nbval-lax, a Jupyter kernel)
with PYTHONPATH at the repository root (hidden tests import ``grading``) and GCL4SR_DATA
at the Home folder.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grading import release
from grading.instructor.run.course import REPO_CONFIG
from grading.release import RELEASES, SOLUTION, SOURCE_PY, build_solution

REPO = Path(__file__).resolve().parents[1]
LANGUAGES = list(RELEASES)
#: What the quick run prints in each edition: the setup cell's mode, the skipped TODO 4 check.
SAYS = {"ko": ("실행 모드 : quick", "건너뜁니다"), "en": ("Run mode   : quick", "skipped")}


@pytest.fixture(scope="module")
def env(home_dir):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NBGRADER")}
    environ.update(PYTHONPATH=str(REPO), GCL4SR_DATA=str(home_dir), PYTHONIOENCODING="utf-8")
    return environ


def run(command, env, timeout=600):
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def cells(path):
    return nbformat.read(path, as_version=4).cells


def solved_release(lang: str, path: Path | None = None) -> nbformat.NotebookNode:
    """The release of ``lang`` (or the notebook at ``path``, an edition's copy of it) with
    every TODO answered by its solution's code."""
    nb = nbformat.read(path or RELEASES[lang], as_version=4)
    answers = {c.id: c.source for c in build_solution(lang=lang).cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "",
                                 answers[cell.id], flags=re.M)
    return nb


@pytest.mark.slow
def test_release_is_in_sync_with_the_solution(env):
    done = run([sys.executable, "-m", "grading.release", "--check"], env)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("lang", LANGUAGES)
def test_release_holds_no_solution(lang):
    text = RELEASES[lang].read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "hidden_checks", "adjacency_list[a][b]",
                   "math.log2(rank + 1)\n", "xx + yy - xy - yx)\n"):
        assert marker not in text
    stubs = [c for c in cells(RELEASES[lang]) if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 5 and all("raise NotImplementedError()" in c.source for c in stubs)
    assert sorted(p.name for p in RELEASES[lang].parent.iterdir()) == [RELEASES[lang].name]


def test_points_and_cells():
    graded = {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader
              for c in cells(SOLUTION) if c.metadata.get("nbgrader", {}).get("grade")}
    assert {k: v["points"] for k, v in graded.items()} == {
        "witg_tests": 2, "witg_hidden": 4, "recall_tests": 1, "recall_hidden": 2,
        "ndcg_tests": 2, "ndcg_hidden": 3, "mmd_tests": 2, "mmd_hidden": 4}
    for cell in cells(SOLUTION):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id", "").endswith("_hidden"):
            # the points argument of the hidden check equals the cell's points
            assert f", {meta['points']})\n### END HIDDEN TESTS" in cell.source
    solutions = [c.metadata.nbgrader["grade_id"] for c in cells(SOLUTION)
                 if c.metadata.get("nbgrader", {}).get("solution")]
    assert solutions == ["witg", "recall", "ndcg", "mmd", "nt_xent"]
    # the optional TODO 4 has no test cell: it adds no point and no part to grade
    assert not [grade_id for grade_id in graded if grade_id.startswith("nt_xent")]


def test_the_points_table_and_comments_follow_the_cells_points(tmp_path):
    """A test cell's ``points=`` is the one home of its points: one more point in a copy of
    the source changes the table's row and total, the cell's "(N점)" comment and its hidden
    check's argument in the built notebook, and ``--check`` names the stale lines."""
    text = SOURCE_PY.read_text(encoding="utf-8")
    assert release.points_drift(text) == []  # the committed source is in sync
    points, functions = release.cell_points(text)
    hidden = next(g for g in points if g.endswith("_hidden"))
    header = re.search(rf'^# %%.*grade_id="{hidden}".*$', text, re.M).group(0)
    changed = text.replace(header, re.sub(r"points=\S+", f"points={points[hidden] + 1:g}",
                                          header))
    drift = release.points_drift(changed)
    assert len(drift) == 4, drift  # the TODO row, the total, the comment, the hidden call
    copy = tmp_path / SOURCE_PY.name
    copy.write_text(changed, encoding="utf-8")
    built = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
             for c in release.build_solution(copy).cells}
    old, new = points[hidden], points[hidden] + 1
    assert f"테스트 ({new:g}점)" in built[hidden] and f"테스트 ({old:g}점)" not in built[hidden]
    assert re.search(rf"grade_\w+\(\w+, {new:g}\)\n", built[hidden])
    table = built["md_01"]
    total = sum(points.values())
    assert f"| **{total + 1:g}** |" in table and f"| **{total:g}** |" not in table
    todo = hidden.removesuffix("_hidden")
    row = next(line for line in table.splitlines()
               if any(f"`{f}`" in line for f, g in functions.items() if g == todo))
    public = points[f"{todo}_tests"]
    assert row.endswith(f"| {public:g} + {new:g} = {public + new:g} |"), row


def validate(path, env, *extra):
    command = [sys.executable, "-m", "nbgrader", "validate", str(path),
               f"--NbGrader.config_file={REPO_CONFIG}", *extra]
    return run(command, env)


# nbgrader validate, Korean edition: the English one's code cells are the same but for comments
# and strings (tests/test_edition_release.py), and tests/test_mixed_class.py grades its solved
# twin to full points and its unanswered twin to none.
@pytest.mark.slow
def test_solution_passes_nbgrader_validate(env):
    done = validate(SOLUTION, env)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
def test_release_fails_every_test_under_inverted_validate(env):
    done = validate(RELEASES["ko"], env, "--invert")
    assert "Success! The notebook does not pass any tests." in done.stdout, \
        done.stdout + done.stderr


@pytest.mark.slow
def test_solution_runs_end_to_end_in_quick_mode_under_nbval(env):
    """The Korean source under nbval. The English solution has the same code (the release
    check): its release cells run to the end with every TODO answered in
    ``tests/test_student_edition.py``, its hidden tests give the English twin of ``perfect``
    every point in ``tests/test_mixed_class.py``."""
    done = run([sys.executable, "-m", "pytest", "--nbval-lax", str(SOLUTION), "-q",
                "-p", "no:cacheprovider", "--nbval-sanitize-with",
                str(REPO / "tests" / "nbval_sanitize.cfg")], {**env, "GCL4SR_QUICK": "1"})
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


def _execute_quick(nb, env, lang: str = "ko") -> list[dict]:
    """Run ``nb`` in a quick-mode kernel beside the release of ``lang``; its error outputs."""
    from nbclient import NotebookClient

    old = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k in ("PYTHONPATH", "GCL4SR_DATA")},
                      GCL4SR_QUICK="1")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(RELEASES[lang].parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_release_runs_to_the_end_with_the_optional_todo_unfilled(lang, env):
    """The graded TODOs answered by the solution, TODO 4 (``nt_xent``) left as released: every
    cell runs (the release's stub is defined and raises only when called), the setup cell
    prints the quick mode and the data cell the helper it reads with, and TODO 4's check says
    it skipped the optional exercise."""
    nb = solved_release(lang)
    released = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                for c in cells(RELEASES[lang])}
    stub = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "nt_xent")
    stub.source = released["nt_xent"]
    assert "raise NotImplementedError()" in stub.source
    errors = _execute_quick(nb, env, lang)
    assert not errors, json.dumps(errors, ensure_ascii=False)[:3000]
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    mode, skipped = SAYS[lang]
    assert mode in text and "read_item_sequences" in text
    check = next(c for c in nb.cells if c.cell_type == "code" and "check_nt_xent(" in c.source)
    text = "".join(o.get("text", "") for o in check.outputs)
    assert skipped in text and "❌" not in text
