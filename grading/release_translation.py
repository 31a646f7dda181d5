"""The English edition's translation: the catalogues, and Korean comments, strings and markdown
cells replaced by their English (the format is explained in :mod:`grading.release`)."""

from __future__ import annotations

import hashlib
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomllib

from grading import REPO
from grading.instructor.run.course import ASSIGNMENT

CATALOGUE = REPO / "solutions" / f"{ASSIGNMENT}.en.toml"
ENGINE_CATALOGUE = REPO / "solutions" / "engine.en.toml"
#: The engine's modules whose source the notebook prints: their English is ENGINE_CATALOGUE's.
ENGINE_TRANSLATED = ("readable_model.py", "readable_trainer.py")
ENGINE_DIR = REPO / "gcl4sr_helpers"
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


@dataclass(frozen=True)
class Catalogue:
    """English translations: markdown cells by key (hash of the Korean, English), and Korean
    comment and string tokens of code (Korean token -> English token)."""

    markdown: dict[str, tuple[str, str]]
    code: dict[str, str]


def read_catalogue(path: Path) -> Catalogue:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    code: dict[str, str] = {}
    for entry in data.get("code", []):
        if entry["ko"] in code:
            raise ValueError(f"{path.name}: {entry['ko']!r} is translated twice")
        code[entry["ko"]] = entry["en"]
    markdown = {key: (entry["ko"], entry["en"].strip("\n"))
                for key, entry in data.get("markdown", {}).items()}
    return Catalogue(markdown, code)


def korean_hash(text: str) -> str:
    """What a markdown entry's ``ko`` holds: the first 12 hex digits of the Korean's SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def korean_tokens(source: str) -> Iterator[tokenize.TokenInfo]:
    """The comments and string literals of Python ``source`` that hold Hangul."""
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.COMMENT, tokenize.STRING) and HANGUL.search(token.string):
            yield token


def translate_code(source: str, table: dict[str, str], used: set[str]) -> tuple[str, list[str]]:
    """``source`` with each Korean token replaced by its English in ``table`` (those used are
    added to ``used``), and the tokens ``table`` has no English for."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    pieces, done, missing = [], 0, []
    for token in korean_tokens(source):
        if token.string not in table:
            missing.append(token.string)
            continue
        used.add(token.string)
        begin = starts[token.start[0] - 1] + token.start[1]
        pieces += [source[done:begin], table[token.string]]
        done = starts[token.end[0] - 1] + token.end[1]
    return "".join(pieces) + source[done:], missing


def translate_cells(cells: list, catalogue: Catalogue) -> list[str]:
    """Translate jupytext ``cells`` in place; what is missing or stale (empty when complete)."""
    problems, keys, used, untranslated = [], [], set(), set()
    for index, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            key = cell.metadata.get("key")
            keys.append(key)
            if key not in catalogue.markdown:
                problems.append(f"markdown cell {index} ({key=}) has no English")
                untranslated.add(index)
                continue
            digest, cell.source = korean_hash(cell.source), catalogue.markdown[key][1]
            if digest != catalogue.markdown[key][0]:
                problems.append(f"markdown {key!r}: the Korean changed since its English was "
                                f"written: update its en, then set its ko = \"{digest}\"")
        elif cell.cell_type == "code":
            cell.source, missing = translate_code(cell.source, catalogue.code, used)
            problems += [f"code cell {index}: no English for {token!r}" for token in missing]
            untranslated.update([index] if missing else [])
    problems += [f"markdown key {key!r} names {keys.count(key)} cells"
                 for key in sorted({k for k in keys if k and keys.count(k) > 1})]
    problems += [f"markdown {key!r} of the catalogue translates no cell"
                 for key in catalogue.markdown if key not in keys]
    problems += [f"code {token!r} of the catalogue translates no token"
                 for token in catalogue.code if token not in used]
    problems += [f"cell {index} still holds Hangul (outside comments and strings, or in its "
                 "English)" for index, cell in enumerate(cells)
                 if index not in untranslated and HANGUL.search(cell.source)]
    return problems


def engine_translations(catalogue: Path) -> tuple[dict[str, str], list[str]]:
    """The English source of each ENGINE_TRANSLATED module, and what is missing or stale."""
    table, used, sources, problems = read_catalogue(catalogue).code, set(), {}, []
    for name in ENGINE_TRANSLATED:
        sources[name], missing = translate_code((ENGINE_DIR / name).read_text(encoding="utf-8"),
                                                table, used)
        problems += [f"{name}: no English for {token!r}" for token in missing]
    problems += [f"{catalogue.name}: {token!r} translates no token"
                 for token in table if token not in used]
    return sources, problems


def english_engine_source(name: str, catalogue: Path = ENGINE_CATALOGUE) -> str:
    """The English edition's source of the engine module ``name`` (one of ENGINE_TRANSLATED)."""
    sources, problems = engine_translations(catalogue)
    if problems:
        raise ValueError("the engine's English is incomplete:\n" + "\n".join(problems))
    return sources[name]
