"""nbgrader configuration of the course (nbgrader 0.9.6).

Use it with ``--config grading/nbgrader_config.py`` (``python -m grading.release`` does),
and run nbgrader with ``PYTHONPATH=<repository root>`` so that hidden test cells can import
``grading``, and ``GCL4SR_DATA`` pointing at the Home folder (or ``data/home/`` filled).

Layout: the course root is the repository root; the assignment ``gcl4sr`` has its source
(solution build) in ``solutions/gcl4sr/`` and its student release in ``notebooks/gcl4sr/``.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

ROOT = Path(__file__).resolve().parents[1]

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
# Under nbgrader the notebook runs in quick mode (NBGRADER_EXECUTION is set): the whole
# notebook takes well under a minute, so a cell that needs 2 minutes is stuck.
c.ExecutePreprocessor.timeout = 120

# --- autograde --------------------------------------------------------------------------
# A student who deletes a test cell gets it back from the source.
c.OverwriteCells.add_missing_cells = True
