"""Two editions from one source: the English solution and release are the Korean ones with
other prose, comments and string literals, and ``python -m grading.release --check`` fails
when an edition is stale or a cell or a Korean token has no English."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from grading import release
from grading.release import RELEASES, SOURCE_PY, build_solution, translation_problems
from grading.release_translation import (
    CATALOGUE,
    ENGINE_DIR,
    ENGINE_TRANSLATED,
    HANGUL,
    english_engine_source,
)


def code_shape(source: str) -> str:
    """Python ``source`` as an AST dump with comments and string literals normalised away:
    string constants blanked (docstrings, f-strings' text and format specs), and an f-string
    reduced to its sorted fields (a translation may reorder them, never change them)."""
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    for node in nodes:
        if isinstance(node, ast.JoinedStr):
            fields = [part for part in node.values if isinstance(part, ast.FormattedValue)]
            node.values = sorted(fields, key=ast.dump)
    return ast.dump(tree)


def nbgrader_roles(nb) -> list[dict]:
    """Each cell's type, id and nbgrader metadata without its checksum (locked cells' text
    differs between the editions, so do their checksums)."""
    return [{"type": c.cell_type, "id": c.id,
             **{k: v for k, v in c.metadata.get("nbgrader", {}).items() if k != "checksum"}}
            for c in nb.cells]


@pytest.fixture(scope="module")
def solutions() -> dict[str, nbformat.NotebookNode]:
    return {lang: build_solution(lang=lang) for lang in ("ko", "en")}


@pytest.fixture(scope="module")
def releases() -> dict[str, nbformat.NotebookNode]:
    return {lang: nbformat.read(path, as_version=4) for lang, path in RELEASES.items()}


def test_code_shape_ignores_comments_and_strings_only():
    assert code_shape('x = f"{a:>5} 점"  # 주석\n') == code_shape('x = f"{a:>9} pt"  # note\n')
    assert code_shape('f"{a} 중 {b}개"') == code_shape('f"{b} of {a}"')
    assert code_shape('print(f"{a}")') != code_shape('print(f"{b}")')
    assert code_shape("grade(f, 4)") != code_shape("grade(f, 5)")


@pytest.mark.parametrize("kind", ["solutions", "releases"])
def test_both_editions_share_code_cells_grade_ids_and_points(kind, request):
    editions = request.getfixturevalue(kind)
    korean, english = editions["ko"], editions["en"]
    assert nbgrader_roles(korean) == nbgrader_roles(english)
    graded = [c.metadata.nbgrader for c in english.cells if c.metadata.get("nbgrader", {})
              .get("grade")]
    assert {m["grade_id"]: m["points"] for m in graded} == {
        "witg_tests": 2, "witg_hidden": 4, "recall_tests": 1, "recall_hidden": 2,
        "ndcg_tests": 2, "ndcg_hidden": 3, "mmd_tests": 2, "mmd_hidden": 4}
    pairs = list(zip(korean.cells, english.cells, strict=True))
    for ko, en in pairs:
        if ko.cell_type == "code":
            assert code_shape(ko.source) == code_shape(en.source), ko.id
    prose = [ko.id for ko, en in pairs if ko.cell_type == "markdown" and ko.source != en.source]
    assert len(prose) == sum(c.cell_type == "markdown" for c in korean.cells)  # all translated
    changed = [ko.id for ko, en in pairs if ko.cell_type == "code" and ko.source != en.source]
    assert changed == [ko.id for ko, _ in pairs if ko.cell_type == "code"
                       and (HANGUL.search(ko.source) or "set_language(" in ko.source)]


@pytest.mark.parametrize("kind", ["solutions", "releases"])
def test_each_edition_names_its_language(kind, request):
    for lang, nb in request.getfixturevalue(kind).items():
        assert nb.metadata["gcl4sr"] == {"lang": lang}
        setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                     == "setup")
        calls = re.findall(r'set_language\("(\w+)"\)', setup.source)
        assert calls == [lang]
        engine = setup.source.index("import gcl4sr_helpers\n")
        assert engine < setup.source.index("set_language(") < setup.source.index("import torch")


def test_the_english_release_holds_no_hangul_and_english_stubs(releases):
    english = releases["en"]
    assert [i for i, c in enumerate(english.cells) if HANGUL.search(c.source)] == []
    stubs = [c.source for c in english.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(stubs) == 5
    assert all("# YOUR CODE HERE\n    raise NotImplementedError()" in s for s in stubs)


def test_the_english_points_follow_the_cells_points(solutions):
    english = solutions["en"]
    total = 0
    for cell in english.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            points = meta["points"]
            total += points
            unit = "point" if points == 1 else "points"
            assert re.match(rf"# (Public|Hidden) test \({points:g} {unit}\)", cell.source), \
                cell.source.splitlines()[0]
    assert f"| **Total** | **{total:g}** |" in english.cells[0].source


# --- missing or stale English ----------------------------------------------------------------
def _catalogue_without(tmp_path: Path, *entries: str) -> Path:
    """A copy of the catalogue without the markdown cells ``[markdown.<key>]`` and the
    one-line code tokens (``# 주석``) named in ``entries``."""
    text = CATALOGUE.read_text(encoding="utf-8")
    for entry in entries:
        pattern = (rf"\[markdown\.{entry}\]\n.*?\n'''\n" if entry.isidentifier() else
                   rf"\[\[code\]\]\nko = '''{re.escape(entry)}'''\nen = [^\n]*\n")
        text, count = re.subn(pattern, "", text, flags=re.S)
        assert count == 1, entry
    copy = tmp_path / CATALOGUE.name
    copy.write_text(text, encoding="utf-8")
    return copy


def test_a_cell_or_a_korean_token_without_english_is_reported(tmp_path):
    assert translation_problems() == []
    catalogue = _catalogue_without(tmp_path, "why_far", "# 드롭아웃 끔")
    problems = translation_problems(catalogue=catalogue)
    assert any("key='why_far') has no English" in p for p in problems), problems
    assert any("no English for '# 드롭아웃 끔'" in p for p in problems), problems
    with pytest.raises(ValueError, match="the English edition is incomplete"):
        build_solution(lang="en", catalogue=catalogue)


def test_changed_korean_and_unused_english_are_reported(tmp_path):
    source = tmp_path / SOURCE_PY.name
    text = SOURCE_PY.read_text(encoding="utf-8")
    text = text.replace("길이 분포는 꼬리가 깁니다.", "길이 분포는 꼬리가 아주 깁니다.")
    text = text.replace("DEVICE_NAME = None\n", "DEVICE_NAME = None  # 새 주석\n")
    source.write_text(text, encoding="utf-8")
    problems = translation_problems(source=source)
    assert any(p.startswith("markdown 'lengths_note': the Korean changed") for p in problems)
    assert any("no English for '# 새 주석'" in p for p in problems)
    assert len(problems) == 2, problems
    source.write_text(text.replace('"모두 켬"', '"모두 다 켬"'), encoding="utf-8")
    stale = translation_problems(source=source)
    assert any("""'"모두 켬"' of the catalogue translates no token""" in p for p in stale), stale


@pytest.mark.slow
def test_check_fails_on_a_stale_english_release_or_missing_english(tmp_path, monkeypatch, capsys):
    releases = {}
    for lang, path in RELEASES.items():
        copy = tmp_path / lang / path.parent.name / path.name
        copy.parent.mkdir(parents=True)
        shutil.copy2(path, copy)
        releases[lang] = copy
    monkeypatch.setattr(release, "RELEASES", releases)
    assert release.main(["--check"]) == 0, capsys.readouterr().out
    nb = nbformat.read(releases["en"], as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("Build GCL4SR yourself", "Build it")
    nbformat.write(nb, releases["en"])
    assert release.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert f"out of date: {releases['en']} (regenerate the release)" in out, out
    assert str(releases["ko"]) not in out
    monkeypatch.setattr(release, "CATALOGUE", _catalogue_without(tmp_path, "summary"))
    assert release.main(["--check"]) == 1
    assert "out of date: English: markdown cell" in capsys.readouterr().out


# --- the engine modules the notebook prints ---------------------------------------------------
@pytest.mark.parametrize("name", ENGINE_TRANSLATED)
def test_the_english_readable_modules_are_the_same_code(name):
    korean = (ENGINE_DIR / name).read_text(encoding="utf-8")
    english = english_engine_source(name)
    assert HANGUL.search(korean) and not HANGUL.search(english)
    assert code_shape(korean) == code_shape(english)
    assert english.count('"""') == korean.count('"""')  # every docstring is still one
