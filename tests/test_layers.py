"""The house has one direction (docs/DESIGN.md, "Layers"): a module of wan/ imports only from its
own layer or below, at module level and inside functions alike, no two packages import each
other, and the WebUI's entry point (scripts/) calls only wan.webui.

Read from the source with ast, so an import inside a function counts like any other."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

# Lowest first. Each unit is a package of wan/ or one of its top-level modules.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("wan", "wan.errors", "wan.paths", "wan.limits"),
    ("wan.core",),
    ("wan.options",),
    ("wan.models",),
    ("wan.host",),
    ("wan.prompting",),
    ("wan.render",),
    ("wan.planning",),
    ("wan.jobs",),
    ("wan.api", "wan.ui", "wan.cli"),
    ("wan.webui",),
    ("wan.__main__",),
)
LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `wan` import in the file, wherever it stands."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            # `from wan import x` imports the module wan.x when there is one
            found += [(node.lineno, n if node.module == "wan" else node.module) for n in names]
    return [(line, name) for line, name in found if name == "wan" or name.startswith("wan.")]


def edges() -> list[tuple[str, str, str]]:
    """(importing unit, imported unit, where) for imports between units of wan/."""
    out = []
    for path in sorted((ROOT / "wan").rglob("*.py")):
        here = module_name(path)
        for line, target in imports_of(path):
            target_unit = unit_of(target) if unit_of(target) in LAYER_OF else "wan"
            if target_unit != unit_of(here):
                out.append((unit_of(here), target_unit, f"{here}:{line} imports {target}"))
    return out


def test_every_unit_of_wan_has_a_layer():
    units = {unit_of(module_name(path)) for path in (ROOT / "wan").rglob("*.py")}
    assert units <= set(LAYER_OF), f"add these to LAYERS (and DESIGN.md): {units - set(LAYER_OF)}"


def test_no_import_goes_up_the_layers():
    upward = [where for a, b, where in edges() if LAYER_OF[b] > LAYER_OF[a]]
    assert not upward, "imports going up the layer order:\n" + "\n".join(upward)


def test_no_two_units_import_each_other():
    graph: dict[str, set[str]] = defaultdict(set)
    seen: dict[tuple[str, str], str] = {}
    for a, b, where in edges():
        graph[a].add(b)
        seen.setdefault((a, b), where)
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    shown = [
        " <-> ".join(sorted(c))
        + "".join(f"\n  {seen[a, b]}" for a in c for b in c if (a, b) in seen)
        for c in cycles
    ]
    assert not cycles, "units that import each other:\n" + "\n".join(shown)


def test_the_webui_entry_point_calls_only_wan_webui():
    for path in sorted((ROOT / "scripts").glob("*.py")):
        used = {unit_of(name) for _, name in imports_of(path)}
        assert used <= {"wan.webui"}, f"{path.name} imports {used - {'wan.webui'}}"


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components of a small graph (recursive: a few dozen nodes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.add(item)
                if item == node:
                    break
            components.append(component)

    for node in list(graph):
        if node not in index:
            visit(node)
    return components
