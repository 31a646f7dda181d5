"""The function bundler: what the sandbox needs to rebuild a notebook function elsewhere.

:func:`make_bundle` captures the function object it is given: its source, the source of
the notebook functions and classes it uses, and how to rebuild each other global (an
import by module name, a literal, or a pickle);
:func:`grading.instructor.checking.sandbox.load_function` rebuilds it.
"""

from __future__ import annotations

import ast
import inspect
import pickle
import sys
import textwrap
import types

from .i18n import claim

MAX_LITERAL = 1 << 20
MAX_PICKLE = 64 << 20


class Refused(Exception):
    """The object handed to a check cannot be graded: ``claim`` is the reason, the catalogue's
    ``refused.<key>`` with its fields, which the server words in the submission's language."""

    def __init__(self, key: str, **fields: object) -> None:
        super().__init__(key, fields)
        self.claim = claim(f"refused.{key}", **fields)


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _header_names(tree: ast.AST) -> set[str]:
    """Names evaluated when a ``def``/``class``/``lambda`` statement runs."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            parts = list(getattr(node, "decorator_list", [])) + node.args.defaults + [
                d for d in node.args.kw_defaults if d is not None]
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs + [
                a for a in (node.args.vararg, node.args.kwarg) if a is not None]
            parts += [a.annotation for a in arguments if a.annotation is not None]
            if getattr(node, "returns", None) is not None:
                parts.append(node.returns)
        elif isinstance(node, ast.ClassDef):
            parts = node.decorator_list + node.bases + [k.value for k in node.keywords]
        else:
            continue
        for part in parts:
            names |= {n.id for n in ast.walk(part) if isinstance(n, ast.Name)}
    return names


def _class_source(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        pass
    for value in vars(cls).values():  # IPython classes: find the cell through a method
        code = getattr(getattr(value, "__func__", value), "__code__", None)
        if code is None:
            continue
        import linecache

        lines = linecache.getlines(code.co_filename)
        tree = ast.parse("".join(lines))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                return ast.get_source_segment("".join(lines), node, padded=False) or ""
    raise Refused("class_source", name=cls.__name__)


def _source(obj) -> str:
    if isinstance(obj, type):
        text = _class_source(obj)
    else:
        try:
            text = inspect.getsource(obj)
        except (OSError, TypeError) as error:
            raise Refused("no_source", name=obj.__name__, error=error) from None
    return textwrap.dedent(text)


class _Bundler:
    def __init__(self) -> None:
        self.bundle: dict = {"sources": [], "imports": [], "literals": {}, "pickles": {},
                             "notes": []}
        self.done: set[int] = set()
        self.names: set[str] = set()

    def add_definition(self, obj, namespace: dict) -> None:
        """A notebook function or class: its dependencies first, then its source."""
        if id(obj) in self.done:
            return
        self.done.add(id(obj))
        text = _source(obj)
        if getattr(obj, "__name__", "") == "<lambda>":
            raise Refused("lambda")
        try:
            tree = ast.parse(text)
        except SyntaxError as error:
            raise Refused("unparsable", name=obj.__name__, error=error) from None
        names = _header_names(tree)
        if isinstance(obj, type):
            names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            for value in vars(obj).values():
                code = getattr(getattr(value, "__func__", value), "__code__", None)
                if code is not None:
                    names |= _code_names(code)
        else:
            names |= _code_names(obj.__code__)
            for name, cell in zip(obj.__code__.co_freevars, obj.__closure__ or (),
                                  strict=False):
                try:
                    self.add_value(name, cell.cell_contents, namespace)
                except ValueError:  # an empty cell
                    pass
        self.names.add(obj.__name__)
        for name in sorted(names):
            if name in namespace and name not in self.names:
                self.add_value(name, namespace[name], namespace)
        self.bundle["sources"].append(text)

    def add_value(self, name: str, value, namespace: dict) -> None:
        self.names.add(name)
        if isinstance(value, types.ModuleType):
            _refuse_grading(value.__name__)
            self.bundle["imports"].append((name, value.__name__, None))
            return
        module = getattr(value, "__module__", None)
        if isinstance(value, (types.FunctionType, type)) and module == "__main__":
            self.add_definition(value, getattr(value, "__globals__", namespace))
            if value.__name__ != name:
                self.bundle["sources"].append(f"{name} = {value.__name__}\n")
            return
        if isinstance(module, str) and module != "__main__":
            _refuse_grading(module)
            qualname = getattr(value, "__qualname__", None)
            if (isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type))
                    and isinstance(qualname, str) and "<" not in qualname):
                self.bundle["imports"].append((name, module, qualname))  # fresh from disk
                return
            owner = sys.modules.get(module)
            for attribute in (name, qualname, getattr(value, "__name__", None)):
                if isinstance(attribute, str) and _lookup(owner, attribute) is value:
                    self.bundle["imports"].append((name, module, attribute))
                    return
        text = _literal(value)
        if text is not None:
            self.bundle["literals"][name] = text
            return
        try:
            blob = pickle.dumps(value, protocol=4)
        except Exception:  # noqa: BLE001
            blob = None
        if blob is not None and len(blob) <= MAX_PICKLE:
            self.bundle["pickles"][name] = blob
        else:
            self.bundle["notes"].append(f"global {name!r} ({type(value).__name__}) not sent")


def _refuse_grading(module: str) -> None:
    if module == "grading" or module.startswith("grading."):
        raise Refused("grading")


def _lookup(owner, dotted: str):
    value = owner
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def _literal(value) -> str | None:
    if type(value) in (int, float, complex, str, bytes, bool, type(None), tuple, list, dict,
                       set, frozenset):
        try:
            text = repr(value)
            if len(text) <= MAX_LITERAL and ast.literal_eval(text) == value:
                return text
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            return None
    return None


def make_bundle(student_fn) -> dict:
    """What the sandbox needs to rebuild ``student_fn`` (see the module docstring).

    Raises :class:`Refused` (with the reason shown to the student) for anything that is not
    a function defined in the notebook.
    """
    if not isinstance(student_fn, types.FunctionType):
        raise Refused("not_a_function", kind=type(student_fn).__name__)
    module = getattr(student_fn, "__module__", None)
    if module != "__main__":
        _refuse_grading(str(module))
        raise Refused("from_module", name=student_fn.__name__, module=module)
    bundler = _Bundler()
    bundler.add_definition(student_fn, student_fn.__globals__)
    bundler.bundle["entry"] = student_fn.__name__
    return bundler.bundle


