"""Engines, sessions and the :class:`Store` that bundles the repositories.

Nothing here runs at import time: the composition root calls :func:`open_store` once with the
configured URL and passes the store down.

Example::

    store = await open_store("sqlite+aiosqlite:///itinera.db")
    try:
        version = await store.surveys.latest_version("route_alignment")
    finally:
        await store.close()

PostgreSQL URLs may name a schema to work in, either as ``schema=`` or in the URL as
``?schema=NAME`` (it becomes the connection's ``search_path``); tests use it to give every test
its own schema.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from storage.channel_repositories import (
    SqlAlchemyEnrolmentRepository,
    SqlAlchemyIdentityRepository,
)
from storage.personal_data import SqlAlchemyPersonalData
from storage.queues import (
    SqlAlchemyEventInbox,
    SqlAlchemyLeaseRepository,
    SqlAlchemyMessageOutbox,
    SqlAlchemyScreenRepository,
)
from storage.repositories import (
    SqlAlchemyAuditLog,
    SqlAlchemyResponseRepository,
    SqlAlchemyRosterRepository,
    SqlAlchemyRoundRepository,
    SqlAlchemySurveyRepository,
    SurveyCache,
)
from storage.scope import OwnTransactions, SessionScope, SharedTransaction
from surveys.ports import (
    AuditLog,
    Clock,
    EnrolmentRepository,
    EventInbox,
    IdentityRepository,
    LeaseRepository,
    MessageOutbox,
    PersonalDataRepository,
    ResponseRepository,
    RosterRepository,
    RoundRepository,
    ScreenRepository,
    SurveyRepository,
)

SCHEMA_QUERY_KEY = "schema"
SQLITE_IMMEDIATE = "itinera_sqlite_immediate"
"""Execution option: begin the SQLite transaction with ``BEGIN IMMEDIATE``."""


class SystemClock:
    """The real clock: aware UTC now."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def split_url(url: str | URL, schema: str | None = None) -> tuple[URL, str | None]:
    """The URL without its ``?schema=`` parameter, and the schema (``schema`` wins)."""
    parsed = make_url(url)
    in_url = parsed.query.get(SCHEMA_QUERY_KEY)
    if isinstance(in_url, tuple):
        in_url = in_url[-1]
    parsed = parsed.difference_update_query([SCHEMA_QUERY_KEY])
    schema = schema or in_url or None
    if schema is not None and parsed.get_backend_name() != "postgresql":
        raise ValueError(f"a schema is only supported on PostgreSQL, not {parsed.drivername}")
    return parsed, schema


POSTGRESQL_POOL: dict[str, Any] = {
    "pool_size": 20,
    "max_overflow": 20,
    "pool_timeout": 10,
}
"""Connections per process on PostgreSQL: webhooks store what arrives while the inbox worker
and the senders work many events and messages at once; SQLAlchemy's default (5, overflow 10)
made an acknowledgement wait behind them."""
PING_AFTER_IDLE = 1.0
"""Seconds a pooled PostgreSQL connection may have been idle before it is pinged as it leaves
the pool (see :func:`_check_on_checkout`)."""
POSTGRESQL_CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection: a database that accepts but never answers (a black-holed
network) fails the attempt instead of holding a webhook open until the platform gives up."""
POSTGRESQL_QUERY_TIMEOUT = 60.0
"""Seconds one statement may take on PostgreSQL (``ITINERA_DATABASE_TIMEOUT_SECONDS``): past
it the statement fails and its connection is replaced. A connection on a path that died
without a word (a firewall or NAT that forgot it) otherwise holds its work for ever. The
server ends a transaction left idle for twice as long: its client is gone, and its row locks
would hold up whoever retries the work."""


def create_engine(
    url: str | URL,
    *,
    schema: str | None = None,
    sqlite_foreign_keys: bool = True,
    query_timeout: float | None = POSTGRESQL_QUERY_TIMEOUT,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine set up the way Itinera needs it on each backend.

    SQLite: foreign keys on, WAL journal, a busy timeout, and real ``BEGIN``s so that a
    transaction covers its reads and its DDL too (pysqlite otherwise begins only before DML).
    PostgreSQL: ``schema`` (or ``?schema=`` in the URL) becomes the ``search_path``; a
    statement fails after ``query_timeout`` seconds (None: never, as migrations need) and the
    server ends a transaction idle for twice as long (see :data:`POSTGRESQL_QUERY_TIMEOUT`).
    """
    parsed, schema = split_url(url, schema)
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    server_settings = dict(connect_args.get("server_settings", {}))
    if schema is not None:
        server_settings["search_path"] = schema
    if parsed.get_backend_name() == "postgresql" and query_timeout is not None:
        connect_args.setdefault("command_timeout", query_timeout)
        server_settings.setdefault(
            "idle_in_transaction_session_timeout", str(round(2000 * query_timeout))
        )
    if server_settings:
        connect_args["server_settings"] = server_settings
    if parsed.get_backend_name() == "postgresql" and "poolclass" not in kwargs:
        for name, value in POSTGRESQL_POOL.items():
            kwargs.setdefault(name, value)
    if parsed.get_backend_name() == "postgresql":
        connect_args.setdefault("timeout", POSTGRESQL_CONNECT_TIMEOUT)
    engine = create_async_engine(parsed, connect_args=connect_args, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, foreign_keys=sqlite_foreign_keys)
    else:
        _timed_out_is_gone(engine)
        if not kwargs.get("pool_pre_ping") and "poolclass" not in kwargs:
            _check_on_checkout(engine, idle=PING_AFTER_IDLE)
    return engine


def _timed_out_is_gone(engine: AsyncEngine) -> None:
    """A connection whose statement ran out of time (:data:`POSTGRESQL_QUERY_TIMEOUT`) is
    thrown away, not put back in the pool: its path may be dead without a word, and the pool
    would hand it out again (each use failing after the timeout) or wait for ever for it to
    close gracefully; discarding it closes it with a bounded wait, then by force."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        if isinstance(context.original_exception, TimeoutError):
            context.is_disconnect = True


def _check_on_checkout(engine: AsyncEngine, *, idle: float) -> None:
    """Replace a dead pooled connection before a use case draws it, at the cost of a round
    trip only where one can have died unseen.

    After the database was unreachable (restarted, network cut) the pool holds connections
    that fail their first statement. A connection whose socket was closed says so at no cost
    (asyncpg saw the close); one that sat idle longer than ``idle`` seconds is pinged. Either
    is then replaced (SQLAlchemy discards a connection whose checkout raises
    ``DisconnectionError`` and draws another). A busy process reuses its connections within
    milliseconds and pings none; ``pool_pre_ping`` pinged each, which on asyncpg is three
    round trips (``BEGIN``, a no-op, ``ROLLBACK``) before every transaction.
    """
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        driver = getattr(record, "driver_connection", None)
        is_closed = getattr(driver, "is_closed", None)
        if callable(is_closed) and is_closed():
            raise exc.DisconnectionError("the pooled connection was closed")
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < idle:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"the pooled connection is dead: {error}") from error


_CHECKED_IN = "itinera_checked_in"


def _configure_sqlite(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A unit of work that will write takes the write lock at once (BEGIN IMMEDIATE): two
        # deferred transactions that both read and then write would otherwise fail with
        # "database is locked" instead of waiting their turn.
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and its session factory (``expire_on_commit=False``: rows outlive commits)."""

    def __init__(self, url: str | URL, *, schema: str | None = None, **engine_kwargs: Any) -> None:
        self.engine = create_engine(url, schema=schema, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Connect once, so that a wrong URL fails at start rather than at the first message."""
        async with self.engine.connect():
            pass

    async def dispose(self) -> None:
        await self.engine.dispose()


@dataclass
class Store:
    """The repositories the core and the channels need, sharing one database.

    Each repository method called on the store directly is a transaction of its own;
    :meth:`transaction` gives the same repositories over one transaction, for a use case.
    """

    surveys: SurveyRepository
    roster: RosterRepository
    rounds: RoundRepository
    responses: ResponseRepository
    audit: AuditLog
    identities: IdentityRepository
    enrolments: EnrolmentRepository
    personal: PersonalDataRepository
    events: EventInbox
    messages: MessageOutbox
    screens: ScreenRepository
    leases: LeaseRepository
    database: Database | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=SystemClock, repr=False)
    cache: SurveyCache = field(default_factory=SurveyCache, repr=False)
    in_transaction: bool = field(default=False, repr=False)
    """True for the repositories a :meth:`transaction` gives: they all share it."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Store]:
        """The repositories over one transaction: committed when the block ends, rolled back
        if it raises. On SQLite it takes the write lock at its start. Called on repositories
        already in a transaction, it joins that one."""
        if self.in_transaction:
            yield self
            return
        if self.database is None:
            raise RuntimeError("this store has no database to open a transaction on")
        database = self.database
        async with database.sessions() as session, session.begin():
            if database.dialect == "sqlite":
                await session.connection(execution_options={SQLITE_IMMEDIATE: True})
            joined = _repositories(SharedTransaction(session), clock=self.clock, cache=self.cache)
            joined.in_transaction = True
            yield joined

    async def close(self) -> None:
        if self.database is not None:
            await self.database.dispose()


def _repositories(scope: SessionScope, *, clock: Clock, cache: SurveyCache) -> Store:
    return Store(
        surveys=SqlAlchemySurveyRepository(scope, cache=cache),
        roster=SqlAlchemyRosterRepository(scope, clock=clock),
        rounds=SqlAlchemyRoundRepository(scope),
        responses=SqlAlchemyResponseRepository(scope),
        audit=SqlAlchemyAuditLog(scope),
        identities=SqlAlchemyIdentityRepository(scope, clock=clock),
        enrolments=SqlAlchemyEnrolmentRepository(scope),
        personal=SqlAlchemyPersonalData(scope, clock=clock),
        events=SqlAlchemyEventInbox(scope),
        messages=SqlAlchemyMessageOutbox(scope),
        screens=SqlAlchemyScreenRepository(scope),
        leases=SqlAlchemyLeaseRepository(scope),
        clock=clock,
        cache=cache,
    )


def store_for(database: Database, *, clock: Clock | None = None) -> Store:
    """The repositories over an already open :class:`Database`."""
    store = _repositories(
        OwnTransactions(database.sessions), clock=clock or SystemClock(), cache=SurveyCache()
    )
    store.database = database
    return store


async def open_store(
    url: str | URL, *, schema: str | None = None, clock: Clock | None = None, **engine_kwargs: Any
) -> Store:
    """Connect to a migrated database and return its repositories; ``Store.close()`` when done.

    Does not migrate: run :func:`storage.migrate.upgrade` (``itinera db upgrade``) first.
    """
    database = Database(url, schema=schema, **engine_kwargs)
    try:
        await database.ping()
    except BaseException:
        await database.dispose()
        raise
    return store_for(database, clock=clock)


__all__ = [
    "Database",
    "Store",
    "SystemClock",
    "create_engine",
    "open_store",
    "split_url",
    "store_for",
]
