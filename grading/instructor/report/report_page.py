"""``report.html``: the class report as one self-contained page (plots embedded as SVG data
URIs, no network, no script), in Korean with code names in English, readable on a phone."""

from __future__ import annotations

import base64
import html
import io

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


def render(report: dict) -> str:
    total_plot, parts_plot = plots(report)
    sections = [_summary(report), "<h2>점수 분포</h2>", total_plot,
                '<p class="note">파트별로 0점(<code>0</code>), 부분 점수(<code>partial</code>), '
                "만점(<code>full</code>)을 받은 학생 수</p>", parts_plot,
                _subchecks(report), _hints(report), _slowest(report), _not_graded(report),
                _copies(report), _students(report)]
    return ("<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(report['assignment'])} 채점 보고서</title><style>{STYLE}</style>"
            f"</head><body><h1><code>{_e(report['assignment'])}</code> 채점 보고서</h1>"
            + "\n".join(sections) + "</body></html>\n")


def _summary(report: dict) -> str:
    summary = report["summary"]
    cards = [("제출", summary["submissions"]),
             ("평균 (total)", f"{_num(summary['total']['mean'])} / {report['max_total']:g}"),
             ("중앙값 (total)", f"{_num(summary['total']['median'])} / {report['max_total']:g}"),
             ("끝까지 채점됨", summary["statuses"].get(Status.GRADED, 0))]
    card_html = "".join(f'<div class="card">{_e(label)}<b>{_e(value)}</b></div>'
                        for label, value in cards)
    statuses = _table(["status", "학생 수"], [[f"<code>{_e(k)}</code>", str(v)]
                                              for k, v in summary["statuses"].items()], {1})
    parts = _table(["part", "max", "mean", "median"],
                   [[f"<code>{_e(p)}</code>", _num(report["max_points"][p]),
                     _num(summary["parts"][p]["mean"]), _num(summary["parts"][p]["median"])]
                    for p in report["parts"]]
                   + [["<b>total</b>", _num(report["max_total"]),
                       _num(summary["total"]["mean"]), _num(summary["total"]["median"])]],
                   {1, 2, 3})
    return (f'<h2>반 요약</h2><div class="cards">{card_html}</div>'
            '<p class="note">평균과 중앙값은 모든 제출(0점 처리된 제출 포함)에 대한 값입니다.</p>'
            f"{statuses}<h3>파트별 점수</h3>{parts}")


def _subchecks(report: dict) -> str:
    rows = sorted(report["subchecks"], key=lambda r: -r["lost"])
    top = max([r["ran"] for r in rows] + [1])
    body = [[f'{r["lost"]} <span class="bar" style="width:{40 * r["lost"] // top}px"></span>',
             str(r["ran"]), f'{_e(r["label"])}<span class="sub"><code>{_e(r["title"])}</code>'
                            "</span>",
             "<br>".join(f"{_e(reason)} <b>×{count}</b>" for reason, count in r["reasons"])]
            for r in rows]
    return ("<h2>숨은 테스트: 세부 항목별로 틀린 학생</h2>"
            '<p class="note"><code>lost</code>: 그 항목을 통과하지 못한 학생 수, '
            "<code>ran</code>: 그 점검이 채점 서버까지 도달한 학생 수. 많이 틀린 항목부터.</p>"
            + _table(["lost", "ran", "label · check", "reasons (자주 나온 순)"], body, {0, 1}))


def _hints(report: dict) -> str:
    if not report["hints"]:
        return "<h2>점검 셀 힌트</h2><p>채점된 노트북의 점검 셀이 출력한 힌트가 없습니다.</p>"
    body = [[str(h["students"]), f'<code>{_e(h["mistake"])}</code><span class="sub">'
                                 f'{_e(h["check"])}</span>', _e(h["hint"])]
            for h in report["hints"]]
    return ("<h2>점검 셀 힌트: 어떤 실수를 몇 명이 했나</h2>"
            '<p class="note">채점된 노트북에서 점검 셀이 출력한 힌트입니다. '
            "<code>mistake</code>는 힌트가 가리키는 실수(<code>gcl4sr_helpers.checks</code>의 "
            "힌트 표 이름), <code>other</code>는 표에 없는 힌트(일반 안내, 예외 메시지 "
            "등)입니다.</p>"
            + _table(["students", "mistake · check", "hint"], body, {0}))


def _slowest(report: dict) -> str:
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>", f"{s['seconds']:.1f}"]
            for s in report["slowest"]]
    return ("<h2>가장 오래 걸린 제출</h2>"
            + _table(["student", "status", "seconds"], body, {2}))


def _not_graded(report: dict) -> str:
    if not report["not_graded"]:
        return "<h2>끝까지 채점되지 않은 제출</h2><p>없습니다: 모든 제출이 채점되었습니다.</p>"
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>",
             "<br>".join(_e(r) for r in s["reasons"])] for s in report["not_graded"]]
    return ("<h2>끝까지 채점되지 않은 제출 (<code>status</code> ≠ <code>graded</code>)</h2>"
            + _table(["student", "status", "reasons"], body))


def _copies(report: dict) -> str:
    copies = report["copies"]
    parts = ["<h2>복사 의심: 사람이 검토할 목록</h2>"
             f'<p class="note">채점하는 TODO마다, 템플릿에 주어진 코드를 뺀 답안 코드가 서로 '
             f"{copies['threshold']:.0%} 이상 겹치는 제출 쌍입니다 (copydetect, 변수 이름은 "
             "무시). 점수에는 반영되지 않습니다: 답안을 직접 열어 비교해 보세요.</p>"]
    for todo, found in copies["todos"].items():
        if not found["pairs"]:
            parts.append(f"<h3><code>{_e(todo)}</code></h3><p>의심되는 쌍이 없습니다.</p>")
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
                     + _table(["students (묶음)", "명", "max similarity"], body, {1, 2})
                     + f"<details><summary>쌍 {len(found['pairs'])}개 보기"
                     + (f" (가장 비슷한 {MAX_PAIRS}개, 전부는 <code>report.json</code>)"
                        if len(found["pairs"]) > MAX_PAIRS else "")
                     + f"</summary>{pairs}</details>")
    return "".join(parts)


def _students(report: dict) -> str:
    body = [[_e(s["student"]), f"<code>{_e(s['status'])}</code>",
             *(_num(s["points"][p]) for p in report["parts"]), _num(s["total"])]
            for s in report["students"]]
    numeric = set(range(2, 3 + len(report["parts"])))
    return ("<h2>학생별 점수</h2><details><summary>모두 보기 "
            f"({len(body)}명, <code>grades.csv</code>와 같은 값)</summary>"
            + _table(["student", "status", *(f"<code>{_e(p)}</code>" for p in report["parts"]),
                      "total"], body, numeric) + "</details>")
