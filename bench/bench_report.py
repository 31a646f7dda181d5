"""Time the class report on a generated class (default 300 submissions).

    python -m bench.bench_report [--students 300] [--out bench/results/report.json]

The graded folder is generated, not graded: ``results.json`` with random statuses, points
and sub-check verdicts (the registry's labels), and per student the release notebook with
every TODO answered by a variant of ``bench.submissions`` (``perfect``, ``partial``,
``nearmiss``, with variables renamed at random), an autograded copy whose check cell printed
random hints of the checks' own hint tables, and a 200 kB image output (the size of a real
plot). Then
the report is written twice, by ``write_report`` in this process and by
``python -m grading.report`` in a new one (another hash salt, imports included): the
wall-clock and CPU seconds of each (CPU seconds stay meaningful on a busy machine), and
whether the files are identical.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grading.instructor.report.class_report import write_report
from grading.instructor.report.hints import hint_tables
from grading.instructor.run.course import ASSIGNMENT, hidden_calls
from grading.kernel.registry import CHECKS
from grading.release import RELEASE

from . import submissions

REPO = Path(__file__).resolve().parents[1]
NAMES = ["x", "y", "z", "acc", "tmp", "val", "item", "row", "col", "cnt", "buf", "res"]
IDENT = re.compile(r"\b(seq|n|i|j|w|src|dst|total|users|u|gold|top|found|dcg|idcg|k|loss|"
                   r"sequence|window|weight|t|a|b|scores|truth|ranking|relevant|hits|"
                   r"batch_size|kernels|xx|yy|xy|yx)\b")


def course(release: nbformat.NotebookNode) -> dict:
    graded = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
    points = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
              for c in graded}
    return {"assignment": ASSIGNMENT, "notebook": RELEASE.stem, "parts": list(points),
            "max_points": points,
            "hidden": {gid: [list(call) for call in hidden_calls(c.source, points[gid])]
                       for c in graded if (gid := c.metadata["nbgrader"]["grade_id"])
                       if hidden_calls(c.source, points[gid])},
            "todos": {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
                      if c.metadata.get("nbgrader", {}).get("solution")}}


def renamed(source: str, rng: random.Random) -> str:
    mapping: dict[str, str] = {}
    return IDENT.sub(lambda m: mapping.setdefault(m.group(0), rng.choice(NAMES)
                                                  + str(len(mapping))), source)


def generate(folder: Path, students: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    facts = course(nbformat.read(submissions.RELEASE, as_version=4))
    variants = [submissions.variant(name) for name in ("perfect", "partial", "nearmiss")]
    hints = list(hint_tables())
    image = base64.b64encode(rng.randbytes(150_000)).decode()
    records = []
    for number in range(students):
        name = f"s{number:03d}"
        nb = copy.deepcopy(rng.choice(variants))
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = renamed(cell.source, rng)
        for folder_name in ("submitted", "autograded"):
            if folder_name == "autograded":
                shown = "\n".join(f"     💡 {h}" for h in rng.sample(hints, rng.randint(0, 3)))
                nb.cells.append(nbformat.v4.new_code_cell("check_metrics(...)", outputs=[
                    nbformat.v4.new_output("stream", name="stdout",
                                           text=f"── 점검 ──\n❌ 항목\n{shown}\n"),
                    nbformat.v4.new_output("display_data", {"image/png": image})]))
            path = folder / folder_name / name / ASSIGNMENT / RELEASE.name
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
        status = "graded" if rng.random() < 0.9 else rng.choice(["time limit", "kernel died"])
        points = {p: round(rng.randint(0, 6) * m / 6, 6) for p, m in facts["max_points"].items()}
        checks = {check.name: {"fraction": 0.5, "status": "ok", "seconds": rng.random(),
                               "verdicts": [{"id": sub, "label": check.label(sub, "ko"),
                                             "passed": rng.random() < 0.7,
                                             "reason": rng.choice(["wrong value", "crashed"])}
                                            for sub in check.subchecks]}
                  for check in CHECKS.values()}
        records.append({"student": name, "status": status, "points": points,
                        "total": round(sum(points.values()), 6),
                        "seconds": round(rng.uniform(20, 300), 2),
                        "reasons": ["generated"], "checks": checks})
    (folder / "results.json").write_text(json.dumps({"course": facts, "students": records}))


def _cpu() -> float:
    """CPU seconds of this process and its finished children."""
    return sum(getattr(resource.getrusage(who), field)
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "report.json")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gcl4sr-report-bench-"))
    try:
        result = run(folder, args.students)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def run(folder: Path, students: int) -> dict:
    generate(folder, students)
    seconds, cpu_seconds, files = [], [], []
    for in_process in (True, False):
        start, cpu = time.perf_counter(), _cpu()
        if in_process:
            write_report(folder)
        else:
            subprocess.run([sys.executable, "-m", "grading.report", str(folder)], cwd=REPO,
                           check=True, capture_output=True)
        seconds.append(round(time.perf_counter() - start, 2))
        cpu_seconds.append(round(_cpu() - cpu, 2))
        files.append([(folder / n).read_bytes() for n in ("report.json", "report.html")])
    report = json.loads((folder / "report.json").read_text())
    return {"students": students, "seconds": seconds, "cpu_seconds": cpu_seconds,
              "identical": files[0] == files[1],
              "listed_pairs": {t: len(f["pairs"]) for t, f in report["copies"]["todos"].items()},
              "html_kib": round(len(files[0][1]) / 1024)}


if __name__ == "__main__":
    main()
