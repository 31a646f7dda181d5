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
