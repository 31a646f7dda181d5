"""The instructor's class report (``graded/report.json`` and ``report.html``).

The end-to-end tests read the report ``grade_class`` wrote for the hostile suite
(``tests/fixtures``, graded once per session), which holds a copied pair (``cody`` copied
``ada``: variables renamed, independent lines swapped) and independently written correct
solutions (``perfect``, ``ada``). The page is opened in headless Chromium.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from grading.instructor.builders.mistakes import MISTAKES
from grading.instructor.report.hints import check_titles, fired_hints, hint_tables
from grading.instructor.report.similarity import similar_pairs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from make_submissions import MISTAKEN  # noqa: E402

TEMPLATE = '''def recall(actual, predicted, topk):
    """Mean recall of the users with a ground truth."""
    # YOUR CODE HERE
    raise NotImplementedError()
'''
ANSWER = '''def recall(actual, predicted, topk):
    """Mean recall of the users with a ground truth."""
    total, users = 0.0, 0
    for u in range(len(actual)):
        gold = set(actual[u])
        if len(gold) == 0:
            continue
        found = sum(1 for item in predicted[u][:topk] if item in gold)
        total += found / len(gold)
        users += 1
    return total / users if users else 0.0
'''
RENAMED = '''def recall(actual, predicted, topk):
    """Mean recall of the users with a ground truth."""
    n_users, acc = 0, 0.0
    for idx in range(len(actual)):
        truth = set(actual[idx])
        if len(truth) == 0:
            continue
        hits = sum(1 for rec in predicted[idx][:topk] if rec in truth)
        n_users += 1
        acc += hits / len(truth)
    return acc / n_users if n_users else 0.0
'''
INDEPENDENT = '''def recall(actual, predicted, topk):
    """Mean recall of the users with a ground truth."""
    scores = [len(set(t) & set(p[:topk])) / len(set(t)) for t, p in zip(actual, predicted) if t]
    return sum(scores) / len(scores) if scores else 0.0
'''
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars"]
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.images = images.length;
  document.body.dataset.broken = images.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.body.dataset.overflow = document.documentElement.scrollWidth > window.innerWidth;
});
</script></body>"""


# --------------------------------------------------------------------------- units
def _pairs(answers: dict[str, str]) -> set[tuple[str, str]]:
    return {(p["a"], p["b"]) for p in similar_pairs(answers, TEMPLATE)}


def test_a_renamed_copy_is_listed_and_an_independent_answer_is_not():
    pairs = _pairs({"ann": ANSWER, "bob": RENAMED, "cy": INDEPENDENT})
    assert ("ann", "bob") in pairs
    assert not pairs & {("ann", "cy"), ("bob", "cy")}


def test_the_template_alone_is_never_a_copy():
    assert not _pairs({"ann": TEMPLATE, "bob": TEMPLATE, "cy": TEMPLATE + "\n# done\n"})


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_fired_hint_is_mapped_to_the_mistake_it_names(capsys, monkeypatch, lang):
    """In either edition's notebook; the report words it in its own language (Korean)."""
    from gcl4sr_helpers import i18n
    from gcl4sr_helpers.checks import check_metrics

    monkeypatch.setattr(i18n, "_chosen", None)
    monkeypatch.setenv(i18n.LANG_ENV, lang)
    precision = MISTAKES["recall.precision"]  # hits / k
    check_metrics(precision.function, precision.function)
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": capsys.readouterr().out}]}]}
    fired = {(title, mistake, hint) for title, mistake, hint
             in fired_hints(notebook, hint_tables(), check_titles())}
    assert ("Recall@k / NDCG@k 점검", precision.id,
            "적중 수를 k로 나눈 것 같아요 (precision). Recall은 |정답 ∩ top-k| / |정답|입니다.") \
        in fired


# --------------------------------------------------------------------------- the suite
@pytest.fixture(scope="module")
def report(suite) -> dict:
    return json.loads((suite["out"] / "report.json").read_text(encoding="utf-8"))


def test_the_report_numbers_equal_grades_csv(suite, report):
    with open(suite["out"] / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    students = {s["student"]: s for s in report["students"]}
    assert sorted(students) == sorted(row["student"] for row in rows)
    for row in rows:
        mine = students[row["student"]]
        assert mine["status"] == row["status"]
        assert mine["total"] == pytest.approx(float(row["total"]), abs=1e-6)
        for part in report["parts"]:
            assert mine["points"][part] == pytest.approx(float(row[part]), abs=1e-6)
    totals = [float(row["total"]) for row in rows]
    summary = report["summary"]
    assert summary["submissions"] == len(rows)
    assert summary["total"]["mean"] == pytest.approx(statistics.fmean(totals), abs=1e-3)
    assert summary["total"]["median"] == pytest.approx(statistics.median(totals), abs=1e-3)
    assert summary["statuses"].get("graded", 0) == sum(row["status"] == "graded" for row in rows)
    not_graded = {s["student"] for s in report["not_graded"]}
    assert not_graded == {row["student"] for row in rows if row["status"] != "graded"}


def test_the_copied_pair_is_listed_and_independent_solutions_are_not(report):
    todos = report["copies"]["todos"]
    assert set(todos) == {"witg", "recall", "ndcg", "mmd"}  # not the optional, ungraded nt_xent
    for todo, found in todos.items():
        pairs = {(p["a"], p["b"]) for p in found["pairs"]}
        assert ("ada", "cody") in pairs, todo
        assert not pairs & {("ada", "perfect"), ("cody", "perfect")}, todo
        assert not any("untouched" in pair for pair in pairs), todo


def test_lost_subchecks_and_fired_hints_name_the_suites_mistakes(suite, report):
    records = json.loads((suite["out"] / "results.json").read_text(encoding="utf-8"))
    for row in report["subchecks"]:  # counted from every student's first server record
        failed = [v for s in records["students"] if s["checks"]
                  for v in (s["checks"].get(row["check"]) or {}).get("verdicts", [])
                  if v["id"] == row["id"] and not v["passed"]]
        assert row["lost"] == len(failed), row
    lost = {check: sum(r["lost"] for r in report["subchecks"] if r["check"] == check)
            for check in ("witg", "recall", "ndcg", "mmd")}
    assert all(lost.values()), lost  # partial, edited, deleted, hank, ... lose some of each
    mistakes = {h["mistake"]: h["students"] for h in report["hints"]}
    # the registry's ids, as the fixture put them into "partial" and "deleted"
    assert MISTAKEN["partial"]["witg"] == "witg.one_direction"  # one direction only
    assert MISTAKEN["partial"]["mmd"] == MISTAKEN["deleted"]["mmd"] == "mmd.sign"
    assert mistakes.get(MISTAKEN["partial"]["witg"], 0) >= 1
    assert mistakes.get(MISTAKEN["partial"]["mmd"], 0) >= 1
    # the optional, ungraded TODO 4: its check's hint is counted, its answers never compared
    assert mistakes.get(MISTAKEN["partial"]["nt_xent"], 0) >= 1
    slowest = [s["seconds"] for s in report["slowest"]]
    assert slowest == sorted(slowest, reverse=True)


def test_writing_the_report_again_gives_the_same_files(suite, tmp_path):
    out = tmp_path / "graded"
    out.mkdir()
    shutil.copy(suite["out"] / "results.json", out)
    for folder in ("submitted", "autograded"):
        shutil.copytree(suite["out"] / folder, out / folder)
    done = subprocess.run([sys.executable, "-m", "grading.report", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for name in ("report.json", "report.html"):
        assert (out / name).read_bytes() == (suite["out"] / name).read_bytes(), name


def test_the_report_command_says_what_to_do_without_results(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grading.report", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "grading.grade_class" in done.stderr


# --------------------------------------------------------------------------- the page
def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180)


def test_the_page_is_self_contained(suite):
    page = (suite["out"] / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", page)
    assert "<script" not in page and "@import" not in page
    assert page.count("data:image/svg+xml;base64,") == 2


@pytest.mark.parametrize("width", [412, 1100])
def test_the_page_renders_in_headless_chromium(suite, tmp_path, width):
    from matplotlib.image import imread

    probe = tmp_path / "probe.html"
    probe.write_text((suite["out"] / "report.html").read_text(encoding="utf-8")
                     .replace("</body>", PROBE), encoding="utf-8")
    size = f"--window-size={width},1600"
    dom = chromium([size, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                   tmp_path / "profile-dom").stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[-2000:]
    attributes = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1)))
    assert attributes.get("images") == "2" and attributes.get("broken") == "0", attributes
    assert attributes.get("overflow") == "false", f"the page is wider than {width} px"
    shot = tmp_path / "report.png"
    with contextlib.suppress(subprocess.TimeoutExpired):
        chromium([size, f"--screenshot={shot}", (suite["out"] / "report.html").as_uri()],
                 tmp_path / "profile-shot")
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, width)
    assert (pixels.min(axis=2) < 0.5).mean() > 0.01  # text and plots, not a blank page
