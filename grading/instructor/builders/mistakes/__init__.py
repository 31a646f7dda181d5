"""The registry of typical mistakes: id -> its code; what it gets wrong is the grader's
catalogue's ``mistake.<id>``, in both languages (:meth:`Mistake.what`).

Each mistake is a deliberately wrong answer to one TODO written as a student would write it: a
notebook function with the TODO's signature, using only names the notebook has (``math``,
``torch``, ``Tensor``, ``Data``, ``read_item_sequences``, ``convert_to_pyg_data``,
``gaussian_kernel``; ``zip`` without ``strict``). Its id is ``<check>.<key>``; where the
students' checks name the mistake, ``key`` is its hint's key in ``gcl4sr_helpers.checks
.HINT_TABLES`` (the id is the one :mod:`grading.instructor.report.hints` reports,
:attr:`Mistake.hint` the text). Those without a hint (``mmd.detached``,
``mmd.wrong_bandwidth``, the self-loop, duplicate-truth and list-length ones) only the hidden
checks catch, each in the sub-check of the docstring rule it breaks.
Nothing else restates a mistake: :mod:`..check_constants` stores what each hinted one gives,
the hostile submissions (``tests/fixtures/make_submissions.py``) put a mistake's source,
renamed to the notebook's function (:meth:`Mistake.source`), into a TODO cell, and the tests
take their mistakes here.

One module per TODO, in the notebook's order: :mod:`.witg`, :mod:`.metrics` (Recall@k and
NDCG@k), :mod:`.mmd`, :mod:`.contrastive` (the optional, ungraded NT-Xent, whose check names
its mistakes from properties, not from stored values); importing this package registers them
all.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from grading.kernel.i18n import text


@dataclass(frozen=True)
class Mistake:
    """One typical mistake: ``id`` (``<check>.<key>``) and its function."""

    id: str
    function: Callable

    def what(self, lang: str) -> str:
        """What it gets wrong, in ``lang``."""
        return text(f"mistake.{self.id}", lang)

    @property
    def check(self) -> str:
        return self.id.partition(".")[0]

    @property
    def hint(self) -> str | None:
        """The hint the students' check prints for this mistake (``None``: it has none)."""
        from gcl4sr_helpers.checks import HINT_TABLES

        return HINT_TABLES.get(self.check, {}).get(self.id.partition(".")[2])

    def source(self, name: str | None = None) -> str:
        """The function as a notebook cell holds it: no decorator, renamed to ``name`` (the
        continuation lines of its signature moved to stay aligned)."""
        text = inspect.getsource(self.function)
        node = ast.parse(text).body[0]
        lines = text.splitlines(keepends=True)[node.lineno - 1:]
        if name:
            old, shift = self.function.__name__, len(name) - len(self.function.__name__)
            lines[0] = lines[0].replace(f"def {old}(", f"def {name}(", 1)
            for index in range(1, node.body[0].lineno - node.lineno):
                if shift < 0 and lines[index][:-shift].strip():
                    raise ValueError(f"{self.id}: cannot move {lines[index]!r} left")
                lines[index] = " " * shift + lines[index] if shift >= 0 else lines[index][-shift:]
        return "".join(lines)


MISTAKES: dict[str, Mistake] = {}


def mistake(mistake_id: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the mistake ``mistake_id``."""
    def register(function: Callable) -> Callable:
        if mistake_id in MISTAKES:
            raise ValueError(f"mistake {mistake_id!r} registered twice")
        MISTAKES[mistake_id] = Mistake(mistake_id, function)
        return function
    return register


from . import contrastive, metrics, mmd, witg  # noqa: E402, F401  (they register their mistakes)
