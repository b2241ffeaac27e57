"""Inbound updates: stored in the inbox before they are acknowledged, processed from there.

Both modes feed :meth:`Intake.receive`: the webhook before it answers 200, the poller before
it confirms the batch to Telegram (by asking for the next offset). One worker task then
processes what the inbox holds, oldest first, so an update is applied once even if Telegram
delivers it twice, and one left unprocessed by a crash is processed at the next start.

Each event is marked processed *before* it is processed (and marked again with the error if it
failed): at most once. An update being processed when the process dies is therefore not
processed again; the alternative, processing it twice, would apply a typed answer to the next
question as well, silently. The delegate saw no reply and answers again.

Example::

    intake = Intake(store.inbox, clock=clock, process=process_payload)
    intake.start()                                  # processes what a crash left, then waits
    await intake.receive(key="4711", payload=raw)   # stored; the worker is woken
    await intake.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from surveys.ports import Clock, InboxRepository
from surveys.records import Channel

log = logging.getLogger("itinera.telegram")

CHANNEL = Channel.TELEGRAM.value
DONE_REMEMBERED = 1000

Process = Callable[[str], Awaitable[str | None]]
"""Processes one stored payload; returns what went wrong (for the inbox), or None."""


class Intake:
    def __init__(
        self,
        inbox: InboxRepository,
        *,
        clock: Clock,
        process: Process,
        channel: str = CHANNEL,
        batch: int = 100,
    ) -> None:
        self._inbox = inbox
        self._clock = clock
        self._process = process
        self._channel = channel
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._done: dict[str, None] = {}
        """Keys processed lately, oldest first (an ordered set), for :meth:`until_processed`."""
        self._changed = asyncio.Condition()

    async def receive(self, *, key: str, payload: str) -> bool:
        """Store an update under its platform key; False if it was stored before (a retry)."""
        stored = await self._inbox.accept(
            channel=self._channel, key=key, payload=payload, now=self._clock.now()
        )
        if stored is None:
            log.info("Telegram update %s received again; already stored", key)
        self._wake.set()
        return stored is not None

    def start(self) -> None:
        """Start the worker; it first processes whatever is pending."""
        if self._task is None:
            self._stopping = False
            self._wake.set()
            self._task = asyncio.create_task(self._run(), name="telegram-intake")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Let the update being processed finish (for ``grace`` seconds at most), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        task, self._task = self._task, None
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            log.warning("Telegram update still being processed after %g s; stopping it", grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self) -> int:
        """Process every pending event; returns how many were processed."""
        attempted: set[int] = set()
        count = 0
        while not self._stopping:
            events = await self._inbox.pending(self._channel, limit=self._batch)
            fresh = [event for event in events if event.id not in attempted]
            if not fresh:
                break
            for event in fresh:
                if self._stopping:
                    break
                attempted.add(event.id)
                await self._inbox.mark_processed(event.id, now=self._clock.now())  # at most once
                try:
                    error = await self._process(event.payload)
                except Exception as exc:  # a bug in processing: record it, go on
                    log.exception("Telegram update %s could not be processed", event.key)
                    error = f"{type(exc).__name__}: {exc}"
                if error is not None:
                    await self._inbox.mark_processed(event.id, now=self._clock.now(), error=error)
                count += 1
                async with self._changed:
                    self._done[event.key] = None
                    while len(self._done) > DONE_REMEMBERED:
                        del self._done[next(iter(self._done))]
                    self._changed.notify_all()
        return count

    async def until_processed(self, key: str) -> None:
        """Wait until the update ``key`` has been processed by this intake (for tests, demos);
        bound the wait with ``asyncio.timeout``."""
        async with self._changed:
            await self._changed.wait_for(lambda: key in self._done)

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                # The database is unreachable, most likely: what is stored stays pending and
                # is tried again at the next update or the next start.
                log.exception("Telegram inbox could not be processed; will retry")
