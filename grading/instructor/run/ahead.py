"""Submissions prepared ahead: while a submission is graded, the next one's check server and
kernel start (:func:`~.grade_one.prepare`), so that its sandbox zygote and kernel have
imported torch, PyG and the engine when its turn comes.

Each job takes its submission (prepared ahead, or prepared then) and starts preparing the
first submissions that no job has claimed yet, ``AHEAD`` at a time, in the background and
``AHEAD_NICE``: the submissions being graded keep the cores they need, the preparation takes
what they leave. What was prepared and never taken (the class run stopped) is released by
:meth:`Ahead.close`: its kernel and check server stopped (its folder goes with the class
run's).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future

from .discover import Submission
from .grade_one import Prepared

AHEAD = 1
"""Submissions prepared ahead at a time: while one is graded (its cells keep about one core
busy), the next one's kernel and zygote import on what is left. Two ahead only moved work to
the start of a short class (measured: 4 submissions 0.4 s slower each, 12 no faster)."""
AHEAD_NICE = 10
"""Niceness of a submission prepared ahead, until its turn (:meth:`Prepared.promote`)."""


class Ahead:
    """The submissions of a class run, each prepared by ``prepare(sub, nice)`` before its
    turn."""

    def __init__(self, prepare: Callable[[Submission, int], Prepared],
                 subs: list[Submission]) -> None:
        self._prepare, self._subs = prepare, subs
        self._lock = threading.Lock()
        self._next = 0  # the first submission no job has claimed
        self._ready: dict[int, Future] = {}  # claimed, not taken: prepared or being prepared

    def take(self, sub: Submission) -> Prepared:
        """``sub`` prepared; the next unclaimed one is being prepared in the background."""
        index = next(i for i, s in enumerate(self._subs) if s is sub)
        with self._lock:
            own = self._ready.pop(index, None)
            self._next = max(self._next, index + 1)
            following = []
            while len(self._ready) < AHEAD and self._next < len(self._subs):
                self._ready[self._next] = Future()
                following.append((self._ready[self._next], self._subs[self._next]))
                self._next += 1
        if own is None:
            own = Future()
            self._run(own, sub, 0)
        for future, later in following:
            threading.Thread(target=self._run, args=(future, later, AHEAD_NICE),
                             daemon=True).start()
        return own.result()

    def _run(self, future: Future, sub: Submission, nice: int) -> None:
        try:
            future.set_result(self._prepare(sub, nice))
        except BaseException as error:  # noqa: BLE001 - raised again where it is taken
            future.set_exception(error)

    def close(self) -> None:
        """Release what was prepared and never taken, once its preparation has ended."""
        with self._lock:
            left, self._ready = list(self._ready.values()), {}
        for future in left:
            if future.exception() is None:
                future.result().release()
