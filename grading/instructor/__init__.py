"""The instructor's side of the grader: nothing here runs in a student's kernel.

Its parts, by what they do (each folder's ``__init__`` lists its modules in order):

* :mod:`.classrun`: a class run, phase by phase (:func:`~.classrun.grade_class`): the
  phases of :mod:`.run`, then the class report of :mod:`.report`.
* :mod:`.run`: a class run's phases: :mod:`.run.discover` (the submissions),
  :mod:`.run.course` (the course template), :mod:`.run.executors` (here or on Dask),
  :mod:`.run.ahead` (the next submission prepared meanwhile), :mod:`.run.grade_one` (one
  submission: :mod:`.run.graded_kernel` starts its kernel, :mod:`.run.provisioner` hands it
  to nbgrader, :mod:`.run.warm` forks nbgrader, :mod:`.run.server_process` its check
  server), :mod:`.run.verify` (points from the server's records), :mod:`.run.output`
  (gradebook, feedback, ``grades.csv``, with :mod:`.run.feedback_safety`).
* :mod:`.report`: the class report: :mod:`.report.class_report` (``report.json``,
  ``report.html``), :mod:`.report.report_page`, :mod:`.report.results`,
  :mod:`.report.hints`, :mod:`.report.similarity`.
* :mod:`.checking`: the check server and the sandboxes: :mod:`.checking.check_server` (with
  :mod:`.checking.zygote`, :mod:`.checking.intake` and :mod:`.checking.cases`),
  :mod:`.checking.battery` (hidden inputs and verdicts), :mod:`.checking.reference` (the
  answers), :mod:`.checking.sandbox` (the untrusted side), :mod:`.checking.isolation`
  (bubblewrap).
* :mod:`.common`: what several parts share: :mod:`.common.options` (the limits and their
  defaults), :mod:`.common.records` (a submission's result: every phase and the report),
  :mod:`.common.forking` (commands forked from a warm server), :mod:`.common.procs`
  (processes, limits, priorities).
* :mod:`.builders`: :mod:`.builders.check_constants` (the numbers behind the students'
  checks, from the registry of typical mistakes in :mod:`.builders.mistakes` and the seed runs
  in ``home_seed_runs.json``), :mod:`.builders.edition` (the student edition),
  :mod:`.builders.fulltrain` (full training).

Imports go one way: :mod:`.classrun` uses every part; :mod:`.report` uses :mod:`.run` (the
course) and :mod:`.common`; :mod:`.run` uses :mod:`.checking` (the sandboxes) and
:mod:`.common`; :mod:`.builders` uses :mod:`.checking` (the reference); :mod:`.checking`
uses only :mod:`.common`, which uses none of them. The folders' ``__init__`` modules import
nothing: the check sandbox imports :mod:`.checking.sandbox` with nothing else of this side.
"""
