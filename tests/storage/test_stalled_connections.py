"""A statement on a connection that stalled for good fails within the time limit, and the
connection is thrown away: the next use case gets a fresh one at once (PostgreSQL, through a
TCP proxy on loopback that stops forwarding on the connections open at that moment)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.database import open_store
from storage.migrate import upgrade_async
from surveys.service.reachability import unreachable
from tests.conftest import POSTGRES_ENV, isolated_database
from tests.faults.proxy import TcpProxy


@pytest.fixture
async def url(tmp_path: Path) -> AsyncIterator[str]:
    if not os.environ.get(POSTGRES_ENV):
        pytest.fail(f"these tests need PostgreSQL: set {POSTGRES_ENV}")
    async with isolated_database("postgresql", tmp_path) as found:
        await upgrade_async(found)
        yield found


async def test_a_stalled_connection_times_out_and_is_replaced(url: str) -> None:
    target = make_url(url)
    async with TcpProxy("127.0.0.1", target.port or 5432) as proxy:
        through = target.set(port=proxy.port).render_as_string(hide_password=False)
        # One connection: whatever the next use case gets is the stalled one or its successor.
        store = await open_store(through, query_timeout=0.5, pool_size=1, max_overflow=0)
        try:
            assert (await store.events.backlog()).pending == 0
            await proxy.stall()
            with pytest.raises(Exception) as stalled:
                async with asyncio.timeout(8) as waited:
                    await store.events.backlog()
            assert not waited.expired(), "the statement waited for ever, not its 0.5 s"
            assert unreachable(stalled.value), repr(stalled.value)
            async with asyncio.timeout(8) as waited:
                assert (await store.events.backlog()).pending == 0  # on a fresh connection
        finally:
            await store.close()
