"""Which student-side hints fired: the ``💡`` lines the checks of
:mod:`gcl4sr_helpers.checks` print in the check cells' outputs, read from the autograded
notebooks and mapped to the mistake each names through the checks' own hint tables
(``checks.HINT_TABLES``: the one home of the hint texts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

HINT_MARK = "💡"
TITLE_MARK = "──"
OTHER = "other"  # a hint no table holds (a crash message, a rule spelled out in place)


def hint_tables() -> dict[str, str]:
    """``{hint text: mistake id}``, the id being ``<table>.<key>`` (``witg.one_direction``);
    a text two tables share (Recall and NDCG's ``empty_as_zero``) keeps its first id."""
    from gcl4sr_helpers.checks import HINT_TABLES

    found: dict[str, str] = {}
    for check, table in HINT_TABLES.items():
        for key, text in table.items():
            found.setdefault(text.strip(), f"{check}.{key}")
    return found


def output_text(notebook: dict) -> Iterable[str]:
    """The printed lines of every code cell (stream outputs), in notebook order."""
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                yield from ("".join(text) if isinstance(text, list) else text).splitlines()


def fired_hints(notebook: dict, tables: dict[str, str]) -> set[tuple[str, str, str]]:
    """``{(check title, mistake id, hint text)}`` of one notebook; a hint that embeds a table's
    text counts as that mistake, one no table holds as ``other``."""
    fired, title = set(), ""
    for line in output_text(notebook):
        text = line.strip()
        if text.startswith(TITLE_MARK):
            title = text.strip("─ ").strip()
        elif text.startswith(HINT_MARK):
            hint = text.removeprefix(HINT_MARK).strip()
            known = hint if hint in tables else next((k for k in tables if k in hint), None)
            fired.add((title, tables[known] if known else OTHER, known or hint))
    return fired


def hint_counts(notebooks: dict[str, dict]) -> list[dict]:
    """Per (check, mistake, hint): how many students saw it, most frequent first."""
    tables = hint_tables()
    counts = Counter(hint for nb in notebooks.values() for hint in fired_hints(nb, tables))
    return [{"check": title, "mistake": mistake, "hint": hint, "students": count}
            for (title, mistake, hint), count in sorted(
                counts.items(), key=lambda item: (-item[1], item[0]))]
