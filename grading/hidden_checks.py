"""Hidden checks called by the notebook's hidden test cells (instructor side only).

    from grading.hidden_checks import grade_witg
    grade_witg(build_weighted_item_transition_graph, 3)

Each ``grade_*`` function compares the student's function with the reference on inputs the
student never saw, prints one line per lost sub-check (``-0.5 WITG [length-2 sequences]:
edge set differs ...``) and returns the points earned as a plain ``float``: the cell's last
expression, which nbgrader reads as partial credit. Every check has six sub-checks of equal
weight (see :mod:`grading.battery`); reasons never quote an expected value.

How a check runs
----------------
1. In the kernel, :func:`make_bundle` captures the *function object it was given*: its
   source (``inspect``), the source of notebook functions and classes it uses, and how to
   rebuild each other global it uses (an import by module name, a literal, or a pickle).
2. The bundle goes to the trusted check server (:mod:`grading.check_server`): the class
   command starts one per submission before the kernel and passes its socket in
   ``$GCL4SR_GRADER_SOCKET``; without it the first check starts a private server.
3. The server built the hidden inputs and the expected outputs at start-up, in its own
   process, with the reference loaded from disk. It runs the bundle in a fresh,
   resource-limited sandbox process (:mod:`grading.sandbox`) that cannot import
   ``grading``, and compares the outputs there.

Threat model (what a submission may do, and what happens)
---------------------------------------------------------
* Monkeypatch modules in the kernel (``torch.manual_seed``, ``random``, ``numpy``,
  ``gcl4sr_helpers.losses.gaussian_kernel``, ``grading.reference``, ``math.isclose`` ...):
  no effect. Expected values are computed in the server, which never runs student code;
  the student's function runs in a new process where imported modules come fresh from
  disk (a helper imported from a module is re-imported by name, never pickled).
* Rebind the graded name (``recall_at_k = lambda ...``, ``= grading.reference.recall_at_k``,
  a ``functools.partial`` or a callable object): the check grades the object the cell
  passes, which must be a function defined in the notebook; anything from the
  ``grading`` package is refused (0, with the reason), and ``grading`` cannot be imported
  inside the sandbox.
* Hard-code answers (return the Home graph, fixed metric values): the hidden inputs are
  generated at grading time and differ from Home, so such a function fails.
* Endless loops, memory hogs, ``os._exit``, killing its own process, fork bombs, huge
  outputs: the sandbox has a wall-clock limit per check and per case, ``RLIMIT_AS``,
  ``RLIMIT_CPU``, ``RLIMIT_FSIZE``, its own session (the process group is killed); the
  sub-checks without a result are lost with the reason.
* Tamper with the display of the score (``sys.displayhook``, IPython's formatters, a
  float type printer) so that the cell shows full marks: detected here (0 with a reason),
  and, under the class command, irrelevant: ``grading.grade_class`` takes each hidden
  part's score as ``min(nbgrader's score, points x fraction recorded by the server)``, read
  from the server's stdout, which the kernel cannot write to.
* Replace this module or its ``grade_*`` functions (``sys.modules`` tricks), fake the
  socket reply, or skip the hidden cell (deleted cells are restored by nbgrader): under the
  class command the server has no record for that check, so the part scores 0 with the
  reason "hidden check did not run". Only the first request per check counts, so a
  submission cannot probe the server and then adapt.

* Replace what the *visible* tests rely on (``math.isclose``, builtins, the ``check_*``
  helpers): visible tests run in the student's kernel, so they can be fooled. Every hidden
  check reports such replacements (:func:`kernel_integrity`); ``grading.grade_class`` then
  gives the visible tests of that submission 0, as it does for any other tampering evidence.

Not handled (needs OS-level isolation: a separate user or container per submission):
code that reads instructor files by absolute path, or that attacks processes or files of
the same user outside its own working folder on purpose. ``grading.grade_class`` grades
each submission in its own folder, so the attacks that use relative paths (deleting or
rewriting files around the notebook, the gradebook) only touch that submission's copy.
"""

from __future__ import annotations

import ast
import atexit
import functools
import inspect
import json
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import types
from pathlib import Path

SOCKET_ENV = "GCL4SR_GRADER_SOCKET"
MAX_LITERAL = 1 << 20
MAX_PICKLE = 64 << 20
REQUEST_TIMEOUT = 300.0
SERVER_START_WAIT = 180.0  # the class command starts the server together with the kernel
TITLES = {"witg": "WITG", "recall": "Recall@k", "ndcg": "NDCG@k", "mmd": "MMD"}


class Refused(Exception):
    """The object handed to a check cannot be graded (the message is the reason)."""


# --------------------------------------------------------------------------- public API
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
    request: dict = {"check": check, "points": points, "tamper": display_tampering(),
                     "integrity": kernel_integrity()}
    tmp = None
    if not request["tamper"]:
        try:
            blob = pickle.dumps(make_bundle(student_fn), protocol=4)
            tmp = tempfile.mkdtemp(prefix="gcl4sr-bundle-")
            request["bundle"] = os.path.join(tmp, "bundle.pkl")
            with open(request["bundle"], "wb") as handle:
                handle.write(blob)
        except Refused as error:
            request["refused"] = str(error)
        except Exception as error:  # noqa: BLE001 - e.g. an unpicklable bundle
            request["refused"] = f"could not capture the function ({type(error).__name__}: " \
                                 f"{error})"
    try:
        reply = _request(request)
    except Exception as error:  # noqa: BLE001 - no server: the part is lost, with the reason
        reply = {"error": f"{type(error).__name__}: {error}"}
    finally:
        if tmp:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
    if "error" in reply:
        print(f"-{points:g} {TITLES[check]}: the hidden check could not run ({reply['error']})")
        return 0.0
    for line in reply["lines"]:
        print(line)
    return float(round(float(reply["points"]), 6))


# --------------------------------------------------------------------------- tampering
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


# --------------------------------------------------------------------------- bundles
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
    raise Refused(f"the source of class {cls.__name__} is not available")


def _source(obj) -> str:
    if isinstance(obj, type):
        text = _class_source(obj)
    else:
        try:
            text = inspect.getsource(obj)
        except (OSError, TypeError) as error:
            raise Refused(f"the source of {obj.__name__} is not available ({error})") from None
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
            raise Refused("a lambda cannot be graded; define the function with def")
        try:
            tree = ast.parse(text)
        except SyntaxError as error:
            raise Refused(f"the source of {obj.__name__} does not parse ({error})") from None
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
        raise Refused("uses the instructor-only grading package")


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
    """What the sandbox needs to rebuild ``student_fn``: see :func:`grading.sandbox.load_function`.

    Raises :class:`Refused` (with the reason shown to the student) for anything that is not
    a function defined in the notebook.
    """
    if not isinstance(student_fn, types.FunctionType):
        raise Refused(f"expected a function defined in the notebook, got "
                      f"{type(student_fn).__name__}")
    module = getattr(student_fn, "__module__", None)
    if module != "__main__":
        _refuse_grading(str(module))
        raise Refused(f"{student_fn.__name__} comes from module {module}, not from the notebook")
    bundler = _Bundler()
    bundler.add_definition(student_fn, student_fn.__globals__)
    bundler.bundle["entry"] = student_fn.__name__
    return bundler.bundle


# --------------------------------------------------------------------------- client
_PRIVATE: dict = {}


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment for grader processes: no PYTHON*, LD_* or other kernel settings."""
    keep = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR",
                                             "SYSTEMROOT") if key in os.environ}
    keep.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
                PYTHONHASHSEED="0")
    keep.update(extra)
    return keep


def _server_script() -> str:
    return str(Path(__file__).resolve().with_name("check_server.py"))


def _private_socket() -> str:
    """Start (once per kernel) a private check server when no class command provided one."""
    if _PRIVATE.get("proc") is not None and _PRIVATE["proc"].poll() is None:
        return _PRIVATE["socket"]
    folder = tempfile.mkdtemp(prefix="gcl4sr-grader-")
    path = os.path.join(folder, "checks.sock")
    log = open(os.path.join(folder, "server.log"), "wb")  # never the kernel's stderr
    proc = subprocess.Popen([sys.executable, "-I", _server_script(), "--socket", path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                            env=clean_env(), cwd=folder, start_new_session=True)
    line = proc.stdout.readline().decode()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"check server did not start (see {folder}/server.log)")
    _PRIVATE.update(proc=proc, socket=path)
    atexit.register(_stop_private, proc)
    return path


def _stop_private(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.write(b"shutdown\n")
        proc.stdin.close()
        proc.wait(timeout=10)
    except Exception:  # noqa: BLE001
        proc.kill()


def _connect(path: str, wait: float) -> socket.socket:
    """Connect, waiting up to ``wait`` seconds for a server that is still starting."""
    deadline = time.monotonic() + wait
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _request(request: dict) -> dict:
    path = os.environ.get(SOCKET_ENV) or _private_socket()
    with _connect(path, SERVER_START_WAIT) as conn:
        conn.settimeout(REQUEST_TIMEOUT)
        conn.sendall((json.dumps(request) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    reply = json.loads(data)
    if not isinstance(reply, dict) or ("error" not in reply and "lines" not in reply):
        raise ValueError("malformed reply")
    return reply
