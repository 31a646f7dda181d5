"""Build the solution notebook and the student release of the assignment ``gcl4sr``.

    python -m grading.release            # rebuild both and write them
    python -m grading.release --check    # fail (exit 1) if a committed file is out of date
    python -m grading.release --no-db    # rebuild without touching gradebook.db

The truth is the jupytext source ``solutions/gcl4sr/gcl4sr.py`` (py:percent). A cell header
carries the nbgrader role in short form, which this module expands into nbgrader metadata:

    # %% [markdown]                               read-only instructions (locked)
    # %%                                          ordinary code, students may edit it
    # %% nbgrader="locked" grade_id="setup"       read-only code
    # %% nbgrader="solution" grade_id="witg"      a TODO: ### BEGIN/END SOLUTION inside
    # %% nbgrader="tests" grade_id="witg_tests" points=2    an autograder test cell

1. ``solutions/gcl4sr/gcl4sr.ipynb`` (the nbgrader source, solutions included) is built from
   the .py with deterministic cell ids and no outputs.
2. ``nbgrader generate_assignment gcl4sr`` (config ``grading/nbgrader_config.py``) turns it
   into the release ``notebooks/gcl4sr/gcl4sr.ipynb``: solutions replaced by a stub, hidden
   tests removed, checksums added. By default the assignment and its cells are also recorded
   in the course's ``gradebook.db``, which ``nbgrader autograde`` needs.

``--check`` builds both into a temporary folder and compares them with the committed files,
modulo volatile metadata (notebook-level metadata other than the kernelspec).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "gcl4sr"
CONFIG = REPO / "grading" / "nbgrader_config.py"
SOURCE_PY = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.py"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
RELEASE_DIR = REPO / "notebooks" / ASSIGNMENT
RELEASE = RELEASE_DIR / f"{ASSIGNMENT}.ipynb"
PYTHON3_KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ROLES = ("locked", "solution", "tests")


def _nbgrader_metadata(role: str, grade_id: str, points) -> dict:
    meta = {"grade": role == "tests", "grade_id": grade_id, "locked": role != "solution",
            "schema_version": 3, "solution": role == "solution", "task": False}
    if role == "tests":
        if points is None:
            raise ValueError(f"test cell {grade_id!r} needs points=N in its header")
        meta["points"] = points
    return meta


def build_solution(source: Path = SOURCE_PY) -> nbformat.NotebookNode:
    """The nbgrader source notebook built from the jupytext ``source``."""
    nb = jupytext.read(source)
    nb.metadata = nbformat.from_dict({"kernelspec": PYTHON3_KERNEL,
                                      "language_info": {"name": "python"}})
    seen: set[str] = set()
    markdown = 0
    for index, cell in enumerate(nb.cells):
        meta = dict(cell.metadata)
        role = meta.pop("nbgrader", "locked" if cell.cell_type == "markdown" else None)
        grade_id = meta.pop("grade_id", None)
        points = meta.pop("points", None)
        if cell.cell_type == "markdown":
            markdown += 1
            grade_id = grade_id or f"md_{markdown:02d}"
        if role is not None and role not in ROLES:
            raise ValueError(f"cell {index}: unknown nbgrader role {role!r}")
        if role is not None and not grade_id:
            raise ValueError(f"cell {index}: a {role} cell needs grade_id=\"...\"")
        cell.metadata = nbformat.from_dict({})
        if role is not None:
            if grade_id in seen:
                raise ValueError(f"cell {index}: duplicate grade_id {grade_id!r}")
            seen.add(grade_id)
            cell.metadata["nbgrader"] = _nbgrader_metadata(role, grade_id, points)
        cell.id = (grade_id or f"cell_{index:02d}").replace("_", "-")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def generate_release(source_root: Path | None = None, release_root: Path | None = None,
                     db: bool = True) -> None:
    """Run ``nbgrader generate_assignment`` (optionally from/to other folders)."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force",
               f"--NbGrader.config_file={CONFIG}"]
    if source_root is not None:
        command.append(f"--CourseDirectory.source_directory={source_root}")
    if release_root is not None:
        command.append(f"--CourseDirectory.release_directory={release_root}")
    if not db:
        command.append("--no-db")
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}\n{done.stderr}")


def normalised(path: Path) -> dict:
    """A notebook's JSON without volatile parts (notebook metadata other than the kernel)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"] = {"kernelspec": nb.get("metadata", {}).get("kernelspec")}
    return nb


def _tidy_release(path: Path) -> None:
    """Rewrite the release in the same stable JSON layout as the solution."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata = nbformat.from_dict({"kernelspec": PYTHON3_KERNEL,
                                      "language_info": {"name": "python"}})
    write_notebook(nb, path)


def build(db: bool = True) -> None:
    write_notebook(build_solution(), SOLUTION)
    generate_release(db=db)
    _tidy_release(RELEASE)
    print(f"wrote {SOLUTION.relative_to(REPO)} and {RELEASE.relative_to(REPO)}")


def stale_files() -> list[str]:
    """Committed files that differ from a fresh build (empty when everything is in sync)."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="gcl4sr-release-") as tmp:
        source_root, release_root = Path(tmp) / "source", Path(tmp) / "release"
        fresh_solution = source_root / ASSIGNMENT / SOLUTION.name
        write_notebook(build_solution(), fresh_solution)
        if not SOLUTION.is_file() or normalised(SOLUTION) != normalised(fresh_solution):
            problems.append(f"{SOLUTION.relative_to(REPO)} (rebuild from {SOURCE_PY.name})")
        generate_release(source_root, release_root, db=False)
        fresh_release = release_root / ASSIGNMENT / RELEASE.name
        _tidy_release(fresh_release)
        if not RELEASE.is_file() or normalised(RELEASE) != normalised(fresh_release):
            problems.append(f"{RELEASE.relative_to(REPO)} (regenerate the release)")
        fresh_files = sorted(p.name for p in fresh_release.parent.iterdir())
        committed = sorted(p.name for p in RELEASE_DIR.iterdir()) if RELEASE_DIR.is_dir() else []
        if fresh_files != committed:
            problems.append(f"{RELEASE_DIR.relative_to(REPO)}/ holds {committed}, "
                            f"a fresh release holds {fresh_files}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the committed notebooks with a fresh build; exit 1 if stale")
    parser.add_argument("--no-db", action="store_true",
                        help="do not record the assignment in gradebook.db")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    if args.check:
        problems = stale_files()
        for problem in problems:
            print(f"out of date: {problem}")
        print("release is in sync" if not problems else "run: python -m grading.release")
        return 1 if problems else 0
    build(db=not args.no_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
