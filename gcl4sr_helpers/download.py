"""Locate the data folder on disk, or fetch Home (the default dataset) with SHA-256 checks."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.request
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from .files import atomic_file

ENV_VAR = "GCL4SR_DATA"
MANIFEST_PATH = Path(__file__).resolve().with_name("manifest.json")
TRAIN_FILE = "all_train_seq.txt"
#: Home's files, as the manifest lists them (its sequence file, then the train-sequence file).
REQUIRED_FILES = tuple(json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["files"])

_CHUNK = 1 << 20


def default_data_dir() -> Path:
    """``data/home/`` of the repository checkout the engine runs from; for an installed engine
    (the wheel of the student edition), ``data/home/`` under the working folder."""
    checkout = Path(__file__).resolve().parents[1]
    return (checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()) / "data" / "home"


def _how_to_fix() -> str:
    return (f"Set {ENV_VAR} or pass data_dir= to a dataset folder (one 'user item1,item2,...' "
            f"file; see data/README.md), or leave both unset to fetch Home into "
            f"{default_data_dir()}.")


class ChecksumError(ValueError):
    """A downloaded file does not have the expected SHA-256."""


class DownloadError(RuntimeError):
    """A file could not be downloaded."""


def load_manifest(path: str | Path = MANIFEST_PATH) -> dict:
    """Read Home's manifest (its dataset.json plus download URLs) and check its fields."""
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    files = manifest.get("files", {})
    missing = [name for name in REQUIRED_FILES if "sha256" not in files.get(name, {})]
    if "base_url" not in manifest or missing or manifest.get("file") not in files:
        raise ValueError(f"{path}: manifest needs 'base_url', 'file' and a sha256 for "
                         f"{REQUIRED_FILES}")
    return manifest


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stream(url: str, out: BinaryIO, label: str, timeout: float) -> str:
    """Copy the body of `url` into `out`; return its hex SHA-256."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            size = response.headers.get("Content-Length")
            total = int(size) if size else None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=label, disable=total is None
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"could not download {url}: {exc}") from exc
    return digest.hexdigest()


def fetch_file(url: str, dest: Path, sha256: str, timeout: float = 60) -> Path:
    """Download `url` to `dest` atomically; raise unless its SHA-256 is `sha256`."""
    dest = Path(dest)
    with atomic_file(dest, "wb") as out:
        got = _stream(url, out, dest.name, timeout)
        if got != sha256.lower():
            raise ChecksumError(f"checksum mismatch for {url}: expected {sha256}, got {got}")
    return dest


def _check_named_dir(directory: Path, source: str) -> Path:
    """Return `directory` resolved if it exists, else explain the fix (its files are checked
    by :func:`gcl4sr_helpers.dataset.describe_dataset`)."""
    directory = directory.expanduser().resolve()
    if not directory.is_dir():
        raise FileNotFoundError(
            f"data directory {directory} (from {source}) does not exist. {_how_to_fix()}"
        )
    return directory


def _fill_default_dir(directory: Path, download: bool, base_url: str | None) -> Path:
    """Fetch the required files missing from the default folder, verifying checksums."""
    missing = [name for name in REQUIRED_FILES if not (directory / name).is_file()]
    if missing and not download:
        raise FileNotFoundError(
            f"{directory} has no {', '.join(missing)} and download=False. {_how_to_fix()}"
        )
    if missing:
        manifest = load_manifest()
        base = (base_url or manifest["base_url"]).rstrip("/")
        for name in missing:
            fetch_file(f"{base}/{name}", directory / name, manifest["files"][name]["sha256"])
    return directory


def locate_data_dir(
    data_dir: str | Path | None = None,
    *,
    download: bool = True,
    base_url: str | None = None,
    default_dir: Path | None = None,
) -> Path:
    """Find the data folder: `data_dir`, else $GCL4SR_DATA, else Home's default (fetched if needed).

    `base_url` overrides the manifest's URL and `default_dir` the default folder `data/home/`.
    """
    if data_dir is not None:
        return _check_named_dir(Path(data_dir), "the data_dir argument")
    if os.environ.get(ENV_VAR):
        return _check_named_dir(Path(os.environ[ENV_VAR]), f"${ENV_VAR}")
    directory = Path(default_dir) if default_dir is not None else default_data_dir()
    return _fill_default_dir(directory.expanduser().resolve(), download, base_url)


def verify_data_dir(path: str | Path, manifest_path: str | Path = MANIFEST_PATH) -> list[str]:
    """Names of the manifest's files that are missing from `path` or fail their checksum."""
    files = load_manifest(manifest_path)["files"]
    return [
        name
        for name, entry in files.items()
        if not (Path(path) / name).is_file() or sha256_file(Path(path) / name) != entry["sha256"]
    ]
