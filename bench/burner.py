"""A CPU-bound neighbour for benchmarks: one process that keeps one core busy until killed.

    python -m bench.burner [--seconds S]

Pure Python arithmetic, no threads and no memory traffic: it stands for a browser tab, another
kernel or a second grading job that holds a core.
"""

from __future__ import annotations

import argparse
import time


def burn(seconds: float) -> int:
    """Spin for ``seconds`` (forever if ``seconds <= 0``); returns the iterations done."""
    end = time.monotonic() + seconds if seconds > 0 else float("inf")
    count = 0
    while time.monotonic() < end:
        for _ in range(10_000):
            count += 1
    return count


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.0, help="0: until killed")
    burn(parser.parse_args().seconds)
