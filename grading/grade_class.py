"""Grade a whole class with nbgrader: one command, robust to hostile submissions.

    python -m grading.grade_class SUBMISSIONS [--out DIR] [--jobs N] [--data DIR]

``SUBMISSIONS`` is either nbgrader's ``submitted/`` folder (``<student>/gcl4sr/*.ipynb``),
a course root that contains one, or a flat zip-collect style folder of
``<student>_<anything>.ipynb`` files (both layouts may be mixed). The output folder
(default ``graded/``) is a complete nbgrader course root:

* ``grades.csv``: one row per student, points per graded cell, total, status and reasons;
* ``feedback/<student>/gcl4sr/gcl4sr.html`` (``nbgrader generate_feedback``);
* ``autograded/``, ``submitted/`` (the notebooks as graded) and ``gradebook.db`` for
  formgrader; ``logs/<student>.log`` with nbgrader's and the check server's output.

How each submission is graded
-----------------------------
1. The notebook is read and validated first: a file that is not a notebook gets 0 on every
   part with the reason, and the run goes on. A renamed notebook is graded if it is the
   student's only one; test cells the student deleted are put back (as nbgrader's
   ``add_missing_cells`` would, without its crash when neighbours were deleted too).
2. It is graded in a private copy of the course (its own folder and SQLite gradebook), so
   code that deletes or rewrites files around the notebook only damages its own copy.
3. A trusted check server (:mod:`grading.check_server`) is started for it *before* its
   kernel; the hidden test cells send the student's functions there.
4. ``nbgrader autograde`` runs under ``grading.limits`` (``RLIMIT_AS`` etc., inherited by
   the kernel), with the per-cell timeout of the config and a wall-clock limit for the
   whole submission; its process group is killed afterwards. A crashed kernel, a time or
   memory limit: 0 on every part, with the reason.
5. Hidden parts are verified: points = ``min(nbgrader's score, max x fraction the server
   recorded for the first call of that check)``; a check that never reached the server
   scores 0 ("hidden check did not run"). When that changes a score, the cell's output
   in the autograded notebook is replaced by the server's reasons. Any tampering evidence
   (a displayed score the server never gave, an altered display, replaced test helpers)
   also voids the submission's visible tests, which ran in the same kernel.

Parallelism: ``--jobs N`` grades N submissions at once, each in its own private course
and gradebook (SQLite is not safe for concurrent writers, and nothing is shared). Only
the main process writes the output course's gradebook, after all submissions are done,
and runs ``nbgrader generate_feedback`` once for everyone.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .hidden_checks import SOCKET_ENV, clean_env

REPO = Path(__file__).resolve().parents[1]
REPO_CONFIG = REPO / "grading" / "nbgrader_config.py"
ASSIGNMENT = "gcl4sr"
MAX_NOTEBOOK_BYTES = 64 << 20
CHECK_CALL = re.compile(r"\bgrade_(witg|recall|ndcg|mmd)\s*\(")
STUDENT_ID = re.compile(r"[^A-Za-z0-9.-]+")


# --------------------------------------------------------------------------- discovery
@dataclass
class Submission:
    student: str
    path: Path | None
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    timestamp: Path | None = None


def _student_id(text: str) -> str:
    return STUDENT_ID.sub("-", text).strip("-.") or "unknown"


def discover(folder: Path, assignment: str = ASSIGNMENT,
             notebook: str = ASSIGNMENT) -> list[Submission]:
    """Every student of ``folder`` in either layout, sorted by student id."""
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    found: dict[str, Submission] = {}
    flat: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_file() and entry.suffix == ".ipynb":
            student = _student_id(entry.stem.split("_", 1)[0])
            flat.setdefault(student, []).append(entry)
        elif entry.is_dir() and not entry.name.startswith("."):
            student = _student_id(entry.name)
            home = entry / assignment if (entry / assignment).is_dir() else entry
            candidates = sorted(p for p in home.glob("*.ipynb") if p.is_file())
            found[student] = _choose(student, candidates, notebook, f"{entry.name}/")
            stamp = home / "timestamp.txt"
            found[student].timestamp = stamp if stamp.is_file() else None
    for student, candidates in flat.items():
        if student in found:
            found[student].notes.append(f"ignored {', '.join(p.name for p in candidates)} "
                                        f"(a submitted/ folder exists for {student})")
            continue
        found[student] = _choose(student, candidates, notebook, "")
    return [found[s] for s in sorted(found)]


def _choose(student: str, candidates: list[Path], notebook: str, where: str) -> Submission:
    exact = [p for p in candidates if p.stem == notebook or p.stem.endswith(f"_{notebook}")]
    if len(exact) == 1 or (len(candidates) == 1):
        chosen = exact[0] if len(exact) == 1 else candidates[0]
        notes = [] if chosen.stem in (notebook, f"{student}_{notebook}") else [
            f"graded {where}{chosen.name} as {notebook}.ipynb"]
        return Submission(student, chosen, notes)
    if not candidates:
        return Submission(student, None, problem=f"no notebook found in {where or 'the folder'}")
    names = ", ".join(p.name for p in candidates)
    return Submission(student, None, problem=f"several notebooks ({names}) and none is "
                                             f"{notebook}.ipynb")


# --------------------------------------------------------------------------- course
@dataclass
class Course:
    """The graded assignment: source and release notebooks, cells, points."""

    template: Path
    source_dir: str
    release_dir: str
    assignment: str
    notebook: str
    parts: list[str]  # grade cell ids, notebook order
    max_points: dict[str, float]
    hidden: dict[str, list[tuple[str, float | None]]]  # grade id -> [(check, points)]
    release_nb: nbformat.NotebookNode


def _config_text(root: Path, cell_timeout: int | None) -> str:
    lines = ["# Written by grading.grade_class: the repository's config, rooted here.",
             "c = get_config()  # noqa: F821"]
    if REPO_CONFIG.is_file():
        lines.append(f"load_subconfig({str(REPO_CONFIG)!r})  # noqa: F821")
    lines += [f"c.CourseDirectory.root = {str(root)!r}",
              f"c.CourseDirectory.db_url = {'sqlite:///' + str(root / 'gradebook.db')!r}"]
    if cell_timeout:
        lines.append(f"c.Execute.timeout = {int(cell_timeout)}")
    return "\n".join(lines) + "\n"


def _directories() -> tuple[str, str]:
    if not REPO_CONFIG.is_file():
        return "source", "release"
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader(REPO_CONFIG.name, path=str(REPO_CONFIG.parent)).load_config()
    course = config.get("CourseDirectory", {})
    return (str(course.get("source_directory", "source")),
            str(course.get("release_directory", "release")))


def _hidden_calls(source: str, max_points: float) -> list[tuple[str, float | None]]:
    calls: list[tuple[str, float | None]] = []
    try:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                match = re.fullmatch(r"grade_(witg|recall|ndcg|mmd)", name or "")
                if match:
                    points = None
                    if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                        points = float(node.args[1].value)
                    calls.append((match.group(1), points))
    except SyntaxError:
        calls = [(m.group(1), None) for m in CHECK_CALL.finditer(source)]
    if calls and any(p is None for _, p in calls):
        calls = [(c, max_points / len(calls)) for c, _ in calls]
    return calls


def build_template(work: Path, source: Path, assignment: str, notebook: str,
                   cell_timeout: int | None, log: Path) -> Course:
    """A course with the source and a fresh gradebook (``nbgrader generate_assignment``)."""
    source_dir, release_dir = _directories()
    template = work / "template"
    shutil.copytree(source, template / source_dir / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (template / "nbgrader_config.py").write_text(_config_text(template, cell_timeout))
    _run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"],
         template, log, timeout=600, check=True)
    source_nb = nbformat.read(template / source_dir / assignment / f"{notebook}.ipynb", 4)
    release_nb = nbformat.read(template / release_dir / assignment / f"{notebook}.ipynb", 4)
    parts, max_points, hidden = [], {}, {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        grade_id = meta["grade_id"]
        parts.append(grade_id)
        max_points[grade_id] = float(meta.get("points", 0))
        calls = _hidden_calls(cell.source, max_points[grade_id])
        if calls and cell.cell_type == "code":
            hidden[grade_id] = calls
    return Course(template, source_dir, release_dir, assignment, notebook, parts, max_points,
                  hidden, release_nb)


def _run(cmd: list[str], cwd: Path, log: Path, timeout: float, env: dict | None = None,
         check: bool = False) -> tuple[int | None, float]:
    """Run ``cmd`` in its own session, output appended to ``log``; kill the group after."""
    start = time.monotonic()
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(cmd)}\n".encode())
        handle.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the kernel and anything it started
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    if check and code != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (see {log})")
    return code, time.monotonic() - start


# --------------------------------------------------------------------------- one student
@dataclass
class Result:
    student: str
    status: str = "graded"
    scores: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    autograded: nbformat.NotebookNode | None = None
    submitted: nbformat.NotebookNode | None = None
    seconds: float = 0.0
    log: str = ""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The submission as a v4 notebook; raises ``ValueError`` with a reason if it is not one."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"file larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - any failure means "not a notebook"
        message = " ".join(str(error).split())[:160]
        raise ValueError(f"{type(error).__name__}: {message}") from None
    return nb


def restore_missing_cells(nb: nbformat.NotebookNode, course: Course) -> list[str]:
    """Put back grade cells the student deleted (release version; nbgrader then restores
    the hidden source), each after the nearest earlier nbgrader cell still present."""
    def grade_id(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    present = {grade_id(c) for c in nb.cells if grade_id(c)}
    order = [grade_id(c) for c in course.release_nb.cells if grade_id(c)]
    by_id = {grade_id(c): c for c in course.release_nb.cells if grade_id(c)}
    notes = []
    for index, cell_id in enumerate(order):
        if cell_id in present or cell_id not in course.parts:
            continue
        position = 0
        for earlier in reversed(order[:index]):
            if earlier in present:
                position = next(i for i, c in enumerate(nb.cells) if grade_id(c) == earlier) + 1
                break
        restored = nbformat.from_dict(json.loads(json.dumps(by_id[cell_id])))
        nb.cells.insert(position, restored)
        present.add(cell_id)
        notes.append(f"test cell {cell_id} was missing and has been restored")
    return notes


@dataclass
class Options:
    cell_timeout: int | None
    timeout: float
    mem_mib: int
    check_wall: float
    case_wall: float
    check_mem_mib: int
    threads: int
    data: str | None
    keep: bool = False


def _start_server(folder: Path, options: Options, log: Path) -> tuple[subprocess.Popen, Path]:
    sock = folder / "checks.sock"
    server_dir = folder / "server"
    server_dir.mkdir()
    handle = open(log, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-I", str(REPO / "grading" / "check_server.py"), "--socket", str(sock),
         "--wall", str(options.check_wall), "--case-wall", str(options.case_wall),
         "--mem", str(options.check_mem_mib)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, cwd=server_dir,
        env=clean_env(), start_new_session=True)
    handle.close()
    return proc, sock


def _server_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline().decode(errors="replace")
        if not line:
            return None
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


def _stop_server(proc: subprocess.Popen) -> list[dict] | None:
    """The server's records (``None`` if it never started or died)."""
    try:
        proc.stdin.write(b"shutdown\n")
        proc.stdin.flush()
        line = _server_line(proc, "RESULTS ", 300)
        return json.loads(line) if line else None
    except (OSError, ValueError):
        return None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()


def grade_one(sub: Submission, course: Course, work: Path, options: Options,
              last_try: bool = True) -> Result:
    """Grade one submission in a private course; never raises.

    A folder changed from outside during grading (a sentinel file or the course config
    gone) gives status ``grader error`` unless ``last_try``: the caller grades it again.
    """
    start = time.monotonic()
    result = Result(sub.student, reasons=list(sub.notes))
    folder = Path(tempfile.mkdtemp(prefix=f"{sub.student}-", dir=work))
    log = folder / "grading.log"
    sentinel, token = folder / ".sentinel", os.urandom(16).hex()
    sentinel.write_text(token)
    try:
        _grade_in(sub, course, folder, log, options, result)
    except Exception:  # noqa: BLE001 - an infrastructure failure must not stop the class
        result.status = "grader error"
        result.reasons.append("the grader failed: " + traceback.format_exc(limit=3)
                              .strip().splitlines()[-1])
    damaged = not (sentinel.is_file() and sentinel.read_text() == token
                   and (folder / "course" / "nbgrader_config.py").is_file()) \
        and result.submitted is not None
    if damaged:
        result.status = "grading failed" if last_try else "grader error"
        result.reasons.append("grading files around the notebook were deleted or changed "
                              "during grading")
    if result.status != "graded":
        result.scores = {part: 0.0 for part in course.parts}
    result.seconds = time.monotonic() - start
    try:
        result.log = log.read_text(errors="replace")[-200_000:]
    except OSError:
        result.log = "(log lost: the grading folder was deleted)"
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _grade_in(sub: Submission, course: Course, folder: Path, log: Path, options: Options,
              result: Result) -> None:
    log.touch()
    if sub.problem:
        result.status = "no notebook"
        result.reasons.append(sub.problem)
        return
    try:
        nb = read_notebook(sub.path)
    except ValueError as error:
        result.status = "invalid notebook"
        result.reasons.append(f"{sub.path.name} is not a valid notebook ({error})")
        return
    result.reasons += restore_missing_cells(nb, course)
    result.submitted = nb

    root = folder / "course"
    shutil.copytree(course.template, root, symlinks=False)
    (root / "nbgrader_config.py").write_text(_config_text(root, options.cell_timeout))
    target = root / "submitted" / sub.student / course.assignment
    target.mkdir(parents=True)
    nbformat.write(nb, target / f"{course.notebook}.ipynb")
    if sub.timestamp:
        shutil.copy(sub.timestamp, target / "timestamp.txt")

    server, sock = _start_server(folder, options, log)  # starts while nbgrader does
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GCL4SR_", "NBGRADER_", "JPY_", "PYTHON"))}
    env.update(PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(options.threads),
               MKL_NUM_THREADS=str(options.threads), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", **{SOCKET_ENV: str(sock)})
    if options.data:
        env["GCL4SR_DATA"] = options.data
    command = [sys.executable, "-m", "grading.limits", "--as-mib", str(options.mem_mib),
               "--fsize-mib", "1024", "--", sys.executable, "-m", "nbgrader", "autograde",
               course.assignment, "--student", sub.student, "--force"]
    try:
        code, _ = _run(command, root, log, options.timeout, env)
    finally:
        records = _stop_server(server)
    autograded = root / "autograded" / sub.student / course.assignment / f"{course.notebook}.ipynb"
    text = log.read_text(errors="replace")
    if code is None:
        result.status = "time limit"
        result.reasons.append(f"grading took longer than {options.timeout:g} s and was stopped")
        return
    if code != 0 or not autograded.is_file():
        result.status = "kernel died" if re.search(r"DeadKernelError|Kernel died", text) \
            else "grading failed"
        hint = "memory limit or crash" if result.status == "kernel died" else "see the log"
        last = [line for line in text.splitlines() if "Error" in line][-1:] or ["(no error)"]
        result.reasons.append(f"{result.status} ({hint}): {last[0].strip()[:200]}")
        return
    result.autograded = nbformat.read(autograded, as_version=4)
    scores = _gradebook_scores(root, course, sub.student)
    _verify_hidden(result, scores, records, course)
    result.scores = scores
    result.reasons += _cell_reasons(result.autograded, course)


def _gradebook_scores(root: Path, course: Course, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    scores = {part: 0.0 for part in course.parts}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(course.notebook, course.assignment, student)
        for grade in submission.grades:
            if grade.name in scores:
                value = grade.score if grade.score is not None else 0.0
                scores[grade.name] = min(float(value), course.max_points[grade.name])
    return scores


def _verify_hidden(result: Result, scores: dict[str, float], records: list[dict] | None,
                   course: Course) -> None:
    """Cap each hidden part by what the trusted server recorded (first call per check).

    If the submission tampered with the grading (display hooks, replaced checks or test
    helpers, a score the server never gave), its visible tests are not trusted either:
    they ran in the same kernel. They score 0, with the reason.
    """
    first: dict[str, dict] = {}
    for record in records or []:
        first.setdefault(record["check"], record)
    evidence = sorted({"the score display was altered" for r in records or []
                       if r.get("status") == "tamper"})
    replaced = sorted({name for r in records or [] for name in r.get("integrity") or []})
    if replaced:
        evidence.append("functions the tests use were replaced: " + ", ".join(replaced[:8]))
    for grade_id, calls in course.hidden.items():
        allowed, lines = 0.0, []
        for check, points in calls:
            record = first.get(check)
            if record is None:  # (a cell that failed before the check has its own reason)
                if scores.get(grade_id, 0.0) > 0 or records is None:
                    lines.append(f"hidden check {check} did not run"
                                 + (" (check server lost)" if records is None else ""))
                continue
            allowed += (points or 0.0) * float(record["fraction"])
            failed = [v for v in record["verdicts"] if not v["passed"]]
            if len(failed) > 1 and len(failed) == len(record["verdicts"]) \
                    and len({v["reason"] for v in failed}) == 1:
                lines.append(f"{check} [all sub-checks]: {failed[0]['reason']}")
            else:
                lines += [f"{check} [{v['label']}]: {v['reason']}" for v in failed]
        allowed = round(min(allowed, course.max_points[grade_id]), 6)
        if scores.get(grade_id, 0.0) > allowed + 1e-6:
            evidence.append(f"{grade_id} showed {scores[grade_id]:g} points, the hidden check "
                            f"gave {allowed:g}")
            note = (f"{grade_id}: the notebook showed {scores[grade_id]:g} points but the "
                    f"hidden check gave {allowed:g}; the hidden check's result counts")
            scores[grade_id] = allowed
            _rewrite_outputs(result.autograded, grade_id, lines, allowed, note)
        result.reasons += [f"{grade_id}: {line}" for line in lines]
    if evidence:
        result.reasons.append("tampering detected (" + "; ".join(evidence) + "): visible tests "
                              "are not trusted and score 0")
        for grade_id in course.parts:
            if grade_id not in course.hidden:
                scores[grade_id] = 0.0


def _rewrite_outputs(nb, grade_id: str, lines: list[str], points: float, note: str) -> None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            text = "\n".join([note, *lines]) + "\n"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text),
                            nbformat.v4.new_output("execute_result", {"text/plain": f"{points}"},
                                                   execution_count=cell.get("execution_count"))]


def _cell_reasons(nb, course: Course) -> list[str]:
    """One line per graded cell that raised (visible tests), from its error output."""
    reasons = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in course.max_points or cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                value = " ".join(str(output.get("evalue", "")).split())[:160]
                reasons.append(f"{grade_id}: {output.get('ename')}: {value}".rstrip(": "))
                break
    return reasons


# --------------------------------------------------------------------------- output
def write_outputs(results: list[Result], course: Course, out: Path, cell_timeout,
                  log: Path) -> None:
    """Master course (single writer): gradebook, notebooks, feedback, grades.csv."""
    import warnings

    from nbgrader.api import Gradebook

    warnings.filterwarnings("ignore", message=".*not in session.*")
    out.mkdir(parents=True, exist_ok=True)
    for name in (course.source_dir, "gradebook.db"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    shutil.copytree(course.template / course.source_dir, out / course.source_dir)
    shutil.copy(course.template / "gradebook.db", out / "gradebook.db")
    (out / "nbgrader_config.py").write_text(_config_text(out, cell_timeout))
    for folder in ("submitted", "autograded", "feedback", "logs"):
        for result in results:
            shutil.rmtree(out / folder / result.student, ignore_errors=True)
    (out / "logs").mkdir(exist_ok=True)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for result in results:
            gb.update_or_create_student(result.student)
            submission = gb.update_or_create_submission(course.assignment, result.student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = result.scores.get(grade.name, 0.0)
                    grade.needs_manual_grade = False
            gb.db.commit()
    for result in results:
        (out / "logs" / f"{result.student}.log").write_text(result.log)
        for folder, nb in (("submitted", result.submitted), ("autograded", result.autograded)):
            if nb is not None:
                path = out / folder / result.student / course.assignment
                path.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path / f"{course.notebook}.ipynb")
    if any(r.autograded is not None for r in results):
        _run([sys.executable, "-m", "nbgrader", "generate_feedback", course.assignment,
              "--force"], out, log, timeout=900)
    for result in results:
        html = out / "feedback" / result.student / course.assignment / f"{course.notebook}.html"
        if not html.exists():
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(_fallback_feedback(result, course))
    write_csv(results, course, out / "grades.csv")


def _fallback_feedback(result: Result, course: Course) -> str:
    import html

    items = "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{course.notebook}"
            f"</title></head><body><h1>{html.escape(course.notebook)}: "
            f"{html.escape(result.student)}</h1><p>Score: 0 / {sum(course.max_points.values()):g}"
            f" ({html.escape(result.status)})</p><ul>{items}</ul></body></html>\n")


def _num(value: float) -> str:
    """Points as written in the CSV and the table: up to 6 decimals, no trailing zeros."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def write_csv(results: list[Result], course: Course, path: Path) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "status", *course.parts, "total", "max", "reasons"])
        for r in results:
            total = sum(r.scores.get(p, 0.0) for p in course.parts)
            writer.writerow([r.student, r.status, *(_num(r.scores.get(p, 0.0))
                                                    for p in course.parts),
                             _num(total), _num(sum(course.max_points.values())),
                             " | ".join(r.reasons)])


def summary_table(results: list[Result], course: Course) -> str:
    headers = ["student", *course.parts, "total", "status", "s"]
    rows = [[r.student, *(_num(r.scores.get(p, 0.0)) for p in course.parts),
             f"{_num(sum(r.scores.get(p, 0.0) for p in course.parts))}"
             f"/{_num(sum(course.max_points.values()))}", r.status, f"{r.seconds:.0f}"]
            for r in results]
    rows.insert(0, ["(max)", *(f"{course.max_points[p]:g}" for p in course.parts), "", "", ""])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))
             for row in [headers, *rows]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main
def grade_class(submissions: Path, out: Path, jobs: int = 1, options: Options | None = None,
                source: Path | None = None, assignment: str = ASSIGNMENT,
                notebook: str = ASSIGNMENT, quiet: bool = False) -> list[Result]:
    options = options or default_options(jobs)
    source = source or REPO / "solutions" / assignment
    subs = discover(submissions, assignment, notebook)
    work = Path(tempfile.mkdtemp(prefix="gcl4sr-grade-"))
    out.mkdir(parents=True, exist_ok=True)
    main_log = out / "grade_class.log"
    main_log.write_text("")
    try:
        start = time.monotonic()
        course = build_template(work, source, assignment, notebook, options.cell_timeout,
                                main_log)
        setup = time.monotonic() - start

        def job(sub: Submission, last_try: bool = jobs <= 1) -> Result:
            result = grade_one(sub, course, work, options, last_try)
            if not quiet:
                print(f"  {result.student}: {result.status}, "
                      f"{sum(result.scores.values()):g} points ({result.seconds:.1f} s)",
                      flush=True)
            return result

        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(job, subs))
        retry = [i for i, r in enumerate(results) if r.status == "grader error"]
        for index in retry:  # e.g. a neighbour broke our folder: once more, alone
            results[index] = job(subs[index], True)
            results[index].reasons.append("graded a second time after a grader error")
        grading = time.monotonic() - start
        start = time.monotonic()
        write_outputs(results, course, out, options.cell_timeout, main_log)
        timing = {"setup_s": round(setup, 2), "grading_s": round(grading, 2),
                  "output_s": round(time.monotonic() - start, 2), "jobs": jobs,
                  "submissions": len(results),
                  "per_submission_s": {r.student: round(r.seconds, 2) for r in results}}
        (out / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    if not quiet:
        print(summary_table(results, course))
        print(f"grades: {out / 'grades.csv'}   feedback: {out / 'feedback'}")
    return results


def default_options(jobs: int = 1, **overrides) -> Options:
    threads = max(1, (os.cpu_count() or 1) // max(1, jobs))
    values = dict(cell_timeout=None, timeout=1800.0, mem_mib=6144, check_wall=60.0,
                  case_wall=10.0, check_mem_mib=1024, threads=threads,
                  data=os.environ.get("GCL4SR_DATA"))
    values.update(overrides)
    return Options(**values)


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(
        description="Autograde every submission with nbgrader, write grades.csv and feedback.")
    parser.add_argument("submissions", type=Path,
                        help="submitted/ folder, a course root, or <student>_*.ipynb files")
    parser.add_argument("--out", type=Path, default=Path("graded"),
                        help="output course folder (default: graded/)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--data", help="Home data folder for the notebooks "
                        "(default: $GCL4SR_DATA)")
    parser.add_argument("--source", type=Path, help="assignment source folder "
                        "(default: solutions/gcl4sr)")
    parser.add_argument("--cell-timeout", type=int,
                        help="seconds per cell (default: the nbgrader config's)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds per submission, all cells together (default 1800)")
    parser.add_argument("--mem-mib", type=int, default=6144,
                        help="address space of nbgrader and the kernel, MiB (default 6144)")
    parser.add_argument("--check-wall", type=float, default=60.0,
                        help="seconds per hidden check (default 60)")
    parser.add_argument("--case-wall", type=float, default=10.0,
                        help="seconds per hidden case (default 10)")
    parser.add_argument("--keep-work", action="store_true", help="keep the private folders")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    options = default_options(args.jobs, cell_timeout=args.cell_timeout, timeout=args.timeout,
                              mem_mib=args.mem_mib, check_wall=args.check_wall,
                              case_wall=args.case_wall, keep=args.keep_work,
                              data=args.data or os.environ.get("GCL4SR_DATA"))
    return grade_class(args.submissions, args.out, args.jobs, options, args.source)


if __name__ == "__main__":
    main()
