"""Nothing students receive contains an answer, the engine never imports grading, and the
kernel side of the grader (what runs in a student's kernel) never reaches the instructor side."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = sorted((REPO / "gcl4sr_helpers").rglob("*.py"))
KERNEL = sorted((REPO / "grading" / "kernel").rglob("*.py"))
TODO_NAMES = {"build_weighted_item_transition_graph", "recall_at_k", "ndcg_at_k", "mmd_loss",
              "MMD_loss", "witg_from_sequences", "nt_xent"}


def parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", ENGINE + KERNEL, ids=lambda p: p.relative_to(REPO).as_posix())
def test_engine_and_kernel_side_define_no_todo_function(path):
    defined = {node.name for node in ast.walk(parsed(path))
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    assert not defined & TODO_NAMES


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.relative_to(REPO).as_posix())
def test_engine_never_imports_grading(path):
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "grading" for a in node.names)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "grading"


@pytest.mark.parametrize("path", ENGINE + KERNEL, ids=lambda p: p.relative_to(REPO).as_posix())
def test_engine_and_kernel_side_have_no_ndcg_discount_or_window_weights(path):
    """The answers' signatures: a log2 discount (NDCG) and 1/k window weights (WITG)."""
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Attribute):
            assert node.attr not in {"log2", "log1p"}, f"{path.name}:{node.lineno}"
        if isinstance(node, ast.Name):
            assert node.id not in {"log2", "WINDOWS"}, f"{path.name}:{node.lineno}"


def test_importing_the_engine_loads_no_grading_module():
    code = ("import sys, gcl4sr_helpers.experiment, gcl4sr_helpers.trainer; "
            "print(any(m == 'grading' or m.startswith('grading.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd="/")
    assert out.stdout.strip() == "False"


def test_pip_package_ships_only_the_engine():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["packages"]["find"]["include"] == ["gcl4sr_helpers*"]


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """``(module, level)`` of every import: level 0 is absolute, 1 is ``from .x``, ..."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


@pytest.mark.parametrize("path", KERNEL, ids=lambda p: p.name)
def test_kernel_side_imports_only_the_standard_library_and_itself(path):
    """The trust-zone rule: ``grading/kernel/`` runs inside a student's kernel, so it never
    imports the instructor side (reference answers, hidden inputs), the engine or torch."""
    assert KERNEL, "grading/kernel/ not found"
    for module, level in imported_modules(parsed(path)):
        if level:
            assert level == 1, f"{path.name}: imports {'.' * level}{module} outside grading.kernel"
            continue
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or module.startswith("grading.kernel")
        assert allowed, f"{path.name}: imports {module}"


def test_importing_the_kernel_side_loads_nothing_of_the_instructor_side():
    code = ("import sys, grading.kernel; "
            "print(sorted(m for m in sys.modules if m.startswith(('grading.instructor', "
            "'torch', 'gcl4sr_helpers'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
