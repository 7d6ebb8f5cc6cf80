"""The package's layering (docs/architecture.md), read from its imports: modules import only
from the layers below them, and no import cycle exists, lazy imports included."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "wengert"

# (importer, imported, why): prefixes of dotted module names below the package.
NEVER = [
    ("core", "rules", "the engine knows no particular rule"),
    ("tangents", "core", "the tangent algebra knows no tracer"),
    ("partials", "core", "the tangent algebra knows no tracer"),
    ("tree", "core", "trees know no tracer"),
    ("arraytypes", "", "the bottom layer imports nothing of wengert"),
    ("errors", "", "the bottom layer imports nothing of wengert"),
    ("registry", "rules", "the registry knows none of its entries"),
    ("registry", "core", "the registry is a table below the engine"),
    ("rules", "api", "rules are NumPy on primals, not the public transformations"),
    ("rules", "reverse_api", "rules are NumPy on primals, not the public transformations"),
    ("rules", "forward_api", "rules are NumPy on primals, not the public transformations"),
]


def _modules():
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name, path, modules):
    """Every wengert module ``name`` imports, at the top or inside a function."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    package = [p for p in package if p]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[:len(package) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        elif (node.module or "").startswith("wengert"):
            target = node.module[len("wengert."):] if node.module != "wengert" else ""
        else:
            continue
        for alias in node.names:   # from . import module
            sub = f"{target}.{alias.name}" if target else alias.name
            if sub in modules:
                out.add(sub)
        if target in modules:
            out.add(target)
    out.discard(name)
    return out


MODULES = _modules()
EDGES = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def _within(module, prefix):
    return module == prefix or module.startswith(prefix + ".") if prefix else module != ""


@pytest.mark.parametrize("importer, imported, why", NEVER, ids=[f"{a}->{b or '*'}"
                                                                 for a, b, _ in NEVER])
def test_no_forbidden_import(importer, imported, why):
    breaches = sorted(f"{a} -> {b}" for a, targets in EDGES.items() if _within(a, importer)
                      for b in targets if _within(b, imported))
    assert not breaches, f"{why}: {breaches}"


def test_no_import_cycle():
    graph = {a: {b for b in targets if b} for a, targets in EDGES.items() if a}
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def test_the_check_sees_imports():
    # Guard against a check that cannot fail: known edges are found.
    assert "core.bind" in EDGES["core.reverse"] or "core.levels" in EDGES["core.reverse"]
    assert "registry" in EDGES["core.bind"]
    assert "tangents" in EDGES["partials"]
