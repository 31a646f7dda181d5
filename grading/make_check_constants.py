"""Generate ``gcl4sr_helpers/check_constants.json``, the numbers behind the students' checks.

    python -m grading.make_check_constants [--data-dir DIR] [--skip-runs] [--check]
    python -m grading.make_check_constants --run-full-seeds 2026 1 2 3 4

``--check`` recomputes the cheap sections (metrics, mmd, witg.quick) and exits 1 if they
differ from the committed file. ``--skip-runs`` keeps the stored quick-run references
instead of re-running the quick experiments (about a minute on a 2-core CPU).
``--run-full-seeds`` first reruns the full-Home seed runs into
``grading/instructor/home_seed_runs.json`` (about 17 minutes a seed on a 2-core CPU).
What each section holds: :mod:`grading.instructor.check_constants`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gcl4sr_helpers import checks
from grading.instructor.check_constants import (
    HOME_SEED_RUNS,
    build_constants,
    dump,
    full_seed_runs,
    stale_sections,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="Home folder (default: $GCL4SR_DATA, else download)")
    parser.add_argument("--skip-runs", action="store_true",
                        help="keep the stored quick-run references instead of re-running them")
    parser.add_argument("--check", action="store_true",
                        help="only verify that the cheap sections are up to date")
    parser.add_argument("--run-full-seeds", type=int, nargs="+", metavar="SEED",
                        help=f"rerun the full-Home seed runs into {HOME_SEED_RUNS.name} first")
    parser.add_argument("--output", default=str(checks.CONSTANTS_PATH))
    args = parser.parse_args(argv)
    path = Path(args.output)
    previous = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if args.check:
        stale = stale_sections(previous or {}, args.data_dir)
        print(f"{path}: " + (f"out of date: {', '.join(stale)}" if stale else "up to date"))
        return 1 if stale else 0
    if args.run_full_seeds:
        stored = json.loads(HOME_SEED_RUNS.read_text(encoding="utf-8"))
        stored["runs"] = full_seed_runs(args.data_dir, args.run_full_seeds)
        HOME_SEED_RUNS.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    path.write_text(dump(build_constants(args.data_dir, previous, args.skip_runs)),
                    encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
