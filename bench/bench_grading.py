"""Benchmark the auto-grader: where one submission's time goes, and seconds per submission.

    GCL4SR_DATA=/path/to/home python -m bench.bench_grading [--out FILE]

Grades submissions built by ``bench.submissions`` from the committed release and solution
notebooks (full notebook runs) with ``grading.grade_class``:

* ``single``: one perfect submission through the whole command, the first of this process:
  its setup and output phases are the **fixed cost** of a command (the warm nbgrader and
  check servers start there); and the **breakdown** of one submission from ``grade_one``
  called directly, prepared ahead and warm as the class command grades all but its first
  (the command's results are sanitised for feedback, cell timestamps included): its phases
  and the notebook's cells from nbclient's execution timestamps (``metadata.execution``:
  setup cell, the slowest cells such as the quick-mode training, visible tests, hidden
  checks, everything else), the time outside the cells (nbgrader itself, the kernel's
  hand-over, waiting for the check server, the gradebook), and a bare kernel start measured
  apart with nbclient;
* ``serial`` (4 submissions, ``--jobs 1``) and ``parallel`` (``--jobs 2``): wall time per
  submission, and the speed-up; ``large`` (12 submissions, ``--jobs 1``): per submission once
  the first's start is spread over more.

Wall time only: the children's CPU time (``RUSAGE_CHILDREN``) does not see the kernel and the
checks in their bubblewrap sandboxes (a one-submission command read 19 CPU-s, less than its
training cell alone). Every figure is stored with the load average and
an sgemm calibration (``bench.calibration``) before and after, since other work on the machine
changes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from grading.instructor.classrun import grade_class
from grading.instructor.common.options import DATA_ENV, default_options
from grading.instructor.common.procs import tree
from grading.instructor.common.records import Result
from grading.instructor.run.course import ASSIGNMENT, build_template
from grading.instructor.run.discover import discover
from grading.instructor.run.grade_one import Prepared, grade_one, prepare
from grading.instructor.run.server_process import server_line
from grading.kernel.registry import GRADE_FUNCTION

from . import submissions
from .calibration import sgemm_gflops

REPO = Path(__file__).resolve().parents[1]
BATCH = ["perfect", "partial", "syntax", "nearmiss"]
TARGET_S = 5.0  # issue 25: seconds per submission, 2 quiet cores, one job


def run(folder: Path, out: Path, jobs: int) -> tuple[dict, list[Result]]:
    """Grade the submissions in ``folder`` with ``jobs`` jobs: wall and phase seconds, totals."""
    start = time.monotonic()
    results = grade_class(folder, out, jobs, default_options(jobs), quiet=True)
    wall = time.monotonic() - start
    timing = json.loads((out / "timing.json").read_text())
    assert all(r.status == "graded" for r in results), [(r.student, r.status) for r in results]
    return {"jobs": jobs, "submissions": len(results), "command_wall_s": round(wall, 2),
            "setup_s": timing["setup_s"], "grading_s": timing["grading_s"],
            "feedback_and_output_s": timing["output_s"],
            "grading_s_per_submission": round(timing["grading_s"] / len(results), 2),
            "per_submission_s": timing["per_submission_s"],
            "phases_mean_s": mean_phases(timing["phases_s"].values()),
            "totals": {r.student: round(sum(r.scores.values()), 6) for r in results}}, results


def mean_phases(phases) -> dict[str, float]:
    """Mean seconds of each phase of ``grade_one`` (``Result.phases``) over the submissions."""
    rows = list(phases)
    return {name: round(sum(row.get(name, 0.0) for row in rows) / len(rows), 2)
            for name in rows[0]}


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _kind(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("grade_id") == "setup":
        return "setup cell (imports)"
    if GRADE_FUNCTION.search(cell.source):
        return "hidden checks"
    if meta.get("grade"):
        return "visible tests"
    return "other cells"


def breakdown(result: Result) -> dict:
    """Seconds of the notebook's cells (busy to idle, by kind; the five slowest cells by their
    first line) and of the grading outside them."""
    spans, kinds, cells = [], {}, []
    for cell in result.autograded.cells:
        stamps = cell.metadata.get("execution", {})
        if cell.cell_type != "code" or "iopub.status.busy" not in stamps:
            continue
        begin, end = _stamp(stamps["iopub.status.busy"]), _stamp(stamps["iopub.status.idle"])
        spans.append((begin, end))
        kinds[_kind(cell)] = kinds.get(_kind(cell), 0.0) + end - begin
        cells.append((end - begin, (cell.source.strip().splitlines() or [""])[0][:70]))
    in_kernel = max(e for _, e in spans) - min(b for b, _ in spans)
    return {"submission_s": round(result.seconds, 2), "phases_s": result.phases,
            "cells_s": round(in_kernel, 2),
            "outside_cells_s": round(result.seconds - in_kernel, 2),
            "cells_by_kind_s": {k: round(v, 2) for k, v in sorted(kinds.items())},
            "slowest_cells_s": [[round(s, 2), line] for s, line in sorted(cells)[::-1][:5]]}


def graded_directly(folder: Path) -> Result:
    """The first submission in ``folder`` graded by ``grade_one`` itself once prepared ahead
    (:func:`warmed`), as the class command grades all but its first submission; graded once
    before, so that nbgrader and the check server are forked warm. The class command sanitises
    its results for feedback, cell timestamps included: the breakdown needs the result before
    that."""
    work = Path(tempfile.mkdtemp(prefix="bench-grade-one-"))
    log = work / "setup.log"
    course = build_template(work, REPO / "solutions" / ASSIGNMENT, ASSIGNMENT, ASSIGNMENT,
                            None, log)
    sub = discover(folder, ASSIGNMENT, ASSIGNMENT)[0]
    grade_one(sub, course, work, default_options(1))
    ready = warmed(prepare(sub, course, work, default_options(1)))
    return grade_one(sub, course, work, default_options(1), ready=ready)


def warmed(ready: Prepared, timeout: float = 120.0) -> Prepared:
    """``ready`` once its check server said READY and its kernel waits on its FIFO (imports
    done)."""
    assert server_line(ready.server, "READY ", timeout) is not None
    handoff = str(ready.folder / "ipc" / "handoff")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(handoff in _open_files(pid)
                                                  for pid in tree(ready.kernel.pid)):
        time.sleep(0.05)
    return ready


def _open_files(pid: int) -> list[str]:
    """What ``pid`` holds open (``/proc/<pid>/fd``), as far as it can be read now."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    found = []
    for fd in fds:
        try:
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return found


def kernel_start(repeats: int = 3) -> float:
    """Best of ``repeats``: start a python3 kernel, run ``1``, shut it down (nbclient)."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    best = float("inf")
    for _ in range(repeats):
        start = time.monotonic()
        NotebookClient(nb, kernel_name="python3").execute()
        best = min(best, time.monotonic() - start)
    return round(best, 2)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "grading.json")
    args = parser.parse_args(argv)
    if not os.environ.get(DATA_ENV):
        os.environ[DATA_ENV] = str(REPO.parent / "shared" / "datasets" / "home")
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    submissions.write(root / "batch", BATCH)
    submissions.write(root / "single", ["perfect"])
    submissions.write(root / "large", BATCH, copies=3)
    before = {"loadavg": [round(x, 2) for x in os.getloadavg()], **sgemm_gflops()}
    single, _ = run(root / "single", root / "out-single", 1)
    fixed = round(single["setup_s"] + single["feedback_and_output_s"], 2)
    single["breakdown"] = breakdown(graded_directly(root / "single"))
    single["bare_kernel_start_s"] = kernel_start()
    serial, _ = run(root / "batch", root / "out-serial", 1)
    parallel, _ = run(root / "batch", root / "out-parallel", 2)
    large, _ = run(root / "large", root / "out-large", 1)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "before": before,
                    "after": {"loadavg": [round(x, 2) for x in os.getloadavg()],
                              **sgemm_gflops()}},
        "single": single, "serial": serial, "parallel": parallel, "large": large,
        "fixed_cost_s": fixed,
        "target_s": TARGET_S,
        "target_met": {"per_submission": serial["grading_s_per_submission"] <= TARGET_S,
                       "fixed_cost": fixed <= TARGET_S},
        "speedup_grading_phase": round(serial["grading_s"] / parallel["grading_s"], 2),
        "speedup_command": round(serial["command_wall_s"] / parallel["command_wall_s"], 2),
        "note": "seconds per submission = grading phase / submissions (the target is read "
                "on the serial run); the command's fixed cost = the single run's setup_s "
                "(warm servers started, generate_assignment) + feedback_and_output_s, the "
                "first command of this process; phases_mean_s: grade_one's phases from its "
                "turn (a submission prepared ahead), the notebook's cells inside 'nbgrader' "
                "(single.breakdown)",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(single["breakdown"], indent=2, ensure_ascii=False))
    print(f"one submission prepared ahead: {single['breakdown']['submission_s']} s; serial "
          f"{serial['grading_s_per_submission']} s (target {TARGET_S:g} s), parallel "
          f"{parallel['grading_s_per_submission']} s, 12 serial "
          f"{large['grading_s_per_submission']} s wall per submission; fixed cost {fixed} s; "
          f"load {before['loadavg']} -> {result['machine']['after']['loadavg']}")
    return result


if __name__ == "__main__":
    main()
