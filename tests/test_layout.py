"""The layout is the architecture: `index/` grouped by stage, each stage importing only from those before it."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

INDEX = REPO / "index"
# The stages in order (index/__init__.py says what each holds); a module may import from its own stage or earlier.
STAGES = ("core", "content", "models", "store", "ranking", "service", "conversation")


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    """The index/bot/measure modules a file imports (`from index.store import dense` counts index.store.dense)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = {_module(p) for p in INDEX.rglob("*.py")}
    return {name for name in found if name in modules or name.split(".")[0] in ("bot", "measure")}


def _stage(module: str) -> int:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 else -1


def test_index_has_at_most_eight_entries_each_a_known_stage() -> None:
    entries = sorted(p.name for p in INDEX.iterdir() if p.name != "__pycache__")
    assert len(entries) <= 8, entries
    assert set(entries) == {"__init__.py", *STAGES}


def test_no_module_imports_a_later_stage_or_a_front_end() -> None:
    wrong = []
    for path in INDEX.rglob("*.py"):
        module = _module(path)
        for imported in _imports(path, top_level_only=False):
            if imported.split(".")[0] in ("bot", "measure") or _stage(imported) > _stage(module):
                wrong.append(f"{module} imports {imported}")
    assert not wrong, wrong


def test_module_imports_form_no_circle() -> None:
    graph = {_module(p): _imports(p, top_level_only=True) for p in INDEX.rglob("*.py")}
    graph = {m: {i for i in imports if i in graph and i != m and not m.startswith(i + ".")} for m, imports in graph.items()}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if state.get(module) == 2:
            return
        assert state.get(module) != 1, " -> ".join((*trail, module))
        state[module] = 1
        for imported in sorted(graph[module]):
            visit(imported, (*trail, module))
        state[module] = 2

    for module in sorted(graph):
        visit(module, ())


def test_every_package_says_what_it_holds() -> None:
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((INDEX / stage / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, stage
