"""The kit's measured results that the notebook shows students, from the bench's result files.

    python -m bench.lesson_data [--data-dir DIR]   # writes gcl4sr_helpers/home_lesson.json

Two measurements on Home, each read from where its benchmark wrote it:

* ``course_run``: the course configuration trained on, scored on the test split along the way,
  with the training minutes on the bench machine (``bench/results/lesson.json``, written by
  ``python -m bench.bench_lesson``);
* ``full_training``: ``python -m grading.train`` runs (batch 1024, up to 40 epochs): the
  validation NDCG@20 after each epoch and the best epoch's test metrics of the default model
  and of two ablations (``bench/results/full/<run>/``), with the most-popular baseline on the
  validation split.

The engine ships the file (:meth:`gcl4sr_helpers.dataset.DatasetInfo.lesson`); a test checks
that it is what this module makes of the committed results.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gcl4sr_helpers.baselines import most_popular_ranking
from gcl4sr_helpers.data import load_data
from gcl4sr_helpers.dataset import HOME_LESSON_PATH
from gcl4sr_helpers.trainer import score_ranking
from grading.instructor.builders.fulltrain import read_log
from grading.instructor.checking.reference import ndcg_at_k, recall_at_k

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
FULL_RUNS = ("default", "nocl", "unweighted")  # the model and the ablations students see
CURVE_METRIC = "NDCG@20"


def course_run(lesson: dict) -> dict:
    """What the notebook shows of ``bench/results/lesson.json``."""
    machine = lesson["machine"]
    loads = [machine["loadavg_before"][0], *(p["loadavg"] for p in lesson["epochs"])]
    return {"machine": f"{machine['cpu']}, {machine['threads']} threads, sgemm "
                       f"{machine['sgemm_gflops']:g} GFLOP/s, "
                       f"load {min(loads):g} to {max(loads):g}",
            "batch_size": lesson["batch_size"], "mostpop": lesson["mostpop"],
            "points": [{k: p[k] for k in ("epoch", "minutes", "test")} for p in lesson["epochs"]]}


def full_run(folder: Path) -> dict:
    """One full-training run: its ablation, validation curve and best epoch's test metrics."""
    cli = json.loads((folder / "cli.json").read_text())
    log = read_log(folder)
    result = json.loads((folder / "result.json").read_text())
    return {"lam1": cli["lam1"], "lam2": cli["lam2"], "unweighted_graph": cli["unweighted_graph"],
            "valid": [round(row[f"valid_{CURVE_METRIC}"], 5) for row in log],
            "test": {k: round(v, 5) for k, v in result["test"].items()}}


def full_training(full: Path, data_dir: str | None) -> dict:
    """The full-training runs students see, and the validation split's most-popular score."""
    data = load_data(data_dir)
    scores = score_ranking(*most_popular_ranking(data, 20, "valid"), recall_at_k, ndcg_at_k)
    return {"metric": CURVE_METRIC, "mostpop_valid": round(scores[CURVE_METRIC], 5),
            "batch_size": json.loads((full / "default" / "config.json").read_text())["batch_size"],
            "runs": {name: full_run(full / name) for name in FULL_RUNS}}


def assemble(results: Path = RESULTS, data_dir: str | None = None) -> dict:
    """The engine's ``home_lesson.json`` from the bench's result files."""
    lesson = json.loads((results / "lesson.json").read_text())
    return {"course_run": course_run(lesson),
            "full_training": full_training(results / "full", data_dir)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    HOME_LESSON_PATH.write_text(json.dumps(assemble(data_dir=args.data_dir), indent=1,
                                           ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {HOME_LESSON_PATH}")


if __name__ == "__main__":
    main()
