"""The graded assignment as a course template: source, release, gradebook, parts, points
and the hidden checks each graded cell calls, in the language of its source notebook.

A submission is graded in the course of its own edition (:mod:`grading.instructor.classrun`
builds the other edition's source with :mod:`grading.release`): ``nbgrader autograde``
overwrites every locked cell with the source's, the prose and the setup cell that chooses the
language of the check messages included, so an English submission graded against the Korean
source would come back in Korean. Both editions share code cells, grade ids, points and test
cells (``grading.release`` builds them from one source), so the same code gets the same points
in either course."""

from __future__ import annotations

import ast
import re
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat

from grading import REPO
from grading.kernel.i18n import DEFAULT, known
from grading.kernel.registry import GRADE_FUNCTION

from ..common.procs import run_logged
from .warm import nbgrader_starter

ASSIGNMENT = "gcl4sr"
"""The assignment's name, also its notebook's (``gcl4sr.ipynb``): the one home of that fact
(:mod:`grading.release`, the class command and the tests import it)."""
METADATA_KEY = "gcl4sr"
"""The kit's block of notebook metadata: ``metadata["gcl4sr"]["lang"]`` is the edition's
language, which :mod:`grading.release` writes and the grader reads (:func:`notebook_language`)."""
REPO_CONFIG = REPO / "grading" / "nbgrader_config.py"
"""The repository's nbgrader config (the one home of its path)."""
BASE_CONFIG = "course_config.py"  # a course's copy of REPO_CONFIG: sandboxes see no repository
CHECK_CALL = re.compile(r"\b" + GRADE_FUNCTION.pattern + r"\s*\(")


@dataclass
class Course:
    """The graded assignment: source and release notebooks, cells, points."""

    template: Path
    source_dir: str
    release_dir: str
    assignment: str
    notebook: str
    parts: list[str]  # grade cell ids, notebook order
    max_points: dict[str, float]
    hidden: dict[str, list[tuple[str, float | None]]]  # grade id -> [(check, points)]
    release_nb: nbformat.NotebookNode
    lang: str = DEFAULT  # the source notebook's language (its metadata's)

    @cached_property
    def imports(self) -> list[str]:
        """What the release notebook imports at the top level of its code cells, in order: each
        module and, for ``from module import name``, ``module.name`` too (it may be a
        submodule). A graded kernel imports them before its turn (:mod:`.graded_kernel`)."""
        found = []
        for cell in self.release_nb.cells:
            try:
                body = ast.parse(cell.source).body if cell.cell_type == "code" else []
            except SyntaxError:
                continue
            for node in body:
                if isinstance(node, ast.Import):
                    found += [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        return list(dict.fromkeys(found))

    @property
    def visible(self) -> dict[str, str]:
        """Visible test cell (grade id) -> the check whose public verdict earns its points: the
        check of the next hidden cell (a part's visible tests come before its hidden check)."""
        found, waiting = {}, []
        for grade_id in self.parts:
            if grade_id in self.hidden:
                found.update(dict.fromkeys(waiting, self.hidden[grade_id][0][0]))
                waiting = []
            else:
                waiting.append(grade_id)
        return found


def notebook_language(metadata: object) -> str:
    """The language of a notebook from its metadata (``DEFAULT`` when missing or unknown)."""
    block = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return known(block.get("lang") if isinstance(block, dict) else None)


def config_text(root: Path, cell_timeout: int | None) -> str:
    """The course config at ``root``: the repository's (its copy in ``root``, if any), rooted
    at ``root``."""
    base = root / BASE_CONFIG if (root / BASE_CONFIG).is_file() else REPO_CONFIG
    lines = ["# Written by grading.grade_class: the repository's config, rooted here.",
             "import sys",
             f"sys.path.insert(0, {str(REPO)!r})  # the kit, which the config imports",
             "c = get_config()  # noqa: F821"]
    if base.is_file():
        lines.append(f"load_subconfig({str(base)!r})  # noqa: F821")
    lines += [f"c.CourseDirectory.root = {str(root)!r}",
              f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}"]
    if cell_timeout:
        lines.append(f"c.Execute.timeout = {int(cell_timeout)}")
    return "\n".join(lines) + "\n"


def _directories() -> tuple[str, str]:
    if not REPO_CONFIG.is_file():
        return "source", "release"
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(REPO_CONFIG.name, path=str(REPO_CONFIG.parent)).load_config()
    course = config.get("CourseDirectory", {})
    return (str(course.get("source_directory", "source")),
            str(course.get("release_directory", "release")))


def hidden_calls(source: str, max_points: float) -> list[tuple[str, float | None]]:
    """The hidden checks a graded cell calls, as (check, points); points shared out evenly
    when the cell does not state them."""
    calls: list[tuple[str, float | None]] = []
    try:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                match = GRADE_FUNCTION.fullmatch(name or "")
                if match:
                    points = None
                    if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                        points = float(node.args[1].value)
                    calls.append((match.group(1), points))
    except SyntaxError:
        calls = [(m.group(1), None) for m in CHECK_CALL.finditer(source)]
    if calls and any(p is None for _, p in calls):
        calls = [(c, max_points / len(calls)) for c, _ in calls]
    return calls


def build_template(work: Path, source: Path, assignment: str, notebook: str,
                   cell_timeout: int | None, log: Path, stubs: str = "") -> Course:
    """A course with the source and a fresh gradebook (``nbgrader generate_assignment``), in
    the language of the source notebook; ``stubs``: config lines with the answer stubs of its
    release, where they are not the course config's (Korean)."""
    source_dir, release_dir = _directories()
    template = work / "template"
    shutil.copytree(source, template / source_dir / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    lang = notebook_language(nbformat.read(source / f"{notebook}.ipynb", 4).metadata)
    if REPO_CONFIG.is_file():
        shutil.copy(REPO_CONFIG, template / BASE_CONFIG)
    (template / "nbgrader_config.py").write_text(config_text(template, cell_timeout) + stubs)
    run_logged([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
               template, log, timeout=600, check=True, start_with=nbgrader_starter({}))
    source_nb = nbformat.read(template / source_dir / assignment / f"{notebook}.ipynb", 4)
    release_nb = nbformat.read(template / release_dir / assignment / f"{notebook}.ipynb", 4)
    parts, max_points, hidden = [], {}, {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        grade_id = meta["grade_id"]
        parts.append(grade_id)
        max_points[grade_id] = float(meta.get("points", 0))
        calls = hidden_calls(cell.source, max_points[grade_id])
        if calls and cell.cell_type == "code":
            hidden[grade_id] = calls
    return Course(template, source_dir, release_dir, assignment, notebook, parts, max_points,
                  hidden, release_nb, lang)
