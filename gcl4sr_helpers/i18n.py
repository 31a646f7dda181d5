"""The course's two languages: message catalogues with the same keys, and the edition's choice.

``text(key, **fields)`` is ``catalogue[language()][key].format(**fields)``. The language is the
one the notebook's setup cell set (``set_language``), else ``$GCL4SR_LANG``, else Korean.
Catalogues live in ``messages/<lang>.json``; a key missing in either language fails the
tests. :class:`Messages` is a table of messages read in the language chosen when a message is
read, not when the table is made: the engine is imported before the setup cell chooses the
edition's language.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

LANGUAGES = ("ko", "en")
DEFAULT = "ko"
LANG_ENV = "GCL4SR_LANG"
CATALOGUES = Path(__file__).parent / "messages"
_chosen: str | None = None


def _valid(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def set_language(lang: str) -> None:
    """Choose the language of every later message (the edition's setup cell calls this).

    It is also written to ``$GCL4SR_LANG``, so that what the kernel prints from outside the
    engine follows the edition too."""
    global _chosen
    _chosen = _valid(lang)
    os.environ[LANG_ENV] = lang


def language() -> str:
    """The chosen language, else ``$GCL4SR_LANG``, else Korean."""
    return _chosen or _valid(os.environ.get(LANG_ENV, DEFAULT))


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, by key."""
    return json.loads((CATALOGUES / f"{_valid(lang)}.json").read_text(encoding="utf-8"))


def text(key: str, lang: str | None = None, **fields: object) -> str:
    """The message ``key`` in ``lang`` (the chosen language by default), its fields filled."""
    return catalogue(lang or language())[key].format(**fields)


class Messages(Mapping[str, str]):
    """The messages whose keys start with ``prefix``, by the rest of their key, read in the
    language chosen at the time; ``shared`` names a message of another table by its key."""

    def __init__(self, prefix: str, shared: Mapping[str, str] | None = None) -> None:
        self.prefix, self.shared = prefix, dict(shared or {})

    def key(self, name: str) -> str:
        """The catalogue key of ``name``; ``KeyError`` if the table has no such message."""
        if name in self.shared:
            return self.shared[name]
        if self.prefix + name not in catalogue(DEFAULT):
            raise KeyError(name)
        return self.prefix + name

    def __getitem__(self, name: str) -> str:
        return text(self.key(name))

    def __iter__(self) -> Iterator[str]:
        own = (key[len(self.prefix):] for key in catalogue(DEFAULT) if key.startswith(self.prefix))
        return iter([*own, *self.shared])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def in_language(self, lang: str) -> dict[str, str]:
        """The whole table in ``lang``, as written (format fields unfilled)."""
        return {name: catalogue(lang)[self.key(name)] for name in self}
