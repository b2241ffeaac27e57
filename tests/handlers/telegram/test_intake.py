"""The inbox worker: stored first, processed in order, at most once, errors recorded."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers.telegram.intake import Intake
from storage.memory import InMemoryStore


async def test_updates_are_processed_in_order_once_and_failures_recorded(clock: Any) -> None:
    inbox = InMemoryStore().inbox
    seen: list[str] = []

    async def process(payload: str) -> str | None:
        # Marked processed before processing: a crash now would not process it again.
        assert payload not in [event.payload for event in await inbox.pending("telegram")]
        seen.append(payload)
        if payload == "boom":
            raise RuntimeError("listener bug")
        return "refused" if payload == "bad" else None

    await inbox.accept(channel="telegram", key="1", payload="left by a crash", now=clock.now())
    intake = Intake(inbox, clock=clock, process=process)
    assert await intake.receive(key="2", payload="boom")
    assert await intake.receive(key="3", payload="bad")
    assert not await intake.receive(key="3", payload="bad")  # redelivered
    assert await intake.receive(key="4", payload="fine")
    intake.start()
    async with asyncio.timeout(5):
        await intake.until_processed("4")
    await intake.stop()
    assert seen == ["left by a crash", "boom", "bad", "fine"]
    assert await inbox.pending("telegram") == []
    errors = {event.key: event.error for event in inbox.events.values()}
    assert errors == {"1": None, "2": "RuntimeError: listener bug", "3": "refused", "4": None}


async def test_stopping_cuts_an_update_stuck_in_processing_without_redoing_it(
    clock: Any,
) -> None:
    inbox = InMemoryStore().inbox
    started = asyncio.Event()

    async def process(payload: str) -> str | None:
        started.set()
        await asyncio.Event().wait()  # Telegram keeps us waiting, say
        return None

    intake = Intake(inbox, clock=clock, process=process)
    await intake.receive(key="1", payload="stuck")
    intake.start()
    async with asyncio.timeout(5):
        await started.wait()
        await intake.stop(grace=0.01)
    assert await inbox.pending("telegram") == []
