"""The student edition's contents and how they are built, in either language (command:
:mod:`grading.student_edition`, whose docstring shows the layout)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import nbformat
import tomllib

from gcl4sr_helpers import __version__
from gcl4sr_helpers.i18n import DEFAULT
from grading import REPO, release, release_translation
from grading.release import RELEASE_ROOTS

MANIFEST = REPO / "gcl4sr_helpers" / "manifest.json"
ENGINE = "gcl4sr_helpers"
#: What a student needs besides the engine's own dependencies to open the notebook
#: (ipywidgets: tqdm's notebook progress bars; without it the setup cell warns
#: "IProgress not found").
STUDENT_TOOLS = ("jupyterlab", "ipykernel", "ipywidgets")
ENGINE_URL_LINE = "ENGINE_URL = None"
WHEEL = f"gcl4sr_course_kit-{__version__}-py3-none-any.whl"
#: The label on top of the first code cell, in each language.
KIT_VERSION = {"ko": "키트 버전", "en": "kit version"}


def edition_name(version: str = __version__, lang: str = DEFAULT) -> str:
    """``gcl4sr-student-<version>``, with ``-<lang>`` for an edition other than Korean."""
    return f"gcl4sr-student-{version}" + ("" if lang == DEFAULT else f"-{lang}")


def release_notebooks(lang: str = DEFAULT) -> list[Path]:
    """The release notebooks of edition ``lang`` (``<root>/<assignment>/<name>.ipynb``)."""
    notebook = release.RELEASES[lang]
    if not notebook.is_file():
        raise SystemExit(f"no release notebook {notebook}: run python -m grading.release")
    return [notebook]


def layout(lang: str = DEFAULT) -> set[str]:
    """Every file of the edition, relative to its root (POSIX paths), without building it:
    what :func:`build` writes, which checks its tree against this set."""
    files = {"README.md", "manifest.json", "requirements.txt"}
    for notebook in release_notebooks(lang):
        relative = notebook.relative_to(RELEASE_ROOTS[lang])
        files |= {relative.as_posix(), f"{relative.parent.as_posix()}/{WHEEL}"}
    return files


def pinned_requirements() -> str:
    """``name==version`` for the engine's dependencies and the student tools, as installed."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.match(r"[A-Za-z0-9._-]+", dep).group(0) for dep in project["dependencies"]]
    lines = []
    for name in [*names, *STUDENT_TOOLS]:
        try:
            version = metadata.version(name).split("+")[0]  # 2.13.0+cpu -> 2.13.0
        except metadata.PackageNotFoundError as missing:
            raise SystemExit(f"{name} is not installed here, so its version cannot be pinned: "
                             'build the edition from the CI environment (pip install -e ".[test]")'
                             ) from missing
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def build_wheel(dest: Path, lang: str = DEFAULT) -> Path:
    """The engine's wheel, built from a copy holding only the package and its metadata (the
    wheel's description is the student README of ``lang``, not the instructor's). The English
    wheel's readable modules, whose source the notebook prints, are in English
    (:func:`grading.release_translation.english_engine_source`); the rest is the same engine."""
    with tempfile.TemporaryDirectory(prefix="gcl4sr-wheel-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(release_translation.ENGINE_DIR, src / ENGINE,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if lang != DEFAULT:
            for name in release_translation.ENGINE_TRANSLATED:
                english = release_translation.english_engine_source(name)
                (src / ENGINE / name).write_text(english, encoding="utf-8")
        shutil.copy2(REPO / "pyproject.toml", src / "pyproject.toml")
        shutil.copy2(RELEASE_ROOTS[lang] / "README.md", src / "README.md")
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                               "-w", str(dest), str(src)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"building the engine's wheel failed:\n{done.stdout}{done.stderr}")
    wheels = sorted(dest.glob(f"gcl4sr_course_kit-{__version__}-*.whl"))
    if [wheel.name for wheel in wheels] != [WHEEL]:
        raise SystemExit(f"expected the one wheel {WHEEL} in {dest}, found {wheels}")
    return wheels[0]


def label_first_code_cell(path: Path, engine_url: str | None, lang: str = DEFAULT) -> None:
    """Name the edition and its version on top of the notebook's first code cell, and with
    ``engine_url`` set ``ENGINE_URL`` there. That cell is unlocked: the locked cells, and so
    their nbgrader checksums, stay those of the release."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    lines = cell.source.splitlines()
    if ENGINE_URL_LINE not in lines or "nbgrader" in cell.metadata:
        raise SystemExit(f"{path.name}: the first code cell must be unlocked and hold the line "
                         f"{ENGINE_URL_LINE!r}")
    if engine_url:
        lines = [f"ENGINE_URL = {engine_url!r}" if line == ENGINE_URL_LINE else line
                 for line in lines]
    label = f"# {edition_name(lang=lang)}: {KIT_VERSION[lang]} {__version__}"
    cell.source = "\n".join([label, *lines])
    nbformat.write(nb, path)


def build(out: Path, engine_url: str | None = None, lang: str = DEFAULT) -> Path:
    """Write the edition of ``lang``, its tree and zip, under ``out``; return the zip's path."""
    tree = out / edition_name(lang=lang)
    if tree.exists():
        shutil.rmtree(tree)
    notebooks = release_notebooks(lang)
    with tempfile.TemporaryDirectory(prefix="gcl4sr-edition-") as tmp:
        wheel = build_wheel(Path(tmp), lang)
        for notebook in notebooks:
            target = tree / notebook.relative_to(RELEASE_ROOTS[lang])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebook, target)
            shutil.copy2(wheel, target.parent / wheel.name)
            label_first_code_cell(target, engine_url, lang)
    shutil.copy2(RELEASE_ROOTS[lang] / "README.md", tree / "README.md")
    shutil.copy2(MANIFEST, tree / "manifest.json")
    (tree / "requirements.txt").write_text(pinned_requirements(), encoding="utf-8")
    written = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    if written != layout(lang):
        raise SystemExit(f"the edition's tree {sorted(written)} is not its layout "
                         f"{sorted(layout(lang))}: update edition.layout() with build()")
    archive = out / f"{edition_name(lang=lang)}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            zf.write(path, path.relative_to(out).as_posix())
    return archive
