"""Benchmark the auto-grader: seconds per submission, serial and in parallel.

    PYTHONPATH=. GCL4SR_DATA=/path/to/home python bench/bench_grading.py [--out FILE]

Grades a few submissions of the hostile suite (full notebook runs: perfect, partial,
syntax, edited) with ``grading.grade_class`` at ``--jobs 1`` and ``--jobs 2`` and records:

* ``single``: one perfect submission through the whole command (template, autograde,
  feedback, CSV): what an instructor waits for one student;
* ``serial`` / ``parallel``: wall time of the grading phase for the batch and per
  submission, and the speed-up ``serial / parallel``.

Results go to ``bench/results/grading.json`` (with the load average, since other work on
the machine changes the numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

from make_submissions import build  # noqa: E402

from grading.instructor.classrun import grade_class  # noqa: E402
from grading.instructor.options import default_options  # noqa: E402

BATCH = ["perfect", "partial", "syntax", "edited"]


def run(submissions: Path, out: Path, jobs: int) -> dict:
    start = time.monotonic()
    results = grade_class(submissions, out, jobs, default_options(jobs), quiet=True)
    wall = time.monotonic() - start
    timing = json.loads((out / "timing.json").read_text())
    assert all(r.status == "graded" for r in results), [(r.student, r.status) for r in results]
    return {"jobs": jobs, "submissions": len(results), "command_wall_s": round(wall, 2),
            "setup_s": timing["setup_s"], "grading_s": timing["grading_s"],
            "feedback_and_output_s": timing["output_s"],
            "grading_s_per_submission": round(timing["grading_s"] / len(results), 2),
            "per_submission_s": timing["per_submission_s"],
            "totals": {r.student: round(sum(r.scores.values()), 6) for r in results}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "grading.json")
    args = parser.parse_args(argv)
    if not os.environ.get("GCL4SR_DATA"):
        os.environ["GCL4SR_DATA"] = str(REPO.parent / "shared" / "datasets" / "home")
    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    build(root / "batch", BATCH)
    build(root / "single", ["perfect"])
    load_before = os.getloadavg()
    single = run(root / "single", root / "out-single", 1)
    serial = run(root / "batch", root / "out-serial", 1)
    parallel = run(root / "batch", root / "out-parallel", 2)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "single": single, "serial": serial, "parallel": parallel,
        "speedup_grading_phase": round(serial["grading_s"] / parallel["grading_s"], 2),
        "speedup_command": round(serial["command_wall_s"] / parallel["command_wall_s"], 2),
        "note": "seconds per submission = grading phase / submissions; the single run adds "
                "the one-off course setup (generate_assignment) and generate_feedback",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("speedup_grading_phase", "speedup_command")}))
    print(f"single submission: {single['command_wall_s']} s for the whole command, "
          f"{single['per_submission_s']['perfect']} s autograde")
    print(f"serial: {serial['grading_s_per_submission']} s per submission; "
          f"parallel (2 jobs): {parallel['grading_s_per_submission']} s per submission")
    return result


if __name__ == "__main__":
    main()
