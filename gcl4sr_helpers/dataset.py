"""What a dataset is: a name and a folder holding one ``user item1,item2,...`` sequence file.

The folder may hold a ``dataset.json``::

    {"name": "Beauty", "file": "beauty_seq.txt", "sha256": "...",
     "paper": {"source": "...", "results": {"SASRec": {"Recall@10": 0.03, ...}, ...}}}

(only ``name`` and ``file`` are required), and the student-check constants built for it by
``python -m grading.make_check_constants --data-dir FOLDER`` (``check_constants.json``).
Without ``dataset.json`` the sequence file is the folder's only ``*.txt`` besides
``all_train_seq.txt`` and the name is its stem. A folder whose sequence file has the
checksum of Home (the course's default dataset, described by the engine's ``manifest.json``)
is Home, with Home's paper figures and check constants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .download import MANIFEST_PATH, TRAIN_FILE, ChecksumError, load_manifest, sha256_file
from .i18n import text

DATASET_FILE = "dataset.json"
CONSTANTS_FILE = "check_constants.json"
HOME_CONSTANTS_PATH = MANIFEST_PATH.with_name("home_check_constants.json")
HOME_LESSON_PATH = MANIFEST_PATH.with_name("home_lesson.json")  # python -m bench.lesson_data


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset: its name, sequence file, paper figures and check constants (if any)."""

    name: str
    sequence_file: Path
    sha256: str
    paper: dict[str, dict[str, float]] = field(default_factory=dict)
    paper_source: str = ""
    constants_path: Path | None = None
    is_home: bool = False

    @property
    def folder(self) -> Path:
        return self.sequence_file.parent

    def constants(self) -> dict | None:
        """The stored student-check constants of this dataset, or None where it has none."""
        return _read_json(self.constants_path) if self.constants_path else None

    def lesson(self) -> dict | None:
        """The kit's measured results the notebook shows for this dataset (Home only): the
        course run's test metrics along training and the full-training curves."""
        return _read_json(HOME_LESSON_PATH) if self.is_home else None

    def describe(self) -> str:
        """One line for the notebook (its language): name, file, whether checks have
        reference values and the paper's figures."""
        refs = text("dataset.references" if self.constants_path else "dataset.no_references")
        paper = text("dataset.paper" if self.paper else "dataset.no_paper")
        return f"{self.name} ({self.sequence_file.name}; {refs}, {paper})"


@cache
def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _paper(meta: dict, source: Path) -> tuple[dict[str, dict[str, float]], str]:
    """Paper figures ``{model: {metric: value}}`` and their source, validated."""
    paper = meta.get("paper")
    if paper is None:
        return {}, ""
    results = paper.get("results") if isinstance(paper, dict) else None
    if not isinstance(results, dict) or not all(
            isinstance(row, dict) and all(isinstance(v, (int, float)) for v in row.values())
            for row in results.values()):
        raise ValueError(f"{source}: 'paper' must be {{'source': str, 'results': "
                         "{model: {metric: number}}}")
    return ({model: {k: float(v) for k, v in row.items()} for model, row in results.items()},
            str(paper.get("source", "")))


def _read_meta(folder: Path) -> dict:
    """``dataset.json`` of ``folder`` (empty without one), its fields checked."""
    path = folder / DATASET_FILE
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    wrong = [key for key in ("name", "file", "sha256")
             if key in meta and not (isinstance(meta[key], str) and meta[key])]
    if not isinstance(meta, dict) or "file" not in meta or wrong:
        raise ValueError(f"{path}: needs 'file' (the sequence file's name) and optionally 'name', "
                         f"'sha256', 'paper'; as non-empty strings: {wrong or ['file']}")
    return meta


def _find_sequence_file(folder: Path) -> str:
    """The only ``*.txt`` of ``folder`` besides the train-sequence file."""
    found = sorted(p.name for p in folder.glob("*.txt") if p.name != TRAIN_FILE)
    if len(found) == 1:
        return found[0]
    what = f"several candidates ({', '.join(found)})" if found else "no *.txt sequence file"
    raise FileNotFoundError(
        f"data folder {folder} has {what}. Name the file: pass file= (--file NAME) or write "
        f'{folder / DATASET_FILE} as {{"name": "...", "file": "..."}} (see data/README.md).')


def _home(sha256: str) -> dict | None:
    """Home's description (from the manifest) if ``sha256`` is its sequence file's checksum."""
    manifest = load_manifest()
    return manifest if manifest["files"][manifest["file"]]["sha256"] == sha256 else None


def describe_dataset(folder: str | Path, file: str | None = None,
                     name: str | None = None) -> DatasetInfo:
    """The dataset in ``folder``: from ``file``/``name``, else ``dataset.json``, else the folder."""
    folder = Path(folder).expanduser().resolve()
    meta = _read_meta(folder)
    file = file or meta.get("file") or _find_sequence_file(folder)
    path = folder / file
    if not path.is_file():
        raise FileNotFoundError(f"data folder {folder} has no {file} (the sequence file)")
    sha256 = sha256_file(path)
    if "sha256" in meta and meta["sha256"].lower() != sha256:
        raise ChecksumError(f"{path}: SHA-256 {sha256} differs from {meta['sha256']} in "
                            f"{folder / DATASET_FILE}")
    home = None if meta else _home(sha256)
    meta = home or meta
    constants = folder / CONSTANTS_FILE
    if not constants.is_file():
        constants = HOME_CONSTANTS_PATH if home is not None else None
    paper, source = _paper(meta, folder / DATASET_FILE if home is None else MANIFEST_PATH)
    return DatasetInfo(name=name or meta.get("name") or path.stem, sequence_file=path,
                       sha256=sha256, paper=paper, paper_source=source,
                       constants_path=constants, is_home=home is not None)


def home_constants() -> dict:
    """Home's check constants (the default where a check is given no dataset)."""
    return _read_json(HOME_CONSTANTS_PATH)
