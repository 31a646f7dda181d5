"""A class run's phases, in the order :func:`grading.instructor.classrun.grade_class` runs
them (their limits: :mod:`grading.instructor.common.options`; their records:
:mod:`grading.instructor.common.records`):

* :mod:`.discover`: the submissions (nbgrader's layout, a course root or a flat folder).
* :mod:`.course`: the course template: source, release, gradebook, parts, points, hidden calls.
* :mod:`.executors`: where submissions are graded: here, ``jobs`` at a time, or on Dask.
* :mod:`.grade_one`: one submission, in a private copy of the course, under limits.
* :mod:`.warm`: nbgrader's commands forked from a warm interpreter.
* :mod:`.server_process`: a submission's check server, started before its kernel.
* :mod:`.verify`: points from the check server's records, never from the kernel.
* :mod:`.output`: the output course: gradebook, feedback, ``grades.csv``, the summary.
* :mod:`.feedback_safety`: feedback notebooks bounded and without student markup.
"""
