"""Receiving from Telegram: every update stored in the one inbox before it is confirmed.

Both modes feed :meth:`Receiver.receive`: the webhook before it answers 200, the poller before
it asks for the next batch (which is what confirms one to Telegram). A stored update is then
applied by the inbox worker (woken as it is stored), by any process, in order per person.
An update seen twice (Telegram redelivers after a timeout) is stored once and applied once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from handlers.telegram.inbound import TooDeep, cleaned, to_event
from surveys.ports import Clock, EventInbox

log = logging.getLogger("itinera.telegram")

SEEN_REMEMBERED = 10_000
"""Updates lately received that :meth:`Receiver.until_received` can still report."""


class Inbox(Protocol):
    """What the receiver needs of the inbox worker."""

    def wake(self) -> None: ...


class Receiver:
    def __init__(self, events: EventInbox, *, clock: Clock, inbox: Inbox) -> None:
        self._events = events
        self._clock = clock
        self._inbox = inbox
        self._seen: dict[str, None] = {}
        self._changed = asyncio.Condition()

    async def until_received(self, update_id: int) -> None:
        """Wait until this receiver has stored (or seen again) the update ``update_id``
        (tests and the demo; bound it with ``asyncio.timeout``)."""
        async with self._changed:
            await self._changed.wait_for(lambda: str(update_id) in self._seen)

    async def idle(self) -> None:
        """Nothing received is applied in place (the inbox worker applies it): always idle."""

    async def receive(self, raw: Mapping[str, Any]) -> int | None:
        """Store an update; its event id, or None if it was stored before, has no id, or is
        nested too deep to be one. Lone surrogates are stored as U+FFFD (see ``cleaned``)."""
        try:
            raw = cleaned(raw)
        except TooDeep:
            log.warning("Telegram sent an update nested too deep; ignored")
            return None
        event = to_event(raw)
        if event is None:
            log.warning("Telegram sent an update without update_id; ignored: %.200r", raw)
            return None
        stored = await self._events.accept(event, now=self._clock.now())
        if stored is None:
            log.info("Telegram update %s received again; already stored", event.key)
        else:
            self._inbox.wake()
        async with self._changed:
            self._seen[event.key] = None
            while len(self._seen) > SEEN_REMEMBERED:
                del self._seen[next(iter(self._seen))]
            self._changed.notify_all()
        return stored


__all__ = ["Inbox", "Receiver"]
