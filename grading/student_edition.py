"""Build the student edition: the one artifact that goes to students.

    python -m grading.student_edition --out DIR [--lang ko|en] [--engine-url URL]

writes ``DIR/gcl4sr-student-<version>.zip`` (Korean, the default) or
``DIR/gcl4sr-student-<version>-en.zip`` (English) and the same tree unpacked beside it::

    gcl4sr-student-<version>[-en]/
        README.md            the student README: notebooks/README.md, notebooks/en/README.md
        requirements.txt     pinned versions: those of the environment that builds the edition
        manifest.json        the data manifest (URLs and SHA-256 of the Home files)
        gcl4sr/gcl4sr.ipynb  the release notebook: notebooks/gcl4sr/, notebooks/en/gcl4sr/
        gcl4sr/gcl4sr_course_kit-<version>-py3-none-any.whl   the engine, gcl4sr_helpers

The English edition's notebook, README and printed readable modules are in English; its
engine carries both message catalogues (``messages/ko.json`` too, so that ``GCL4SR_LANG=ko``
still works), and the notebook chooses English (``set_language("en")`` in its setup cell).

Nothing from ``solutions/``, ``grading/``, ``tests/`` or ``bench/`` goes in. The version is
``gcl4sr_helpers.__version__``: it names the zip and heads the notebook's first code cell (an
ordinary, unlocked cell). ``--engine-url`` sets ``ENGINE_URL`` in that cell, where the setup
cell installs the engine from when it is missing and no wheel lies beside the notebook (a
notebook opened in Colab from a URL).
Build it from an environment where the course's CI passes (``pip install -e ".[test]"``):
the pins are read from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gcl4sr_helpers.i18n import DEFAULT, LANGUAGES
from grading.instructor.builders.edition import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the zip and its tree")
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT,
                        help=f"the edition's language (default {DEFAULT})")
    parser.add_argument("--engine-url", help="where the notebook installs the engine from when "
                                             "it is missing and no wheel lies beside it")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    archive = build(args.out.resolve(), args.engine_url, args.lang)
    print(f"wrote {archive} and {archive.with_suffix('')}/: hand the zip to students")
    return 0


if __name__ == "__main__":
    sys.exit(main())
