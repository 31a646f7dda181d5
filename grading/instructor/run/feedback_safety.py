"""Make an autograded notebook safe to render as feedback: bounded in bytes, and with no
student markup that a browser would run or render (the feedback page and the formgrader
show it to students and instructors).

Student-controlled are the outputs of every code cell, the markdown and raw cells, cell
attachments and the cell and notebook metadata. :func:`make_safe` keeps, of outputs, plain
text and PNG/JPEG images, all bounded (the limits below); shows markdown's and raw cells'
HTML as text; and keeps only the metadata that grading and the feedback page read. Its notes
on what it cut are in the submission's language (the catalogue's ``safety.*``).
"""

from __future__ import annotations

import json
import re

from nbformat import NotebookNode, from_dict
from nbformat.v4 import new_markdown_cell

from grading.kernel.i18n import DEFAULT, text

KIB = 1024
MAX_CELL_TEXT_BYTES = 64 * KIB  # a cell's printed text (streams, text/plain): head kept
MAX_TRACEBACK_BYTES = 32 * KIB  # one error's traceback: tail kept (the error itself)
MAX_ERROR_NAME_BYTES = KIB  # an error's name and value (its traceback shows them too)
MAX_IMAGE_BYTES = 1024 * KIB  # one PNG/JPEG, base64 (a dense matplotlib figure: ~100 KiB)
MAX_SOURCE_BYTES = 256 * KIB  # one cell's source (the course's largest: ~3 KiB)
MAX_NOTEBOOK_BYTES = 8 * 1024 * KIB  # the whole notebook; past it, only nbgrader cells stay
FRAME_BYTES = 256  # what a cell or an output costs beyond its text (its HTML frame)

SAFE_TEXT = "text/plain"
SAFE_IMAGES = ("image/png", "image/jpeg")
NOTEBOOK_METADATA = ("kernelspec", "language_info")  # the notebook metadata kept
CELL_METADATA = "nbgrader"  # the one cell metadata key kept (grades, the feedback headings)


_GRADE_ID = re.compile(r"[\w.-]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
# What could start markup in markdown (a tag, comment, autolink) or spell a character
# (an entity; but &lt; &gt; &amp;, which spell no markup, so that a second pass changes
# nothing): escaped, so it shows as text.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|&(?=#|(?!(?:lt|gt|amp);)[A-Za-z][A-Za-z0-9]*;)")
# A script URL (a markdown link, MathJax's \href), also spelt with what a browser (tabs,
# newlines) or markdown (a backslash before the colon) drops: a zero-width space before the
# colon makes it a harmless relative URL.
_GAP = r"[\s\\]*"
_SCRIPT_URL = re.compile("(?i)((?:" + "|".join(_GAP.join(scheme) for scheme in
                                               ("javascript", "vbscript")) + ")" + _GAP + "):")
# Math, where a "<" is written TeX's way instead (only how it looks depends on this).
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\begin\{([a-z]+\*?)\}.+?\\end\{\1\}", re.S)


class _Budget:
    """Bytes left (``take`` counts what was kept), and the notes on what was cut, in
    ``lang``."""

    def __init__(self, total: int, lang: str) -> None:
        self.left, self.lang = total, lang

    def take(self, size: int) -> None:
        self.left = max(0, self.left - size)

    def note(self, key: str, **fields: object) -> str:
        return text(f"safety.{key}", self.lang, **fields)

    def cut_note(self, what: str, total: int, tail: bool, shown: int) -> str:
        """The note after (``tail``: before) what is shown of ``total`` bytes of ``what``."""
        return self.note("cut", what=self.note(what), total=total, shown=shown,
                         part=self.note("tail" if tail else "head"))


def make_safe(nb: NotebookNode, lang: str = DEFAULT) -> None:
    """Make ``nb`` (nbformat v4) safe and bounded to render as HTML, in place; see the module
    docstring and the limits above. Notes on what was cut are in ``lang``."""
    nb.metadata = from_dict({k: nb.metadata[k] for k in NOTEBOOK_METADATA if k in nb.metadata})
    notebook = _Budget(MAX_NOTEBOOK_BYTES, lang)
    cells, dropped = [], 0
    for cell in nb.cells:
        cell.metadata = from_dict(_cell_metadata(cell.get("metadata", {})))
        if not notebook.left and not cell.metadata:
            dropped += 1
            continue
        notebook.take(FRAME_BYTES)
        cell.pop("attachments", None)
        source = _text(cell.get("source", ""))
        if cell.get("cell_type") == "code":
            _code_cell(cell, notebook)
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            if cell.get("cell_type") == "markdown":
                source = _neutralise_markdown(source)
            else:  # raw (or unknown): shown as text
                cell.cell_type = "raw"
                source = _escape(source)
        cell.source = _fit(source, min(MAX_SOURCE_BYTES, notebook.left), "source", notebook)
        notebook.take(_size(cell.source))
        cells.append(cell)
    if dropped:
        cells.append(new_markdown_cell(notebook.note("over", limit=MAX_NOTEBOOK_BYTES,
                                                     what=notebook.note("cells"), count=dropped)))
    nb.cells = cells


def _cell_metadata(metadata: dict) -> dict:
    grading = metadata.get(CELL_METADATA)
    if not isinstance(grading, dict) or not _GRADE_ID.fullmatch(str(grading.get("grade_id"))):
        return {}
    return {CELL_METADATA: grading}


def _code_cell(cell: NotebookNode, notebook: _Budget) -> None:
    if not _is_count(cell.get("execution_count")):
        cell.execution_count = None
    outputs, dropped = [], 0
    for output in cell.get("outputs", []):
        if not notebook.left:
            dropped += 1
        elif (safe := _safe_output(output, notebook)) is not None:
            notebook.take(FRAME_BYTES)
            outputs.append(safe)
    _cut_text(outputs, notebook)
    if dropped:
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=notebook.note(
            "over", limit=MAX_NOTEBOOK_BYTES, what=notebook.note("outputs"), count=dropped)))
    cell.outputs = outputs


def _safe_output(output: dict, notebook: _Budget) -> NotebookNode | None:
    """A stream, an error or a display of safe types only; ``None`` for anything else."""
    kind = output.get("output_type")
    if kind == "stream":
        return NotebookNode(output_type=kind, text=_text(output.get("text", "")),
                            name="stderr" if output.get("name") == "stderr" else "stdout")
    if kind == "error":
        trace = _fit("\n".join(_text(line) for line in output.get("traceback", [])),
                     min(MAX_TRACEBACK_BYTES, notebook.left), "traceback", notebook, tail=True)
        notebook.take(_size(trace))
        return NotebookNode(output_type=kind, traceback=trace.split("\n"), **{
            key: _fit(_text(output.get(key, "")), MAX_ERROR_NAME_BYTES, "traceback", notebook)
            for key in ("ename", "evalue")})
    if kind not in ("display_data", "execute_result") or not isinstance(output.get("data"),
                                                                          dict):
        return None
    safe = NotebookNode(output_type=kind, metadata=NotebookNode(),
                        data=_safe_data(output["data"], notebook))
    if kind == "execute_result":
        count = output.get("execution_count")
        safe.execution_count = count if _is_count(count) else None
    return safe


def _safe_data(data: dict, notebook: _Budget) -> NotebookNode:
    """Plain text and bounded PNG/JPEG images; any other type shown as its text, if there is
    no plain text, or named."""
    safe = NotebookNode()
    for mime in SAFE_IMAGES:
        image = data.get(mime)
        if isinstance(image, str) and len(image) <= min(MAX_IMAGE_BYTES, notebook.left) \
                and _BASE64.fullmatch(image):
            safe[mime] = image
            notebook.take(len(image))
    dropped = [mime for mime in data if mime != SAFE_TEXT and mime not in safe]
    plain = data.get(SAFE_TEXT)
    if plain is None and dropped:
        first = data[dropped[0]]
        shown = first if isinstance(first, str | list) else json.dumps(first, ensure_ascii=False)
        plain = f"{notebook.note('dropped', kinds=', '.join(dropped))}\n{_text(shown)}"
    if plain is not None:
        safe[SAFE_TEXT] = _text(plain)
    return safe


def _cut_text(outputs: list[NotebookNode], notebook: _Budget) -> None:
    """Keep the head of the cell's printed text (streams, then text/plain in output order)
    within its cap, with a note where it stops; drop the text after it."""
    pieces = [(o, "text") if o.output_type == "stream" else (o.data, SAFE_TEXT)
              for o in outputs if o.output_type == "stream" or SAFE_TEXT in o.get("data", {})]
    total = sum(_size(holder[key]) for holder, key in pieces)
    limit = min(MAX_CELL_TEXT_BYTES, notebook.left)
    if total > limit:
        room = max(0, limit - _size(notebook.cut_note("output", total, False, limit)))
        shown, cut = 0, False
        for holder, key in pieces:
            data = holder[key].encode()
            if cut:
                del holder[key]
            elif shown + len(data) <= room:
                shown += len(data)
            else:
                kept = data[:room - shown].decode("utf-8", "ignore")
                shown, cut = shown + _size(kept), True
                holder[key] = kept + notebook.cut_note("output", total, False, shown)
        outputs[:] = [o for o in outputs
                      if ("text" in o if o.output_type == "stream" else o.get("data", True))]
    notebook.take(min(total, limit))


def _fit(content: str, limit: int, what: str, notebook: _Budget, tail: bool = False) -> str:
    """``content`` if it has at most ``limit`` bytes, else its head (tail) and a note saying
    how much of ``what`` was cut, within ``limit`` bytes where the note fits."""
    data = content.encode()
    if len(data) <= limit:
        return content
    longest = notebook.cut_note(what, len(data), tail, limit)
    keep = max(0, limit - _size(longest))
    kept = (data[len(data) - keep:] if tail else data[:keep]).decode("utf-8", "ignore")
    note = notebook.cut_note(what, len(data), tail, _size(kept))
    return note.lstrip("\n") + kept if tail else kept + note


def _neutralise_markdown(source: str) -> str:
    """Markdown whose raw HTML and entities show as text and whose script URLs are dead."""
    source = _SCRIPT_URL.sub("\\1\u200b:", source)
    pieces, start = [], 0
    for match in _MATH.finditer(source):
        pieces += [_escape(source[start:match.start()]), _escape(match[0], math=True)]
        start = match.end()
    return "".join(pieces) + _escape(source[start:])


def _escape(text: str, math: bool = False) -> str:
    """``text`` with no markup: ``&lt;`` for a ``<`` (TeX's ``\\lt`` in math, which is not
    HTML-unescaped), ``&amp;`` for an ``&``."""
    return _MARKUP.sub(lambda m: ("\\lt " if math else "&lt;") if m[0] == "<" else "&amp;",
                       text)


def _text(value: object) -> str:
    """nbformat's multiline string (a string or a list of lines) as one string."""
    if isinstance(value, list):
        return "".join(str(line) for line in value)
    return value if isinstance(value, str) else str(value)


def _size(text: str) -> int:
    return len(text.encode())


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
