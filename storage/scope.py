"""Where a repository's statements run: a transaction of their own, or the caller's.

Every SQL repository is written once over a :class:`SessionScope`. The store's own repositories
use :class:`OwnTransactions` (each method is one short transaction, handy for reads and tests);
a unit of work (``Store.transaction()``) builds the same repositories over
:class:`SharedTransaction`, so that everything a use case reads and writes commits or rolls
back together.

Example::

    async with self._scope.writing() as session:
        session.add(row)          # committed now, or with the unit of work
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

Sessions = async_sessionmaker[AsyncSession]


class SessionScope(Protocol):
    @property
    def dialect(self) -> str:
        """The database's dialect name (``sqlite``, ``postgresql``)."""
        ...

    @property
    def remembers(self) -> bool:
        """Whether what is read may be kept for later reads (:func:`remembered`): only in a
        unit of work, whose reads otherwise end with their block."""
        ...

    def reading(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to read with."""
        ...

    def single_statement(self) -> AbstractAsyncContextManager[AsyncConnection | AsyncSession]:
        """Where to run one statement that must commit with the scope: a connection in
        autocommit for :class:`OwnTransactions` (one round trip, no ``BEGIN``/``COMMIT``),
        the unit of work's session for :class:`SharedTransaction`."""
        ...

    def writing(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session to write with; what is written is committed when the scope's transaction
        commits (at once for :class:`OwnTransactions`)."""
        ...


class OwnTransactions:
    """Each ``reading``/``writing`` block is a transaction of its own."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        bind = sessions.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise TypeError("OwnTransactions needs sessions bound to an AsyncEngine")
        self._engine = bind

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def remembers(self) -> bool:
        return False

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection | AsyncSession]:
        async with self._engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions.begin() as session:
            yield session


class SharedTransaction:
    """Every block runs in one session and transaction, which its owner commits.

    A record read by key in the unit of work may be kept for it (:func:`remembered`) until
    it next writes: a use case that reads a round or a response twice (a Telegram press shows
    the current screen, then acts on it) reads it once. A writer that raced it is still caught
    by the optimistic version check of the write."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        bind = self.session.bind
        if bind is None:
            raise TypeError("SharedTransaction needs a session bound to an engine")
        return bind.dialect.name

    @property
    def remembers(self) -> bool:
        return True

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        yield self.session

    @asynccontextmanager
    async def single_statement(self) -> AsyncIterator[AsyncConnection | AsyncSession]:
        self.session.info.pop(_REMEMBERED, None)
        yield self.session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        self.session.info.pop(_REMEMBERED, None)
        yield self.session


_REMEMBERED = "itinera_remembered"


def remembered(session: AsyncSession) -> dict[Hashable, Any]:
    """What this unit of work has read by key since it last wrote (empty for a session of
    its own, which ends with the block)."""
    memo: dict[Hashable, Any] = session.info.setdefault(_REMEMBERED, {})
    return memo


__all__ = ["OwnTransactions", "SessionScope", "Sessions", "SharedTransaction", "remembered"]
