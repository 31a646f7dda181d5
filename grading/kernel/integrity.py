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


_BUILTINS = ("abs", "all", "any", "dict", "enumerate", "float", "getattr", "hasattr", "int",
             "isinstance", "len", "list", "max", "min", "print", "range", "repr", "round", "set",
             "sorted", "str", "sum", "tuple", "type", "zip")
_NATIVE = {"math": ("isclose", "log2", "log", "sqrt", "exp", "fsum"),
           "torch": ("allclose", "isclose", "equal", "randn", "zeros", "ones", "tensor",
                     "manual_seed", "is_tensor"),
           "numpy": ("allclose", "isclose", "array_equal")}
_CHECKS_MODULE = "gcl4sr_helpers.checks"
_HELPER_MODULES = (_CHECKS_MODULE, "gcl4sr_helpers.graph", "gcl4sr_helpers.data",
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
    """What the visible tests rely on that the notebook replaced (empty: nothing).

    Visible test cells run in the student's kernel, so replacing what they call can make
    them pass. Two kinds of entries:

    * a dotted name (``math.isclose``, ``builtins.len``, ``gcl4sr_helpers.checks.check_mmd``):
      a module attribute the notebook replaced; any visible test may rely on it;
    * a bare name (``graph_as_dict``): a notebook global bound to something other than the
      public function of ``gcl4sr_helpers.checks`` of that name. It matters only to the
      visible test cells that call that name, which the instructor side decides
      (:func:`grading.instructor.verify.affected_cells`); any other global is the student's own.
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
    for module_name in _HELPER_MODULES:
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if (isinstance(value, types.FunctionType) and not _native(value, "gcl4sr_helpers")
                    and value.__module__ in ("__main__", module_name)):
                problems.append(f"{module_name}.{name}")
    main = vars(sys.modules.get("__main__", types.ModuleType("__main__")))
    for name, original in _test_helpers().items():
        if name in main and main[name] is not original:
            problems.append(name)
    return sorted(set(problems))


def _test_helpers() -> dict[str, types.FunctionType]:
    """The public functions of ``gcl4sr_helpers.checks`` (what the setup cell imports from)."""
    module = sys.modules.get(_CHECKS_MODULE)
    return {name: value for name, value in vars(module or types.ModuleType("_")).items()
            if isinstance(value, types.FunctionType) and not name.startswith("_")
            and value.__module__ == _CHECKS_MODULE}
