"""Fixtures of the storage tests that need PostgreSQL itself (several engines, a proxy)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.migrate import upgrade_async
from tests.conftest import POSTGRES_ENV, isolated_database


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    """A freshly migrated PostgreSQL schema's URL; fails (never skips) without PostgreSQL."""
    if not os.environ.get(POSTGRES_ENV):
        pytest.fail(f"these tests need PostgreSQL: set {POSTGRES_ENV}")
    async with isolated_database("postgresql", tmp_path) as found:
        await upgrade_async(found)
        yield found
