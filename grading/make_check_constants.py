"""Build the numbers behind the students' checks for a dataset (Home by default).

    python -m grading.make_check_constants [--data-dir DIR] [--file NAME] [--skip-runs] [--check]
    python -m grading.make_check_constants --run-full-seeds 2026 1 2 3 4

Writes the dataset's numbers (WITG fingerprints and counts, the most-popular baseline's
metrics, loss and metric bands over seeds) to ``DIR/check_constants.json``; Home's go to
``gcl4sr_helpers/home_check_constants.json``, beside its manifest, together with the public
examples' numbers in ``gcl4sr_helpers/check_constants.json``. For a dataset other than Home
the full-data bands come from one course run per ``--full-seeds`` seed (Home's from
``grading/instructor/builders/home_seed_runs.json``, which ``--run-full-seeds`` reruns: about 17
minutes a seed on a 2-core CPU). ``--check`` recomputes the cheap sections (public examples,
quick WITG, quick MostPop) and exits 1 if they differ from the stored files. ``--skip-runs``
keeps the stored run references instead of re-running them (Home's quick runs: about a
minute).
What each section holds: :mod:`grading.instructor.builders.check_constants`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gcl4sr_helpers import checks
from gcl4sr_helpers.data import load_data
from grading.instructor.builders.check_constants import (
    FULL_SEEDS,
    HOME_SEED_RUNS,
    build_dataset_constants,
    constants_path,
    dump,
    engine_constants,
    full_seed_runs,
    stale_sections,
)
from grading.instructor.common.options import add_dataset_options


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_options(parser)
    parser.add_argument("--skip-runs", action="store_true",
                        help="keep the stored run references instead of re-running them")
    parser.add_argument("--check", action="store_true",
                        help="only verify that the cheap sections are up to date")
    parser.add_argument("--full-seeds", type=int, nargs="+", default=list(FULL_SEEDS),
                        metavar="SEED", help="seeds of the full-data runs (not Home; >= 3)")
    parser.add_argument("--run-full-seeds", type=int, nargs="+", metavar="SEED",
                        help=f"Home: rerun the full seed runs into {HOME_SEED_RUNS.name} first")
    parser.add_argument("--output", type=Path, help="where to write the dataset's numbers")
    args = parser.parse_args(argv)
    data = load_data(args.data_dir, file=args.file)
    print(data.describe())
    path = args.output or constants_path(data.dataset)
    previous = _read(path)
    if args.check:
        stale = stale_sections(checks.load_constants(), previous or {}, args.data_dir, args.file)
        print(f"{path}: " + (f"out of date: {', '.join(stale)}" if stale else "up to date"))
        return 1 if stale else 0
    if args.run_full_seeds:
        stored = json.loads(HOME_SEED_RUNS.read_text(encoding="utf-8"))
        stored["runs"] = full_seed_runs(args.data_dir, args.run_full_seeds, args.file)
        HOME_SEED_RUNS.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    if data.dataset.is_home:
        checks.CONSTANTS_PATH.write_text(dump(engine_constants()), encoding="utf-8")
        print(f"wrote {checks.CONSTANTS_PATH}")
    path.write_text(dump(build_dataset_constants(args.data_dir, previous, args.skip_runs,
                                                 args.file, args.full_seeds)), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
