"""The package layout's promises: no import cycles, one direction of imports between packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pretty_printer", "phantoms", "scanners")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every project module ``path`` imports, at any depth (function-level imports included)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # "from pkg import sub" imports the submodule when it is one
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            # a module's own ancestor packages are imported by Python before the module itself;
            # naming one (``from . import sibling``) adds no edge of the module's own
            if t and t != name and not name.startswith(t + "."):
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(p, m, known) for m, p in mods.items()}


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("lower", ["phantoms", "scanners"])
def test_phantoms_and_scanners_never_import_the_tool(lower):
    bad = sorted(f"{m} imports {n}" for m, deps in _graph().items() if m.split(".")[0] == lower
                 for n in deps if n.split(".")[0] == "pretty_printer")
    assert not bad, bad


def test_phantoms_never_imports_scanners_and_vice_versa():
    graph = _graph()
    bad = sorted(f"{m} imports {n}" for m, deps in graph.items() for n in deps
                 if {m.split(".")[0], n.split(".")[0]} == {"phantoms", "scanners"})
    assert not bad, bad


def test_only_the_sim_package_touches_neuron():
    offenders = []
    for m, p in _modules().items():
        tree = ast.parse(p.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "neuron" or n.startswith("neuron.") for n in names):
                if not m.startswith("pretty_printer.sim."):
                    offenders.append(m)
    assert not offenders, offenders


def test_cycle_detector_sees_function_level_imports(tmp_path):
    # the detector must catch a cycle hidden in a function body (the kind that used to exist)
    a = tmp_path / "a.py"
    a.write_text("def f():\n    from pkg import b\n")
    assert _imports(a, "pkg.a", {"pkg.a", "pkg.b"}) == {"pkg.b"}
