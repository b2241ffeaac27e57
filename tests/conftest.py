"""Shared fixtures: isolated, migrated databases on every backend, and stores over them.

Backends: ``sqlite`` always (a fresh file per test); ``postgresql`` too when
``ITINERA_TEST_DATABASE_URL`` is set (a fresh schema per test, dropped afterwards). If that
variable is set and PostgreSQL cannot be reached, the tests error: they never skip.

Fixtures:

- ``empty_database_url``: a URL (str) to an isolated, empty database; on PostgreSQL it carries
  ``?schema=NAME``, which ``open_store``, ``Database`` and ``storage.migrate`` all honour;
- ``database_url``: the same, migrated to head;
- ``store``: an open :class:`storage.database.Store` on ``database_url``;
- ``memory_store``: an :class:`storage.memory.InMemoryStore`;
- ``any_store``: ``memory_store`` and a ``store`` on each backend, for contract tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.database import Store, open_store
from storage.memory import InMemoryStore
from storage.migrate import upgrade_async

POSTGRES_ENV = "ITINERA_TEST_DATABASE_URL"
SQL_BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])
STORE_KINDS = ["memory", *SQL_BACKENDS]


@asynccontextmanager
async def isolated_database(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own for one test: a new SQLite file or a PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'itinera.db'}"
        return
    base = make_url(os.environ[POSTGRES_ENV])
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(base, poolclass=NullPool)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield base.update_query_dict({"schema": schema}).render_as_string(hide_password=False)
        finally:
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def migrated_store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    async with isolated_database(backend, tmp_path) as url:
        await upgrade_async(url)
        store = await open_store(url)
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=SQL_BACKENDS)
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with isolated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    await upgrade_async(empty_database_url)
    return empty_database_url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await open_store(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def memory_store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture(params=STORE_KINDS)
async def any_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store | InMemoryStore]:
    if request.param == "memory":
        yield InMemoryStore()
        return
    async with migrated_store(request.param, tmp_path) as opened:
        yield opened
