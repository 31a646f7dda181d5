"""A class run's phases, in the order :func:`grading.instructor.classrun.grade_class` runs
them (their limits: :mod:`grading.instructor.common.options`; their records:
:mod:`grading.instructor.common.records`):

* :mod:`.discover`: the submissions (nbgrader's layout, a course root or a flat folder).
* :mod:`.course`: the course template: source, release, gradebook, parts, points, hidden calls.
* :mod:`.executors`: where submissions are graded: here, ``jobs`` at a time, or on Dask.
* :mod:`.ahead`: the next submission prepared while one is graded.
* :mod:`.grade_one`: one submission, in a private copy of the course, under limits.
* :mod:`.graded_kernel`: its kernel: environment, sandbox, started before its turn.
* :mod:`.provisioner`: nbgrader's side of that kernel: the hand-over of its connection.
* :mod:`.warm`: nbgrader's commands forked from a warm interpreter.
* :mod:`.server_process`: a submission's check server, forked from a warm one before the
  notebook runs.
* :mod:`.verify`: points from the check server's records, never from the kernel.
* :mod:`.output`: the output course: gradebook, feedback, ``grades.csv``, the summary.
* :mod:`.feedback_safety`: feedback notebooks bounded and without student markup.
"""
