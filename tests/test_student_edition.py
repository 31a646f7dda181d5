"""The student editions, Korean and English: only student files, no answer anywhere (inside the
wheel too), no Hangul in the English one, and each installs and runs from an empty folder in a
fresh virtual environment, without this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_leaks import MARKERS, OPERATIONS, assert_clean
from test_notebooks import solved_release

from gcl4sr_helpers import __version__
from grading import student_edition
from grading.instructor.run.course import ASSIGNMENT
from grading.release import RELEASES
from grading.release_translation import HANGUL

NAMES = {"ko": f"gcl4sr-student-{__version__}", "en": f"gcl4sr-student-{__version__}-en"}
#: What each edition says: its label on the first code cell, the setup cell's messages, the
#: README's title.
SAYS = {"ko": {"label": "키트 버전", "installing": "엔진 설치 중", "version": "키트 버전 : ",
               "missing": "ModuleNotFoundError: 엔진 gcl4sr_helpers가 없습니다",
               "readme": "# GCL4SR 실습 노트북\n"},
        "en": {"label": "kit version", "installing": "Installing the engine",
               "version": "Kit version: ",
               "missing": "ModuleNotFoundError: The engine gcl4sr_helpers is not installed",
               "readme": "# GCL4SR course notebook\n"}}
#: The one file of the English edition allowed to hold Hangul: the engine's Korean catalogue,
#: which keeps GCL4SR_LANG=ko working with any wheel.
KOREAN_CATALOGUE = "gcl4sr_helpers/messages/ko.json"
WHEEL = f"gcl4sr_course_kit-{__version__}-py3-none-any.whl"
ENGINE = "gcl4sr_helpers"
ENGINE_URL = "https://course.example.org/gcl4sr/" + WHEEL
#: Runs every cell of a notebook, in the environment it is started with; writes what it ran.
RUN_ALL = """
import sys
import nbformat
from nbclient import NotebookClient
notebook, folder, out = sys.argv[1:]
nb = nbformat.read(notebook, as_version=4)
client = NotebookClient(nb, timeout=900, kernel_name="python3",
                        resources={"metadata": {"path": folder}})
try:
    client.execute()
finally:
    nbformat.write(nb, out)
"""


@pytest.fixture(scope="module", params=list(NAMES))
def lang(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def built(lang, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(f"edition-{lang}")
    options = [] if lang == "ko" else ["--lang", lang]  # Korean is the default
    assert student_edition.main(["--out", str(out), *options]) == 0
    return out / f"{NAMES[lang]}.zip"


@pytest.fixture(scope="module")
def unpacked(lang, built, tmp_path_factory) -> Path:
    """The zip unpacked in an empty folder outside the repository."""
    folder = tmp_path_factory.mktemp("student")
    assert not list(folder.iterdir())
    with zipfile.ZipFile(built) as zf:
        zf.extractall(folder)
    return folder / NAMES[lang]


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_edition_holds_only_student_files(lang, built, unpacked):
    assert built.name == f"{NAMES[lang]}.zip"
    assert _files(unpacked) == {"README.md", "requirements.txt", "manifest.json",
                                f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"{ASSIGNMENT}/{WHEEL}"}
    assert _files(built.with_suffix("")) == _files(unpacked)  # the tree beside the zip
    cells = nbformat.read(unpacked / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code")
    label = f"# {NAMES[lang]}: {SAYS[lang]['label']} {__version__}\n"
    assert first_code.source.startswith(label)
    assert "ENGINE_URL = None" in first_code.source
    assert nbformat.read(unpacked / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4).metadata["gcl4sr"] \
        == {"lang": lang}
    with zipfile.ZipFile(unpacked / ASSIGNMENT / WHEEL) as wheel:
        tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"gcl4sr_helpers", f"gcl4sr_course_kit-{__version__}.dist-info"}


def test_student_readme_never_sends_students_to_the_repository(lang, unpacked):
    text = (unpacked / "README.md").read_text(encoding="utf-8")
    assert "git clone" not in text and "pip install -e" not in text
    assert text.startswith(SAYS[lang]["readme"])
    for step in ("requirements.txt", "GCL4SR_QUICK=1", "GCL4SR_DATA", "Colab", "JupyterHub",
                 "Submit"):
        assert step in text, step


def test_requirements_pin_the_tested_versions(unpacked):
    pins = dict(line.split("==") for line in
                (unpacked / "requirements.txt").read_text().splitlines())
    constraints = (Path(__file__).parents[1] / "constraints.txt").read_text()
    constraint = constraints.split("torch==")[1].split()[0]
    assert pins["torch"] == constraint
    assert {"torch-geometric", "numpy", "scipy", "tqdm", "matplotlib", "jupyterlab",
            "ipykernel", "ipywidgets"} <= set(pins)  # ipywidgets: tqdm's bars, no IProgress warning
    assert all(version[0].isdigit() for version in pins.values())


def _edition_texts(root: Path) -> dict[str, str]:
    """Every file of the edition as text, and every member of every zip inside it."""
    texts = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    texts[f"{path.name}!{member}"] = zf.read(member).decode("utf-8", "replace")
        else:
            texts[str(path.relative_to(root))] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_no_hangul_in_the_english_edition(lang, unpacked):
    """Every text file of the English edition, the wheel's members included, holds no Hangul,
    but for the engine's Korean catalogue; the Korean edition's notebook does."""
    texts = _edition_texts(unpacked)
    assert f"{WHEEL}!{KOREAN_CATALOGUE}" in texts and f"{WHEEL}!{ENGINE}/model.py" in texts
    korean = sorted(name for name, text in texts.items() if HANGUL.search(text))
    if lang == "ko":
        assert f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in korean and "README.md" in korean
    else:
        assert korean == [f"{WHEEL}!{KOREAN_CATALOGUE}"]


def test_no_answer_anywhere_in_the_edition(unpacked, tmp_path):
    texts = _edition_texts(unpacked)
    assert f"{WHEEL}!{ENGINE}/model.py" in texts  # the wheel was opened
    for name, text in texts.items():
        for telltale in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "grade_witg", "grading.kernel",
                         "hidden_checks"):
            assert telltale not in text, f"{name} contains {telltale!r}"
    engine = {name: text for name, text in texts.items() if f"{WHEEL}!{ENGINE}/" in name}
    assert_clean({n: t for n, t in texts.items() if n not in engine}, tmp_path / "edition")
    assert_clean(engine, tmp_path / "engine",
                 markers=tuple(m for m in MARKERS if m not in OPERATIONS))


@pytest.mark.slow
@pytest.mark.parametrize("edition", list(NAMES))
def test_first_code_cell_names_the_edition_and_the_engine_url(edition, tmp_path):
    """Only the first code cell differs from the release, and it is unlocked."""
    student_edition.main(["--out", str(tmp_path), "--engine-url", ENGINE_URL, "--lang", edition])
    cells = nbformat.read(tmp_path / NAMES[edition] / ASSIGNMENT / RELEASES[edition].name,
                          as_version=4).cells
    release = nbformat.read(RELEASES[edition], 4).cells
    first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
    assert [i for i, (a, b) in enumerate(zip(cells, release, strict=True))
            if a.source != b.source] == [first_code]
    assert "ENGINE_URL = None" in release[first_code].source
    assert f"ENGINE_URL = {ENGINE_URL!r}" in cells[first_code].source
    label = f"# {NAMES[edition]}: {SAYS[edition]['label']} {__version__}\n"
    assert cells[first_code].source.startswith(label)
    assert "nbgrader" not in cells[first_code].metadata  # unlocked: no checksum to break


def _clean_env(venv_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "PYTEST"))}
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env['PATH']}"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def environments() -> dict[str, Path]:
    """Fresh virtual environments by the text of ``requirements.txt``: both editions pin the
    same packages, so they share one environment (one install of torch, PyG and Jupyter)."""
    return {}


def _environment(environments: dict[str, Path], unpacked: Path, root: Path) -> Path:
    """A fresh environment with the edition's ``requirements.txt`` installed and no engine."""
    requirements = (unpacked / "requirements.txt").read_text()
    if requirements not in environments:
        env_dir = root / "venv"
        venv.create(env_dir, with_pip=True)
        # --no-compile: Python writes the bytecode of what it imports when it first does
        # (half of pip's time here went to compiling every file of torch)
        done = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                               "--no-compile", "-r", "requirements.txt"], cwd=unpacked,
                              env=_clean_env(env_dir),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        environments[requirements] = env_dir
    env_dir = environments[requirements]
    done = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y",
                           "gcl4sr_course_kit"],  # the other edition's engine, if it ran first
                          env=_clean_env(env_dir), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return env_dir


def test_edition_installs_and_runs_from_an_empty_folder(lang, unpacked, home_dir, tmp_path,
                                                        environments):
    """README step 1 without the engine (as on Colab): the setup cell installs it from the wheel
    beside the notebook, then the notebook, its TODOs answered with the solution's code, runs to
    the end in quick mode (every file the engine reads is in the wheel). The readable model it
    prints is in the edition's language."""
    env_dir = _environment(environments, unpacked, tmp_path)
    python = str(env_dir / "bin" / "python")
    env = _clean_env(env_dir)
    probe = [python, "-c", "import importlib.util as u; print(u.find_spec('gcl4sr_helpers'))"]
    assert subprocess.run(probe, cwd=tmp_path, env=env, capture_output=True,
                          text=True).stdout.strip() == "None"
    script, solved = tmp_path / "run_all.py", tmp_path / "solved.ipynb"
    script.write_text(RUN_ALL)
    nbformat.write(solved_release(lang, unpacked / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), solved)
    executed = tmp_path / "executed.ipynb"
    done = subprocess.run([python, str(script), str(solved), str(unpacked / ASSIGNMENT),
                           str(executed)], cwd=tmp_path, capture_output=True, text=True,
                          env=_clean_env(env_dir, GCL4SR_DATA=str(home_dir), GCL4SR_QUICK="1",
                                         MPLBACKEND="Agg"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cells = nbformat.read(executed, 4).cells
    outputs = "".join(o.get("text", "") for c in cells if c.cell_type == "code"
                      for o in c.outputs)
    warned = [o.text for c in cells if c.cell_type == "code" for o in c.outputs
              if o.get("name") == "stderr" and "Warning" in o.text]
    assert not warned, warned  # e.g. tqdm's IProgress warning without ipywidgets
    assert SAYS[lang]["installing"] in outputs and WHEEL in outputs
    assert f"{SAYS[lang]['version']}{__version__}" in outputs
    assert "quick" in outputs
    assert_clean({"executed": outputs}, tmp_path / "hidden")  # no hidden value shown
    where = subprocess.run([python, "-c", "import gcl4sr_helpers; print(gcl4sr_helpers.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(env_dir)), where  # installed into the fresh environment
    shown = subprocess.run([python, "-c", "import inspect, gcl4sr_helpers.readable_trainer as rt; "
                            "print(inspect.getsource(rt.train_step))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert "optimizer.step()" in shown and bool(HANGUL.search(shown)) == (lang == "ko")


@pytest.mark.parametrize("edition", list(NAMES))
def test_setup_cell_needs_the_engine_or_a_wheel(edition, tmp_path):
    """Without the engine (no site-packages) and no wheel beside it, the setup cell says what
    to do instead of calling pip."""
    nb = nbformat.read(RELEASES[edition], 4)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    code = "ENGINE_URL = None\n" + setup.source
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], cwd=tmp_path,
                          capture_output=True, text=True)
    assert SAYS[edition]["missing"] in done.stderr, done.stderr
    assert SAYS[edition]["installing"] not in done.stdout
