"""The release notebooks of both editions render everywhere, and what they link to is in
their student edition.

Markdown is rendered by nbconvert's own renderer, the one its HTML exporter uses
(``MarkdownWithMath`` with ``IPythonRenderer``: mistune, close to CommonMark). Jupyter's
markdown-it, GitHub and Colab follow CommonMark too: a closing ``**`` between ``)`` and a
Hangul particle (``**추천(recommendation)**은``) is not right-flanking there and stays two
literal asterisks. Write ``**추천**(recommendation)은`` instead.

Relative links (markdown links and images) of the notebook and of the student README must
resolve inside the student edition, whose layout :func:`grading.instructor.builders.edition.layout`
gives without building it.
"""

from __future__ import annotations

import posixpath
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from grading.instructor.builders import edition
from grading.release import RELEASE, RELEASE_ROOTS, RELEASES

REPO = Path(__file__).resolve().parents[1]
LANGUAGES = list(RELEASES)
READMES = {lang: root / "README.md" for lang, root in RELEASE_ROOTS.items()}
#: Markdown syntax that must never reach the rendered prose: a run of asterisks (an emphasis
#: that did not parse, ``**`` or ``*``), of two or more underscores, or of backticks.
LITERAL = re.compile(r"\*+|_{2,}|`+")
#: Elements whose text is code or math, where those characters are legitimate.
VERBATIM = {"code", "pre", "kbd", "samp", "script", "style", "x-math"}


class _MathMarked(IPythonRenderer):
    """nbconvert's HTML renderer with every math span wrapped in ``<x-math>``, so that the
    text check can skip it (nbconvert writes math back as ``$...$`` text for MathJax).
    Parsing is unchanged: only the output of the math nodes differs."""

    @staticmethod
    def _wrap(html: str) -> str:
        return f"<x-math>{html}</x-math>"

    def block_math(self, *args, **kwargs) -> str:
        return self._wrap(super().block_math(*args, **kwargs))

    def multiline_math(self, *args, **kwargs) -> str:
        return self._wrap(super().multiline_math(*args, **kwargs))

    def latex_environment(self, *args, **kwargs) -> str:
        return self._wrap(super().latex_environment(*args, **kwargs))

    def inline_math(self, *args, **kwargs) -> str:
        return self._wrap(super().inline_math(*args, **kwargs))


def render(markdown: str) -> str:
    """HTML as nbconvert's HTML exporter renders a markdown cell (``escape=False``)."""
    return MarkdownWithMath(renderer=_MathMarked(escape=False)).render(markdown)


class _Text(HTMLParser):
    """The rendered prose outside code and math, and every link and image source."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.prose: list[str] = []
        self.links: list[str] = []
        self._verbatim = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in VERBATIM:
            self._verbatim += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("img", "source", "video", "audio", "iframe") and attrs.get("src"):
            self.links.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag in VERBATIM and self._verbatim:
            self._verbatim -= 1

    def handle_data(self, data):
        if not self._verbatim:
            self.prose.append(data)


def parse(markdown: str) -> _Text:
    text = _Text()
    text.feed(render(markdown))
    text.close()
    return text


def markdown_cells(path: Path = RELEASE) -> list[tuple[int, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def literal_markup(markdown: str) -> list[str]:
    """Each literal run of markup characters in the rendered prose, with its context."""
    found = []
    for chunk in parse(markdown).prose:
        for match in LITERAL.finditer(chunk):
            context = chunk[max(0, match.start() - 25):match.end() + 15].replace("\n", " ")
            found.append(f"{match.group(0)!r} in ...{context}...")
    return found


# -- the checker itself ---------------------------------------------------------------------

@pytest.mark.parametrize("markdown", [
    "**순차 추천(sequential recommendation)**은 문제입니다.",  # ")" then a particle
    "**MMD (Maximum Mean Discrepancy)**입니다.",
    "__밑줄(underline)__은",
    "닫히지 않은 `코드",
    "*전역 문맥(global context)*을",
])
def test_checker_finds_emphasis_that_did_not_parse(markdown):
    assert literal_markup(markdown)


@pytest.mark.parametrize("markdown", [
    "**순차 추천**(sequential recommendation)은 문제입니다.",
    "**순차 추천(sequential recommendation)은** 문제입니다.",
    "`x ** 2`와 `__init__`, ```a `b` c```",
    "```python\nx = a ** b  # __dunder__ `tick`\n```",
    "$x^{**}$와 $$a \\_\\_ b$$",
    "<code>**</code>",
])
def test_checker_skips_code_math_and_parsed_emphasis(markdown):
    assert literal_markup(markdown) == []


def test_the_renderer_is_nbconverts():
    """The HTML exporter's filter renders the same HTML, math aside."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    assert hasattr(HTMLExporter, "markdown2html")
    sample = "**굵게**(bold)는 `code`와 [링크](a.md), 그리고 ![그림](b.png)"
    assert render(sample) == markdown2html_mistune(sample)


# -- the release notebook -------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_release_markdown_renders_without_literal_markup(lang):
    problems = [f"cell {i}: {problem}" for i, source in markdown_cells(RELEASES[lang])
                for problem in literal_markup(source)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_student_readme_renders_without_literal_markup(lang):
    problems = literal_markup(READMES[lang].read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems)


# -- relative links resolve inside the student edition -------------------------------------

def relative_links(markdown: str) -> list[str]:
    """Links and image sources without a scheme or host, other than in-page anchors."""
    links = []
    for link in parse(markdown).links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        links.append(link)
    return links


def unresolved(document: str, links: list[str], files: set[str]) -> list[str]:
    """Links of ``document`` (its path in the edition) that name no file or folder there."""
    folders = {posixpath.dirname(f) for f in files}
    folders |= {posixpath.dirname(f) for f in folders}
    missing = []
    for link in links:
        path = unquote(urlsplit(link).path)
        if path.startswith("/"):
            missing.append(f"{link} (absolute path)")
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(document), path))
        if target.startswith("..") or (target not in files and target.rstrip("/") not in folders):
            missing.append(f"{link} -> {target}")
    return missing


def _edition_path(source: Path, lang: str = "ko") -> str:
    return source.relative_to(RELEASE_ROOTS[lang]).as_posix()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_layout_matches_the_edition_builder(lang):
    files = edition.layout(lang)
    assert {"README.md", "requirements.txt", "manifest.json", "gcl4sr/gcl4sr.ipynb",
            f"gcl4sr/{edition.WHEEL}"} == files


def test_checker_resolves_links_against_the_layout():
    files = edition.layout()
    notebook = _edition_path(RELEASE)
    assert unresolved(notebook, ["../README.md", "../manifest.json#urls", RELEASE.name],
                      files) == []
    assert unresolved(notebook, ["../REPRODUCTION.md", "../../bench/x.png", "/etc/passwd",
                                 "README.md"], files) == [
        "../REPRODUCTION.md -> REPRODUCTION.md", "../../bench/x.png -> ../bench/x.png",
        "/etc/passwd (absolute path)", "README.md -> gcl4sr/README.md"]
    assert relative_links("[a](x.md) [b](https://example.org/y.md) [c](#top) "
                          "![d](img/e.png) <img src=\"f.svg\">") == ["x.md", "img/e.png", "f.svg"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_relative_link_of_the_notebook_resolves_in_the_edition(lang):
    files = edition.layout(lang)
    document = _edition_path(RELEASES[lang], lang)
    assert document in files
    missing = [f"cell {i}: {problem}" for i, source in markdown_cells(RELEASES[lang])
               for problem in unresolved(document, relative_links(source), files)]
    assert missing == [], "\n".join(missing)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_relative_link_of_the_student_readme_resolves_in_the_edition(lang):
    files = edition.layout(lang)
    links = relative_links(READMES[lang].read_text(encoding="utf-8"))
    assert unresolved("README.md", links, files) == []


# -- no instructor path reaches students ----------------------------------------------------

INSTRUCTOR_PATHS = re.compile(r"(?<![\w.-])(grading|solutions|bench|tests)/")


@pytest.mark.parametrize("source", [*RELEASES.values(), *READMES.values()],
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_students_are_never_sent_to_an_instructor_path(source):
    if source.suffix == ".ipynb":
        texts = [c.source for c in nbformat.read(source, as_version=4).cells]
    else:
        texts = [source.read_text(encoding="utf-8")]
    hits = [m.group(0) for text in texts for m in INSTRUCTOR_PATHS.finditer(text)]
    assert hits == []
