"""The code's layers, read from its module-level imports: `api` → `moderation` → `model`, no module imports one
that (through others) imports it back, and the domain names no database driver."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("model", "moderation", "api")
# Which packages each may import: imports point one way.
ALLOWED = {"model": {"model"}, "moderation": {"moderation", "model"}, "api": {"api", "moderation", "model"}}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (REPO / package).rglob("*.py")}


def top_level_imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules a module imports when it is loaded (not in functions, not for type checking only)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for statement in ast.walk(node) if isinstance(node, ast.If | ast.Try) else [node]:
            if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                for alias in statement.names:
                    submodule = f"{statement.module}.{alias.name}"
                    found.add(submodule if submodule in known else statement.module)
            elif isinstance(statement, ast.Import):
                found.update(alias.name for alias in statement.names)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: top_level_imports(path, known) - {name} for name, path in known.items()}


def test_imports_point_one_way() -> None:
    wrong = [
        f"{module} imports {imported}"
        for module, imported_modules in import_graph().items()
        for imported in imported_modules
        if imported.split(".")[0] not in ALLOWED[module.split(".")[0]]
    ]
    assert not wrong, wrong


def test_no_import_cycles() -> None:
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module], _ = "open", path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        state[module] = "done"
        path.pop()

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, [" -> ".join(cycle) for cycle in cycles]


def test_the_domain_names_no_database_driver() -> None:
    named = [
        f"{name}: {driver}"
        for name, path in modules().items()
        if name.startswith("moderation.") and not name.startswith("moderation.storage")
        for driver in ("sqlite3", "sqlite_utils")
        if driver in top_level_driver_imports(path)
    ]
    assert not named, named


def top_level_driver_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found
