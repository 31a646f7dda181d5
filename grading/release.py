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

Points have one home, the ``points=N`` of each test cell's header. The build writes them
everywhere else they appear: the points table of the first markdown cell (its ``| TODO n |``
rows, from the functions each row names, and the ``**합계**`` row), the ``# 공개 테스트 (N점)``
/ ``# 숨은 테스트 (N점)`` comment of each test cell and the points argument of each hidden
check call (``grade_witg(..., N)``). ``python -m grading.release`` rewrites them in the
jupytext source when a cell's points changed (:func:`with_points`).

``--check`` fails when the source's table or comments disagree with its cells' points, then
builds both notebooks into a temporary folder and compares them with the committed files,
modulo volatile metadata (notebook-level metadata other than the kernelspec).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

from grading.instructor.run.course import ASSIGNMENT, REPO, REPO_CONFIG
from grading.kernel.registry import GRADE_FUNCTION

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


# --- points: the cells' points= are the truth, the table and the comments follow ---------
# Each pattern: the text before the points (head), the points, the text after them (tail).
POINTS_COMMENT = re.compile(r"^(?P<head># (?:공개|숨은) 테스트 \()(?P<points>[^)]*)"
                            r"(?P<tail>점\).*)$")
HIDDEN_CALL = re.compile(r"^(?P<head>" + GRADE_FUNCTION.pattern + r"\(\w+, )(?P<points>[^)]*)"
                         r"(?P<tail>\)\s*)$")
TODO_ROW = re.compile(r"^(?P<head># \| TODO [^|]*\|(?P<todo>[^|]*)\| )(?P<points>[^|]*)"
                      r"(?P<tail> \|)$")
TOTAL_ROW = re.compile(r"^(?P<head># \| \| \*\*합계\*\* \| \*\*)(?P<points>[^*|]*)"
                       r"(?P<tail>\*\* \|)$")
CELL_HEADER = re.compile(r"^# %%")
GRADE_ID = re.compile(r'\bgrade_id="([^"]+)"')


def _number(points: float) -> str:
    return f"{points:g}"


def cell_points(text: str) -> tuple[dict[str, float], dict[str, str]]:
    """The jupytext source's test cells (grade id -> points, notebook order) and the functions
    its solution cells define (name -> the cell's grade id)."""
    points, functions = {}, {}
    for cell in jupytext.reads(text, fmt="py:percent").cells:
        meta = cell.metadata
        if meta.get("nbgrader") == "tests":
            if meta.get("points") is None:
                raise ValueError(f"test cell {meta.get('grade_id')!r} needs points=N in its header")
            points[meta["grade_id"]] = meta["points"]
        elif meta.get("nbgrader") == "solution":
            functions.update(dict.fromkeys(re.findall(r"^def (\w+)\(", cell.source, re.M),
                                           meta["grade_id"]))
    return points, functions


def _row_points(names: list[str], points: dict[str, float], functions: dict[str, str],
                counted: set[str]) -> str:
    """``2 + 4 = 6`` for one TODO, ``(1 + 2) + (2 + 3) = 8`` for several: the test cells of
    each named function's solution cell (``<grade id>_*``), in notebook order."""
    groups = []
    for name in names:
        if name not in functions:
            raise ValueError(f"points table: `{name}` is not defined by a solution cell")
        cells = [g for g in points if g.startswith(functions[name] + "_")]
        counted.update(cells)
        groups.append([points[g] for g in cells])
    parts = [" + ".join(map(_number, group)) for group in groups]
    if len(parts) > 1:
        parts = [f"({part})" if len(group) > 1 else part for part, group in zip(parts, groups,
                                                                                   strict=True)]
    return f"{' + '.join(parts)} = {_number(sum(map(sum, groups)))}"


def with_points(text: str) -> str:
    """The jupytext source ``text`` with its points table, its test cells' ``(N점)`` comments
    and its hidden checks' points arguments written from the cells' ``points=``."""
    points, functions = cell_points(text)
    counted: set[str] = set()
    lines, grade_id, rows, total = text.split("\n"), None, 0, False
    for index, line in enumerate(lines):
        if CELL_HEADER.match(line):
            found = GRADE_ID.search(line)
            grade_id = found.group(1) if found and 'nbgrader="tests"' in line else None
            continue
        written = None
        if grade_id is not None:
            match = POINTS_COMMENT.match(line) or HIDDEN_CALL.match(line)
            written = match and _number(points[grade_id])
        elif match := TODO_ROW.match(line):
            names = re.findall(r"`(\w+)`", match.group("todo"))
            written, rows = _row_points(names, points, functions, counted), rows + 1
        elif match := TOTAL_ROW.match(line):
            written, total = _number(sum(points.values())), True
        if written:
            lines[index] = f"{match.group('head')}{written}{match.group('tail')}"
    if points and not (rows and total):
        raise ValueError("no points table (`| TODO n | ... `name` ... | N |` rows and a "
                         "`| | **합계** | **N** |` row) in the source's markdown")
    if missing := [g for g in points if g not in counted]:
        raise ValueError(f"points table: test cells {missing} belong to no TODO row (a row "
                         "counts the cells <grade id>_* of the solution cells it names)")
    return "\n".join(lines)


def points_drift(text: str) -> list[str]:
    """Lines of the jupytext source whose points disagree with its cells' ``points=``."""
    fixed = with_points(text)
    return [f"line {number}: {old.strip()!r} should read {new.strip()!r}"
            for number, (old, new) in enumerate(zip(text.split("\n"), fixed.split("\n"),
                                                     strict=True), 1) if old != new]


def build_solution(source: Path = SOURCE_PY) -> nbformat.NotebookNode:
    """The nbgrader source notebook built from the jupytext ``source`` (its points table and
    comments written from the cells' points, :func:`with_points`)."""
    nb = jupytext.reads(with_points(source.read_text(encoding="utf-8")), fmt="py:percent")
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
               f"--NbGrader.config_file={REPO_CONFIG}"]
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
    text = SOURCE_PY.read_text(encoding="utf-8")
    if points_drift(text):
        SOURCE_PY.write_text(with_points(text), encoding="utf-8")
        print(f"wrote the points of {SOURCE_PY.relative_to(REPO)} from its cells' points=")
    write_notebook(build_solution(), SOLUTION)
    generate_release(db=db)
    _tidy_release(RELEASE)
    print(f"wrote {SOLUTION.relative_to(REPO)} and {RELEASE.relative_to(REPO)}")


def stale_files() -> list[str]:
    """Committed files that differ from a fresh build (empty when everything is in sync)."""
    problems = [f"{SOURCE_PY.relative_to(REPO)} {drift} (the cells' points= decide)"
                for drift in points_drift(SOURCE_PY.read_text(encoding="utf-8"))]
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
