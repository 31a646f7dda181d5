"""Tests of gcl4sr_helpers.download against a local HTTP server."""

import hashlib
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gcl4sr_helpers.download import (
    ENV_VAR,
    REQUIRED_FILES,
    ChecksumError,
    DownloadError,
    fetch_file,
    load_manifest,
    locate_data_dir,
    sha256_file,
    verify_data_dir,
)

DEAD_URL = "http://127.0.0.1:9/"  # nothing listens on the discard port


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(home_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with copies of the data files, plus `bad/` holding a corrupted home.txt."""
    root = tmp_path_factory.mktemp("served")
    for name in REQUIRED_FILES:
        shutil.copyfile(home_dir / name, root / name)
    (root / "bad").mkdir()
    (root / "bad" / "home.txt").write_bytes((home_dir / "home.txt").read_bytes()[:-10])
    return root


@pytest.fixture(scope="module")
def base_url(served: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def _sha(name: str) -> str:
    return load_manifest()["files"][name]["sha256"]


def test_manifest_matches_official_checksums(home_dir: Path) -> None:
    sums = home_dir / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip("no SHA256SUMS beside the data")
    official = {name: digest for digest, name in (line.split() for line in sums.open())}
    manifest = load_manifest()
    assert set(manifest["files"]) == set(REQUIRED_FILES)
    assert all(_sha(name) == official[name] for name in REQUIRED_FILES)
    assert manifest["base_url"].startswith("https://raw.githubusercontent.com/sdu-zyx/GCL4SR/")


def test_sha256_file(home_dir: Path) -> None:
    path = home_dir / "home.txt"
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest() == _sha("home.txt")


def test_fetch_file_with_right_checksum(base_url: str, served: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "home.txt"
    assert fetch_file(base_url + "home.txt", dest, _sha("home.txt")) == dest
    assert dest.read_bytes() == (served / "home.txt").read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["home.txt"]


def test_fetch_file_with_wrong_checksum_leaves_nothing(base_url: str, tmp_path: Path) -> None:
    url = base_url + "home.txt"
    with pytest.raises(ChecksumError) as info:
        fetch_file(url, tmp_path / "home.txt", "0" * 64)
    message = str(info.value)
    assert url in message and "0" * 64 in message and _sha("home.txt") in message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url_suffix", ["missing.txt", None])
def test_fetch_file_failure_leaves_nothing(
    base_url: str, tmp_path: Path, url_suffix: str | None
) -> None:
    url = base_url + url_suffix if url_suffix else DEAD_URL + "home.txt"
    with pytest.raises(DownloadError, match="could not download"):
        fetch_file(url, tmp_path / "home.txt", _sha("home.txt"), timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_locate_explicit_dir_wins_over_env(home_dir: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    assert locate_data_dir(home_dir) == home_dir
    assert locate_data_dir(str(home_dir)) == home_dir


def test_locate_env_dir(home_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(home_dir))
    assert locate_data_dir(download=False) == home_dir


def test_locate_reports_missing_folder(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError) as info:
        locate_data_dir()
    message = str(info.value)
    assert f"nowhere (from ${ENV_VAR}) does not exist" in message
    assert "data_dir" in message and "data/README.md" in message


def test_locate_fetches_default_dir(base_url: str, served: Path, tmp_path: Path) -> None:
    default = tmp_path / "data" / "home"
    assert locate_data_dir(base_url=base_url, default_dir=default) == default
    for name in REQUIRED_FILES:
        assert (default / name).read_bytes() == (served / name).read_bytes()
    assert sorted(p.name for p in default.iterdir()) == sorted(REQUIRED_FILES)
    # Present files are used as they are: no network needed the second time.
    assert locate_data_dir(base_url=DEAD_URL, default_dir=default) == default


def test_locate_default_dir_rejects_corrupt_download(base_url: str, tmp_path: Path) -> None:
    default = tmp_path / "home"
    with pytest.raises(ChecksumError):
        locate_data_dir(base_url=base_url + "bad/", default_dir=default)
    assert list(default.iterdir()) == []


def test_locate_default_dir_without_download(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="download=False"):
        locate_data_dir(download=False, default_dir=tmp_path)


def test_verify_data_dir(home_dir: Path, tmp_path: Path) -> None:
    assert verify_data_dir(home_dir) == []
    shutil.copyfile(home_dir / "home.txt", tmp_path / "home.txt")
    assert verify_data_dir(tmp_path) == ["all_train_seq.txt"]
    (tmp_path / "all_train_seq.txt").write_text("0 1\n")
    assert verify_data_dir(tmp_path) == ["all_train_seq.txt"]
    with open(tmp_path / "home.txt", "a") as handle:
        handle.write("\n")
    assert verify_data_dir(tmp_path) == ["home.txt", "all_train_seq.txt"]
