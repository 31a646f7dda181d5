"""Students read one term per concept, in either edition: the one ``docs/glossary.md`` names.

The glossary's third column lists, in backticks, the Korean variants never to write, its fifth
the English ones. This test reads them and scans everything a student reads in each language:
the release notebook's markdown (code spans left out), and its code cells' comments and strings
(what they print, the TODOs' docstrings), the messages of the checks (their catalogue and
strings, the plot labels, the notes of the check constants), the grader's feedback (its
catalogue and every string of ``grading/`` that holds Hangul) and, in English, the student
README and the readable modules' docstrings. The matching rules are the glossary's own: a
Latin variant is a whole word in any case, a one-syllable Hangul variant a word of its own,
any other variant a substring.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
import pytest

from grading.release import RELEASE, RELEASE_ROOTS, RELEASES
from grading.release_translation import ENGINE_TRANSLATED, english_engine_source

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "docs" / "glossary.md"
HANGUL = re.compile(r"[가-힣]")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


#: The glossary's columns of each language: its term, its variants never to write.
COLUMNS = {"ko": (1, 2), "en": (3, 4)}


def glossary_rows(text: str, lang: str = "ko") -> list[tuple[str, str, list[str]]]:
    """``(concept, term, [variants])`` of every row of the glossary's table, in ``lang``."""
    term, variants = COLUMNS[lang]
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not line.startswith("|") or set(cells[0]) <= set("-: "):
            continue
        rows.append((cells[0], cells[term], re.findall(r"`([^`]+)`", cells[variants])))
    return rows[1:]  # the header


def variant_pattern(variant: str) -> re.Pattern:
    """The glossary's matching rule for one variant."""
    if not HANGUL.search(variant) and re.fullmatch(r"[\w -]+", variant):
        return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(variant)}(?![A-Za-z0-9_])", re.I)
    if len(variant) == 1:
        return re.compile(rf"(?<![가-힣]){re.escape(variant)}(?![가-힣])")
    return re.compile(re.escape(variant))


def forbidden(rows: Iterable[tuple[str, str, list[str]]]) -> dict[str, tuple[str, re.Pattern]]:
    """``{variant: (the term to write instead, its pattern)}``."""
    return {variant: (term, variant_pattern(variant)) for _, term, variants in rows
            for variant in variants}


def violations(texts: Iterable[tuple[str, str]],
               rules: dict[str, tuple[str, re.Pattern]]) -> list[str]:
    """``where: 'variant' → term`` for every variant found in ``(where, text)`` pairs."""
    return [f"{where}: {variant!r} → {term}" for where, text in texts
            for variant, (term, pattern) in rules.items() if pattern.search(text)]


def markdown_prose(source: str) -> str:
    """A markdown cell without its fenced code and code spans."""
    return CODE_SPAN.sub(" ", FENCE.sub(" ", source))


def python_lines(source: str) -> str:
    """A code cell as Python: a line starting with ``%`` or ``!`` (IPython) left blank."""
    return "".join(line if not line.lstrip().startswith(("%", "!")) else "\n"
                   for line in source.splitlines(keepends=True))


def code_comments(source: str) -> list[str]:
    """The ``#`` comments of a code cell."""
    lines = python_lines(source)
    try:
        return [tok.string for tok in tokenize.generate_tokens(io.StringIO(lines).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError):
        return re.findall(r"#.*", lines)


def code_strings(source: str, hangul: bool = True) -> list[str]:
    """The string literals of a code cell (what it prints, its docstrings), only those that
    hold Hangul if ``hangul``."""
    return [text for text in python_strings(python_lines(source), docstrings=True)
            if HANGUL.search(text) or not hangul]


def notebook_texts(path: Path, hangul: bool = True) -> Iterator[tuple[str, str]]:
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "markdown":
            yield f"{path.name} cell {index}", markdown_prose(cell.source)
        elif cell.cell_type == "code":
            for text in [*code_comments(cell.source), *code_strings(cell.source, hangul)]:
                yield f"{path.name} cell {index}", text


def python_strings(source: str, docstrings: bool = False) -> Iterator[str]:
    """Every string literal of Python ``source``, its docstrings only if ``docstrings``; an
    f-string's literal parts are joined around ``{}``."""
    tree = ast.parse(source)
    skipped = set() if docstrings else {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)}
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(part) for part in node.values)
            yield "".join(part.value if isinstance(part, ast.Constant) else "{}"
                          for part in node.values)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in skipped | inside_fstrings):
            yield node.value


def catalogue_texts(folder: Path, lang: str) -> Iterator[tuple[str, str]]:
    """The messages of the catalogue ``folder/<lang>.json``."""
    path = folder / f"{lang}.json"
    for key, text in json.loads(path.read_text(encoding="utf-8")).items():
        yield f"{path.relative_to(REPO)} {key}", text


def check_texts() -> Iterator[tuple[str, str]]:
    """The checks' messages and the plots' Korean labels."""
    helpers = REPO / "gcl4sr_helpers"
    yield from catalogue_texts(helpers / "messages", "ko")
    for path in sorted((helpers / "checks").glob("*.py")):
        for text in python_strings(path.read_text(encoding="utf-8")):
            if HANGUL.search(text):
                yield str(path.relative_to(REPO)), text
    plots = helpers / "plots.py"  # its English labels are the fallback without a Korean font
    yield from ((plots.name, text) for text in python_strings(plots.read_text(encoding="utf-8"))
                if HANGUL.search(text))


def grading_texts() -> Iterator[tuple[str, str]]:
    """The grader's Korean strings: what its feedback, its verdicts and its notes print."""
    yield from catalogue_texts(REPO / "grading" / "kernel" / "messages", "ko")
    for path in sorted((REPO / "grading").rglob("*.py")):
        for text in python_strings(path.read_text(encoding="utf-8")):
            if HANGUL.search(text):
                yield str(path.relative_to(REPO)), text


def english_texts() -> Iterator[tuple[str, str]]:
    """Everything a student of the English edition reads: the release, the README, the
    readable modules' docstrings, the checks' and the grader's English catalogues."""
    yield from notebook_texts(RELEASES["en"], hangul=False)
    readme = RELEASE_ROOTS["en"] / "README.md"
    yield str(readme.relative_to(REPO)), markdown_prose(readme.read_text(encoding="utf-8"))
    for name in ENGINE_TRANSLATED:
        yield from ((name, text) for text in python_strings(english_engine_source(name),
                                                              docstrings=True))
    yield from catalogue_texts(REPO / "gcl4sr_helpers" / "messages", "en")
    yield from catalogue_texts(REPO / "grading" / "kernel" / "messages", "en")


@pytest.fixture(scope="module")
def rules() -> dict[str, tuple[str, re.Pattern]]:
    return forbidden(glossary_rows(GLOSSARY.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def english_rules() -> dict[str, tuple[str, re.Pattern]]:
    return forbidden(glossary_rows(GLOSSARY.read_text(encoding="utf-8"), "en"))


@pytest.mark.parametrize("lang", COLUMNS)
def test_the_glossary_has_one_row_per_concept(lang):
    rows = glossary_rows(GLOSSARY.read_text(encoding="utf-8"), lang)
    assert len(rows) >= 40 and all(term for _, term, _ in rows)
    concepts = [concept.lower() for concept, _, _ in rows]
    assert len(set(concepts)) == len(concepts), "a concept has two rows"
    terms = [variant for _, _, variants in rows for variant in variants]
    assert len(set(terms)) == len(terms), "a variant is listed twice"
    kept = {term for _, term, _ in rows}
    assert not [v for v in terms if v in kept], "a variant is also a term to use"
    expected = {"ko": {"표본 추출", "매개변수", "전역 표현", "지역 뷰", "곧", "loss"},
                "en": {"neighbor", "local view", "main loss", "ground truth", "minibatch"}}
    assert expected[lang] <= set(terms)


@pytest.mark.parametrize("text, variant", [
    ("the neighbors of item 3", "neighbors"),
    ("the Main loss drops", "main loss"),
    ("compared with the ground truth", "ground truth"),
    ("its local view H", "local view"),
])
def test_a_planted_english_variant_is_caught(english_rules, text, variant):
    assert violations([("planted", text)], english_rules) == [
        f"planted: {variant!r} → {english_rules[variant][0]}"]


def test_the_english_edition_follows_the_glossary(english_rules):
    texts = list(english_texts())
    assert {Path(where.split()[0]).name for where, _ in texts} >= {
        RELEASE.name, "README.md", *ENGINE_TRANSLATED, "en.json"}
    assert violations(texts, english_rules) == []


@pytest.mark.parametrize("text, variant", [
    ("이웃을 무작위로 표본 추출해", "표본 추출"),
    ("모델의 매개변수를 저장", "매개변수"),
    ("두 뷰 $a, b$를 만듭니다", "$a, b$"),
    ("가중치의 합, 곧 1/6의 배수", "곧"),
    ("── MMD loss 점검 ──", "loss"),
    ("Loss가 줄어듭니다", "loss"),
    ("숨은 검사를 실행하지 못했습니다", "숨은 검사"),
    ("노트북 CPU에서 빠르게", "노트북 CPU"),
])
def test_a_planted_variant_is_caught(rules, text, variant):
    assert violations([("planted", text)], rules) == [f"planted: {variant!r} → {rules[variant][0]}"]


@pytest.mark.parametrize("text", [
    "곧바로 다음 셀을 실행합니다",  # 곧 inside a word
    "여러분의 `MMD_loss`로",  # a code name (in prose, code spans are removed first)
    "MMD_loss(source, target)",
    "이웃 샘플링은 시드를 고정한 생성기를 씁니다",
    "게이트 뷰 Q′, Q″의 사영",
])
def test_the_terms_and_code_names_pass(rules, text):
    assert violations([("ok", markdown_prose(text))], rules) == []


def test_code_spans_and_comments_are_told_apart():
    assert markdown_prose("`view_a` 곧 ```\n곧\n```") == "  곧  "
    assert code_comments("x = '곧'  # 즉 이것\n%time y = 1  # magic\n") == ["# 즉 이것"]


def test_a_code_cells_printed_korean_and_docstrings_are_scanned(rules):
    cell = ('def f():\n    """유저의 시퀀스."""\n\n%time f()\nname = "x"\n'
            'print(f"{name}: 에폭 {1}", "loss")  # 주석\n')
    assert sorted(code_strings(cell)) == ["{}: 에폭 {}", "유저의 시퀀스."]
    found = violations([("cell", text) for text in code_strings(cell)], rules)
    assert sorted(found) == ["cell: '에폭' → epoch", "cell: '유저' → 사용자"]


def test_the_release_notebook_follows_the_glossary(rules):
    assert violations(notebook_texts(RELEASE), rules) == []


def test_the_checks_follow_the_glossary(rules):
    texts = list(check_texts())
    assert any("점검" in text for _, text in texts)
    assert violations(texts, rules) == []


def test_the_grading_feedback_follows_the_glossary(rules):
    texts = list(grading_texts())
    assert any("숨은" in text for _, text in texts)
    assert violations(texts, rules) == []
