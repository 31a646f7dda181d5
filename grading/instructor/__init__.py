"""The instructor's side of the grader: nothing here runs in a student's kernel.

Its modules, by what they do (a map for now; the folders do not group them yet):

* **A class run**, in the order :func:`~grading.instructor.classrun.grade_class` runs it:
  :mod:`.options` (limits), :mod:`.discover` (the submissions), :mod:`.course` (the course
  template), :mod:`.executors` (here or on Dask), :mod:`.grade_one` (one submission:
  :mod:`.warm` forks nbgrader, :mod:`.server_process` runs its check server), :mod:`.verify`
  (points from the server's records), :mod:`.output` (gradebook, feedback, ``grades.csv``,
  with :mod:`.feedback_safety`), then the class report (:mod:`.class_report`,
  :mod:`.report_page`, :mod:`.results`, :mod:`.hints`, :mod:`.similarity`). Every phase
  shares :mod:`.records`.
* **The check server and the sandboxes**: :mod:`.check_server` (with :mod:`.intake` and
  :mod:`.cases`), :mod:`.battery` (hidden inputs and verdicts), :mod:`.reference` (the
  answers), :mod:`.sandbox` (the untrusted side), :mod:`.isolation` (bubblewrap) and
  :mod:`.procs` (processes, limits).
* **Builders**: :mod:`.check_constants` (the numbers behind the students' checks, from the
  registry of typical mistakes in :mod:`.mistakes`), :mod:`.edition` (the student edition),
  :mod:`.fulltrain` (full training).
"""
