"""Which student-side hints fired: the ``💡`` lines the checks of
:mod:`gcl4sr_helpers.checks` print in the check cells' outputs, read from the autograded
notebooks and mapped to the mistake each names through the checks' own hint tables
(``checks.HINT_TABLES``: the one home of the hint texts), in either language: a class may mix
both editions, and a mistake is counted once over both, its check's title and its hint in the
report's language."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from gcl4sr_helpers.i18n import DEFAULT, LANGUAGES, catalogue, text

HINT_MARK = "💡"
TITLE_MARK = "──"
OTHER = "other"  # a hint no table holds (a crash message, a rule spelled out in place)


def hint_tables(lang: str = DEFAULT) -> dict[str, tuple[str, str]]:
    """``{hint text: (mistake id, the hint in lang)}`` in every language, the id being
    ``<table>.<key>`` (``witg.one_direction``); a text two tables share (Recall and NDCG's
    ``empty_as_zero``) keeps its first id."""
    from gcl4sr_helpers.checks import HINT_TABLES

    found: dict[str, tuple[str, str]] = {}
    for each in LANGUAGES:
        for check, table in HINT_TABLES.items():
            shown = table.in_language(lang)
            for key, said in table.in_language(each).items():
                found.setdefault(said.strip(), (f"{check}.{key}", shown[key].strip()))
    return found


def check_titles(lang: str = DEFAULT) -> dict[str, str]:
    """``{a check's title in any language: its title in lang}`` (the titles without fields)."""
    keys = [key for key, template in catalogue(DEFAULT).items()
            if key.startswith("check.") and key.endswith(".title") and "{" not in template]
    return {text(key, each): text(key, lang) for key in keys for each in LANGUAGES}


def output_text(notebook: dict) -> Iterable[str]:
    """The printed lines of every code cell (stream outputs), in notebook order."""
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                yield from ("".join(text) if isinstance(text, list) else text).splitlines()


def fired_hints(notebook: dict, tables: dict[str, tuple[str, str]],
                titles: dict[str, str]) -> set[tuple[str, str, str]]:
    """``{(check title, mistake id, hint text)}`` of one notebook; a hint that embeds a table's
    text counts as that mistake (its title and text as ``tables`` and ``titles`` word them),
    one no table holds as ``other``, as printed."""
    fired, title = set(), ""
    for line in output_text(notebook):
        said = line.strip()
        if said.startswith(TITLE_MARK):
            title = said.strip("─ ").strip()
        elif said.startswith(HINT_MARK):
            hint = said.removeprefix(HINT_MARK).strip()
            known = hint if hint in tables else next((k for k in tables if k in hint), None)
            if known:
                fired.add((titles.get(title, title), *tables[known]))
            else:
                fired.add((title, OTHER, hint))
    return fired


def hint_counts(notebooks: dict[str, dict], lang: str = DEFAULT) -> list[dict]:
    """Per (check, mistake, hint): how many students saw it, most frequent first; a known
    mistake's check and hint in ``lang``, whatever the notebook's language."""
    tables, titles = hint_tables(lang), check_titles(lang)
    counts = Counter(hint for nb in notebooks.values()
                     for hint in fired_hints(nb, tables, titles))
    return [{"check": title, "mistake": mistake, "hint": hint, "students": count}
            for (title, mistake, hint), count in sorted(
                counts.items(), key=lambda item: (-item[1], item[0]))]
