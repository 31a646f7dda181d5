"""Find the submissions: nbgrader's ``submitted/<student>/<assignment>/*.ipynb`` layout, a
course root that contains one, or a flat zip-collect folder of ``<student>_*.ipynb`` files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from grading.kernel.i18n import DEFAULT

from .course import ASSIGNMENT, notebook_language

STUDENT_ID = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass
class Submission:
    student: str
    path: Path | None
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    timestamp: Path | None = None


def submission_language(sub: Submission) -> str:
    """The language of ``sub``'s notebook, from its metadata (``DEFAULT`` if there is none or
    it cannot be read: the grading itself then says what is wrong with the file)."""
    try:
        with open(sub.path, encoding="utf-8") as handle:
            return notebook_language(json.load(handle).get("metadata"))
    except (OSError, TypeError, ValueError, AttributeError):
        return DEFAULT


def _student_id(text: str) -> str:
    return STUDENT_ID.sub("-", text).strip("-.") or "unknown"


def discover(folder: Path, assignment: str = ASSIGNMENT,
             notebook: str = ASSIGNMENT) -> list[Submission]:
    """Every student of ``folder`` in either layout, sorted by student id."""
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    found: dict[str, Submission] = {}
    flat: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix == ".ipynb":
            student = _student_id(entry.stem.split("_", 1)[0])
            flat.setdefault(student, []).append(entry)
        elif entry.is_dir() and not entry.name.startswith("."):
            student = _student_id(entry.name)
            home = entry / assignment if (entry / assignment).is_dir() else entry
            candidates = sorted(p for p in home.glob("*.ipynb") if p.is_file())
            found[student] = _choose(student, candidates, notebook, f"{entry.name}/")
            stamp = home / "timestamp.txt"
            found[student].timestamp = stamp if stamp.is_file() else None
    for student, candidates in flat.items():
        if student in found:
            found[student].notes.append(f"ignored {', '.join(p.name for p in candidates)} "
                                        f"(a submitted/ folder exists for {student})")
            continue
        found[student] = _choose(student, candidates, notebook, "")
    return [found[s] for s in sorted(found)]


def _choose(student: str, candidates: list[Path], notebook: str, where: str) -> Submission:
    exact = [p for p in candidates if p.stem == notebook or p.stem.endswith(f"_{notebook}")]
    if len(exact) == 1 or (len(candidates) == 1):
        chosen = exact[0] if len(exact) == 1 else candidates[0]
        notes = [] if chosen.stem in (notebook, f"{student}_{notebook}") else [
            f"graded {where}{chosen.name} as {notebook}.ipynb"]
        return Submission(student, chosen, notes)
    if not candidates:
        return Submission(student, None, problem=f"no notebook found in {where or 'the folder'}")
    names = ", ".join(p.name for p in candidates)
    return Submission(student, None, problem=f"several notebooks ({names}) and none is "
                                             f"{notebook}.ipynb")
