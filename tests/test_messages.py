"""The message catalogues: the engine's (``gcl4sr_helpers/messages/``: the checks, the plots,
the notebook's notices) and the grader's (``grading/kernel/messages/``: hidden checks,
feedback, typical mistakes). Each has the same keys in every language, with the same format
fields; every key the code names exists; the English holds no Hangul."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest

from gcl4sr_helpers import checks, i18n
from grading.instructor.builders.mistakes import MISTAKES
from grading.instructor.checking import battery, intake
from grading.instructor.run.course import notebook_language
from grading.kernel import i18n as grader_i18n
from grading.kernel.registry import CHECKS
from grading.release_translation import HANGUL

REPO = Path(__file__).resolve().parents[1]
CATALOGUES = {"engine": i18n.CATALOGUES, "grader": grader_i18n.CATALOGUES}
#: Where each catalogue's keys are named, and the calls that name them: function -> the prefix
#: its first argument gets (``Refused("lambda")`` names ``refused.lambda``).
CODE = {"engine": ["gcl4sr_helpers/*.py", "gcl4sr_helpers/checks/*.py",
                   "solutions/gcl4sr/gcl4sr.py"],
        "grader": ["grading/**/*.py"]}
CALLS = {"engine": {"text": "", "Messages": "", "label": "plot."},
         "grader": {"text": "", "claim": "", "_says": "", "Refused": "refused.", "note": "safety.",
                    "cut_note": "safety."}}


def load(folder: Path, lang: str) -> dict[str, str]:
    return json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"))


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def named_keys(kind: str) -> list[tuple[str, str, bool]]:
    """``(where, key or prefix, is a prefix)`` of every call of ``CALLS[kind]`` whose first
    argument is a string (an f-string: its constant start, a prefix)."""
    found = []
    for pattern in CODE[kind]:
        for path in sorted(REPO.glob(pattern)):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    getattr(node.func, "id", "")
                if func not in CALLS[kind]:
                    continue
                first, where = node.args[0], f"{path.relative_to(REPO)}:{node.lineno}"
                prefix = CALLS[kind][func]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((where, prefix + first.value, func == "Messages"))
                elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0],
                                                                     ast.Constant):
                    found.append((where, prefix + first.values[0].value, True))
    return found


@pytest.mark.parametrize("kind", CATALOGUES)
def test_every_language_has_every_key_with_the_same_fields(kind):
    folder = CATALOGUES[kind]
    catalogues = {lang: load(folder, lang) for lang in i18n.LANGUAGES}
    assert sorted(path.stem for path in folder.glob("*.json")) == sorted(i18n.LANGUAGES)
    keys = set(catalogues[i18n.DEFAULT])
    assert len(keys) > 50
    for lang, catalogue in catalogues.items():
        assert set(catalogue) == keys, (lang, sorted(set(catalogue) ^ keys))
        assert all(isinstance(value, str) and value.strip() for value in catalogue.values())
    for key in keys:
        assert fields(catalogues["en"][key]) == fields(catalogues["ko"][key]), key
    for key, value in catalogues["en"].items():
        assert not HANGUL.search(value), key


@pytest.mark.parametrize("kind", CATALOGUES)
def test_every_key_the_code_names_exists(kind):
    keys = load(CATALOGUES[kind], i18n.DEFAULT)
    named = named_keys(kind)
    assert len(named) > 30
    for where, key, prefix in named:
        assert (any(k.startswith(key) for k in keys) if prefix else key in keys), (where, key)


def test_the_keys_the_code_builds_exist():
    """Keys made from data: cases, sub-checks, mistakes, statuses. Reading each fails if one
    is missing (``KeyError``)."""
    for lang in i18n.LANGUAGES:
        for case_id, *_ in (*checks.METRIC_CASES,):
            assert i18n.text(f"check.metrics.case.{case_id}", lang)
        for case_id, *_ in checks.MMD_CASES:
            assert i18n.text(f"check.mmd.case.{case_id}", lang)
        for case_id, *_ in checks.NT_XENT_CASES:
            assert i18n.text(f"check.nt_xent.case.{case_id}", lang)
        for table in checks.HINT_TABLES.values():
            assert all(table.in_language(lang).values())
        for check in CHECKS.values():
            assert len({check.label(sub, lang) for sub in check.subchecks}) == 6
        assert all(mistake.what(lang) for mistake in MISTAKES.values())
        for status in ("ok", "timeout", "signal", "exit", "crash"):
            assert grader_i18n.text(f"server.missing.{status}", lang, detail="")
        for status in (intake.REFUSED, intake.BIG):
            assert grader_i18n.text(f"server.{status}", lang)
        assert grader_i18n.text("public.label", lang) and battery.PUBLIC


def test_a_missing_key_or_field_is_caught(tmp_path):
    """What the tests above see when a catalogue is broken."""
    assert fields("{got} (기대 {want})") != fields("{got} (expected {wanted})")
    with pytest.raises(KeyError):
        i18n.text("check.no_such_message")
    with pytest.raises(KeyError):
        grader_i18n.text("explain.all", "en", points=1.0, title="WITG")  # no reason given


def test_the_two_sides_agree_on_the_languages():
    assert (grader_i18n.LANGUAGES, grader_i18n.DEFAULT, grader_i18n.LANG_ENV) == (
        i18n.LANGUAGES, i18n.DEFAULT, i18n.LANG_ENV)


@pytest.mark.parametrize("metadata, lang", [
    ({"gcl4sr": {"lang": "en"}}, "en"), ({"gcl4sr": {"lang": "ko"}}, "ko"), ({}, "ko"),
    ({"gcl4sr": {"lang": "fr"}}, "ko"), ({"gcl4sr": "en"}, "ko"), (None, "ko")])
def test_a_notebook_without_a_known_language_is_korean(metadata, lang):
    assert notebook_language(metadata) == lang


def test_the_chosen_language_wins_and_reaches_the_kernel(monkeypatch):
    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setenv(i18n.LANG_ENV, "ko")  # restored after the test, which set_language writes
    assert i18n.language() == "ko" and grader_i18n.kernel_language() == "ko"
    i18n.set_language("en")
    assert i18n.language() == "en" and grader_i18n.kernel_language() == "en"
    assert i18n.text("check.done.passed") == "→ Everything passed."
    with pytest.raises(ValueError):
        i18n.set_language("fr")


def test_a_claim_from_the_kernel_is_worded_by_the_server_or_shown_as_sent():
    claim = grader_i18n.claim("refused.from_module", name="f", module="os")
    assert grader_i18n.claim_text(claim, "en", "refused.") == \
        "f: a function from the module os, not from the notebook"
    assert grader_i18n.claim_text(claim, "ko", "refused.") == \
        "f: 노트북이 아니라 모듈 os에서 온 함수입니다"
    assert grader_i18n.claim_text(claim, "en", "tamper.") == str(claim)  # not a tamper key
    broken = {"key": "refused.from_module", "fields": {"name": "f"}}  # a field missing
    assert grader_i18n.claim_text(broken, "en", "refused.") == str(broken)
    assert grader_i18n.claim_text("anything", "en", "refused.") == "anything"
