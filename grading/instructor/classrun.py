"""Grade a whole class: build the course template, grade every submission (``--jobs`` at a
time, each in its own private course), then write the output course once."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from .checking.isolation import unsandboxed, use_bwrap
from .common.options import Options, default_options
from .common.records import Result, Status
from .report.class_report import write_class_report
from .run import warm
from .run.ahead import Ahead
from .run.course import ASSIGNMENT, REPO, build_template
from .run.discover import Submission, discover
from .run.executors import Assignment, grade_here, grade_on_dask
from .run.grade_one import Prepared, grade_one, prepare
from .run.output import summary_table, write_outputs
from .run.server_process import warm_checks


def grade_class(submissions: Path, out: Path, jobs: int = 1, options: Options | None = None,
                source: Path | None = None, assignment: str = ASSIGNMENT,
                notebook: str = ASSIGNMENT, quiet: bool = False,
                scheduler: str | None = None) -> list[Result]:
    """Grade every submission here (``jobs`` at a time) or on the Dask cluster at
    ``scheduler``, then write the output course ``out``."""
    options = options or default_options(jobs)
    if scheduler is None:
        use_bwrap(options.sandbox)  # --sandbox bwrap where it cannot work: stop now
        if warm.can_fork():
            warm_checks()  # imports torch and the reference while the template is built
    source = source or REPO / "solutions" / assignment
    subs = discover(submissions, assignment, notebook)
    work = Path(tempfile.mkdtemp(prefix="gcl4sr-grade-"))
    out.mkdir(parents=True, exist_ok=True)
    main_log = out / "grade_class.log"
    main_log.write_text("")
    try:
        start = time.monotonic()
        course = build_template(work, source, assignment, notebook, options.cell_timeout,
                                main_log)
        setup = time.monotonic() - start

        def report(result: Result) -> Result:
            if not quiet:
                print(f"  {result.student}: {result.status}, "
                      f"{sum(result.scores.values()):g} points ({result.seconds:.1f} s)",
                      flush=True)
            return result

        def job(sub: Submission, last_try: bool = jobs <= 1,
                ready: Prepared | None = None) -> Result:
            return report(grade_one(sub, course, work, options, last_try, ready))

        start = time.monotonic()
        if scheduler:
            results = grade_on_dask(scheduler, Assignment.read(source, assignment, notebook),
                                    subs, options, report)
        else:
            ahead = Ahead(lambda sub, nice: prepare(sub, course, work, options, nice), subs)
            try:
                results = grade_here(lambda sub: job(sub, ready=ahead.take(sub)), subs, jobs)
            finally:
                ahead.close()
        retry = [i for i, r in enumerate(results) if r.status == Status.GRADER_ERROR]
        for index in retry:  # e.g. a neighbour broke our folder: once more, alone
            results[index] = job(subs[index], True)
            results[index].reasons.append("graded a second time after a grader error")
        grading = time.monotonic() - start
        start = time.monotonic()
        write_outputs(results, course, out, options.cell_timeout, main_log, subs,
                      submissions, lambda: write_class_report(results, course, out))
        timing = {"setup_s": round(setup, 2), "grading_s": round(grading, 2),
                  "output_s": round(time.monotonic() - start, 2), "jobs": jobs,
                  "submissions": len(results),
                  "per_submission_s": {r.student: round(r.seconds, 2) for r in results},
                  "phases_s": {r.student: r.phases for r in results}}
        (out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    if not quiet:
        print(summary_table(results, course))
        if unsandboxed(results):
            print(unsandboxed(results), flush=True)
        print(f"grades: {out / 'grades.csv'}   feedback: {out / 'feedback'}")
    return results
