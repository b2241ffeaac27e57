"""A scheduled job that meets an unreachable database logs one line and lets the next run try.

The leader's lease is held (in memory) while the tick's own store points at a PostgreSQL port
nothing listens on: the database went away between taking the lease and doing the work.
"""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.fakes.messenger import RecordingOut
from bot.scheduler import TICK_JOB_ID, build_scheduler
from bot.settings import load_settings
from storage.database import Database, store_for
from storage.memory import InMemoryStore
from surveys.service.leadership import Leadership


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_tick_without_its_database_is_one_warning_not_a_traceback(
    fixed_clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = fixed_clock(datetime(2026, 6, 8, 10, tzinfo=UTC))
    gone = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/test")
    store = store_for(gone, clock=clock)
    leases = InMemoryStore()
    leader = Leadership(
        leases, name="scheduler", holder="host-1", ttl=timedelta(minutes=3), clock=clock
    )
    out = RecordingOut()
    try:
        schedule = build_scheduler(
            load_settings(database_url="sqlite+aiosqlite:///unused.db"),
            store,
            channels=[out],
            digests=[out],
            publish=lambda *args, **kwargs: None,  # type: ignore[arg-type,return-value]
            clock=clock,
            leader=leader,
        )
        job = schedule.scheduler.get_job(TICK_JOB_ID)
        caplog.set_level(logging.INFO)
        assert await job.func(**job.kwargs) is None
    finally:
        await gone.dispose()
    assert leader.leading  # the lease was taken: the tick itself met the outage
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].exc_info is None
    assert "tick_job: cannot reach the database (" in warnings[0].getMessage()
    assert "the next run tries again" in warnings[0].getMessage()
