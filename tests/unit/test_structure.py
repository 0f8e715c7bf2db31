"""The package's shape: no import cycle inside include/, no module over 600 lines, no dev tooling shipped.

Imports are read with `ast` (no module is imported), including those inside functions: a lazy import still ties
two modules together.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[2] / "include"
MAX_LINES = 600
DEV_TOOLS = ("synth", "messy", "pgcluster")


def _modules(root: Path) -> dict[str, Path]:
    """Return dotted module name → file for every module under root (a package by its name)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the modules of include/ that this module imports (its own packages left out)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                found.add(target)
    return found


@cache
def import_cycles(root: Path = INCLUDE) -> list[frozenset[str]]:
    """Return the import cycles under root (strongly connected components of two or more modules)."""
    modules = _modules(root)
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[frozenset[str]] = []

    def visit(v: str) -> None:  # Tarjan
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
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(frozenset(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_the_import_reader_sees_a_cycle_it_is_shown(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    assert import_cycles(tmp_path) == [frozenset({"pkg.a", "pkg.b"})]


def test_no_import_cycle_inside_include():
    found = import_cycles()
    assert {"cakupan.pipeline", "cakupan.transform", "cakupan.targets.base"} <= set(_modules(INCLUDE))
    assert not found, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in found)


def _oversize() -> list[str]:
    out = []
    for path in sorted(INCLUDE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            out.append(f"{path.relative_to(INCLUDE).as_posix()} ({lines} lines)")
    return out


def test_no_module_over_600_lines():
    assert _oversize() == []


def test_no_dev_tooling_in_the_runtime_package():
    shipped = [p.relative_to(INCLUDE).as_posix() for p in INCLUDE.rglob("*")
               if p.stem in DEV_TOOLS or p.name == "testing" or "cakupan_dev" in p.parts]
    assert shipped == []
    modules = _modules(INCLUDE)
    importing = [name for name, path in modules.items()
                 if any(isinstance(n, ast.Import) and any(a.name.startswith("cakupan_dev") for a in n.names)
                        or isinstance(n, ast.ImportFrom) and (n.module or "").startswith("cakupan_dev")
                        for n in ast.walk(_tree(path)))]
    assert importing == [], "the runtime package imports the dev tools (cakupan_dev) only through cli._dev_tool"
