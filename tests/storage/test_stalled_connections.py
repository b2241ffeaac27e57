"""A statement on a connection that stalled for good fails within the time limit, and the
connection is thrown away: the next use case gets a fresh one at once (PostgreSQL, through a
TCP proxy on loopback that stops forwarding on the connections open at that moment)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from storage.database import open_store
from surveys.service.reachability import unreachable
from tests.faults.proxy import TcpProxy


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
