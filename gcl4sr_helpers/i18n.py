"""The course's two languages: message catalogues with the same keys, and the edition's choice.

``text(key, **fields)`` is ``catalogue[language()][key].format(**fields)``. The language is the
one the notebook's setup cell set (``set_language``), else ``$GCL4SR_LANG``, else Korean.
Catalogues live in ``messages/<lang>.json``; a key missing in either language fails the tests.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("ko", "en")
DEFAULT = "ko"
CATALOGUES = Path(__file__).parent / "messages"
_chosen: str | None = None


def _valid(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def set_language(lang: str) -> None:
    """Choose the language of every later message (the edition's setup cell calls this)."""
    global _chosen
    _chosen = _valid(lang)


def language() -> str:
    """The chosen language, else ``$GCL4SR_LANG``, else Korean."""
    return _chosen or _valid(os.environ.get("GCL4SR_LANG", DEFAULT))


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, by key."""
    return json.loads((CATALOGUES / f"{_valid(lang)}.json").read_text(encoding="utf-8"))


def text(key: str, lang: str | None = None, **fields: object) -> str:
    """The message ``key`` in ``lang`` (the chosen language by default), its fields filled."""
    return catalogue(lang or language())[key].format(**fields)
