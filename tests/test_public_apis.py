"""Guards on every package's sources: public APIs of dependencies only, no writes to os.environ."""

import ast
from pathlib import Path

import pytest

SOURCES = sorted(Path(__file__).parents[1].glob("packages/*/src/**/*.py"))
OWN = ("mmds_",)  # our own packages may import their own private modules
ENVIRON_WRITERS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__"}


def _private_imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        private = [name for name in names if _is_private(name)]
        if private:
            found.append(f"line {node.lineno}: {private[0]}")
    return found


def _is_private(name: str) -> bool:
    """A module or name of a dependency whose name starts with one underscore (not a dunder)."""
    parts = name.split(".")
    if parts[0].startswith(OWN):
        return False
    return any(part.startswith("_") and not part.startswith("__") for part in parts)


def _environ_writes(tree: ast.AST) -> list[str]:
    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if isinstance(node, ast.Delete):
            targets = node.targets
        if any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets):
            found.append(f"line {node.lineno}: os.environ[...] written")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = node.func.value, node.func.attr
            if (is_environ(owner) and method in ENVIRON_WRITERS) or method in {
                "putenv",
                "unsetenv",
            }:
                found.append(f"line {node.lineno}: {method}()")
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path).split("packages/")[-1])
def test_no_import_from_a_private_module_of_a_dependency(source):
    assert _private_imports(ast.parse(source.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: str(path).split("packages/")[-1])
def test_no_package_writes_to_os_environ(source):
    assert _environ_writes(ast.parse(source.read_text(encoding="utf-8"))) == []


def test_the_guards_catch_what_they_forbid():
    code = (
        "import dagster._core.x\nfrom dagster._serdes import y\nfrom dagster import _private\n"
        "import os\nos.environ['A'] = '1'\nos.environ.update(B='2')\n"
    )
    tree = ast.parse(code)
    assert len(_private_imports(tree)) == 3
    assert len(_environ_writes(tree)) == 2
