"""The grader's messages in the course's two languages: ``messages/<lang>.json``, same keys.

Standard library only, like all of :mod:`grading.kernel`: it runs in the student's kernel and
cannot import the engine's :mod:`gcl4sr_helpers.i18n` (which holds the checks' messages; the
two agree on ``LANGUAGES``, ``DEFAULT`` and ``LANG_ENV``, ``tests/test_messages.py``).

Which language: the trusted side reads it from the graded notebook's metadata
(:func:`grading.instructor.run.course.notebook_language`) and hands it to the check server
and the feedback; nothing the
kernel says about its language is used there. What the kernel prints on its own (a check that
found no server) follows ``$GCL4SR_LANG``, which the edition's setup cell sets
(:func:`kernel_language`). What the kernel tells the server in words of its own (why a function
was refused, how the score display was altered) travels as a *claim*, ``{"key", "fields"}``,
which the server words in the submission's language (:func:`claim_text`).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("ko", "en")
DEFAULT = "ko"
LANG_ENV = "GCL4SR_LANG"
CATALOGUES = Path(__file__).parent / "messages"
MAX_FIELD = 200  # characters kept of each field of a claim


def known(lang: object) -> str:
    """``lang`` if it is one of ``LANGUAGES``, else ``DEFAULT``."""
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT


def kernel_language() -> str:
    """The language of what the kernel prints itself: ``$GCL4SR_LANG``, else ``DEFAULT``."""
    return known(os.environ.get(LANG_ENV))


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, by key."""
    return json.loads((CATALOGUES / f"{known(lang)}.json").read_text(encoding="utf-8"))


def text(key: str, lang: str, **fields: object) -> str:
    """The message ``key`` in ``lang``, its fields filled."""
    return catalogue(known(lang))[key].format(**fields)


def claim(key: str, **fields: object) -> dict:
    """A message the kernel cannot word itself: its key and fields, for the server."""
    return {"key": key, "fields": {name: str(value) for name, value in fields.items()}}


def claim_text(value: object, lang: str, prefix: str) -> str:
    """A kernel's claim in ``lang``; one that is not a known message under ``prefix`` (any
    other value) is shown as the kernel's own text, which the caller clips."""
    if isinstance(value, dict) and isinstance(value.get("key"), str) \
            and value["key"].startswith(prefix) and value["key"] in catalogue(DEFAULT) \
            and isinstance(value.get("fields"), dict):
        fields = {str(name)[:40]: str(item)[:MAX_FIELD] for name, item in value["fields"].items()}
        try:
            return text(value["key"], lang, **fields)
        except (KeyError, IndexError, ValueError):
            pass
    return str(value)
