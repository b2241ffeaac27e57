"""Telling the inbox workers of every process that an event was stored (PostgreSQL).

A webhook served by one process stores its event; the inbox worker that applies it may run in
another (``ITINERA_ROLE=web`` and ``worker``, or replicas behind one address). Without a notice
that worker finds the event at its next idle poll, up to a second later. The inbox's accept
statement calls ``pg_notify`` (:data:`INBOX_NOTICE`), which PostgreSQL delivers when the
transaction commits; :func:`listen_for_inbox` holds one connection listening and wakes the
worker. The notice is only a wake-up: the event is in the table whether or not it is heard,
and the poll still finds what a lost connection missed.

The channel is named after the connection's schema, so databases shared by schemas (as the
tests share one) do not wake each other.

Example::

    task = asyncio.create_task(listen_for_inbox(store.database, inbox.wake))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.database import Database

log = logging.getLogger("itinera.storage")

_CHANNEL = "'itinera_inbox_' || current_schema()"
INBOX_NOTICE = f"pg_notify({_CHANNEL}, '')"
"""The SQL expression that notifies the inbox workers of the current schema."""

RETRY_SECONDS = 1.0
"""How soon a lost or refused listening connection is tried again."""
CHECK_SECONDS = 15.0
"""How long the listening connection may stay silent before it is asked whether it lives."""


async def listen_for_inbox(
    database: Database,
    wake: Callable[[], None],
    *,
    retry: float = RETRY_SECONDS,
    check: float = CHECK_SECONDS,
) -> None:
    """Call ``wake`` for every notice (and once on each (re)connection, for what was stored
    while nobody listened) until cancelled. A lost connection is replaced after ``retry``
    seconds, logged once per outage; nothing is raised."""
    failing = False
    while True:
        try:
            await _listen_once(database, wake, check)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database is away: the inbox's poll covers for us
            if not failing:
                log.warning("not listening for inbox notices (%s); retrying", _reason(error))
            failing = True
        else:
            failing = False
        await asyncio.sleep(retry)


async def _listen_once(database: Database, wake: Callable[[], None], check: float) -> None:
    """Listen on one connection until it is lost or does not answer within ``check``
    seconds of being asked (every ``check`` seconds of silence)."""
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # the asyncpg connection
        lost = asyncio.Event()
        channel = await driver.fetchval(f"SELECT {_CHANNEL}")

        def heard(*_: object) -> None:
            wake()

        driver.add_termination_listener(lambda *_: lost.set())
        await driver.add_listener(channel, heard)
        try:
            wake()
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=check)
                except TimeoutError:
                    # A black-holed network never closes the connection: ask it something.
                    await asyncio.wait_for(driver.fetchval("SELECT 1"), timeout=check)
        finally:
            # A connection that listened never goes back to the pool to serve queries.
            with contextlib.suppress(Exception):
                await connection.invalidate()


def _reason(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


__all__ = ["INBOX_NOTICE", "listen_for_inbox"]
