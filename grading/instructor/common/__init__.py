"""What several parts of the instructor side share; it imports none of them:

* :mod:`.options`: the grading limits and options, one home for their defaults.
* :mod:`.records`: a submission's result, its statuses, a cell's grade id.
* :mod:`.procs`: processes: kill a tree, run a command under limits, the ``limits`` wrapper.
"""
