"""An event stored by one process wakes the inbox workers of the others (PostgreSQL
``LISTEN``/``NOTIFY``), on its schema only, and the listener outlives its connection."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Store, open_store, split_url
from storage.migrate import upgrade_async
from storage.notices import listen_for_inbox
from surveys.queues import NewInboundEvent
from tests.conftest import isolated_database
from tests.faults.harness import wait_until

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


async def _accept(store: Store, key: str) -> None:
    event = NewInboundEvent(channel="telegram", key=key, subject="42", payload="{}")
    assert await store.events.accept(event, now=NOW) is not None


async def _listening(store: Store, woken: Woken) -> asyncio.Task[None]:
    assert store.database is not None
    task = asyncio.create_task(listen_for_inbox(store.database, woken, retry=0.05))
    # It wakes once on connecting, for what was stored while nobody listened.
    await wait_until(lambda: woken.times >= 1, within=10, what="the listener connects")
    return task


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_event_stored_by_another_engine_wakes_the_listener(url: str) -> None:
    worker, web = await open_store(url), await open_store(url)
    woken = Woken()
    task = await _listening(worker, woken)
    try:
        before = woken.times
        await _accept(web, "update-1")
        await wait_until(lambda: woken.times > before, within=10, what="a notice")
        # A duplicate delivery is not stored again, but waking for it is harmless.
        await _accept(web, "update-2")
        await wait_until(lambda: woken.times > before + 1, within=10, what="a second notice")
    finally:
        await _stopped(task)
        await worker.close()
        await web.close()


async def test_another_schema_does_not_wake_it(url: str, tmp_path: Path) -> None:
    worker, web = await open_store(url), await open_store(url)
    woken = Woken()
    task = await _listening(worker, woken)
    try:
        async with isolated_database("postgresql", tmp_path / "other") as elsewhere:
            await upgrade_async(elsewhere)
            other = await open_store(elsewhere)
            try:
                before = woken.times
                await _accept(other, "elsewhere")
                # Then one on our schema: notices arrive in commit order, so once ours is
                # heard the other one would have been heard before it.
                await _accept(web, "here")
                await wait_until(lambda: woken.times > before, within=10, what="our notice")
                assert woken.times == before + 1
            finally:
                await other.close()
    finally:
        await _stopped(task)
        await worker.close()
        await web.close()


async def test_it_listens_again_after_losing_its_connection(url: str) -> None:
    worker, web = await open_store(url), await open_store(url)
    woken = Woken()
    task = await _listening(worker, woken)
    _, schema = split_url(url)
    try:
        assert web.database is not None
        async with web.database.engine.begin() as connection:
            ended = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE query = 'LISTEN \"itinera_inbox_' || :schema || '\"'"
                ),
                {"schema": schema},
            )
            assert ended.scalars().all() == [True], "not one listening connection ended"
        reconnected = woken.times + 1  # the listener wakes once more when it is back
        await wait_until(lambda: woken.times >= reconnected, within=10, what="a reconnection")
        before = woken.times
        await _accept(web, "after")
        await wait_until(lambda: woken.times > before, within=10, what="a notice after it")
    finally:
        await _stopped(task)
        await worker.close()
        await web.close()
