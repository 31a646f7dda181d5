"""The sandbox, tried by a hostile submission graded through the class command.

``mallory`` attacks from her kernel (an extra cell) and from the check server's sandbox (her
``recall_at_k``, called by the hidden check): she reads the reference answers by absolute
path and by searching ``sys.path``, ``PYTHONPATH`` and the working folder's parents, looks
there for the course's source notebook (the answers) and its gradebook to write, starts 600
processes, connects
to a port the instructor's machine listens on, writes a file outside her folder and reads
another student's submission. Each attempt records ``name:OK`` or the exception it met.
Under bwrap every attempt fails and she gets the reasons; without a sandbox (``auto`` where
bwrap is missing) they succeed, and the class summary and ``grades.csv`` say so loudly.
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from test_grade_class import NOTEBOOK, _toy_source, _toy_student

from grading.instructor.checking import isolation
from grading.instructor.classrun import grade_class
from grading.instructor.common.options import default_options
from grading.instructor.run.course import ASSIGNMENT

pytestmark = pytest.mark.slow  # both tests grade a class
REPO = Path(__file__).resolve().parents[1]
ATTACKS = ("reference", "search", "network", "write", "peer", "answers", "gradebook", "bomb")
REPORT = re.compile(r"ATTACKS ((?:\w+:\w+ ?)+)")

ATTACK_CODE = '''
_SEEN = []  # one round of attacks a process: the check calls her function once per case


def attacks():
    if _SEEN:
        return _SEEN[0]
    import os, socket, sys
    from pathlib import Path
    where = "kernel" if os.environ.get("GCL4SR_GRADER_SOCKET") else "check"
    target = "grading/instructor/checking/reference.py"
    seen = []

    def search():
        roots = [*sys.path, *os.environ.get("PYTHONPATH", "").split(os.pathsep),
                 *map(str, Path.cwd().parents)]
        hits = [Path(r) / target for r in roots if r and (Path(r) / target).is_file()]
        return len(hits[0].read_text())

    def answers():  # the source notebook: <course>/<source folder>/<assignment>/*.ipynb
        hits = [p for r in Path.cwd().parents for p in r.glob("*/*/*.ipynb")
                if "BEGIN " + "SOLUTION" in p.read_text(errors="replace")]  # not this cell
        return len(hits[0].read_text())

    def gradebook():
        hits = [r / "gradebook.db" for r in Path.cwd().parents if (r / "gradebook.db").is_file()]
        open(hits[0], "r+b").close()

    def bomb():  # more processes than a sandbox may start (its cap holds for root too)
        import signal, time
        pids = []
        try:
            for _ in range(600):
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                pids.append(pid)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    for name, action in [  # the network first: without a sandbox, under load, a check can
            # run out of time in the bomb, and the test counts both sides' connections
            ("network", lambda: socket.create_connection(("127.0.0.1", {port}), 5).close()),
            ("bomb", bomb),
            ("answers", answers),
            ("gradebook", gradebook),
            ("reference", lambda: len(open({reference!r}).read())),
            ("search", search),
            ("write", lambda: open({outside!r} + where, "w").write("x")),
            ("peer", lambda: len(open({peer!r}, "rb").read()))]:
        try:
            action()
            seen.append(name + ":OK")
        except Exception as error:
            seen.append(name + ":" + type(error).__name__[:4])  # short: a reason is capped
    _SEEN.append("ATTACKS " + " ".join(seen))
    return _SEEN[0]


def recall_at_k(actual, predicted, topk):
    import os
    if os.environ.get("GCL4SR_GRADER_SOCKET"):  # in the kernel: pass, reach the hidden check
        return 1.0
    raise RuntimeError(attacks())
'''


def _report(text: str) -> dict[str, str]:
    found = REPORT.search(text)
    assert found, text[-2000:]
    return dict(item.split(":") for item in found.group(1).split())


@pytest.fixture(scope="module")
def listener():
    """A TCP port on the host's loopback that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def _class(root: Path, port: int) -> tuple[Path, Path, Path]:
    """The toy assignment, mallory and a victim whose submission she reads."""
    source = _toy_source(root / "source")
    subs = root / "subs"
    victim = subs / "victim_gcl4sr.ipynb"
    victim.parent.mkdir(parents=True)
    victim.write_text("victim's private work")  # graded as an invalid notebook: no kernel
    outside = root / "outside-"
    reference = REPO / "grading" / "instructor" / "checking" / "reference.py"
    code = ATTACK_CODE.format(reference=str(reference),
                              port=port, outside=str(outside), peer=str(victim))
    _toy_student(source / NOTEBOOK, subs / "mallory" / ASSIGNMENT / NOTEBOOK,
                 answer=code, extra=code + "\nprint(attacks())")
    return source, subs, outside


def _kernel_report(out: Path) -> dict[str, str]:
    nb = nbformat.read(out / "autograded" / "mallory" / ASSIGNMENT / NOTEBOOK, 4)
    texts = [o.get("text", "") for cell in nb.cells for o in cell.get("outputs", [])]
    return _report("\n".join(texts))


@pytest.mark.skipif(isolation.problem() is not None, reason=f"bwrap: {isolation.problem()}")
def test_the_sandbox_stops_every_attack_with_a_reason(tmp_path, listener):
    port, accepted = listener
    source, subs, outside = _class(tmp_path, port)
    options = default_options(1, sandbox="bwrap", cell_timeout=120, timeout=900)
    results = {r.student: r for r in grade_class(subs, tmp_path / "out", 1, options,
                                                 source, quiet=True)}
    mallory = results["mallory"]
    kernel = _kernel_report(tmp_path / "out")
    check = _report(" ".join(mallory.reasons))  # the hidden check's reason, as she sees it
    assert set(kernel) == set(check) == set(ATTACKS)
    assert all(status != "OK" for status in [*kernel.values(), *check.values()]), \
        (kernel, check)
    assert not accepted and not list(tmp_path.glob("outside-*"))
    assert mallory.scores["recall_hidden"] == 0.0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert "ATTACKS network:" in rows["mallory"]["reasons"]  # the attacks, first one first
    assert isolation.NOT_SANDBOXED not in rows["mallory"]["reasons"]


def test_without_bwrap_the_class_is_graded_with_a_loud_warning(tmp_path, listener):
    """``.venv/bin/python -m grading.grade_class`` with a ``PATH`` that has neither the
    virtual environment (nbgrader needs its ``alembic``) nor ``bwrap`` (auto: no sandbox)."""
    port, accepted = listener
    source, subs, outside = _class(tmp_path, port)
    out = tmp_path / "out"
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=str(tmp_path), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "grading.grade_class", str(subs), "--out",
                           str(out), "--source", str(source), "--cell-timeout", "120"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WITHOUT A SANDBOX" in done.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert all(f"{isolation.NOT_SANDBOXED} (bwrap is not installed" in row["reasons"]
               for row in rows.values())
    kernel = _kernel_report(out)
    assert kernel == dict.fromkeys(ATTACKS, "OK"), kernel  # what the sandbox is there for
    assert len(accepted) >= 2 and (tmp_path / "outside-kernel").is_file()
    assert json.loads((out / "timing.json").read_text())["submissions"] == 2
