"""The package's modules import one another without a cycle, counting every import statement: at
module level, inside functions and under ``if TYPE_CHECKING``."""

from __future__ import annotations

import ast
from pathlib import Path

import quantize

PACKAGE = Path(quantize.__file__).parent


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module name -> the package's modules its import statements name (a package's own
    submodule counts as that module; the implicit import of a parent package does not)."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                named = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                         for a in node.names]
            else:
                continue
            graph[name].update(n for n in named if n in modules and n != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and "quantize.jobs.sweep_model" in graph["quantize.jobs.sweep"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_walk_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    (pkg / "sub" / "b.py").write_text("import os\n")
    assert find_cycle(import_graph(pkg)) is None



# Each layer's rule: what its modules may import of the package at run time (imports made only for
# type checking are annotations, not dependencies). ``choices`` and ``errors`` are the base.
LAYERS = {
    "core": ("core", "choices", "errors", "runtime"),
    "io": ("io", "core", "choices", "errors"),
    "render": ("render", "io", "core", "choices", "errors", "jobs.sweep_model"),
    "choices": (),
    "errors": (),
}


def runtime_import_graph(root: Path, scratch: Path) -> dict[str, set[str]]:
    """:func:`import_graph` of a copy of ``root`` in ``scratch`` without its ``if TYPE_CHECKING``
    blocks."""
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
                node.body = [ast.Pass()]
        target = scratch / root.name / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(ast.unparse(tree), encoding="utf-8")
    return import_graph(scratch / root.name)


def allowed(importer: str, imported: str) -> bool:
    """Whether ``importer`` may import ``imported`` under :data:`LAYERS` (and only the command line
    imports the command line)."""
    below = imported.partition(".")[2]
    if below.startswith("cli"):
        return importer.partition(".")[2].startswith(("cli", "__main__"))
    rule = LAYERS.get(importer.partition(".")[2].split(".")[0])
    return rule is None or any(below == part or below.startswith(part + ".") for part in rule)


def test_each_layer_imports_only_what_its_rule_allows(tmp_path: Path) -> None:
    graph = runtime_import_graph(PACKAGE, tmp_path)
    assert "quantize.io.container" in graph["quantize.jobs.pipeline"]
    broken = sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if not allowed(a, b))
    assert not broken, "\n".join(broken)


def test_the_layer_rule_refuses_an_import_upwards(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / "quantize"
    (pkg / "core").mkdir(parents=True)
    (pkg / "io").mkdir()
    for init in (pkg, pkg / "core", pkg / "io"):
        (init / "__init__.py").write_text("")
    (pkg / "io" / "files.py").write_text("")
    (pkg / "core" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..io import files\n")
    (pkg / "core" / "b.py").write_text("def f():\n    from ..io.files import x\n")
    graph = runtime_import_graph(pkg, tmp_path / "scratch")
    assert graph["quantize.core.a"] == set() and graph["quantize.core.b"] == {"quantize.io.files"}
    assert not allowed("quantize.core.b", "quantize.io.files")
    assert allowed("quantize.io.files", "quantize.core.a") and allowed("quantize.jobs.x", "quantize.render.y")
    assert not allowed("quantize.jobs.x", "quantize.cli.compress")
