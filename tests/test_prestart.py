"""Kernels started before their turn (:mod:`grading.instructor.run.graded_kernel`), tried by
hostile submissions.

``meddler`` is graded first, while ``witness``'s kernel is started and imports in its own
sandbox: she looks for that kernel (other kernels' processes, FIFOs anywhere she can see),
and plants a ``sitecustomize.py`` and an environment marker in every folder she can write.
``witness`` reports what its kernel looks like to student code: its environment, arguments,
limits, user namespace, history, ``/tmp``, what ``meddler`` left. Its report equals the one
the same notebook gives in a kernel that nbgrader started the usual way, and both are graded
in full. A cell out of time is interrupted in a kernel handed to nbgrader, and the notebook
goes on. A kernel prepared and never graded is killed with its check server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from test_grade_class import NOTEBOOK, _toy_source, _toy_student

from grading.instructor.checking import isolation
from grading.instructor.classrun import grade_class
from grading.instructor.common.options import default_options
from grading.instructor.common.procs import kill_group, promote, renice
from grading.instructor.run.ahead import Ahead
from grading.instructor.run.course import ASSIGNMENT, Course, build_template
from grading.instructor.run.discover import discover
from grading.instructor.run.grade_one import grade_one, prepare
from grading.instructor.run.server_process import server_socket

needs_bwrap = pytest.mark.skipif(isolation.problem() is not None, reason="needs bubblewrap")
REPORT = re.compile(r"^(MEDDLER|WITNESS) (.*)$", re.M)
OPTIONS = default_options(1, sandbox="bwrap", cell_timeout=120, timeout=600)

MEDDLER = r'''
import json, os, stat, sys
from pathlib import Path

handoffs = set()  # the FIFO of each kernel started before its turn that she can see
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        continue
    if b"grading.kernel.prestart" in argv:
        handoffs.add(argv[argv.index(b"grading.kernel.prestart") + 1].decode())
skip = {"/usr", "/proc", "/sys", "/dev", sys.prefix, sys.base_prefix,
        os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
fifos = []
for root, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
    for name in files:
        try:
            if stat.S_ISFIFO(os.lstat(os.path.join(root, name)).st_mode):
                fifos.append(os.path.join(root, name))
        except OSError:
            pass
planted = []
places = {"/tmp", os.environ["HOME"], os.environ["TMPDIR"], os.getcwd(), *sys.path,
          *map(str, Path.cwd().parents)}
for place in sorted(p for p in places if p):
    try:
        Path(place, "sitecustomize.py").write_text("import os\nos.environ['MEDDLED'] = '1'\n")
        Path(place, "meddled.txt").write_text("x")
        planted.append(place)
    except OSError:
        pass
os.environ["MEDDLED"] = "1"
print("MEDDLER " + json.dumps({"handoffs": sorted(handoffs), "fifos": fifos,
                               "planted": planted}))
'''

WITNESS = r'''
import json, os, resource, sys
from pathlib import Path

places = {"/tmp", os.environ["HOME"], os.environ["TMPDIR"], os.getcwd(), *sys.path,
          *map(str, Path.cwd().parents)}
limits = {name: resource.getrlimit(getattr(resource, name))
          for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE")}
print("WITNESS " + json.dumps({
    "environ": dict(os.environ), "argv": sys.argv[1:], "cwd": os.getcwd(),
    "root": os.getuid() == 0, "limits": limits,
    "names": sorted(name for name in globals() if not name.startswith("_")),
    "history": len(In),  # /tmp, but for the way down to the folders mounted from the grader's
    "tmp": sorted(n for n in os.listdir("/tmp") if not os.getcwd().startswith(f"/tmp/{n}/")),
    "handoff_left": [p.decode() for p in Path("/proc/self/cmdline").read_bytes().split(b"\0")[3:4]
                     if os.path.exists(p)],
    "meddled": [str(Path(p, n)) for p in sorted(places) if p
                for n in ("sitecustomize.py", "meddled.txt") if Path(p, n).exists()],
    "sitecustomize": getattr(sys.modules.get("sitecustomize"), "__file__", None),
}, sort_keys=True))
'''


def _reports(nb) -> dict[str, dict]:
    texts = "\n".join(o.get("text", "") for cell in nb.cells for o in cell.get("outputs", []))
    return {kind: json.loads(body) for kind, body in REPORT.findall(texts)}


def _same_folder(report: dict) -> dict:
    """``report`` with its submission's folder (each run has its own) named ``FOLDER``."""
    folder = str(Path(report.pop("cwd")).parents[3])
    return json.loads(json.dumps(report).replace(folder, "FOLDER"))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("prestart")
    source = _toy_source(root / "source")
    subs = root / "subs"
    _toy_student(source / NOTEBOOK, subs / "meddler" / ASSIGNMENT / NOTEBOOK, extra=MEDDLER)
    _toy_student(source / NOTEBOOK, subs / "witness" / ASSIGNMENT / NOTEBOOK, extra=WITNESS)
    return root, source, subs


@needs_bwrap
@pytest.mark.slow
def test_a_kernel_started_early_shows_nothing_of_its_start_nor_of_the_one_before(toy):
    root, source, subs = toy
    results = {r.student: r for r in grade_class(subs, root / "out", 1, OPTIONS, source,
                                                 quiet=True)}
    meddler = _reports(results["meddler"].autograded)["MEDDLER"]
    witness = _reports(results["witness"].autograded)["WITNESS"]
    assert len(meddler["handoffs"]) == 1 and not meddler["fifos"], meddler  # her own kernel
    assert meddler["planted"]  # she wrote in her own folders
    assert witness["meddled"] == [] and witness["sitecustomize"] is None, witness
    assert "MEDDLED" not in witness["environ"] and witness["handoff_left"] == []
    full = {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert [result.scores for result in results.values()] == [full, full]

    work = root / "cold"
    work.mkdir()
    course = build_template(work, source, ASSIGNMENT, ASSIGNMENT, 120, work / "log")
    ready = prepare(discover(subs, ASSIGNMENT, ASSIGNMENT)[1], course, work, OPTIONS)
    kill_group(ready.kernel.pid)  # gone before its turn: the kernel spec starts one
    cold = grade_one(ready.sub, course, work, OPTIONS, ready=ready)
    assert cold.scores == full
    assert _same_folder(witness) == _same_folder(_reports(cold.autograded)["WITNESS"])


@needs_bwrap
@pytest.mark.slow
def test_a_kernel_prepared_and_never_graded_is_killed_with_its_server(toy):
    root, source, subs = toy
    work = root / "never"  # a short path, as the class command's: its sockets fit
    work.mkdir()
    course = build_template(work, source, ASSIGNMENT, ASSIGNMENT, 120, work / "log")
    found = discover(subs, ASSIGNMENT, ASSIGNMENT)
    seen: dict = {}

    def remember(sub, nice):
        seen[sub.student] = prepare(sub, course, work, OPTIONS, nice)
        return seen[sub.student]

    ahead = Ahead(remember, found)
    first = ahead.take(found[0])
    graded = grade_one(first.sub, course, work, OPTIONS, ready=first)
    assert graded.scores["recall_hidden"], (graded.status, graded.reasons, graded.log[-3000:])
    for _ in range(600):  # prepared in the background while meddler was graded
        if "witness" in seen:
            break
        time.sleep(0.1)
    left = seen["witness"]
    assert left.nice > 0 and os.getpriority(os.PRIO_PGRP, left.kernel.pid) > 0
    pids = [left.kernel.pid, left.server.pid]
    ahead.close()
    for _ in range(100):  # killed; a loaded machine may take a moment to reap them
        if not [pid for pid in pids if Path(f"/proc/{pid}").exists()]:
            break
        time.sleep(0.1)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_a_grading_folder_too_deep_for_its_socket_is_a_clear_grader_error(tmp_path):
    """A Unix socket's path holds at most 107 bytes: a work folder deeper than that (a long
    ``TMPDIR``) stops the submission with a reason that says what to do."""
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    with pytest.raises(ValueError, match="TMPDIR"):
        server_socket(deep)


@needs_bwrap
@pytest.mark.slow
def test_a_cell_out_of_time_is_interrupted_and_the_notebook_goes_on(toy, tmp_path):
    """nbgrader interrupts a kernel it was handed (SIGINT to its process group, as to one it
    starts): the cell fails with the interrupt, the cells after it run."""
    _, source, _ = toy
    subs = tmp_path / "subs"
    _toy_student(source / NOTEBOOK, subs / "sleeper" / ASSIGNMENT / NOTEBOOK,
                 extra="import time\ntime.sleep(600)")
    options = default_options(1, sandbox="bwrap", cell_timeout=10, timeout=300)
    sleeper = grade_class(subs, tmp_path / "out", 1, options, source, quiet=True)[0]
    assert sleeper.scores == {"recall_tests": 2.0, "recall_hidden": 2.0}
    assert "KeyboardInterrupt" in json.dumps(sleeper.autograded)


class _Ready:
    """What :class:`Ahead` needs of a prepared submission."""

    def __init__(self, sub, nice: int) -> None:
        self.sub, self.nice, self.released = sub, nice, False

    def release(self) -> None:
        self.released = True


def test_the_next_submission_is_prepared_ahead_and_nicer_and_released_if_never_taken():
    subs = [type("Sub", (), {"student": name})() for name in ("a", "b", "c")]
    prepared: list[_Ready] = []

    def prepare(sub, nice):
        ready = _Ready(sub, nice)
        prepared.append(ready)
        return ready

    ahead = Ahead(prepare, subs)
    first = ahead.take(subs[0])
    for _ in range(100):  # the next one is prepared in the background
        if len(prepared) == 2:
            break
        time.sleep(0.05)
    assert (first.sub, first.nice) == (subs[0], 0)
    assert [(ready.sub.student, ready.nice > 0) for ready in prepared] == [("a", False),
                                                                          ("b", True)]
    assert ahead.take(subs[1]) is prepared[1]
    ahead.close()  # "c", prepared when "b" was taken, is never graded
    assert [ready.sub.student for ready in prepared] == ["a", "b", "c"]
    assert [ready.released for ready in prepared] == [False, False, True]


def test_a_session_started_nicer_gets_its_priority_back_where_permitted():
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        renice(proc.pid, 7)
        assert os.getpriority(os.PRIO_PGRP, proc.pid) == 7
        promote(proc.pid)
        assert os.getpriority(os.PRIO_PGRP, proc.pid) == (0 if os.geteuid() == 0 else 7)
    finally:
        proc.kill()
        proc.wait()


def test_the_kernel_imports_what_the_release_imports():
    cells = [nbformat.v4.new_code_cell("import os, torch\nfrom gcl4sr_helpers import plots\n"
                                       "if x:\n    import never"),
             nbformat.v4.new_markdown_cell("import markdown"),
             nbformat.v4.new_code_cell("from . import relative\nimport torch\n%matplotlib"),
             nbformat.v4.new_code_cell("from scipy.sparse import csr_matrix")]
    course = Course(Path("."), "s", "r", "a", "a", [], {}, {},
                    nbformat.v4.new_notebook(cells=cells))
    assert course.imports == ["os", "torch", "gcl4sr_helpers", "gcl4sr_helpers.plots",
                              "scipy.sparse", "scipy.sparse.csr_matrix"]
