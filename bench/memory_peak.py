"""What is allocated at the memory peak of one course training step, by part of the model.

    python -m bench.memory_peak [--data-dir DIR] [--steps 2] [--top 12]

After ``--steps`` warm-up steps of the course run (``bench.course_step``), one step runs under
``torch.profiler`` with memory profiling. Replaying its allocations and frees in time order
gives the most memory PyTorch had allocated at once above the step's start, and the blocks
alive at that moment, grouped by the model's part (``gcl4sr_helpers.model.PARTS``, "[bwd]"
for the backward pass) and the operator that allocated them. This is PyTorch's memory in use,
not the process's resident set: the C heap keeps freed blocks, so RSS is higher
(``bench.bench_engine``). On Linux with glibc the heap's size, use and free space after the
steps are printed too (``mallinfo2``).
"""

from __future__ import annotations

import argparse
import collections
import ctypes
from itertools import islice

from .course_step import course_run, timed_step  # first: the package before torch

# isort: split
from torch._C._profiler import _EventType
from torch.profiler import profile

PREFIX = "gcl4sr: "  # the model's record_function labels


def allocations(tree: list) -> list[tuple[int, int, int, list[str]]]:
    """``(time, address, bytes, names of the enclosing events)`` of every allocation (bytes
    > 0) and free (bytes < 0) in the profiler's event tree."""
    found = []

    def walk(node, path: list[str]) -> None:
        if node.tag == _EventType.Allocation:
            fields = node.extra_fields
            found.append((node.start_time_ns, fields.ptr, fields.alloc_size, path))
            return
        for child in node.children:
            walk(child, [*path, node.name])

    for root in tree:
        walk(root, [])
    return sorted(found, key=lambda event: event[0])


def peak(events: list) -> tuple[int, dict[int, tuple[int, list[str]]]]:
    """The most bytes allocated at once (above the start) and the blocks alive then."""
    live: dict[int, tuple[int, list[str]]] = {}
    current = highest = 0
    at_peak: dict[int, tuple[int, list[str]]] = {}
    for _, address, size, path in events:
        if size > 0:
            live[address] = (size, path)
        else:
            live.pop(address, None)
        current += size
        if current > highest:
            highest, at_peak = current, dict(live)
    return highest, at_peak


def label(path: list[str]) -> str:
    """``part [bwd] | operator`` for an allocation's enclosing events."""
    parts = [name.removeprefix(PREFIX) for name in path if name.startswith(PREFIX)]
    backward = any("evaluate_function" in name for name in path)
    operators = [name for name in path if name.startswith("aten::")]
    return (f"{parts[-1] if parts else '-'}{' [bwd]' if backward else ''} | "
            f"{operators[0] if operators else '-'}")


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def heap_summary() -> str | None:
    """glibc's main heap: its size, the bytes in use and the bytes free (None elsewhere)."""
    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return (f"C heap: {info.arena / 2**20:.0f} MB, {info.uordblks / 2**20:.0f} MB in use, "
            f"{info.fordblks / 2**20:.0f} MB free")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    run = course_run(args.data_dir)
    batches = iter(run.train_loader)
    for batch in islice(batches, args.steps):
        timed_step(run.trainer, batch)
    with profile(profile_memory=True, record_shapes=True) as prof:
        timed_step(run.trainer, next(batches))
    highest, alive = peak(allocations(prof.profiler.kineto_results.experimental_event_tree()))
    groups: collections.Counter[str] = collections.Counter()
    for size, path in alive.values():
        groups[label(path)] += size
    print(f"peak above the step's start: {highest / 2**20:.0f} MB; alive then:")
    for name, size in groups.most_common(args.top):
        print(f"{size / 2**20:8.1f} MB  {name}")
    print(heap_summary() or "C heap: not glibc")


if __name__ == "__main__":
    main()
