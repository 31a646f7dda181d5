"""Hidden checks called by the notebook's hidden test cells: the code that runs in the kernel.

    from grading.kernel import grade_witg
    grade_witg(build_weighted_item_transition_graph, 3)

Each ``grade_*`` function compares the student's function with the reference on inputs the
student never saw, prints one line per lost sub-check (``-0.667 WITG [길이 2인 시퀀스]: 엣지
집합이 참조 답안과 다릅니다 ...``), in the graded notebook's language (:mod:`.i18n`: the class
command reads it from the notebook's metadata, never from the kernel), and returns the points
earned as a plain
``float``: the cell's last expression, which nbgrader reads as partial credit. Every check
has six sub-checks of equal weight that count only when its core sub-check passes (see
:mod:`grading.kernel.registry`); reasons never quote an expected value.

How a check runs
----------------
1. In the kernel, :func:`~grading.kernel.bundle.make_bundle` captures the *function object
   it was given*: its source (``inspect``), the source of notebook functions and classes it
   uses, and how to rebuild each other global it uses (an import by module name, a literal,
   or a pickle).
2. The bundle goes to the trusted check server
   (:mod:`grading.instructor.checking.check_server`): the class command starts one per
   submission before the kernel and passes its socket in
   ``$GCL4SR_GRADER_SOCKET``; without it the first check starts a private server.
3. The server built the hidden inputs and the expected outputs at start-up, in its own
   process, with the reference loaded from disk. It runs the bundle in a fresh,
   resource-limited sandbox process (:mod:`grading.instructor.checking.sandbox`) that cannot
   import ``grading``, and compares the outputs there.

Threat model (what a submission may do, and what happens)
---------------------------------------------------------
* Monkeypatch modules in the kernel (``torch.manual_seed``, ``random``, ``numpy``,
  ``gcl4sr_helpers.losses.gaussian_kernel``, the reference module, ``math.isclose`` ...):
  no effect. Expected values are computed in the server, which never runs student code;
  the student's function runs in a new process where imported modules come fresh from
  disk (a helper imported from a module is re-imported by name, never pickled).
* Rebind the graded name (``recall_at_k = lambda ...``, a reference function, a
  ``functools.partial`` or a callable object): the check grades the object the cell passes,
  which must be a function defined in the notebook; anything from the
  ``grading`` package is refused (0, with the reason), and ``grading`` cannot be imported
  inside the sandbox.
* Hard-code answers (return the Home graph, fixed metric values): the hidden inputs are
  generated at grading time and differ from Home, so such a function fails.
* Endless loops, memory hogs, ``os._exit``, killing its own process, fork bombs, daemons,
  huge outputs: the sandbox has a wall-clock limit per check and per case, hard
  ``RLIMIT_AS``, ``RLIMIT_CPU``, ``RLIMIT_FSIZE`` and (as an unprivileged uid when the grader
  is root) ``RLIMIT_NPROC``, and its own PID namespace, every process of which is killed
  when the check ends; the sub-checks without a result are lost with the reason. The graded
  kernel has the same hard limits and process cap (:mod:`grading.kernel.launch`).
* Tamper with the display of the score (``sys.displayhook``, IPython's formatters, a
  float type printer) so that the cell shows full marks: detected here (0 with a reason),
  and, under the class command, irrelevant: ``grading.grade_class`` takes every score from
  the server's records, read from the server's stdout, which the kernel cannot write to.
* Replace this module or its ``grade_*`` functions (``sys.modules`` tricks), fake the
  socket reply, or skip the hidden cell (deleted cells are restored by nbgrader): under the
  class command the server has no record for that check, so the part scores 0 with the
  reason "hidden check did not run". Only the first request per check counts, so a
  submission cannot probe the server and then adapt.
* Fool the *visible* tests, which run in the student's kernel (replace ``math.isclose``, a
  builtin or a helper the test cell calls, swap a function's ``__code__``, rewrite the test
  cells with an IPython input transformer): under the class command a visible test cell's
  points come from the server too. It runs the same bundled function on the public examples
  the visible tests use, in its sandbox, and compares the outputs with the reference's
  itself (the record's ``public`` verdict). What the cell showed in the kernel is feedback.
* Crash the kernel or loop forever after the tests: each check's record is kept as it
  happens on the server, so only the parts whose checks had not run yet are lost.
* Read instructor files (by absolute path or by searching ``sys.path`` and parent folders),
  open a connection, write outside its folder, read another student's work: under
  ``grading.grade_class`` only the kernel runs in bubblewrap, and ``nbgrader autograde``
  outside it (:mod:`grading.instructor.checking.isolation`): no network, and a read-only file system
  that holds the kit, the data, and as working folder a private copy of the submission's
  folder; never the course copy (the source notebook with the answers, the gradebook), the
  repository, ``grading.instructor`` or other submissions, so each attempt fails with its
  error. The kernel's environment is built from an allowlist.

Not handled: a plain ``nbgrader autograde`` outside the class command, and a class graded
where bubblewrap cannot run (``grades.csv`` then says ``NOT SANDBOXED`` on every row), give
student code the rights of the instructor's user.

Trust zone: this subpackage is all that runs inside a student's kernel. It imports only the
standard library and ``grading.kernel.*`` (``tests/test_no_answers.py`` enforces it).
"""

from __future__ import annotations

import os
import pickle
import tempfile

from .bundle import Refused, make_bundle
from .client import request
from .i18n import claim, kernel_language, text
from .integrity import display_tampering
from .registry import CHECKS

__all__ = ["grade_mmd", "grade_ndcg", "grade_recall", "grade_witg"]


def grade_witg(student_fn, points: float) -> float:
    """``build_weighted_item_transition_graph(path)``: graph equality on hidden sequence sets."""
    return _grade("witg", student_fn, points)


def grade_recall(student_fn, points: float) -> float:
    """``recall_at_k(actual, predicted, topk)`` on hidden users and edge cases."""
    return _grade("recall", student_fn, points)


def grade_ndcg(student_fn, points: float) -> float:
    """``ndcg_at_k(actual, predicted, topk)`` on hidden users and edge cases."""
    return _grade("ndcg", student_fn, points)


def grade_mmd(student_fn, points: float) -> float:
    """``mmd_loss(source, target, ...)`` on hidden batches and inside one model forward."""
    return _grade("mmd", student_fn, points)


def _grade(check: str, student_fn, points: float) -> float:
    points = float(points)
    payload: dict = {"check": check, "points": points, "tamper": display_tampering()}
    tmp = None
    if not payload["tamper"]:
        try:
            blob = pickle.dumps(make_bundle(student_fn), protocol=4)
            tmp = tempfile.mkdtemp(prefix="gcl4sr-bundle-")
            payload["bundle"] = os.path.join(tmp, "bundle.pkl")
            with open(payload["bundle"], "wb") as handle:
                handle.write(blob)
        except Refused as error:
            payload["refused"] = error.claim
        except Exception as error:  # noqa: BLE001 - e.g. an unpicklable bundle
            payload["refused"] = claim("refused.unpicklable", error=type(error).__name__,
                                       message=error)
    try:
        reply = request(payload)
    except Exception as error:  # noqa: BLE001 - no server: the part is lost, with the reason
        reply = {"error": f"{type(error).__name__}: {error}"}
    finally:
        if tmp:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
    if "error" in reply:
        print(text("kernel.not_run", kernel_language(), points=points,
                   title=CHECKS[check].title, error=reply["error"]))
        return 0.0
    for line in reply["lines"]:
        print(line)
    return float(round(float(reply["points"]), 6))
