"""The shape of the code that docs/architecture.md promises: no import cycles between modules, and an
import inside a function only where a rule calls for it (a Celery task importing its services, an
AppConfig registering its subscribers). The layers themselves are checked by `lint-imports`."""

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("loship", "users", "merchants", "orders", "drivers", "realtime", "notifications", "ops", "research")


def _modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _modules()


def _imported(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (`from a import b` may name module a.b)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    for name in names:
        if name in MODULES:
            yield name


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not inside a function (nor TYPE_CHECKING)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


def _function_imports(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    for name in _imported(node):
                        yield function, name


def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def test_no_module_imports_another_that_imports_it_back() -> None:
    graph = {
        name: {target for node in _top_level_imports(_parsed(path)) for target in _imported(node)} - {name}
        for name, path in MODULES.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package importing its own submodules (re-exports) is a parent, not a cycle partner.
    real = [cycle for cycle in cycles if not all(cycle[0].startswith(m) for m in cycle)]
    assert real == []


def test_imports_inside_functions_are_only_task_bodies_and_app_registration() -> None:
    allowed = []
    stray = []
    for name, path in MODULES.items():
        for function, target in _function_imports(_parsed(path)):
            is_task_body = name.endswith(".tasks")
            is_app_ready = name.endswith(".apps") and function.name == "ready"
            (allowed if is_task_body or is_app_ready else stray).append(f"{name}.{function.name} -> {target}")
    assert stray == []
    assert allowed, "the rule has nothing to apply to: is the module scan broken?"


def test_scripts_outside_the_apps_import_names_that_exist() -> None:
    """Benchmarks and dev tools are not type-checked; a module that moved must not break them silently."""
    missing = []
    for folder in ("bench", "devtools", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(_parsed(path)):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                if node.module.split(".")[0] not in APPS:
                    continue
                if node.module not in MODULES:
                    missing.append(f"{path.relative_to(ROOT)}: no module {node.module}")
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if not hasattr(module, alias.name) and name not in MODULES:
                        missing.append(f"{path.relative_to(ROOT)}: {node.module} has no {alias.name}")
    assert missing == []
