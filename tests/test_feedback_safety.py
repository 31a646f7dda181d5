"""The class command's feedback is bounded in bytes and runs no student markup
(:mod:`grading.instructor.run.feedback_safety`): unit checks of ``make_safe`` on real nbformat
notebooks, renderings with nbgrader's own feedback template, and one class output run
through ``write_outputs`` and the real ``nbgrader generate_feedback``."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from grading.instructor.run.course import ASSIGNMENT
from grading.instructor.run.feedback_safety import (
    MAX_CELL_TEXT_BYTES,
    MAX_ERROR_NAME_BYTES,
    MAX_IMAGE_BYTES,
    MAX_NOTEBOOK_BYTES,
    MAX_TRACEBACK_BYTES,
    make_safe,
)

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
       "RU5ErkJggg==")
FORTY_MB = 40_000_000
VOID_TAGS = ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "wbr")


def hostile_notebook() -> nbformat.NotebookNode:
    """Every way a student's notebook could put live markup into the feedback page."""
    code = new_code_cell("show()", execution_count=3, outputs=[
        new_output("display_data", data={"text/html": "<script>alert(1)</script>",
                                         "text/plain": "<IPython.core.display.HTML object>"}),
        new_output("display_data", data={"application/javascript": "alert(2)"}),
        new_output("display_data", data={"image/svg+xml": '<svg onload="alert(3)"></svg>'}),
        new_output("display_data", data={"text/markdown": "<img src=x onerror=alert(4)>"}),
        new_output("display_data", data={"image/png": PNG},
                   metadata={"image/png": {"width": "1 onerror=alert(5)"}}),
        new_output("execute_result", execution_count=3,
                   data={"text/html": "<iframe src=javascript:alert(6)></iframe>"}),
    ])
    markdown = new_markdown_cell(
        "# 답\n<script>alert(7)</script>\n\n<img src=x onerror=alert(8)>\n\n"
        "[link](javascript:alert(9)) <iframe src=javascript:alert(10)></iframe>\n\n"
        "$\\href{java\tscript:alert(11)}{x}$ &#106;avascript:alert(12) "
        "[escaped](javascript\\:alert(15)) $a<b$ &lt;p&gt;")
    markdown.attachments = {"a.svg": {"image/svg+xml": '<svg onload="alert(13)"/>'}}
    nb = new_notebook(cells=[markdown, code, new_raw_cell("<script>alert(14)</script>")])
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


class LiveMarkup(HTMLParser):
    """What a browser would run or load from the student in a page: script elements and
    sources that mention ``alert``, event handlers, script URLs (also in the page's text,
    where MathJax's ``\\href`` makes links of them), frames, SVG and objects."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID_TAGS:
            self._open.append(tag)
        if tag in ("iframe", "frame", "svg", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or url.startswith(("javascript:", "vbscript:")) \
                    or (tag == "script" and "alert" in url):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if "script" in self._open[-1:] and "alert" in data:
            self.found.append(f"<script>{data.strip()[:80]}")
        elif not {"pre", "script", "style"} & set(self._open) \
                and "javascript:" in re.sub(r"\s", "", data).lower():
            self.found.append(data.strip()[:80])


def live_markup(page: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(page)
    return parser.found


def render(nb: nbformat.NotebookNode) -> str:
    """``nb`` as ``nbgrader generate_feedback`` renders it (its template, no sanitising)."""
    import nbgrader
    from nbconvert import HTMLExporter

    root = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    exporter = HTMLExporter(
        template_name="feedback", extra_template_basedirs=[str(root / "templates")],
        extra_template_paths=[str(root / "static/node_modules/bootstrap/dist/css")])
    resources = {"nbgrader": {"notebook": ASSIGNMENT, "score": 0, "max_score": 0,
                              "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def text_bytes(cell) -> int:
    return sum(len("".join(o.get("text", "") or o.get("data", {}).get("text/plain", "")
                           ).encode()) for o in cell.get("outputs", []))


def test_a_40_mb_line_is_cut_to_the_cell_cap_in_bytes():
    line = "가" * (FORTY_MB // 3) + "\n"  # one line, 3 bytes a character: bytes, not lines
    nb = new_notebook(cells=[new_code_cell("print(...)", outputs=[
        new_output("stream", name="stdout", text=line)])])
    make_safe(nb)
    text = nb.cells[0].outputs[0].text
    assert len(text.encode()) <= MAX_CELL_TEXT_BYTES
    assert text.startswith("가가가") and text.rstrip().endswith("바이트만 보여 줍니다)")
    assert f"출력 {len(line.encode())}바이트 중 앞" in text
    assert len(render(nb).encode()) < len(render(new_notebook()).encode()) + 2 * MAX_CELL_TEXT_BYTES


def test_an_english_feedback_says_what_was_cut_in_english():
    line = "x" * (2 * MAX_CELL_TEXT_BYTES) + "\n"
    error = new_output("error", ename="ValueError", evalue="v",
                       traceback=["frame\n" * (MAX_TRACEBACK_BYTES // 3)])
    nb = new_notebook(cells=[new_code_cell("print(...)", outputs=[
        new_output("stream", name="stdout", text=line), error])])
    make_safe(nb, "en")
    text = nb.cells[0].outputs[0].text
    assert re.search(rf"\n… \(showing the first \d+ of {len(line.encode())} bytes of the "
                     r"output\)\n$", text), text[-120:]
    trace = "\n".join(nb.cells[0].outputs[1].traceback)
    assert trace.startswith("… (showing the last ") and "bytes of the error message)" in trace
    assert not re.search("[가-힣]", nbformat.writes(nb))


def test_many_outputs_share_the_cell_cap_and_the_notebook_cap():
    small = [new_output("stream", name="stdout", text="x" * 99 + "\n") for _ in range(2000)]
    full = [new_code_cell("", outputs=[new_output("execute_result", execution_count=1,
                                                  data={"text/plain": "y" * MAX_CELL_TEXT_BYTES})])
            for _ in range(3 * MAX_NOTEBOOK_BYTES // MAX_CELL_TEXT_BYTES)]
    nb = new_notebook(cells=[new_code_cell("", outputs=small), *full])
    make_safe(nb)
    assert all(text_bytes(cell) <= MAX_CELL_TEXT_BYTES for cell in nb.cells)
    assert "바이트만 보여 줍니다" in nb.cells[0].outputs[-1].text
    assert len(nbformat.writes(nb).encode()) < MAX_NOTEBOOK_BYTES + len(nb.cells) * 1024


def test_tracebacks_and_images_are_capped_keeping_the_error():
    frames = [f"  File \"x.py\", line {i}, in f\n    {'z' * 200}" for i in range(2000)]
    error = new_output("error", ename="ValueError", evalue="v" * (FORTY_MB // 100),
                       traceback=[*frames, "ValueError: the real reason"])
    huge_png = new_output("display_data", data={"image/png": "A" * (MAX_IMAGE_BYTES + 4)})
    nb = new_notebook(cells=[new_code_cell("", outputs=[huge_png, error])])
    make_safe(nb)
    image, error = nb.cells[0].outputs
    assert "image/png" not in image.data and "image/png" in image.data["text/plain"]
    trace = "\n".join(error.traceback)
    assert len(trace.encode()) <= MAX_TRACEBACK_BYTES and trace.endswith("the real reason")
    assert "오류 메시지" in trace and len(error.evalue.encode()) <= MAX_ERROR_NAME_BYTES


def test_student_markup_never_runs_in_the_feedback():
    assert live_markup(render(hostile_notebook())), "the payloads must be live unprotected"
    nb = hostile_notebook()
    make_safe(nb)
    page = render(nb)
    assert live_markup(page) == []
    assert "&lt;script&gt;alert(7)&lt;/script&gt;" in page  # shown as text, not dropped
    again = copy.deepcopy(nb)
    make_safe(again)
    assert again == nb  # a second pass changes nothing
    assert "attachments" not in nb.cells[0] and "widgets" not in nb.metadata
    outputs = nb.cells[1].outputs
    assert all(set(o.get("data", {})) <= {"text/plain", "image/png"} for o in outputs)
    assert outputs[4].metadata == {} and outputs[4].data["image/png"] == PNG


def test_normal_outputs_survive_unchanged_beside_a_dropped_one():
    normal = [new_output("stream", name="stdout", text="loss 0.25 → 0.20\n"),
              new_output("execute_result", execution_count=2, data={"text/plain": "0.2"}),
              new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
              new_output("error", ename="KeyError", evalue="'a'", traceback=["KeyError: 'a'"])]
    markdown = new_markdown_cell("$t + k < |s|$, $$K_{XX} & K_{XY}$$ and **bold**")
    markdown.metadata["nbgrader"] = {"grade_id": "md_05", "locked": True}
    html = new_output("display_data", data={"text/html": "<b>x</b>", "text/plain": "x"})
    nb = new_notebook(cells=[markdown, new_code_cell("f()", execution_count=2,
                                                     outputs=[*normal, html])])
    expected = copy.deepcopy(nb)
    expected.cells[1].outputs[-1].data = {"text/plain": "x"}
    make_safe(nb)
    assert nb == expected


@pytest.mark.slow
def test_class_feedback_page_is_bounded_and_inert(tmp_path):
    """``write_outputs`` writes the safe notebook and the real ``nbgrader generate_feedback``
    renders it with the grades."""
    from grading.instructor.common.records import Result
    from grading.instructor.run.course import build_template
    from grading.instructor.run.output import write_outputs

    source = tmp_path / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    answer = new_code_cell("x = 1", metadata={"nbgrader": {
        "grade_id": "answer", "grade": True, "points": 1, "solution": False, "locked": True,
        "schema_version": 3, "task": False}})
    nb = new_notebook(cells=[answer])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, source / f"{ASSIGNMENT}.ipynb")
    log = tmp_path / "log.txt"
    course = build_template(tmp_path / "work", source, ASSIGNMENT, ASSIGNMENT, None, log)
    graded = hostile_notebook()
    graded.cells.append(copy.deepcopy(course.release_nb.cells[0]))
    graded.cells[-1].outputs = [new_output("stream", name="stdout",
                                           text="w" * (FORTY_MB // 10))]
    result = Result("mallory", scores={"answer": 1.0}, autograded=graded)
    write_outputs([result], course, tmp_path / "out", None, log)
    page = (tmp_path / "out" / "feedback" / "mallory" / ASSIGNMENT
            / f"{ASSIGNMENT}.html").read_text()
    assert 'id="toc"' in page and "Score: 1.0 / 1.0" in page, log.read_text()[-2000:]
    assert live_markup(page) == []
    assert len(page.encode()) < 1 << 20
