"""What the instructor's commands build, besides a class's grades:

* :mod:`.check_constants`: the numbers behind the students' checks (``--run-full-seeds``
  keeps Home's seed runs in ``home_seed_runs.json``, beside it).
* :mod:`.mistakes`: the registry of typical mistakes: what each gets wrong, and its code.
* :mod:`.edition`: the student edition's contents and how they are built.
* :mod:`.fulltrain`: full training as the official GCL4SR code runs it, resumable.
"""
