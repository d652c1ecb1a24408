"""Handlers talk to services, never to storage: no module under handlers/ imports
bot.storage (directly, from a submodule, or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def storage_imports(source: str) -> list[str]:
    """The bot.storage imports in a module's source, wherever they are."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [n for n in names if n == "bot.storage" or n.startswith("bot.storage.")]
    return found


def test_the_check_finds_every_form_of_import() -> None:
    sources = [
        "import bot.storage",
        "import bot.storage.users as repo",
        "from bot.storage import Database",
        "from bot.storage.users import User",
        "from bot import storage",
        "def f():\n    from bot.storage import admin\n",
    ]
    assert all(storage_imports(source) for source in sources)
    assert storage_imports("from bot.services.accounts import User\nimport bot.clock") == []


def test_no_handler_imports_storage() -> None:
    modules = sorted(HANDLERS.rglob("*.py"))
    assert len(modules) > 10  # the package is where we think it is
    offenders = {
        str(path.relative_to(HANDLERS)): imports
        for path in modules
        if (imports := storage_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
