"""What the check server takes from a kernel, which it does not trust: the bundle file,
opened only beneath the submission's exchange folder, and the request's fields, capped.

Every refusal of a bundle (missing, outside the folder, through a symbolic link or ``..``,
not a regular file) gets one reply, ``REFUSED``, so that replies tell nothing about the
instructor's files; nothing outside the folder is ever opened.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_BUNDLE = 96 << 20
MAX_PATH = 4096
MAX_POINTS = 1000.0
MAX_TAMPER, MAX_TEXT = 8, 200  # tamper entries kept from a request, characters of each
MAX_REFUSED = 300  # characters of the kernel's refusal kept
MAX_REASON = 300  # characters of a recorded verdict's reason

REFUSED = "nobundle"  # the status of a refused bundle (the server words it: ``server.nobundle``)
BIG = "big"


def copy_bundle(source: str, target: Path, root: Path | None) -> str | None:
    """Copy the kernel's bundle file to ``target``; the status if it is refused.

    With ``root``, ``source`` is resolved beneath it before anything is opened
    (:func:`_open_beneath`): nothing outside ``root`` is ever opened. Every refusal (missing,
    outside, through a symbolic link or ``..``, not a regular file) gets the one reply
    ``REFUSED``, so that replies tell nothing about the instructor's files; a bundle of more
    than ``MAX_BUNDLE`` bytes is ``BIG``."""
    fd = _open_plain(source) if root is None else _open_beneath(source, root)
    if fd is None:
        return REFUSED
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return REFUSED
        if info.st_size > MAX_BUNDLE:
            return BIG
        return _copy_at_most(fd, target, MAX_BUNDLE)
    finally:
        os.close(fd)


def _copy_at_most(fd: int, target: Path, limit: int) -> str | None:
    copied = 0
    with os.fdopen(fd, "rb", closefd=False) as handle, open(target, "wb") as out:
        while chunk := handle.read(1 << 20):
            copied += len(chunk)
            if copied > limit:  # it grew after the check
                return BIG
            out.write(chunk)
    return None


def _open_plain(source: str) -> int | None:
    try:
        return os.open(source, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except (OSError, ValueError, TypeError):
        return None


def _open_beneath(source: str, root: Path) -> int | None:
    """``source`` opened read-only if its text names a path beneath ``root`` (as given or
    resolved) without ``..``, each part opened from the folder before it with ``O_NOFOLLOW``
    (no symbolic link is followed, the path cannot leave ``root``); else ``None``."""
    if not source or len(source) > MAX_PATH or "\0" in source:
        return None
    path = PurePosixPath(source)
    for base in dict.fromkeys((root.absolute(), root.resolve())):
        if path.is_relative_to(base):
            parts = path.relative_to(base).parts
            return _open_parts(base, parts) if parts and ".." not in parts else None
    return None


def _open_parts(base: Path, parts: tuple[str, ...]) -> int | None:
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        folder = os.open(base, os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        for part in parts[:-1]:
            inner = os.open(part, flags | os.O_DIRECTORY, dir_fd=folder)
            os.close(folder)
            folder = inner
        return os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)


def points_of(value) -> float | None:
    """A request's points: a finite number in ``[0, MAX_POINTS]``, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if 0.0 <= value <= MAX_POINTS else None


def texts(value, word: Callable[[object], str] = str) -> list[str]:
    """A request's list of texts: at most ``MAX_TAMPER`` entries, each as ``word`` says, of
    ``MAX_TEXT`` characters."""
    items = value[:MAX_TAMPER] if isinstance(value, list) else [value] if value else []
    return [word(item)[:MAX_TEXT] for item in items]


def clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def bounded(verdict: dict) -> dict:
    return {**verdict, "reason": clip(str(verdict["reason"]), MAX_REASON)}
