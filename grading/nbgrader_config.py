"""nbgrader configuration of the course (nbgrader 0.9.6).

nbgrader 0.9.6 has no ``--config`` flag: pass this file as
``--NbGrader.config_file=grading/nbgrader_config.py`` (``python -m grading.release`` and the
tests do), for example::

    GCL4SR_DATA=/path/to/home nbgrader validate \
        solutions/gcl4sr/gcl4sr.ipynb --NbGrader.config_file=grading/nbgrader_config.py

The kernel gets the repository root on its path (below), so hidden test cells import
``grading`` without ``PYTHONPATH``; ``GCL4SR_DATA`` points at the Home folder (or leave it
unset with ``data/home/`` filled).

Layout: the course root is the repository root; the assignment ``gcl4sr`` has its source
(solution build) in ``solutions/gcl4sr/`` and its student release in ``notebooks/gcl4sr/``.
A course of its own (another root, a course id, an exchange) loads this file from its own
``nbgrader_config.py`` with ``load_subconfig`` (README: "A course, step by step").
"""

from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

ROOT = Path(__file__).resolve().parents[1]
try:  # the class command and `python -m grading.release` have the kit on their path
    from grading.kernel.limits import CELL_TIMEOUT_S
except ImportError:  # plain nbgrader in a course of its own (no PYTHONPATH): the kit's file
    from runpy import run_path

    CELL_TIMEOUT_S = run_path(str(ROOT / "grading" / "kernel" / "limits.py"))["CELL_TIMEOUT_S"]

# --- course directory -------------------------------------------------------------------
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The diff-friendly jupytext source of the solution build must never reach students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            "gcl4sr.py"]

# --- generate_assignment ----------------------------------------------------------------
c.ClearSolutions.code_stub = {
    "python": "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()",
}
c.ClearSolutions.text_stub = "여기에 답을 작성하세요 (YOUR ANSWER HERE)"

# --- execution (validate / autograde) ---------------------------------------------------
# Seconds per cell: grading/kernel/limits.py (CELL_TIMEOUT_S) says why this many.
c.ExecutePreprocessor.timeout = CELL_TIMEOUT_S

# --- autograde --------------------------------------------------------------------------
# A student who deletes a test cell gets it back from the source (the grader relies on it).
c.OverwriteCells.add_missing_cells = True

# =========================================================================================
# Auto-grader safety settings (owned by the auto-grader: grading/instructor/ and
# grading/kernel/ rely on them). Everything above is the notebook's configuration.
# =========================================================================================
# Per-cell timeout and deleted test cells: set above (ExecutePreprocessor.timeout,
# OverwriteCells.add_missing_cells); a cell that runs out of time is interrupted, scores 0 if
# it is a test cell, and grading goes on with the next cell.
c.Execute.interrupt_on_timeout = True
# A hidden check may take up to a minute (its own limit); the kernel must stay responsive.
c.Execute.iopub_timeout = 10
# A warning on stderr must not cost a test cell its points: drop stderr outputs made only of
# warning lines ("file.py:12: SomeWarning: ..." and their indented source lines).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"\A(?:(?:[^\n]*Warning: |[ \t])[^\n]*(?:\n|\Z))+\Z"
# Bound what a submission can put into the autograded notebook and the feedback.
c.LimitOutput.max_lines = 500
c.LimitOutput.max_traceback = 60
# Memory cap of the kernel itself (also under plain `nbgrader autograde`; the class command
# adds its own limits around nbgrader): see grading/kernel/limits.py.
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    # The kit's root on the kernel's path, first: hidden test cells import grading.kernel, so
    # plain `nbgrader autograde` needs no PYTHONPATH (the class command sets it too).
    f"--IPKernelApp.exec_lines=__import__('sys').path.append({str(ROOT)!r})",
    "--IPKernelApp.exec_lines=from grading.kernel.limits import cap_kernel_memory as _cap; "
    "_cap(); del _cap",
]
