"""``report.html``: the class report as one self-contained page (plots embedded as SVG data
URIs, no network, no script), readable on a phone. Its words are the grader's catalogue's
(``page.*``) in the instructor's language, Korean unless asked (code names stay English);
what it quotes from the students (reasons, hints other than the tables') is in each one's."""

from __future__ import annotations

import base64
import html
import io

from grading.kernel.i18n import DEFAULT, text

from ..common.records import Status

MAX_PAIRS = 50  # pairs per TODO shown on the page (report.json lists them all)

STYLE = """
:root { color-scheme: light; --line: #d9dde3; --muted: #5b6470; --accent: #2f6fdb; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 980px; padding: 16px; line-height: 1.55; color: #1d2330;
  font-family: system-ui, -apple-system, "Noto Sans KR", "Noto Sans CJK KR",
  "Apple SD Gothic Neo", "Malgun Gothic", sans-serif; font-size: 15px; }
h1 { font-size: 1.5em; margin: 0.2em 0; } h2 { font-size: 1.2em; margin-top: 1.8em;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; }
p.note { color: var(--muted); margin: 4px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 8px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.card b { display: block; font-size: 1.5em; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; word-break: keep-all; overflow-wrap: anywhere; }
.sub { display: block; color: var(--muted); font-size: 0.88em; }
th { background: #f3f5f8; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em;
  background: #f3f5f8; padding: 0 3px; border-radius: 3px; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.bar { display: inline-block; height: 0.7em; background: var(--accent); border-radius: 2px; }
details summary { cursor: pointer; color: var(--accent); }
@media (max-width: 600px) { body { padding: 10px; font-size: 14px; }
  th, td { padding: 4px 5px; } .card b { font-size: 1.25em; } }
"""


def _e(value) -> str:
    return html.escape(str(value))


def _num(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """A table; ``headers`` and cells are HTML already, ``numeric`` columns right-aligned."""
    def cls(i):
        return ' class="n"' if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{h}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _svg(figure) -> str:
    """The figure as an ``<img>`` with an SVG data URI (text as paths: no font needed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/svg+xml;base64,{data}">'


def plots(report: dict) -> tuple[str, str]:
    """The histogram of the totals; per part, students with 0, some and all points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "gcl4sr-report", "svg.fonttype": "path"})
    students, maxima = report["students"], report["max_points"]
    figure, axis = plt.subplots(figsize=(8, 3))
    totals = [s["total"] for s in students]
    axis.hist(totals, bins=[x - 0.5 for x in range(int(report["max_total"]) + 2)],
              color="#2f6fdb", edgecolor="white")
    for name, style in (("mean", "--"), ("median", ":")):
        value = report["summary"]["total"][name]
        if value is not None:
            axis.axvline(value, color="#d9480f", linestyle=style, label=f"{name} {value:.2f}")
    axis.set(xlabel=f"total points (max {report['max_total']:g})", ylabel="students")
    axis.legend(frameon=False, loc="upper center")
    total_plot = _svg(figure)
    parts = report["parts"][::-1]  # first part on top
    shares = {label: [sum(test(s["points"][p], maxima[p]) for s in students) for p in parts]
              for label, test in (("0", lambda x, m: x <= 0),
                                  ("partial", lambda x, m: 0 < x < m),
                                  ("full", lambda x, m: x >= m))}
    figure, axis = plt.subplots(figsize=(8, 0.32 * len(parts) + 0.9))
    left = [0] * len(parts)
    for (label, counts), color in zip(shares.items(), ("#c9d1dc", "#f0a35e", "#2f6fdb"),
                                      strict=True):
        axis.barh(parts, counts, left=left, color=color, label=label)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axis.set(xlabel="students")
    axis.legend(frameon=False, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return total_plot, _svg(figure)


def render(report: dict, lang: str = DEFAULT) -> str:
    """The page of ``report`` (:func:`~.class_report.build_report`), its words in ``lang``."""
    def say(key: str, **fields) -> str:
        return text(f"page.{key}", lang, **fields)

    total_plot, parts_plot = plots(report)
    sections = [_summary(report, say), f"<h2>{say('distribution')}</h2>", total_plot,
                f'<p class="note">{say("parts_note")}</p>', parts_plot,
                _subchecks(report, say), _hints(report, say), _slowest(report, say),
                _not_graded(report, say), _copies(report, say), _students(report, say)]
    name = _e(report["assignment"])
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{say('title', assignment=name)}</title><style>{STYLE}</style>"
            f"</head><body><h1>{say('title', assignment=f'<code>{name}</code>')}</h1>"
            + "\n".join(sections) + "</body></html>\n")


def _summary(report: dict, say) -> str:
    summary = report["summary"]
    cards = [(say("submissions"), summary["submissions"]),
             (say("mean"), f"{_num(summary['total']['mean'])} / {report['max_total']:g}"),
             (say("median"), f"{_num(summary['total']['median'])} / {report['max_total']:g}"),
             (say("graded"), summary["statuses"].get(Status.GRADED, 0)),
             (say("languages"), " · ".join(f"{lang} {count}"
                                          for lang, count in summary["languages"].items()))]
    card_html = "".join(f'<div class="card">{_e(label)}<b>{_e(value)}</b></div>'
                        for label, value in cards)
    statuses = _table(["status", say("students_count")],
                      [[f"<code>{_e(k)}</code>", str(v)] for k, v in summary["statuses"].items()],
                      {1})
    parts = _table(["part", "max", "mean", "median"],
                   [[f"<code>{_e(p)}</code>", _num(report["max_points"][p]),
                     _num(summary["parts"][p]["mean"]), _num(summary["parts"][p]["median"])]
                    for p in report["parts"]]
                   + [["<b>total</b>", _num(report["max_total"]),
                       _num(summary["total"]["mean"]), _num(summary["total"]["median"])]],
                   {1, 2, 3})
    return (f'<h2>{say("summary")}</h2><div class="cards">{card_html}</div>'
            f'<p class="note">{say("summary_note")}</p>'
            f"{statuses}<h3>{say('per_part')}</h3>{parts}")


def _subchecks(report: dict, say) -> str:
    rows = sorted(report["subchecks"], key=lambda r: -r["lost"])
    top = max([r["ran"] for r in rows] + [1])
    body = [[f'{r["lost"]} <span class="bar" style="width:{40 * r["lost"] // top}px"></span>',
             str(r["ran"]), f'{_e(r["label"])}<span class="sub"><code>{_e(r["title"])}</code>'
                            "</span>",
             "<br>".join(f"{_e(reason)} <b>×{count}</b>" for reason, count in r["reasons"])]
            for r in rows]
    return (f"<h2>{say('subchecks')}</h2><p class=\"note\">{say('subchecks_note')}</p>"
            + _table(["lost", "ran", "label · check", say("reasons")], body, {0, 1}))


def _hints(report: dict, say) -> str:
    if not report["hints"]:
        return f"<h2>{say('hints')}</h2><p>{say('no_hints')}</p>"
    body = [[str(h["students"]), f'<code>{_e(h["mistake"])}</code><span class="sub">'
                                 f'{_e(h["check"])}</span>', _e(h["hint"])]
            for h in report["hints"]]
    return (f"<h2>{say('hints_title')}</h2><p class=\"note\">{say('hints_note')}</p>"
            + _table(["students", "mistake · check", "hint"], body, {0}))


def _slowest(report: dict, say) -> str:
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>", f"{s['seconds']:.1f}"]
            for s in report["slowest"]]
    return (f"<h2>{say('slowest')}</h2>"
            + _table(["student", "status", "seconds"], body, {2}))


def _not_graded(report: dict, say) -> str:
    if not report["not_graded"]:
        return f"<h2>{say('all_graded_title')}</h2><p>{say('all_graded')}</p>"
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>",
             "<br>".join(_e(r) for r in s["reasons"])] for s in report["not_graded"]]
    return (f"<h2>{say('not_graded')}</h2>"
            + _table(["student", "status", "reasons"], body))


def _copies(report: dict, say) -> str:
    copies = report["copies"]
    parts = [f"<h2>{say('copies')}</h2>"
             f'<p class="note">{say("copies_note", threshold=copies["threshold"])}</p>']
    for todo, found in copies["todos"].items():
        if not found["pairs"]:
            parts.append(f"<h3><code>{_e(todo)}</code></h3><p>{say('no_pairs')}</p>")
            continue
        best = {}
        for pair in found["pairs"]:
            for name in (pair["a"], pair["b"]):
                best[name] = max(best.get(name, 0.0), pair["similarity"])
        body = [[", ".join(_e(s) for s in group), str(len(group)),
                 f"{max(best[s] for s in group):.0%}"] for group in found["groups"]]
        pairs = _table(["a", "b", "similarity"],
                       [[_e(p["a"]), _e(p["b"]), f"{p['similarity']:.0%}"]
                        for p in found["pairs"][:MAX_PAIRS]], {2})
        parts.append(f"<h3><code>{_e(todo)}</code></h3>"
                     + _table([say("group"), say("count"), "max similarity"], body, {1, 2})
                     + f"<details><summary>{say('pairs', count=len(found['pairs']))}"
                     + (say("pairs_cut", most=MAX_PAIRS) if len(found["pairs"]) > MAX_PAIRS
                        else "")
                     + f"</summary>{pairs}</details>")
    return "".join(parts)


def _students(report: dict, say) -> str:
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>",
             *(_num(s["points"][p]) for p in report["parts"]), _num(s["total"])]
            for s in report["students"]]
    numeric = set(range(2, 3 + len(report["parts"])))
    return (f"<h2>{say('students')}</h2><details><summary>{say('show_all', count=len(body))}"
            "</summary>"
            + _table(["student", "status", *(f"<code>{_e(p)}</code>" for p in report["parts"]),
                      "total"], body, numeric) + "</details>")
