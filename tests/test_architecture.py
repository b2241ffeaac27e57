"""Dependencies point inward: bot -> (handlers, storage) -> surveys."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "surveys")
FORBIDDEN = {
    "surveys": {"bot", "handlers", "storage"},
    "storage": {"bot", "handlers"},
    "handlers": {"bot", "storage"},
}
CORE_THIRD_PARTY = {"pydantic", "babel"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_do_not_import_outward(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in modules(package)
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_core_imports_only_stdlib_and_pydantic() -> None:
    allowed = set(sys.stdlib_module_names) | CORE_THIRD_PARTY | {"surveys", "__future__"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) - allowed)
        for path in modules("surveys")
        if imported_roots(path) - allowed
    }
    assert offenders == {}


def test_every_package_has_modules() -> None:
    assert all(modules(package) for package in PACKAGES)
