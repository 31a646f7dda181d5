"""Grade a whole class with nbgrader: one command, robust to hostile submissions.

    python -m grading.grade_class SUBMISSIONS [--out DIR] [--jobs N] [--data DIR]
        [--sandbox auto|bwrap|none] [--executor local|dask --scheduler ADDRESS]

``SUBMISSIONS`` is either nbgrader's ``submitted/`` folder (``<student>/gcl4sr/*.ipynb``),
a course root that contains one, or a flat zip-collect style folder of
``<student>_<anything>.ipynb`` files (both layouts may be mixed). The output folder
(default ``graded/``) is a complete nbgrader course root:

* ``grades.csv``: one row per student, points per graded cell, total, status and reasons;
* ``feedback/<student>/gcl4sr/gcl4sr.html`` (``nbgrader generate_feedback``);
* ``autograded/``, ``submitted/`` (the notebooks as graded) and ``gradebook.db`` for
  formgrader; ``logs/<student>.log`` with nbgrader's and the check server's output.

How each submission is graded
-----------------------------
1. The notebook is read and validated first: a file that is not a notebook gets 0 on every
   part with the reason, and the run goes on. A renamed notebook is graded if it is the
   student's only one; test cells the student deleted are put back (as nbgrader's
   ``add_missing_cells`` would, without its crash when neighbours were deleted too).
2. It is graded in a private copy of the course (its own folder and SQLite gradebook), so
   code that deletes or rewrites files around the notebook only damages its own copy.
3. A trusted check server (:mod:`grading.instructor.checking.check_server`) and the kernel
   (:mod:`grading.instructor.run.graded_kernel`) are started for it *before* its notebook
   runs, usually while the submission before it is graded; the hidden test cells send the
   student's functions to the server.
4. ``nbgrader autograde`` runs under :mod:`grading.instructor.common.procs` (``RLIMIT_AS`` etc.,
   the kernel's own limits too), is handed that kernel, and runs with the per-cell timeout of
   the config and a wall-clock limit for the whole submission; its process group and the
   kernel's are killed afterwards. A crashed kernel, a time or memory limit: 0 on every part,
   with the reason.
5. Hidden parts are verified: points = ``min(nbgrader's score, max x fraction the server
   recorded for the first call of that check)``; a check that never reached the server
   scores 0 ("hidden check did not run"). When that changes a score, the cell's output
   in the autograded notebook is replaced by the server's reasons. Any tampering evidence
   (a displayed score the server never gave, an altered display, replaced test helpers)
   also voids the submission's visible tests, which ran in the same kernel.

Both editions: a class may mix Korean and English notebooks. Each is graded in the course of
its language, read on the trusted side from the submitted notebook's
``metadata["gcl4sr"]["lang"]`` (missing or unknown: Korean), and its feedback and reasons,
the check server's included, are in that language; the same code gets the same points in
either (same grade ids, points and tests). ``grades.csv`` has one row per student whatever
the edition; the class report is in Korean (``python -m grading.report --lang en`` rewrites it
in English) and counts both editions together.

Parallelism: ``--jobs N`` grades N submissions at once, each in its own private course
and gradebook (SQLite is not safe for concurrent writers, and nothing is shared). Only
the main process writes the output course's gradebook, after all submissions are done,
and runs ``nbgrader generate_feedback`` once for everyone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grading.instructor.checking.isolation import MODES
from grading.instructor.classrun import grade_class
from grading.instructor.common.options import DEFAULTS, add_check_options, default_options
from grading.instructor.common.records import Result
from grading.kernel.limits import CELL_TIMEOUT_S


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(
        description="Autograde every submission with nbgrader, write grades.csv and feedback.")
    parser.add_argument("submissions", type=Path,
                        help="submitted/ folder, a course root, or <student>_*.ipynb files")
    parser.add_argument("--out", type=Path, default=Path("graded"),
                        help="output course folder (default: graded/)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--data", help="dataset folder for the notebooks, Home's or another "
                        "(data/README.md; default: $GCL4SR_DATA)")
    parser.add_argument("--source", type=Path, help="assignment source folder "
                        "(default: solutions/gcl4sr)")
    parser.add_argument("--cell-timeout", type=int,
                        help=f"seconds per cell (default {CELL_TIMEOUT_S}, the nbgrader config's)")
    parser.add_argument("--cpu", type=float, default=DEFAULTS.cpu,
                        help="CPU seconds per submission, its processes together: the work "
                        "limit, whatever the load (default %(default)g)")
    parser.add_argument("--timeout", type=float, default=DEFAULTS.timeout,
                        help="wall-clock seconds per submission, a backstop (default %(default)g)")
    parser.add_argument("--sandbox", choices=MODES, default=DEFAULTS.sandbox,
                        help="bubblewrap sandbox of student code: auto (where it works, else a "
                        "warning), bwrap (required) or none (default %(default)s)")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="grade here (--jobs at a time) or on a Dask cluster")
    parser.add_argument("--scheduler", help="Dask scheduler address (--executor dask)")
    parser.add_argument("--mem-mib", type=int, default=DEFAULTS.mem_mib,
                        help="address space of nbgrader and the kernel, MiB (default %(default)s)")
    add_check_options(parser)
    parser.add_argument("--keep-work", action="store_true", help="keep the private folders")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    if (args.executor == "dask") != bool(args.scheduler):
        parser.error("--executor dask and --scheduler ADDRESS go together")
    options = default_options(args.jobs, cell_timeout=args.cell_timeout, timeout=args.timeout,
                              cpu=args.cpu, sandbox=args.sandbox,
                              mem_mib=args.mem_mib, check_wall=args.check_wall,
                              check_mem_mib=args.check_mem_mib,
                              case_wall=args.case_wall, keep=args.keep_work,
                              data=args.data)
    if options.data and not Path(options.data).is_dir():
        parser.error(f"the data folder {options.data} (--data, else $GCL4SR_DATA) is not a "
                     "folder: the notebooks could not read their dataset")
    try:
        return grade_class(args.submissions, args.out, args.jobs, options, args.source,
                           scheduler=args.scheduler)
    except RuntimeError as error:  # e.g. --sandbox bwrap where bwrap cannot work
        parser.exit(2, f"grade_class: error: {error}\n")


if __name__ == "__main__":
    main()
