"""The shape of bot.testing: no import circle, and the product does not depend on it."""

from __future__ import annotations

import ast
from pathlib import Path

import bot.testing

PACKAGE = Path(bot.testing.__file__).parent
ROOT = PACKAGE.parents[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file, TYPE_CHECKING blocks included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # "from bot.testing import methods" imports the submodule.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {m for m in _imports(path) if m in modules and m != name}
        # Importing a submodule runs its package's __init__ first; that edge is not a circle.
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_circle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_bot_testing_has_no_import_circle() -> None:
    graph = _graph()
    assert "bot.testing.server" in graph and "bot.testing.state" in graph["bot.testing.server"]
    assert _find_cycle(graph) is None


def test_the_product_does_not_import_the_fake() -> None:
    product = [ROOT / "bot", ROOT / "handlers", ROOT / "digests"]
    offenders = [
        str(path.relative_to(ROOT))
        for folder in product
        for path in folder.rglob("*.py")
        if PACKAGE not in path.parents
        and any(m == "bot.testing" or m.startswith("bot.testing.") for m in _imports(path))
    ]
    assert offenders == []
