"""Shared fixtures, and the quick tier.

``python -m pytest`` runs everything (what CI runs); ``python -m pytest -m "not slow"`` is the
quick tier: every module's unit tests, nothing that grades a class, runs a kernel pipeline
(nbval, nbgrader, Jupyter kernels), builds the student edition, makes a virtual environment or
installs with pip, starts a Dask cluster or trains on real data. Two things keep it quick:

* ``HEAVY_FIXTURES``: a test that uses one of these fixtures (directly or through another
  fixture) is marked ``slow`` at collection, so a new test on a graded class cannot slip into
  the quick tier unmarked.
* ``quick_tier_guard``: in a run whose ``-m`` says ``not slow``, starting a process whose
  command line names one of ``HEAVY_COMMANDS`` raises :class:`QuickTierError` ("mark it
  @pytest.mark.slow"); nbgrader commands go through ``Popen`` there (the warm fork server of
  :mod:`grading.instructor.run.warm` is off), so the guard sees them. Tests that start such
  things themselves carry ``@pytest.mark.slow``.

Both run on ``-n`` workers (pytest-xdist, ``addopts`` in ``pyproject.toml``): a module's tests
stay together on one worker (its module fixtures are built once), the hostile suite is graded
once for all workers (``suite``), and the heaviest modules are sent first (``HEAVY_FIRST``) so
that the last one to end is a short one. ``-n 0`` runs them in this process.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"

#: Fixtures whose setup is heavy: ``name`` in every module, ``module.py::name`` in that module
#: only (test_hidden_checks has a quick module-scoped ``server`` of its own).
HEAVY_FIXTURES = (
    "suite",             # test_grade_class, test_report: grades the 18-submission hostile class
    "toy_run",           # test_grade_class: grades the toy class (kernels, time limits)
    "course",            # test_lifecycle: a whole nbgrader course, release to feedback
    "built",             # test_student_edition: builds the student edition (pip wheel)
    "without_constants",  # test_dataset: executes the notebook with nbconvert
    "with_constants",    # test_dataset: builds check constants, executes the notebook again
    "mixed",             # test_mixed_class: grades a class of both editions
    "test_server_hardening.py::server",  # a fresh bwrap check server for every test (~9 s)
)
#: Words in a command line that the quick tier refuses to start.
HEAVY_COMMANDS = ("nbgrader", "grading.grade_class", "-m venv", "-m pip", "pip install",
                  "jupyter", "ipykernel", "dask")


class QuickTierError(RuntimeError):
    """A test in the quick tier started a heavy process."""


#: Modules in the order they are sent to the workers, the longest first (seconds of each in a
#: serial run, 2-core machine, December 2026); any other module follows. The tests on the graded
#: hostile suite come after the class has had time to grade in the background.
HEAVY_FIRST = (
    "test_dataset.py",          # 136
    "test_notebooks.py",        # 121
    "test_student_edition.py",  # 118
    "test_lifecycle.py",        # 84
    "test_dask.py",             # 58
    "test_leaks.py",            # 60
    "test_grade_class.py",      # 53
    "test_mixed_class.py",      # 41
    "test_isolation.py",        # 30
    "test_prestart.py",         # 28
    "test_server_hardening.py",  # 24
)
MAX_WORKERS = 4
"""``-n auto`` takes at most this many workers: a heavy module keeps about two cores busy."""


@pytest.hookimpl(tryfirst=True)  # before -m deselects by mark
def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for entry in HEAVY_FIXTURES:
            module, _, name = entry.rpartition("::")
            if name in used and module in ("", item.path.name):
                item.add_marker(pytest.mark.slow)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # the order the workers are sent the modules
        rank = {module: index for index, module in enumerate(HEAVY_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_xdist_auto_num_workers(config) -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@pytest.fixture(scope="session", autouse=True)
def quick_tier_guard(request):
    """In a run that deselects slow tests, refuse to start a heavy process."""
    if not re.search(r"\bnot\s+slow\b", request.config.getoption("markexpr") or ""):
        yield
        return
    start = subprocess.Popen.__init__

    def guarded(self, args, *rest, **kwargs):
        command = args if isinstance(args, (str, bytes)) else " ".join(map(str, args))
        heavy = [word for word in HEAVY_COMMANDS if word in str(command)]
        if heavy:
            raise QuickTierError(f"this test starts {heavy[0]!r} ({str(command)[:200]}): "
                                 "mark it @pytest.mark.slow")
        start(self, args, *rest, **kwargs)

    from grading.instructor.run import warm

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", guarded)
        patch.setattr(warm, "can_fork", lambda: False)  # nbgrader through Popen, guarded
        yield


def _home() -> Path | None:
    """$GCL4SR_DATA, else ../shared/datasets/home beside the repository, if Home is there."""
    path = Path(os.environ.get("GCL4SR_DATA", REPO_ROOT.parent / "shared" / "datasets" / "home"))
    path = (REPO_ROOT / path.expanduser()).resolve()
    found = (path / "home.txt").is_file() and (path / "all_train_seq.txt").is_file()
    return path if found else None


@pytest.fixture(scope="session")
def home_dir() -> Path:
    """The Home data folder: $GCL4SR_DATA, else ../shared/datasets/home beside the repository."""
    path = _home()
    if path is None:
        pytest.skip("Home data not found; set GCL4SR_DATA to its folder")
    return path


def _suite_module():
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))  # as the tests import it: one module, one run
    import suite

    return suite


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every ``-n`` worker shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def hostile_suite_in_background(request, run_folder):
    """Start grading the hostile suite (``fixtures/suite.py``) as the session begins when a
    selected test will need it: it grades while the tests before those run (once in a run:
    the first worker to begin starts it)."""
    needs = any("suite" in getattr(item, "fixturenames", ()) for item in request.session.items)
    if needs and _home() is not None:
        _suite_module().start_suite(str(_home()), run_folder)
    yield


@pytest.fixture(scope="session")
def suite(home_dir, run_folder) -> dict:
    """The hostile suite graded by the class command (``fixtures/suite.py``)."""
    return _suite_module().graded_suite(str(home_dir), run_folder)


@pytest.fixture(scope="session")
def home_data(home_dir):
    """Full Home: sequences, official splits and history masks."""
    from gcl4sr_helpers.data import load_data

    return load_data(home_dir)


@pytest.fixture(scope="session")
def small_data(home_dir, tmp_path_factory):
    """A deterministic 400-user subset of Home with re-indexed items."""
    from gcl4sr_helpers.data import load_data

    return load_data(home_dir, max_users=400, seed=7, cache_dir=tmp_path_factory.mktemp("subset"))


@pytest.fixture(scope="session")
def small_graph(small_data):
    """Reference WITG of the subset (instructor-side builder)."""
    from grading.instructor.checking.reference import build_weighted_item_transition_graph

    return build_weighted_item_transition_graph(str(small_data.train_sequence_file))
