"""Tamper detection in the student's kernel: what the visible tests and the score display
rely on, and whether the notebook replaced it."""

from __future__ import annotations

import functools
import sys
import types
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
        problems.append("sys.displayhook was replaced")
    for method in ("__call__", "compute_format_data", "write_format_data", "finish_displayhook"):
        if not _from_ipython(getattr(type(hook), method, None)):
            problems.append(f"displayhook.{method} was replaced")
    formatter = getattr(shell, "display_formatter", None)
    plain = getattr(formatter, "formatters", {}).get("text/plain")
    if not _from_ipython(getattr(type(formatter), "format", None)):
        problems.append("display_formatter.format was replaced")
    if plain is None or not _from_ipython(getattr(type(plain), "__call__", None)):  # noqa: B004
        problems.append("the text/plain formatter was replaced")
    else:
        printers = getattr(plain, "type_printers", {})
        deferred = getattr(plain, "deferred_printers", {})
        for kind in (float, int):
            printer = printers.get(kind)
            if printer is not None and not _from_ipython(printer):
                problems.append(f"a display printer for {kind.__name__} was registered")
            if ("builtins", kind.__name__) in deferred:
                problems.append(f"a deferred display printer for {kind.__name__} was registered")
        if not getattr(plain, "enabled", True):
            problems.append("the text/plain formatter was disabled")
    return problems


_BUILTINS = ("abs", "all", "any", "dict", "enumerate", "float", "getattr", "hasattr", "int",
             "isinstance", "len", "list", "max", "min", "print", "range", "repr", "round", "set",
             "sorted", "str", "sum", "tuple", "type", "zip")
_NATIVE = {"math": ("isclose", "log2", "log", "sqrt", "exp", "fsum"),
           "torch": ("allclose", "isclose", "equal", "randn", "zeros", "ones", "tensor",
                     "manual_seed", "is_tensor"),
           "numpy": ("allclose", "isclose", "array_equal")}
_HELPER_MODULES = ("gcl4sr_helpers.checks", "gcl4sr_helpers.graph", "gcl4sr_helpers.data",
                   "gcl4sr_helpers.losses")


def _native(obj, package: str) -> bool:
    """A C function or class, or a Python function whose code lives in ``package``
    (through decorators from ``functools``/``contextlib``); a notebook function is not."""
    for _ in range(8):
        if isinstance(obj, functools.partial):
            return False
        func = getattr(obj, "__func__", obj)
        code = getattr(func, "__code__", None)
        if code is None:
            return type(obj).__module__ != "__main__"
        path = Path(code.co_filename)
        if package in path.parts:
            return True
        if path.name in ("contextlib.py", "functools.py") and hasattr(func, "__wrapped__"):
            obj = func.__wrapped__
            continue
        return False
    return False


def kernel_integrity() -> list[str]:
    """Functions the visible tests rely on that the notebook replaced (empty: none).

    Visible test cells run in the student's kernel, so a notebook that replaces
    ``math.isclose``, a builtin or one of the course's ``check_*`` helpers can make them
    pass. ``grading.grade_class`` does not trust the visible tests of such a submission.
    """
    import builtins

    problems = [f"builtins.{name}" for name in _BUILTINS
                if not isinstance(getattr(builtins, name, None),
                                  (types.BuiltinFunctionType, type))]
    for module_name, names in _NATIVE.items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        problems += [f"{module_name}.{name}" for name in names
                     if hasattr(module, name) and not _native(getattr(module, name),
                                                              module_name)]
    main = vars(sys.modules.get("__main__", types.ModuleType("__main__")))
    for module_name in _HELPER_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if (isinstance(value, types.FunctionType) and not _native(value, "gcl4sr_helpers")
                    and value.__module__ in ("__main__", module_name)):
                problems.append(f"{module_name}.{name}")
        if module_name.endswith(".checks"):  # the helpers the test cells call by name
            for name, value in list(main.items()):
                original = vars(module).get(name)
                if isinstance(original, types.FunctionType) and value is not original:
                    problems.append(f"{name} (notebook global)")
    return sorted(set(problems))


