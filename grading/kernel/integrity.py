"""Tamper detection in the student's kernel: whether the notebook altered how a returned
score is displayed (reported to the check server, which then gives the check 0).

This is a deterrent, not evidence: points come only from the check server's own runs
(:mod:`grading.instructor.run.verify`), so a kernel that hides its tampering gains nothing."""

from __future__ import annotations

import sys
from pathlib import Path

from .i18n import claim


def _from_ipython(function) -> bool:
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        return False
    parts = Path(code.co_filename).parts
    return "IPython" in parts or "ipykernel" in parts


def display_tampering() -> list[dict]:
    """How the kernel's display of a returned float was altered, as claims ``tamper.<key>``
    (:func:`~grading.kernel.i18n.claim`; an empty list: it was not)."""
    shell_module = sys.modules.get("IPython")
    get_ipython = getattr(shell_module, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is None:
        return []
    problems = []
    hook = sys.displayhook
    if hook is not getattr(shell, "displayhook", None):
        problems.append(claim("tamper.displayhook"))
    for method in ("__call__", "compute_format_data", "write_format_data", "finish_displayhook"):
        if not _from_ipython(getattr(type(hook), method, None)):
            problems.append(claim("tamper.displayhook_method", method=method))
    formatter = getattr(shell, "display_formatter", None)
    plain = getattr(formatter, "formatters", {}).get("text/plain")
    if not _from_ipython(getattr(type(formatter), "format", None)):
        problems.append(claim("tamper.format"))
    if plain is None or not _from_ipython(getattr(type(plain), "__call__", None)):  # noqa: B004
        problems.append(claim("tamper.plain"))
    else:
        printers = getattr(plain, "type_printers", {})
        deferred = getattr(plain, "deferred_printers", {})
        for kind in (float, int):
            printer = printers.get(kind)
            if printer is not None and not _from_ipython(printer):
                problems.append(claim("tamper.printer", kind=kind.__name__))
            if ("builtins", kind.__name__) in deferred:
                problems.append(claim("tamper.deferred", kind=kind.__name__))
        if not getattr(plain, "enabled", True):
            problems.append(claim("tamper.plain_off"))
    return problems
