"""Nothing students see holds the reference implementation or a hidden expected value.

Scanned: the student releases of both editions, the feedback HTML of the whole hostile suite
(what the class command hands back), and the output of ``nbgrader generate_solution`` for both
editions (the student editions' zips are scanned by ``tests/test_student_edition.py``).
"""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grading.instructor.checking import battery, reference
from grading.instructor.checking.cases import run_cases
from grading.instructor.run.course import ASSIGNMENT, config_text
from grading.release import RELEASE, RELEASES, SOLUTION

REPO = Path(__file__).resolve().parents[1]

#: Operations of the reference WITG, as a student would copy them. The engine sorts with
#: lexsort for its own purposes; its answer-freedom is tests/test_no_answers.py's job.
OPERATIONS = ("sum_duplicates", "lexsort", "6 // k")
#: Names and literals that only exist in the instructor's grading code.
MARKERS = ("witg_from_sequences", *OPERATIONS, "WITG_SEED",
           "METRIC_SEED", "MMD_SEED", "SUBCHECKS", "grading.instructor",
           "reference_function", str(battery.WITG_SEED), str(battery.METRIC_SEED),
           str(battery.MMD_SEED), f"{battery.WITG_SEED:_}")


def reference_lines() -> list[str]:
    """Distinctive statements of the reference implementation: >= 30 characters, and neither
    scaffolding students are given (the read_item_sequences call of the release, the engine's
    PyG Data construction) nor a common idiom the course's own solution also uses
    (generate_solution publishes that solution)."""
    source = Path(reference.__file__).read_text()
    engine = sorted((REPO / "gcl4sr_helpers").rglob("*.py"))
    given = "".join(p.read_text(encoding="utf-8") for p in [RELEASE, SOLUTION, *engine])
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            for stmt in node.body[1:] if ast.get_docstring(node) else node.body:
                for line in ast.get_source_segment(source, stmt).splitlines():
                    line = line.strip()
                    if len(line) >= 30 and line not in given:
                        lines.append(line)
    return lines


def expected_numbers(tmp_path: Path) -> set[str]:
    """Every hidden expected value, as it would be printed (the public examples' are public:
    the visible tests and the checks print them)."""
    numbers = set()
    for check in battery.SUBCHECKS:
        (tmp_path / check).mkdir(parents=True, exist_ok=True)
        outputs = run_cases(check, battery.reference_function(check),
                            battery.make_inputs(check, tmp_path / check))
        for name, out in outputs.items():
            if name.startswith(battery.PUBLIC_PREFIX):
                continue
            values = [out[key] for key in ("value", "loss", "grad") if key in out]
            if "edge_attr" in out:
                values.append(float(out["edge_attr"].sum()))
                edges = out["edge_index"].shape[1]
                numbers |= {f"방향 엣지 {edges}개", f"{edges} directed edges"}
            for value in values:
                if _generic(value):
                    continue
                texts = {f"{value:.6g}", f"{value:.4f}", f"{value:.6f}", repr(value)}
                numbers |= {t for t in texts if re.fullmatch(r"-?\d+\.\d{4,}", t)
                            and len(t.lstrip("-").replace(".", "").strip("0")) >= 3}
    return numbers


def _generic(value: float) -> bool:
    """Values that appear in any notebook (0, 0.5, 1/3 ...): they identify nothing."""
    return abs(value) < 1e-3 or any(abs(value * q - round(value * q)) < 1e-9
                                    for q in range(1, 13))


def _texts(paths) -> dict[str, str]:
    return {str(p): html.unescape(p.read_text(encoding="utf-8", errors="replace"))
            for p in paths}


def _contains(text: str, marker: str) -> bool:
    """``marker`` in ``text``; a number (a seed) only as a whole number, never as digits of
    another one (a loss of 9.852019 does not show the seed 52019)."""
    if marker.replace("_", "").isdigit():
        return re.search(rf"(?<![\d.]){re.escape(marker)}(?!\d|\.\d)", text) is not None
    return marker in text


def assert_clean(texts: dict[str, str], tmp_path: Path, markers=MARKERS) -> None:
    numbers = expected_numbers(tmp_path)
    lines = reference_lines()
    assert lines and numbers
    for name, text in texts.items():
        for marker in markers:
            assert not _contains(text, marker), f"{name} contains {marker!r}"
        for line in lines:
            assert line not in text, f"{name} contains reference code: {line}"
        found = set(re.findall(r"(?<![\w.])-?\d+\.\d+|방향 엣지 \d+개|\d+ directed edges", text))
        assert not found & numbers, f"{name} contains hidden expected values {found & numbers}"


def test_markers_are_real():
    """The scan would see the reference if it were there."""
    source = Path(reference.__file__).read_text()
    assert all(line in source for line in reference_lines())
    assert "witg_from_sequences" in source and "sum_duplicates" in source


def test_a_seed_is_found_as_a_number_and_not_inside_another():
    seed = str(battery.METRIC_SEED)
    assert _contains(f"seed={seed}", seed) and _contains(f"torch.manual_seed({seed}).", seed)
    assert not _contains(f"loss 9.8{seed}", seed) and not _contains(f"{seed}.75 s", seed)
    assert not _contains(f"1{seed}", seed)


@pytest.mark.parametrize("lang", list(RELEASES))
def test_student_release_is_clean(lang, tmp_path):
    text = RELEASES[lang].read_text(encoding="utf-8")
    assert "grade_witg" not in text and "hidden_checks" not in text
    assert_clean({"release": text}, tmp_path)


@pytest.mark.slow
def test_generated_solution_is_clean(tmp_path):
    """nbgrader's generated solution (the source notebook run in quick mode) shows no hidden
    value and no reference code. The English edition's outputs, from the same code, are
    scanned where that edition's notebook runs to the end
    (``tests/test_student_edition.py``)."""
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    subprocess.run(["cp", "-r", str(SOLUTION.parent), str(course / "solutions" / ASSIGNMENT)],
                   check=True)
    (course / "nbgrader_config.py").write_text(config_text(course, None))
    quick = dict(os.environ, GCL4SR_QUICK="1")  # generate_solution runs the notebook
    for command in ("generate_assignment", "generate_solution"):
        done = subprocess.run([sys.executable, "-m", "nbgrader", command, ASSIGNMENT, "--force"],
                              cwd=course, capture_output=True, text=True, env=quick)
        assert done.returncode == 0, done.stdout + done.stderr
    generated = sorted((course / "solution").rglob("*.ipynb"))
    assert generated
    assert_clean(_texts(generated), tmp_path)


@pytest.mark.slow
def test_feedback_of_the_hostile_suite_is_clean(suite, tmp_path):
    out = suite["out"]
    pages = sorted((out / "feedback").rglob("*.html"))
    assert len(pages) >= 10
    texts = _texts(pages)
    assert any("핵심 하위 검사" in t for t in texts.values())  # reasons are there
    assert not any("Fontconfig error" in t for t in texts.values())  # the sandbox has /etc/fonts
    # the notebook itself prints no path of the grader's work folder (a hostile one may print
    # its working folder: the kernel's folder keeps its path inside the sandbox)
    perfect = next(t for page, t in texts.items() if "/perfect/" in str(page))
    assert "gcl4sr-grade-" not in perfect
    assert_clean(texts, tmp_path)


def test_reasons_quote_only_the_students_values(tmp_path):
    """Reasons for a wrong answer contain its own values, never the expected ones."""
    inputs = battery.make_inputs("recall", tmp_path)
    want = run_cases("recall", reference.recall_at_k, inputs)
    (tmp_path / "scan").mkdir()
    got = run_cases("recall", lambda a, p, k: 0.123456, inputs)
    reasons = " ".join(v.reason for v in battery.judge("recall", want, got))
    assert "0.123456" in reasons
    assert_clean({"reasons": reasons}, tmp_path / "scan")
