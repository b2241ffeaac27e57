"""PostgreSQL's pooled connections are checked as they leave the pool only where one can have
died unseen: a connection the server closed is replaced at no cost, one idle longer than
``PING_AFTER_IDLE`` is pinged first, and one reused at once is neither (``pool_pre_ping``
cost three round trips before every transaction)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage import database
from tests.conftest import POSTGRES_ENV, isolated_database
from tests.faults.harness import wait_until


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if not os.environ.get(POSTGRES_ENV):
        pytest.fail(f"these tests need PostgreSQL: set {POSTGRES_ENV}")
    async with isolated_database("postgresql", tmp_path) as url:
        engine = database.create_engine(url, pool_size=1, max_overflow=0)
        try:
            yield engine
        finally:
            await engine.dispose()


def _count_pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    dialect = engine.sync_engine.dialect
    pings: list[int] = []
    real = dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_reused_at_once_is_not_pinged(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    first = await _backend_pid(engine)
    for _ in range(5):
        assert await _backend_pid(engine) == first
    assert pings == []


async def test_a_connection_idle_too_long_is_pinged_and_kept_if_alive(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = _count_pings(engine, monkeypatch)
    first = await _backend_pid(engine)
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)
    # The threshold is read when the engine is made: make one that pings whatever the idle.
    pinging = database.create_engine(engine.url, pool_size=1, max_overflow=0)
    try:
        counted = _count_pings(pinging, monkeypatch)
        pid = await _backend_pid(pinging)
        assert await _backend_pid(pinging) == pid
        assert counted == [1]  # the second checkout, after some idle time, pinged once
    finally:
        await pinging.dispose()
    assert await _backend_pid(engine) == first
    assert pings == []


async def test_a_connection_the_server_closed_is_replaced_before_use(engine: AsyncEngine) -> None:
    first = await _backend_pid(engine)
    admin = database.create_engine(engine.url, poolclass=NullPool)
    try:
        async with admin.begin() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})

        async def gone() -> bool:
            async with admin.connect() as connection:
                alive = await connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": first}
                )
                return alive.scalar_one() == 0

        await wait_until(gone, within=10, what="the terminated backend to exit")
    finally:
        await admin.dispose()
    # The next use case gets a working connection at its first try, not an error.
    assert await _backend_pid(engine) != first
