"""What several parts of the instructor side share; it imports none of them:

* :mod:`.options`: the grading limits and options, one home for their defaults.
* :mod:`.records`: a submission's result, its statuses, a cell's grade id.
* :mod:`.forking`: commands forked from a warm server (nbgrader's, the check servers).
* :mod:`.procs`: processes: kill a tree, run a command under limits, priorities, the
  ``limits`` wrapper.
"""
