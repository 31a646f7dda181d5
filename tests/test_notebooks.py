"""The assignment notebooks: release in sync, nbgrader validation, execution in quick mode.

Every notebook run is a real subprocess (nbgrader, pytest --nbval-lax, a Jupyter kernel)
with PYTHONPATH at the repository root (hidden tests import ``grading``) and GCL4SR_DATA
at the Home folder.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solutions" / "gcl4sr" / "gcl4sr.ipynb"
RELEASE = REPO / "notebooks" / "gcl4sr" / "gcl4sr.ipynb"
CONFIG = REPO / "grading" / "nbgrader_config.py"


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


@pytest.mark.slow
def test_release_is_in_sync_with_the_solution(env):
    done = run([sys.executable, "-m", "grading.release", "--check"], env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_release_holds_no_solution():
    text = RELEASE.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "hidden_checks", "adjacency_list[a][b]",
                   "math.log2(rank + 1)\n", "xx + yy - xy - yx)\n"):
        assert marker not in text
    stubs = [c for c in cells(RELEASE) if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 4 and all("raise NotImplementedError()" in c.source for c in stubs)
    assert sorted(p.name for p in RELEASE.parent.iterdir()) == ["gcl4sr.ipynb"]


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
    assert solutions == ["witg", "recall", "ndcg", "mmd"]


def validate(path, env, *extra):
    command = [sys.executable, "-m", "nbgrader", "validate", str(path),
               f"--NbGrader.config_file={CONFIG}", *extra]
    return run(command, env)


@pytest.mark.slow
def test_solution_passes_nbgrader_validate(env):
    done = validate(SOLUTION, env)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr


@pytest.mark.slow
def test_release_fails_every_test_under_inverted_validate(env):
    done = validate(RELEASE, env, "--invert")
    assert "Success! The notebook does not pass any tests." in done.stdout, \
        done.stdout + done.stderr


@pytest.mark.slow
def test_solution_runs_end_to_end_in_quick_mode_under_nbval(env):
    done = run([sys.executable, "-m", "pytest", "--nbval-lax", str(SOLUTION), "-q",
                "-p", "no:cacheprovider", "--nbval-sanitize-with",
                str(REPO / "tests" / "nbval_sanitize.cfg")], {**env, "GCL4SR_QUICK": "1"})
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]


@pytest.mark.slow
def test_release_runs_up_to_its_first_todo(env):
    from nbclient import NotebookClient

    nb = nbformat.read(RELEASE, as_version=4)
    first = next(i for i, c in enumerate(nb.cells)
                 if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells = nb.cells[:first + 1]  # defining the stubbed function must work too
    old = dict(os.environ)
    os.environ.update({k: v for k, v in env.items() if k in ("PYTHONPATH", "GCL4SR_DATA")},
                      GCL4SR_QUICK="1")
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(RELEASE.parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, json.dumps(errors, ensure_ascii=False)[:3000]
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)
    assert "실행 모드 : quick" in text and "read_item_sequences" in text
