"""Working the inbox: every channel's stored events, by any process, in order per person.

The rule (see :mod:`surveys.queues`): an event is stored before the platform gets its answer;
an :class:`InboxWorker` claims it with a lease and hands it to its channel's
:class:`EventHandler`, which applies it in one transaction that also writes the messages it
causes and completes the event (only the lease holder can). A crash before that commit loses
nothing: the lease ends and a worker (this process after a restart, or another one) claims
the event again. Events of one person come one at a time, oldest first; different people's are
worked concurrently.

A handler that fails is retried with a growing delay; after ``max_attempts`` the event is given
up on (recorded with the error, the person told) so that the person's later events are not held
up behind it. While the database is unreachable the worker waits and tries again, logging
once per outage, and works the backlog off when it answers.

Example::

    worker = InboxWorker(store, handlers={"slack": slack, "telegram": telegram},
                         clock=clock, worker="host-1")
    worker.start()
    worker.wake()                  # a receiver stored something
    await worker.until_processed("telegram", "update:4711")

A channel's handler applies an event with :func:`apply_event`: its work (one use case, and
the messages to send for it) in the transaction that completes the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from surveys.errors import ConflictError
from surveys.ports import Clock, EventInbox, Repositories
from surveys.queues import INBOX_LEASE, InboundEvent, LiveScreen, NewMessage
from surveys.service.reachability import brief, unreachable

log = logging.getLogger("itinera.inbox")

REMEMBERED = 10_000
"""Events processed lately that :meth:`InboxWorker.until_processed` can still report."""


class InboxStore(Protocol):
    """What the worker needs of the store: the inbox, in units of work."""

    @property
    def events(self) -> EventInbox: ...

    def transaction(self) -> AbstractAsyncContextManager[InboxStore]: ...


class EventHandler(Protocol):
    """Applies the stored events of one channel."""

    async def handle(self, event: InboundEvent, *, worker: str) -> None:
        """Apply ``event`` in one transaction that completes it (``events.complete`` with
        ``worker``); raise if it could not be applied (it is tried again later)."""
        ...

    async def give_up(self, event: InboundEvent, *, worker: str, error: str) -> None:
        """It failed too often: complete it with ``error`` and tell the person, if possible."""
        ...


Work = Callable[[Repositories], Awaitable[Sequence[NewMessage]]]
"""What applying an event does, in its transaction: the messages to send for it."""


class ScreenShown(Protocol):
    """The live screen a channel's outbound message will show once sent (None: not a screen)."""

    def __call__(
        self, message: NewMessage, *, outbox_id: int | None, now: datetime
    ) -> LiveScreen | None: ...


async def apply_event(
    store: Repositories,
    event: InboundEvent,
    work: Work,
    *,
    worker: str,
    now: datetime,
    shown: ScreenShown,
    error: str | None = None,
) -> bool:
    """Do ``work``, enqueue the messages it returns, record the live screens they will show,
    and complete ``event`` (with ``error``, if it was not applied), all in one transaction.
    True when messages were enqueued: the caller wakes its sender."""
    async with store.transaction() as tx:
        messages = list(await work(tx))
        if messages:
            ids = await tx.messages.enqueue(messages, now=now)
            for message, outbox_id in zip(messages, ids, strict=True):
                live = shown(message, outbox_id=outbox_id, now=now)
                if live is not None and outbox_id is not None:
                    await tx.screens.show(live)
        await tx.events.complete(event.id, worker=worker, now=now, error=error)
    return bool(messages)


class InboxWorker:
    def __init__(
        self,
        store: InboxStore,
        *,
        handlers: Mapping[str, EventHandler],
        clock: Clock,
        worker: str,
        lease: timedelta = INBOX_LEASE,
        concurrency: int = 64,
        idle_poll: float = 1.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        on_applied: Callable[[InboundEvent, datetime], None] | None = None,
    ) -> None:
        self._store = store
        self._on_applied = on_applied
        self._handlers = dict(handlers)
        self._clock = clock
        self._worker = worker
        self._lease = lease
        self._concurrency = max(concurrency, 1)
        self._idle_poll = idle_poll
        self._max_attempts = max(max_attempts, 1)
        self._backoff = backoff
        self._wake = asyncio.Event()
        self._flying: set[asyncio.Task[None]] = set()
        self._flying_ids: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._database_down = False
        self._done: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._changed = asyncio.Condition()
        self.processed = 0
        self.given_up = 0

    @property
    def worker(self) -> str:
        return self._worker

    def wake(self) -> None:
        """An event was stored: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._wake.set()
            self._task = asyncio.create_task(self._run(), name="inbox-worker")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming; let events being applied finish for ``grace`` seconds (the rest are
        rolled back and claimed again after their lease)."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._flying:
            _, pending = await asyncio.wait(set(self._flying), timeout=grace)
            for left in pending:
                left.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def drain(self) -> int:
        """Apply every event that can be claimed now, until none is left (tests, the demo)."""
        handled = 0
        while True:
            claimed = await self._claim()
            if not claimed:
                if not self._flying:
                    return handled
                await asyncio.wait(set(self._flying), return_when=asyncio.FIRST_COMPLETED)
                continue
            handled += len(claimed)
            for event in claimed:
                self._launch(event)

    async def until_processed(self, channel: str, key: str) -> None:
        """Wait until this worker has finished with the event (applied or given up on);
        bound the wait with ``asyncio.timeout``."""
        async with self._changed:
            await self._changed.wait_for(lambda: (channel, key) in self._done)

    async def process(self, event_id: int) -> bool:
        """Claim and apply one event now, in the caller's task (a request that must answer
        with the outcome, such as a Slack modal); False if it could not be claimed now (an
        earlier event of the same person is pending): the loop will apply it."""
        if event_id in self._flying_ids:
            return True
        async with self._store.transaction() as tx:
            claimed = await tx.events.claim(
                worker=self._worker,
                now=self._clock.now(),
                lease=self._lease,
                limit=1,
                event_id=event_id,
            )
        if not claimed or event_id in self._flying_ids:
            return bool(claimed)
        self._flying_ids.add(event_id)
        try:
            await self._apply(claimed[0])
        finally:
            self._flying_ids.discard(event_id)
        return True

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the claim, not after: a wake while the claim runs (an event stored
            # after its snapshot) then makes the wait below return at once instead of being lost.
            self._wake.clear()
            try:
                claimed = await self._claim()
                if self._database_down:
                    log.info("inbox: the database answers again; working the backlog off")
                    self._database_down = False
            except Exception as error:
                if not self._database_down:
                    log.warning(
                        "inbox: cannot reach the database (%s); will try again",
                        brief(error),
                        exc_info=not unreachable(error),
                    )
                    self._database_down = True
                await self._idle()
                continue
            for event in claimed:
                self._launch(event)
            if not claimed or len(self._flying) >= self._concurrency:
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._idle_poll):
                await self._wake.wait()

    async def _claim(self) -> list[InboundEvent]:
        free = self._concurrency - len(self._flying)
        if free <= 0 or self._stopping:
            return []
        async with self._store.transaction() as tx:
            claimed = await tx.events.claim(
                worker=self._worker, now=self._clock.now(), lease=self._lease, limit=free
            )
        # An event whose lease ran out while this worker is still applying it comes back to
        # this same claimant: the task in flight completes it; applying it twice would race.
        return [event for event in claimed if event.id not in self._flying_ids]

    def _launch(self, event: InboundEvent) -> None:
        task = asyncio.create_task(self._fly(event), name=f"event-{event.id}")
        self._flying.add(task)
        self._flying_ids.add(event.id)

    async def _fly(self, event: InboundEvent) -> None:
        try:
            await self._apply(event)
        finally:
            current = asyncio.current_task()
            if current is not None:
                self._flying.discard(current)
            self._flying_ids.discard(event.id)
            self._wake.set()

    async def _apply(self, event: InboundEvent) -> None:
        handler = self._handlers.get(event.channel)
        try:
            if handler is None:
                raise LookupError(f"no handler for channel {event.channel!r}")
            await handler.handle(event, worker=self._worker)
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:1000]
            if event.attempts >= self._max_attempts and handler is not None:
                log.error(
                    "inbox: %s %s failed %d times; given up: %s",
                    event.channel,
                    event.key,
                    event.attempts,
                    reason,
                    exc_info=error,
                )
                with contextlib.suppress(Exception):
                    await handler.give_up(event, worker=self._worker, error=reason)
                self.given_up += 1
                await self._remember(event)
                return
            if isinstance(error, ConflictError):
                # It raced another writer, or our lease ended and another worker has it: if it
                # is still ours, it is tried again at once from fresh state.
                log.info("inbox: %s %s: %s; trying again", event.channel, event.key, error)
                delay = 0.0
            else:
                log.warning(
                    "inbox: %s %s failed (attempt %d), will retry: %s",
                    event.channel,
                    event.key,
                    event.attempts,
                    brief(error) if unreachable(error) else reason,
                    exc_info=not unreachable(error),
                )
                delay = self._backoff * 2.0 ** (event.attempts - 1)
            await self._release(event, delay=delay, error=reason)
            return
        self.processed += 1
        if self._on_applied is not None:
            self._on_applied(event, self._clock.now())
        await self._remember(event)

    async def _release(self, event: InboundEvent, *, delay: float, error: str) -> None:
        with contextlib.suppress(Exception):  # the lease ends anyway if this cannot be written
            async with self._store.transaction() as tx:
                await tx.events.release(
                    event.id,
                    worker=self._worker,
                    available_at=self._clock.now() + timedelta(seconds=delay),
                    error=error,
                )

    async def _remember(self, event: InboundEvent) -> None:
        async with self._changed:
            self._done[(event.channel, event.key)] = None
            while len(self._done) > REMEMBERED:
                self._done.popitem(last=False)
            self._changed.notify_all()


__all__ = ["EventHandler", "InboxWorker"]
