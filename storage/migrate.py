"""Run the Alembic migrations in ``storage/migrations`` from code; no alembic.ini needed.

The CLI calls the sync functions (:func:`upgrade`, :func:`current_revision`); code already in an
event loop (tests, the bot at start) awaits the ``*_async`` ones, which run alembic on an
async connection through ``run_sync``. URLs are SQLAlchemy async URLs
(``sqlite+aiosqlite:///itinera.db``, ``postgresql+asyncpg://user@host/db``); on PostgreSQL a
``schema`` (or ``?schema=NAME`` in the URL) is created if needed and migrated.

Example::

    upgrade("sqlite+aiosqlite:///itinera.db")
    assert current_revision("sqlite+aiosqlite:///itinera.db") == head_revision()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage.database import create_engine, split_url
from storage.tables import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


def alembic_config(
    url: str | None = None, *, schema: str | None = None, connection: Connection | None = None
) -> Config:
    """An alembic ``Config`` for our migrations, given a URL (and schema) or an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["schema"] = schema
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision the code expects the database at."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - there is always a first revision
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def _engine(url: str, schema: str | None) -> AsyncEngine:
    # Foreign keys off on SQLite while migrating: batch mode drops and recreates tables.
    return create_engine(
        url, schema=schema, poolclass=NullPool, sqlite_foreign_keys=False, query_timeout=None
    )


async def _on_connection(
    url: str, schema: str | None, work: Callable[[Connection], T], *, create_schema: bool = False
) -> T:
    """Run ``work`` on a sync view of one async connection, in one committed transaction."""
    _, schema = split_url(url, schema)
    engine = _engine(url, schema)
    try:
        async with engine.begin() as connection:
            if create_schema and schema is not None:
                # Look first: CREATE SCHEMA IF NOT EXISTS needs the CREATE right even when the
                # schema exists, which a least-privileged deployment user may not have.
                found = await connection.scalar(
                    text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": schema}
                )
                if found is None:
                    quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
                    await connection.execute(text(f"CREATE SCHEMA {quoted}"))
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def upgrade_async(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Migrate the database at ``url`` up to ``revision``, inside the running event loop."""

    def work(connection: Connection) -> None:
        command.upgrade(alembic_config(connection=connection), revision)

    await _on_connection(url, schema, work, create_schema=True)


async def downgrade_async(url: str, revision: str, *, schema: str | None = None) -> None:
    """Migrate down to ``revision`` (``"base"`` removes every table)."""

    def work(connection: Connection) -> None:
        command.downgrade(alembic_config(connection=connection), revision)

    await _on_connection(url, schema, work)


async def current_revision_async(url: str, *, schema: str | None = None) -> str | None:
    """The revision the database is at; None when it was never migrated."""

    def work(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _on_connection(url, schema, work)


async def schema_differences_async(url: str, *, schema: str | None = None) -> list[Any]:
    """What alembic's autogenerate would change to make the database match ``tables.metadata``.

    Empty when the migrations and the models agree.
    """

    def work(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    return await _on_connection(url, schema, work)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, in its own thread and event loop.

    A thread keeps this usable where an event loop already runs (and leaves that loop alone).
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="itinera-migrate")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def upgrade(url: str, revision: str = "head", *, schema: str | None = None) -> None:
    """Migrate up to ``revision`` (sync, for the CLI)."""
    _run(upgrade_async(url, revision, schema=schema))


def downgrade(url: str, revision: str, *, schema: str | None = None) -> None:
    """Migrate down to ``revision`` (sync, for the CLI)."""
    _run(downgrade_async(url, revision, schema=schema))


def current_revision(url: str, *, schema: str | None = None) -> str | None:
    """The revision the database is at, None if never migrated (sync, for the CLI)."""
    return _run(current_revision_async(url, schema=schema))


__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "current_revision",
    "current_revision_async",
    "downgrade",
    "downgrade_async",
    "head_revision",
    "schema_differences_async",
    "upgrade",
    "upgrade_async",
]
