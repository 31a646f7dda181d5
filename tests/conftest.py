"""Shared fixtures."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def home_dir() -> Path:
    """The Home data folder: $GCL4SR_DATA, else ../shared/datasets/home beside the repository."""
    path = Path(os.environ.get("GCL4SR_DATA", REPO_ROOT.parent / "shared" / "datasets" / "home"))
    path = (REPO_ROOT / path.expanduser()).resolve()
    if not (path / "home.txt").is_file() or not (path / "all_train_seq.txt").is_file():
        pytest.skip(f"Home data not found in {path}; set GCL4SR_DATA to its folder")
    return path


@pytest.fixture(scope="session")
def home_data(home_dir):
    """Full Home: sequences, official splits and history masks."""
    from gcl4sr_helpers.data import load_data

    return load_data(home_dir)


@pytest.fixture(scope="session")
def small_data(home_dir, tmp_path_factory):
    """A deterministic 400-user subset of Home with re-indexed items."""
    from gcl4sr_helpers.data import load_data

    return load_data(home_dir, max_users=400, seed=7, cache_dir=tmp_path_factory.mktemp("subset"))


@pytest.fixture(scope="session")
def small_graph(small_data):
    """Reference WITG of the subset (instructor-side builder)."""
    from grading.instructor.reference import build_weighted_item_transition_graph

    return build_weighted_item_transition_graph(str(small_data.train_sequence_file))
