"""Grade a whole class: build the course template, grade every submission (``--jobs`` at a
time, each in its own private course), then write the output course once.

A class may mix both editions: each submission is graded in the course of its notebook's
language (:mod:`.run.course` says why), whose template is built when a submission needs it;
the output course, ``grades.csv`` and the class report are the source's (same grade ids and
points in both)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from grading import release
from grading.kernel.i18n import DEFAULT

from .checking.isolation import unsandboxed, use_bwrap
from .common.options import Options, default_options
from .common.records import Result, Status
from .report.class_report import write_class_report
from .run import warm
from .run.ahead import Ahead
from .run.course import ASSIGNMENT, REPO, Course, build_template
from .run.discover import Submission, discover, submission_language
from .run.executors import Assignment, grade_here, grade_on_dask
from .run.grade_one import Prepared, grade_one, prepare, warm_gradebook
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
        warm_gradebook()
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
        courses = _edition_courses(course, subs, work, options.cell_timeout, main_log)
        setup = time.monotonic() - start

        def report(result: Result) -> Result:
            if not quiet:
                print(f"  {result.student}: {result.status}, "
                      f"{sum(result.scores.values()):g} points ({result.seconds:.1f} s)",
                      flush=True)
            return result

        def job(sub: Submission, last_try: bool = jobs <= 1,
                ready: Prepared | None = None) -> Result:
            return report(grade_one(sub, courses[sub.student], work, options, last_try, ready))

        start = time.monotonic()
        if scheduler:
            results = grade_on_dask(scheduler, _assignments(courses), subs, options, report)
        else:
            ahead = Ahead(lambda sub, nice: prepare(sub, courses[sub.student], work, options,
                                                    nice), subs)
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


def _edition_courses(course: Course, subs: list[Submission], work: Path,
                     cell_timeout: int | None, log: Path) -> dict[str, Course]:
    """Student -> the course that grades them: ``course`` (the source's), or the one of their
    notebook's other language, built once from :func:`_edition_source`."""
    langs = {sub.student: submission_language(sub) if sub.path else course.lang for sub in subs}
    built = {course.lang: course}
    for lang in sorted(set(langs.values()) - set(built)):
        source = _edition_source(lang, work / f"source-{lang}", course.notebook)
        built[lang] = build_template(work / lang, source, course.assignment, course.notebook,
                                     cell_timeout, log, _stubs(lang))
    return {student: built[lang] for student, lang in langs.items()}


def _edition_source(lang: str, folder: Path, notebook: str) -> Path:
    """``folder`` (made), holding the solution notebook of edition ``lang`` as ``notebook``:
    the source of that edition's course (:func:`grading.release.build_solution`)."""
    folder.mkdir(parents=True, exist_ok=True)
    release.write_notebook(release.build_solution(lang=lang), folder / f"{notebook}.ipynb")
    return folder


def _stubs(lang: str) -> str:
    """Config lines with the answer stubs of ``lang``'s release: a course's release notebook
    is the one its students got (the course config's stubs are the default language's)."""
    if lang == DEFAULT:
        return ""
    return "".join(f"c.ClearSolutions.{name} = {stub!r}\n"
                   for name, stub in release.ENGLISH_STUBS.items())


def _assignments(courses: dict[str, Course]) -> dict[str, Assignment]:
    """Student -> the source files of their course, for a Dask worker to build it again."""
    specs = {course.lang: Assignment.read(course.template / course.source_dir / course.assignment,
                                          course.assignment, course.notebook)
             for course in courses.values()}
    return {student: specs[course.lang] for student, course in courses.items()}
