"""The layout rules of docs/architecture.md, checked on the source (issue #17).

* no import circles between cchkit's modules (imports inside functions count too);
* the estimator contract and the registry are leaves;
* no module imports a private name (``_x``) from another package of cchkit, and the tests
  import none at all from cchkit;
* no function in cchkit/ has more than ``MAX_LINES`` lines of code (docstring, comments and
  blank lines not counted).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "cchkit"
MAX_LINES = 60


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every cchkit import in ``path``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "cchkit":
                out.append((mod, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.split(".")[0] == "cchkit"]
    return out


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        for target, names in _imports(path):
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in files]
            # `from pkg import module` needs the module; `from pkg import name` needs pkg itself
            deps = submodules + ([target] if len(submodules) < len(names) or not names else [])
            graph[mod].update(d for d in deps if d in files and d != mod)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circles():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize(
    "module, allowed",
    [("cchkit.estimators.contract", set()), ("cchkit.estimators.registry", {"cchkit.estimators.contract", "cchkit.exceptions"})],
)
def test_contract_and_registry_are_leaves(module, allowed):
    graph = _graph()
    assert graph[module] <= allowed, f"{module} imports {sorted(graph[module] - allowed)}"


def _owner_package(module: str) -> str:
    """The sub-package a module belongs to (``cchkit.estimators``), or ``cchkit`` for top-level ones."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 or (PKG / parts[-1]).is_dir() else "cchkit"


def test_no_private_names_across_packages():
    bad = []
    for path in PKG.rglob("*.py"):
        here = _owner_package(_module_name(path))
        for target, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and _owner_package(target) != here:
                bad.append(f"{path.relative_to(ROOT)} imports {private} from {target}")
    assert bad == []


def test_tests_import_no_private_names():
    bad = []
    for path in (ROOT / "tests").glob("*.py"):
        for target, names in _imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                bad.append(f"{path.name} imports {private} from {target}")
    assert bad == []


def _code_lines(func: ast.FunctionDef | ast.AsyncFunctionDef, source: list[str]) -> int:
    body = func.body
    if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:] or body
    start = body[0].lineno
    lines = source[start - 1 : func.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def long_functions(limit: int = MAX_LINES) -> list[tuple[int, str]]:
    """(lines of code, "path:name") of every function in cchkit/ longer than ``limit``."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        source = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(source))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node, source)
                if n > limit:
                    out.append((n, f"{path.relative_to(ROOT)}:{node.name}"))
    return sorted(out, reverse=True)


def test_no_function_longer_than_the_limit():
    assert long_functions() == []


if __name__ == "__main__":
    for n, where in long_functions(0)[:10]:
        print(f"{n:4d}  {where}")
