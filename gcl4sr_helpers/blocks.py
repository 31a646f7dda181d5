"""Row slices, for computing a large tensor (or its gradient) one block at a time."""

from __future__ import annotations

BLOCK_ELEMENTS = 1 << 20  # elements per block: a block's temporaries stay in cache


def slices(n: int, size: int) -> list[slice]:
    """``range(n)`` cut into consecutive slices of ``size`` (the last may be shorter)."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def row_blocks(n: int, width: int | None = None) -> list[slice]:
    """Row slices of an ``[n, width]`` matrix (default square) of about BLOCK_ELEMENTS each."""
    return slices(n, max(1, BLOCK_ELEMENTS // max(width or n, 1)))
