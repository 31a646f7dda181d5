"""Build the solution notebook and the two student releases (Korean, English) of ``gcl4sr``.

    python -m grading.release            # rebuild every file below and write it
    python -m grading.release --check    # fail (exit 1) if a committed file is out of date
    python -m grading.release --no-db    # rebuild without touching gradebook.db

The truth is the jupytext source ``solutions/gcl4sr/gcl4sr.py`` (py:percent), in Korean. A cell
header carries the nbgrader role in short form, which this module expands into nbgrader metadata:

    # %% [markdown] key="intro"                   read-only instructions (locked)
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
3. The English solution (:func:`build_solution` with ``lang="en"``, not committed: build it
   when needed) goes through the same ``generate_assignment``, with English stubs and without
   the gradebook, into ``notebooks/en/gcl4sr/gcl4sr.ipynb`` (:data:`RELEASES`). The notebook
   file keeps its name in both editions, so that nbgrader and the class command take either.

**Two editions, one source.** The English edition is the Korean source translated by the
catalogue ``solutions/gcl4sr.en.toml``, which holds only the English, in notebook order:

- ``[markdown.<key>]``, one per markdown cell, found by the ``key="..."`` of its header:
  ``en``, the English cell, and ``ko``, the first 12 hex digits of the SHA-256 of the Korean
  cell it translates (after the points are written). When the Korean changes, its hash does
  and ``--check`` names the cell: update the English, then the hash it prints.
- ``[[code]]``, one per Korean comment or string literal of the code cells (a docstring, an
  f-string, as Python's ``tokenize`` cuts them): ``ko``, the token as written, ``en`` the
  token that replaces it. Only those tokens change, so an English code cell is the Korean
  cell with other comments and strings: the same code, grade ids, points and test cells
  (``tests/test_edition_release.py`` compares them). A token has one English wherever it
  appears (the names of ``ABLATION`` and of exercise 3's dict keys stay consistent).

Why a catalogue beside the source rather than both languages inside it: the Korean source
and its diffs stay as they were, the English reads as one file in notebook order, and a change
of either shows as a diff of one entry; TOML's ``'''`` strings hold markdown and Python tokens
verbatim, without escapes. The English release's stubs are :data:`ENGLISH_STUBS`. The student
README of each edition is a file of its own (``notebooks/README.md``,
``notebooks/en/README.md``).

Besides, the setup cell's ``set_language("ko")`` becomes ``set_language("en")``, and each
notebook carries ``metadata["gcl4sr"]["lang"]``. The English edition's engine wheel shows its
readable model and trainer in English: ``solutions/engine.en.toml`` translates the Korean
tokens of ``gcl4sr_helpers/readable_model.py`` and ``readable_trainer.py`` in the same way
(:mod:`grading.release_translation`, which holds the translation's code).

Points have one home, the ``points=N`` of each test cell's header. The build writes them
everywhere else they appear in the Korean source: the points table of the first markdown cell
(its ``| TODO n |`` rows, from the functions each row names, and the ``**합계**`` row), the
``# 공개 테스트 (N점)`` / ``# 숨은 테스트 (N점)`` comment of each test cell and the points
argument of each hidden check call (``grade_witg(..., N)``). ``python -m grading.release``
rewrites them in the jupytext source when a cell's points changed (:func:`with_points`); the
English of a changed table or comment is then stale and ``--check`` says so.

``--check`` fails when the source's table or comments disagree with its cells' points, when
the English catalogue misses or no longer matches a cell or a Korean token (or holds an entry
nothing uses), then builds every notebook into a temporary folder and compares them with the
committed files, modulo volatile metadata (notebook-level metadata other than the kernelspec
and the language).
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

from gcl4sr_helpers.i18n import DEFAULT, LANGUAGES
from grading.instructor.run.course import ASSIGNMENT, METADATA_KEY, REPO, REPO_CONFIG
from grading.kernel.registry import GRADE_FUNCTION
from grading.release_translation import (
    CATALOGUE,
    ENGINE_CATALOGUE,
    engine_translations,
    read_catalogue,
    translate_cells,
)

SOURCE_PY = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.py"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
#: Each edition's folder of student files: its README.md and its release ``<assignment>/``.
RELEASE_ROOTS = {"ko": REPO / "notebooks", "en": REPO / "notebooks" / "en"}
RELEASES = {lang: root / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for lang, root in RELEASE_ROOTS.items()}
RELEASE = RELEASES["ko"]
PYTHON3_KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ROLES = ("locked", "solution", "tests")
#: The English release's stubs (the Korean ones are in grading/nbgrader_config.py).
ENGLISH_STUBS = {"code_stub": "# YOUR CODE HERE\nraise NotImplementedError()",
                 "text_stub": "YOUR ANSWER HERE"}
SET_LANGUAGE = re.compile(r'(?<=set_language\()"ko"(?=\))')


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



def translation_problems(source: Path = SOURCE_PY, catalogue: Path = CATALOGUE,
                         engine_catalogue: Path = ENGINE_CATALOGUE) -> list[str]:
    """Cells, Korean tokens and engine tokens the catalogues miss, and their stale entries."""
    cells = jupytext.reads(with_points(source.read_text(encoding="utf-8")),
                           fmt="py:percent").cells
    return [*translate_cells(cells, read_catalogue(catalogue)),
            *engine_translations(engine_catalogue)[1]]


# --- notebooks ----------------------------------------------------------------------------
def build_solution(source: Path = SOURCE_PY, lang: str = DEFAULT,
                   catalogue: Path = CATALOGUE) -> nbformat.NotebookNode:
    """The nbgrader source notebook of edition ``lang`` built from the jupytext ``source``
    (its points table and comments written from the cells' points, :func:`with_points`;
    English from ``catalogue``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {LANGUAGES}")
    nb = jupytext.reads(with_points(source.read_text(encoding="utf-8")), fmt="py:percent")
    if lang == "en" and (problems := translate_cells(nb.cells, read_catalogue(catalogue))):
        raise ValueError("the English edition is incomplete (python -m grading.release "
                         "--check):\n" + "\n".join(problems))
    nb.metadata = nbformat.from_dict({"kernelspec": PYTHON3_KERNEL,
                                      "language_info": {"name": "python"},
                                      METADATA_KEY: {"lang": lang}})
    seen: set[str] = set()
    markdown = calls = 0
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
            cell.source, count = SET_LANGUAGE.subn(f'"{lang}"', cell.source)
            calls += count
    if calls != 1:
        raise ValueError(f'the setup cell must call set_language("ko") once ({calls} calls)')
    nbformat.validate(nb)
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def generate_release(source_root: Path | None = None, release_root: Path | None = None,
                     db: bool = True, lang: str = DEFAULT) -> None:
    """Run ``nbgrader generate_assignment`` (optionally from/to other folders), with the
    stubs of ``lang``: the course config's for Korean, :data:`ENGLISH_STUBS` for English
    (given on the command line, since nbgrader loads the course root's config last)."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force",
               f"--NbGrader.config_file={REPO_CONFIG}"]
    if lang != DEFAULT:
        command += [f"--ClearSolutions.{name}={stub}" for name, stub in ENGLISH_STUBS.items()]
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
    """A notebook's JSON without volatile parts (notebook metadata other than the kernel and
    the language)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    metadata = nb.get("metadata", {})
    nb["metadata"] = {"kernelspec": metadata.get("kernelspec"),
                      METADATA_KEY: metadata.get(METADATA_KEY)}
    return nb


def _tidy_release(path: Path, lang: str) -> None:
    """Rewrite the release in the same stable JSON layout as the solution."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata = nbformat.from_dict({"kernelspec": PYTHON3_KERNEL,
                                      "language_info": {"name": "python"},
                                      METADATA_KEY: {"lang": lang}})
    write_notebook(nb, path)


def _release(lang: str, release_root: Path, folder: Path, db: bool = False) -> Path:
    """Build the release of ``lang`` under ``release_root`` (its solution written in
    ``folder``, unless Korean with ``db``: the committed solution and the gradebook)."""
    source_root = None
    if not (lang == DEFAULT and db):
        source_root = folder / "source"
        write_notebook(build_solution(lang=lang), source_root / ASSIGNMENT / SOLUTION.name)
    generate_release(source_root, release_root, db=db, lang=lang)
    released = release_root / ASSIGNMENT / RELEASE.name
    _tidy_release(released, lang)
    return released


def build(db: bool = True) -> None:
    text = SOURCE_PY.read_text(encoding="utf-8")
    if points_drift(text):
        SOURCE_PY.write_text(with_points(text), encoding="utf-8")
        print(f"wrote the points of {SOURCE_PY.relative_to(REPO)} from its cells' points=")
    write_notebook(build_solution(), SOLUTION)
    with tempfile.TemporaryDirectory(prefix="gcl4sr-release-") as tmp:
        for lang in LANGUAGES:
            released = _release(lang, RELEASE_ROOTS[lang], Path(tmp) / lang,
                                db=db and lang == DEFAULT)
            print(f"wrote {released.relative_to(REPO)}")
    print(f"wrote {SOLUTION.relative_to(REPO)}")


def stale_files() -> list[str]:
    """Committed files that differ from a fresh build, and missing or stale English (empty
    when everything is in sync)."""
    problems = [f"{SOURCE_PY.relative_to(REPO)} {drift} (the cells' points= decide)"
                for drift in points_drift(SOURCE_PY.read_text(encoding="utf-8"))]
    english = translation_problems(SOURCE_PY, CATALOGUE, ENGINE_CATALOGUE)
    problems += [f"English: {problem}" for problem in english]
    with tempfile.TemporaryDirectory(prefix="gcl4sr-release-") as tmp:
        fresh_solution = Path(tmp) / SOLUTION.name
        write_notebook(build_solution(), fresh_solution)
        if not SOLUTION.is_file() or normalised(SOLUTION) != normalised(fresh_solution):
            problems.append(f"{SOLUTION.relative_to(REPO)} (rebuild from {SOURCE_PY.name})")
        for lang in LANGUAGES if not english else (DEFAULT,):
            fresh = _release(lang, Path(tmp) / lang / "release", Path(tmp) / lang)
            committed = RELEASES[lang]
            if not committed.is_file() or normalised(committed) != normalised(fresh):
                problems.append(f"{_shown(committed)} (regenerate the release)")
            fresh_files = sorted(p.name for p in fresh.parent.iterdir())
            files = sorted(p.name for p in committed.parent.iterdir()) \
                if committed.parent.is_dir() else []
            if fresh_files != files:
                problems.append(f"{_shown(committed.parent)}/ holds {files}, "
                                f"a fresh release holds {fresh_files}")
    return problems


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


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
