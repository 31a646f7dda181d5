"""The instructor's grader of the GCL4SR course kit, in two trust zones.

* :mod:`grading.kernel` is all that runs inside a student's kernel: the ``grade_*`` calls
  of the hidden test cells, tamper detection, the function bundler, the check-server
  client, the check registry, the kernel's resource limits and its start in the sandbox
  (``launch``, ``prestart``). It imports only the standard library and ``grading.kernel.*``.
* :mod:`grading.instructor` runs only on the instructor's side, in folders by what they do
  (its docstring maps them): ``run`` (a class run's phases: discover, course, grade one,
  verify, output), ``report`` (the class report), ``checking`` (the check server and its
  sandbox, the hidden inputs, the reference answers, bubblewrap), ``builders`` (the check
  constants, the typical mistakes, the student edition, full training) and ``common`` (the
  limits, the records, the process utilities).
* The top-level modules are the instructor's commands (``python -m grading.grade_class``,
  ``grading.release``, ``grading.reference_run``, ``grading.train``,
  ``grading.make_check_constants``) and the nbgrader configuration.

Import rule: the instructor side may import the kernel side, never the reverse; the engine
``gcl4sr_helpers`` imports neither (``tests/test_no_answers.py`` enforces both).
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The kit's folder (the repository): the one home of that path on the instructor's side."""
