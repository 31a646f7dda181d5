"""The check server and the sandboxes student code runs in:

* :mod:`.check_server`: the trusted check server (a script): hidden inputs, verdicts, records.
* :mod:`.zygote`: the server's side of the sandbox zygote: start it, send it a check.
* :mod:`.intake`: what the server takes from a kernel: the bundle file and capped fields.
* :mod:`.cases`: run a function on a check's cases, one code path for student and reference.
* :mod:`.battery`: hidden inputs, reference outputs and sub-check verdicts.
* :mod:`.reference`: the reference answers to the notebook's TODOs.
* :mod:`.sandbox`: the untrusted side: the zygote that runs a student's function.
* :mod:`.isolation`: the bubblewrap sandboxes of the graded kernel and of the zygote.

The zygote's sandbox sees :mod:`.sandbox`, :mod:`.cases` and
:mod:`grading.instructor.common.procs` (with their packages' ``__init__``), nothing else here.
"""
