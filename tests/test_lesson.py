"""The lesson's "see it win" part: the kit's measured results the notebook shows, and the
validation scores a student's continued training is judged by."""

import json

import pytest

from bench.bench_lesson import METRICS, TARGET_MINUTES
from bench.lesson_data import assemble
from gcl4sr_helpers.data import SequenceDataset
from gcl4sr_helpers.dataset import HOME_LESSON_PATH, describe_dataset
from gcl4sr_helpers.experiment import CourseConfig, start_course
from gcl4sr_helpers.trainer import make_loader
from grading.instructor.checking.reference import mmd_loss, ndcg_at_k, recall_at_k


@pytest.fixture(scope="module")
def lesson() -> dict:
    return json.loads(HOME_LESSON_PATH.read_text(encoding="utf-8"))


def test_the_engines_copy_is_what_the_bench_results_make(lesson, home_dir):
    assert assemble(data_dir=str(home_dir)) == lesson, \
        "gcl4sr_helpers/home_lesson.json is stale: run python -m bench.lesson_data"


def test_the_course_model_passes_mostpop_within_the_lesson_target(lesson):
    course = lesson["course_run"]
    wins = [p for p in course["points"]
            if all(p["test"][m] > course["mostpop"][m] for m in METRICS)]
    assert wins, "the measured course run never passes MostPop"
    assert wins[0]["minutes"] <= TARGET_MINUTES, wins[0]
    minutes = [p["minutes"] for p in course["points"]]
    assert minutes == sorted(minutes) and minutes[0] > 0


def test_the_full_training_runs_are_the_model_and_its_ablations(lesson):
    runs = lesson["full_training"]["runs"]
    assert (runs["default"]["lam1"], runs["default"]["lam2"]) == (1.0, 0.1)
    assert (runs["nocl"]["lam1"], runs["nocl"]["lam2"]) == (0.0, 0.0)
    assert runs["unweighted"]["unweighted_graph"] and not runs["default"]["unweighted_graph"]


def test_home_alone_has_lesson_results(home_dir, tmp_path):
    assert describe_dataset(home_dir).lesson() is not None
    (tmp_path / "other.txt").write_text("0 1,2,3\n1 2,3,4\n")
    assert describe_dataset(tmp_path).lesson() is None


def test_validation_ranks_each_users_second_to_last_item(small_data, small_graph):
    run = start_course(small_data, small_graph, mmd_loss, CourseConfig(batch_size=256, seed=3),
                       device="cpu", progress=False)
    loader = make_loader(SequenceDataset(small_data.splits["valid"]), 256)
    actual, _ = run.trainer.rank(loader, small_data.valid_history)
    assert [a[0] for a in actual] == [seq[-2] for seq in small_data.sequences]
    expected = run.trainer.evaluate(loader, small_data.valid_history, recall_at_k, ndcg_at_k,
                                    seed=run.config.seed)
    assert run.validate(recall_at_k, ndcg_at_k) == expected
    assert run.validate(recall_at_k, ndcg_at_k) != run.test(recall_at_k, ndcg_at_k)
