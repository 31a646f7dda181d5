"""Tamper detection in the student's kernel: whether the notebook altered how a returned
score is displayed (reported to the check server, which then gives the check 0).

This is a deterrent, not evidence: points come only from the check server's own runs
(:mod:`grading.instructor.run.verify`), so a kernel that hides its tampering gains nothing."""

from __future__ import annotations

import sys
from pathlib import Path


def _from_ipython(function) -> bool:
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        return False
    parts = Path(code.co_filename).parts
    return "IPython" in parts or "ipykernel" in parts


def display_tampering() -> list[str]:
    """How the kernel's display of a returned float was altered (empty list: it was not)."""
    shell_module = sys.modules.get("IPython")
    get_ipython = getattr(shell_module, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is None:
        return []
    problems = []
    hook = sys.displayhook
    if hook is not getattr(shell, "displayhook", None):
        problems.append("sys.displayhook을 바꿨습니다")
    for method in ("__call__", "compute_format_data", "write_format_data", "finish_displayhook"):
        if not _from_ipython(getattr(type(hook), method, None)):
            problems.append(f"displayhook.{method}를 바꿨습니다")
    formatter = getattr(shell, "display_formatter", None)
    plain = getattr(formatter, "formatters", {}).get("text/plain")
    if not _from_ipython(getattr(type(formatter), "format", None)):
        problems.append("display_formatter.format을 바꿨습니다")
    if plain is None or not _from_ipython(getattr(type(plain), "__call__", None)):  # noqa: B004
        problems.append("text/plain 포매터를 바꿨습니다")
    else:
        printers = getattr(plain, "type_printers", {})
        deferred = getattr(plain, "deferred_printers", {})
        for kind in (float, int):
            printer = printers.get(kind)
            if printer is not None and not _from_ipython(printer):
                problems.append(f"{kind.__name__} 표시 함수를 등록했습니다")
            if ("builtins", kind.__name__) in deferred:
                problems.append(f"{kind.__name__} 지연 표시 함수를 등록했습니다")
        if not getattr(plain, "enabled", True):
            problems.append("text/plain 포매터를 껐습니다")
    return problems
