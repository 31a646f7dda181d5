"""The code's shape: no import cycle among the kit's modules, no module over 400 lines, one
home for the data variable and the torch pin, no instructor path in the engine."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gcl4sr_helpers", "grading")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The kit's modules that ``name`` imports anywhere in its file (function bodies too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {target for target in targets if target in known and target != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that ends where it starts, or ``None``.

    A package's ``__init__`` importing its own submodules is not counted: that edge is the
    package exposing them, and a submodule importing its package is where a cycle shows."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for target in sorted(graph[node]):
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if not state.get(target):
                found = visit(target, [*path, target])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if not state.get(start):
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"p": {"p.x"}, "p.x": set()}) is None


def test_no_import_cycle_in_the_engine_or_the_grader():
    assert find_cycle(import_graph()) is None


def test_the_instructor_folders_import_one_way():
    """Taken whole, the parts of ``grading/instructor`` (its folders and ``classrun``) import
    one another without a cycle: ``classrun`` above them all, ``common`` below them all."""
    parts: dict[str, set[str]] = {}
    for name, targets in import_graph().items():
        if name.startswith("grading.instructor."):
            part = ".".join(name.split(".")[:3])
            found = {".".join(t.split(".")[:3]) for t in targets
                     if t.startswith("grading.instructor.")}
            parts.setdefault(part, set()).update(found - {part})
    assert {"grading.instructor.common", "grading.instructor.classrun"} <= set(parts)
    assert find_cycle(parts) is None
    assert not parts["grading.instructor.common"]


def test_the_data_variable_is_named_in_one_module():
    """``GCL4SR_DATA`` is a string literal only in ``gcl4sr_helpers/download.py`` (prose in
    docstrings may name it); everything else imports ``download.ENV_VAR``."""
    homes = set()
    for path in [*_modules().values(), *(REPO / "bench").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "GCL4SR_DATA":
                homes.add(str(path.relative_to(REPO)))
    assert homes == {"gcl4sr_helpers/download.py"}


def test_the_torch_pin_has_one_home_and_its_copies_agree():
    """``constraints.txt`` pins torch; ``.ci/run`` installs with it, and every ``torch==``
    that the docs and environment.yml write is the same version."""
    pin = (REPO / "constraints.txt").read_text().split("torch==")[1].split()[0]
    assert "-c constraints.txt torch " in (REPO / ".ci" / "run").read_text()
    for name in ("README.md", "environment.yml", "notebooks/README.md", ".ci/run"):
        text = (REPO / name).read_text(encoding="utf-8")
        found = {line.split("torch==")[1].split()[0].strip("\"'`,") for line in
                 text.splitlines() if "torch==" in line}
        assert found <= {pin}, (name, found)


def test_the_engine_names_no_instructor_path():
    """The engine ships to students (a wheel): its code, docstrings and data files never send
    them to a folder of this repository they do not have."""
    found = {}
    for path in (REPO / "gcl4sr_helpers").rglob("*"):
        if path.suffix in (".py", ".json", ".md", ".txt"):
            text = path.read_text(encoding="utf-8")
            hits = [folder for folder in ("grading/", "bench/", "tests/", "solutions/")
                    if folder in text]
            if hits:
                found[str(path.relative_to(REPO))] = hits
    assert not found


def test_no_module_over_the_size_limit():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


def _bench_offences(path: Path, test_modules: set[str]) -> list[str]:
    """What ``path`` does that a module of the ``bench`` package must not: touch ``sys.path``
    or import from ``tests`` (the package or a module of its folder, such as a fixture)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            found.append(f"line {node.lineno}: sys.path")
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and not node.level:
            found += [f"line {node.lineno}: from sys import path"
                      for alias in node.names if alias.name == "path"]
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            modules = [node.module or ""]
        else:
            continue
        found += [f"line {node.lineno}: imports {module}" for module in modules
                  if module.split(".")[0] in test_modules]
    return found


def test_the_bench_package_edits_no_sys_path_and_imports_nothing_from_tests():
    """``bench`` runs as ``python -m bench.<name>``: its imports need no ``sys.path`` edit,
    and it builds what it needs from the kit, never from the test suite or its fixtures."""
    test_modules = {"tests"} | {path.stem for path in (REPO / "tests").rglob("*.py")}
    found = {str(path.relative_to(REPO)): hits for path in sorted((REPO / "bench").rglob("*.py"))
             if (hits := _bench_offences(path, test_modules))}
    assert not found


def test_the_bench_check_finds_a_path_edit_and_a_fixture_import(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import sys\nfrom sys import path\nsys.path.insert(0, 'tests')\n"
                      "import tests.fixtures.suite\nfrom make_submissions import build\n"
                      "from .calibration import sgemm_gflops\nimport gcl4sr_helpers\n")
    assert sorted(_bench_offences(script, {"tests", "make_submissions"})) == [
        "line 2: from sys import path", "line 3: sys.path", "line 4: imports tests.fixtures.suite",
        "line 5: imports make_submissions"]


def _constants(path: Path) -> list[ast.Constant]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_the_assignment_name_and_the_config_path_have_one_home():
    """The grader names the assignment (``"gcl4sr"``) and builds the path of the repository's
    nbgrader config (``... / "grading" / "nbgrader_config.py"``) only in
    ``grading/instructor/run/course.py``; the rest imports ``ASSIGNMENT`` and ``REPO_CONFIG``.
    (A course's own ``nbgrader_config.py``, a file of nbgrader's layout, is not that path.)"""
    from grading.instructor.run.course import ASSIGNMENT

    names, configs = set(), set()
    for path in (REPO / "grading").rglob("*.py"):
        where = str(path.relative_to(REPO))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(node.value == ASSIGNMENT for node in _constants(path)):
            names.add(where)
        for node in ast.walk(tree):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                    and isinstance(node.right, ast.Constant)
                    and node.right.value == "nbgrader_config.py"
                    and isinstance(node.left, ast.BinOp)
                    and getattr(node.left.right, "value", None) == "grading"):
                configs.add(where)
    assert names == configs == {"grading/instructor/run/course.py"}


def test_the_nbgrader_config_sets_each_option_once_and_reads_the_kernel_limits():
    """Each option of ``grading/nbgrader_config.py`` is set once; the per-cell timeout is
    ``grading.kernel.limits.CELL_TIMEOUT_S``, which is also the class command's default."""
    from traitlets.config.loader import PyFileConfigLoader

    from grading.instructor.common.options import DEFAULTS
    from grading.instructor.run.course import REPO_CONFIG
    from grading.kernel.limits import CELL_TIMEOUT_S

    targets = [ast.unparse(target) for node in ast.walk(ast.parse(REPO_CONFIG.read_text()))
               if isinstance(node, ast.Assign) for target in node.targets
               if ast.unparse(target).startswith("c.")]
    assert len(targets) == len(set(targets)), sorted(t for t in targets if targets.count(t) > 1)
    config = PyFileConfigLoader(REPO_CONFIG.name, path=str(REPO_CONFIG.parent)).load_config()
    assert config.ExecutePreprocessor.timeout == CELL_TIMEOUT_S == DEFAULTS.cell_timeout
    assert config.OverwriteCells.add_missing_cells is True


def test_a_typical_mistake_has_one_home():
    """The code of a registry mistake (:mod:`grading.instructor.builders.mistakes`) is written
    nowhere else in the grader or the tests: the fixtures and the tests take it from the
    registry."""
    from grading.instructor.builders.mistakes import MISTAKES

    bodies = {}
    for mistake in MISTAKES.values():
        node = ast.parse(source := mistake.source()).body[0]
        bodies[mistake.id] = "".join(source.splitlines(keepends=True)[node.body[0].lineno - 1:])
    copies = {}
    for path in [*(REPO / "grading").rglob("*.py"), *(REPO / "tests").rglob("*.py")]:
        if "mistakes" not in path.parts:
            text = path.read_text(encoding="utf-8")
            found = [mistake for mistake, body in bodies.items() if body in text]
            if found:
                copies[str(path.relative_to(REPO))] = found
    assert not copies
