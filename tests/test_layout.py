"""The package's shape: no import cycle among its modules (imports inside
functions and under TYPE_CHECKING count too), and no module over 700 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from _mmctl import ROOT

PACKAGE = ROOT / "daemon" / "micromove"
MAX_LINES = 700


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _resolve(module: str, is_package: bool, level: int, name: str) -> str:
    if level == 0:
        return name
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its text."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_package, node.level, node.module or "")
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in mods else base)
            for t in targets:
                if t in mods and t != mod:
                    graph[mod].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (a list of modules, first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    g = import_graph()
    assert "micromove.control.protocol" in g["micromove.control.server"]
    assert "micromove.service" in g["micromove.control.protocol"]  # under TYPE_CHECKING
    assert "micromove.adapters.inputs.x11" in g["micromove.adapters.inputs.registry"]  # inside a function
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_service_and_the_daemon_do_not_know_each_other() -> None:
    g = import_graph()
    assert "micromove.daemon" not in g["micromove.service"]
    assert not {m for m in g["micromove.daemon"] if m.startswith(("micromove.service", "micromove.control"))}


def test_no_module_is_over_700_lines() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}  # fmt: skip
    assert not long, long


# The leaf modules the core may lean on: no I/O, no clock, nothing of their own to import.
CORE_MAY_USE = {"micromove.timefmt", "micromove.errors"}


def _runtime_imports(path: Path, module: str) -> set[str]:
    """What a module imports when it runs: everything but what sits under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(_resolve(module, path.name == "__init__.py", node.level, node.module or ""))
    return found


def test_the_core_uses_only_the_standard_library_itself_and_leaf_helpers() -> None:
    mods = _modules()
    core = {m: p for m, p in mods.items() if m.startswith("micromove.core.")}
    assert "micromove.core.session" in core and "micromove.core.engine" in core
    import sys

    for mod, path in core.items():
        for name in _runtime_imports(path, mod):
            top = name.split(".")[0]
            if top == "__future__" or top in sys.stdlib_module_names:
                continue
            assert name.startswith("micromove.core") or name in CORE_MAY_USE, f"{mod} imports {name}"
