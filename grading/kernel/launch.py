"""Start a graded kernel inside its sandbox:
``python -I launch.py CONNECTION_FILE NPROC COMMAND...``.

It runs as the sandbox's root, whose only capabilities are those needed to drop them. It
copies the connection file (nbgrader writes it readable by its owner alone) into the
sandbox's private ``/tmp``, readable by the unprivileged uid the kernel then runs as (``-``:
none yet, a kernel started before its turn gets it later, :mod:`grading.kernel.prestart`); sets
a hard ``RLIMIT_NPROC`` of ``NPROC`` tasks more than the sandbox holds now (``0``: none),
which that uid cannot raise; and
execs ``COMMAND`` (``setpriv ... -- python -m ipykernel_launcher -f COPY``) in its place.
Standard library only, like the rest of :mod:`grading.kernel`.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys

COPY = "/tmp/kernel-connection.json"
LATER = "-"  # no connection file yet


def main(argv: list[str]) -> None:
    connection, nproc, command = argv[0], int(argv[1]), argv[2:]
    if connection != LATER:
        shutil.copyfile(connection, COPY)
        os.chmod(COPY, 0o644)
    if nproc:  # the sandbox's own PID namespace: /proc shows its tasks alone
        present = sum(len(os.listdir(f"/proc/{pid}/task")) for pid in os.listdir("/proc")
                      if pid.isdigit())
        resource.setrlimit(resource.RLIMIT_NPROC, (present + nproc, present + nproc))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
