"""Nothing students receive contains an answer, and the engine never imports grading."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = sorted((REPO / "gcl4sr_helpers").rglob("*.py"))
TODO_NAMES = {"build_weighted_item_transition_graph", "recall_at_k", "ndcg_at_k", "mmd_loss",
              "MMD_loss", "witg_from_sequences"}


def parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_engine_defines_no_todo_function(path):
    defined = {node.name for node in ast.walk(parsed(path))
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    assert not defined & TODO_NAMES


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_engine_never_imports_grading(path):
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "grading" for a in node.names)
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "grading"


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: p.name)
def test_engine_has_no_ndcg_discount_or_window_weights(path):
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
