"""Alembic environment for Itinera: async engines, SQLite batch mode, URL from the caller.

:mod:`storage.migrate` runs alembic programmatically and hands over either an open connection
(``config.attributes["connection"]``) or a URL and schema (``config.attributes["url"]`` and
``["schema"]``); the ``alembic`` command line works too, with ``sqlalchemy.url`` in its ini file.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from storage.database import create_engine
from storage.tables import JSONValue, UTCDateTime, metadata

config = context.config


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render our column types as plain SQLAlchemy ones, so migrations do not import the app."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, JSONValue):
        return 'sa.JSON(none_as_null=True).with_variant(sa.Text(), "sqlite")'
    return False


def configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: recreate the table instead
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def run_migrations_on(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def url_and_schema() -> tuple[str, str | None]:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass one to storage.migrate or set sqlalchemy.url")
    return str(url), config.attributes.get("schema")


async def run_async_migrations() -> None:
    url, schema = url_and_schema()
    # Foreign keys off on SQLite while migrating: batch mode drops and recreates tables.
    engine = create_engine(
        url, schema=schema, poolclass=NullPool, sqlite_foreign_keys=False, query_timeout=None
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations_on)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url, _ = url_and_schema()
    configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
