"""Write the instructor's class report of a graded folder again (``grade_class`` writes it
at the end of every class run):

    python -m grading.report GRADED_DIR [--lang ko|en]

``GRADED_DIR/report.html`` (self-contained: open it in any browser, also on a phone) and
``GRADED_DIR/report.json`` (the same numbers): the class summary, the distribution of
points, the hidden sub-checks the class lost, the student-side hints that fired, the slowest
and the unfinished submissions, and possible copies for a human to review (never used to
change a score). Reads ``GRADED_DIR/results.json`` and the notebooks; idempotent. The
report is in Korean (as the class command writes it) or ``--lang``; a class may mix both
editions, whose students it counts together.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from grading.instructor.report.class_report import REPORT_HTML, REPORT_JSON, write_report
from grading.kernel.i18n import DEFAULT, LANGUAGES


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Write report.html and report.json of a "
                                                 "graded folder.")
    parser.add_argument("graded", type=Path, help="output folder of grading.grade_class")
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT,
                        help="the report's language (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        report = write_report(args.graded, args.lang)
    except FileNotFoundError as error:
        parser.error(str(error))
    print(f"report: {args.graded / REPORT_HTML}   numbers: {args.graded / REPORT_JSON}")
    return report


if __name__ == "__main__":
    main()
