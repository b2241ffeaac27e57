"""storage imports surveys, never handlers or bot; storage.memory needs no SQLAlchemy."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import storage

STORAGE = Path(storage.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_no_storage_module_names_handlers_or_bot() -> None:
    offenders = {
        str(path.relative_to(STORAGE.parent)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in ("handlers", "bot")
        )
        for path in sorted(STORAGE.rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert len(offenders) >= 8  # the scan saw the package, migrations included


def test_importing_storage_loads_neither_handlers_nor_bot() -> None:
    loaded = loaded_after(
        "import storage.database, storage.migrate, storage.memory, storage.repositories"
    )
    assert "storage.repositories" in loaded
    assert [name for name in loaded if name.split(".")[0] in ("handlers", "bot")] == []


def test_the_in_memory_store_needs_only_the_standard_library_and_surveys() -> None:
    loaded = loaded_after("import storage.memory")
    assert "storage.memory" in loaded
    assert [name for name in loaded if name.split(".")[0] in ("sqlalchemy", "alembic")] == []
