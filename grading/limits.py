"""Run a command under resource limits (used for ``nbgrader autograde`` and its kernel).

    python -m grading.limits --as-mib 6144 [--cpu 900] [--fsize-mib 1024] -- CMD ARGS...

Limits are per process and inherited: the kernel that nbgrader starts gets the same
address-space cap, so a memory hog raises ``MemoryError`` inside its cell instead of
taking the machine (or another student's grading) down.
"""

from __future__ import annotations

import argparse
import os
import resource


def apply(as_mib: int | None, cpu: int | None, fsize_mib: int | None) -> None:
    for kind, value in ((resource.RLIMIT_AS, as_mib and as_mib << 20),
                        (resource.RLIMIT_CPU, cpu),
                        (resource.RLIMIT_FSIZE, fsize_mib and fsize_mib << 20),
                        (resource.RLIMIT_CORE, 0)):
        if value is None:
            continue
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(kind, (value, hard))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-mib", type=int, help="address space per process (MiB)")
    parser.add_argument("--cpu", type=int, help="CPU seconds per process")
    parser.add_argument("--fsize-mib", type=int, help="largest file a process may write (MiB)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    apply(args.as_mib, args.cpu, args.fsize_mib)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
