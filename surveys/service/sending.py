"""Draining the outbox: paced, concurrent senders, one per channel and process.

A :class:`Sender` claims its channel's pending messages (a few seconds' worth at the allowed
rate, so none waits past its lease), sends many at once, each when :class:`ChannelPacing` lets
it (the interactive lane before bulk), and records the outcome through the
:class:`Transport`'s verdict:

- :class:`Sent`: delivered, with the platform's message id; deliveries that finish about the
  same time are recorded together, in one transaction (a batch every ``record_every`` seconds
  or ``record_batch`` deliveries);
- :class:`RetryLater`: postponed; a rate limit pauses only the bucket it concerns and costs no
  attempt, other transient failures back off exponentially with jitter, and after
  ``max_attempts`` the message is failed with the last reason;
- :class:`Refused`: failed for good (the recipient blocked the bot) and visible to organisers;
  ``channel_wide`` (a revoked token) instead pauses the whole channel, gives the message back
  untouched and alerts, then probes the channel until it answers again.

Several processes may run a sender for the same channel: claims never overlap, and each
sender uses its share of the platform's rate (:meth:`ChannelPacing.share`, from the live
``sender:<channel>:`` leases).

Example::

    sender = Sender(store, transport=transport, pacing=pacing, clock=clock, worker="host-1")
    sender.start()
    sender.wake()            # something was enqueued
    await sender.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from surveys.pacing import ChannelPacing
from surveys.ports import Clock, LeaseRepository, MessageOutbox
from surveys.queues import OUTBOX_LEASE, Delivery, OutboundMessage
from surveys.service.reachability import brief, unreachable

log = logging.getLogger("itinera.sending")

SHARE_EVERY = timedelta(seconds=2)
"""How often a sender renews its presence and recounts the senders sharing its channel (two
short queries): a replica that starts beside others is counted by them this soon, and until
then they send at their old share; 10 s drew 90 429s from Slack when two replicas started a
fan-out together."""


# --- what a transport says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    platform_id: str | None
    address: str | None = None
    """Where the platform says the message went (a DM channel for a user id), if it says."""


@dataclass(frozen=True)
class RetryLater:
    reason: str
    after: float | None = None
    """Seconds the platform asked us to wait (a 429's Retry-After); None: our own backoff."""
    rate_limited: bool = False
    per_address: bool = False
    """The limit was the address's (one chat), not the method's or the whole channel's."""


@dataclass(frozen=True)
class Refused:
    reason: str
    channel_wide: bool = False
    """Nothing can be sent on this channel (bad or revoked token, app uninstalled)."""


Verdict = Sent | RetryLater | Refused

SendHook = Callable[[str, OutboundMessage, Verdict], None]
"""Told of every send's outcome: the channel, the message and the verdict (for metrics)."""


class OutboxStore(Protocol):
    """What a sender needs of the store: the outbox and leases, in units of work."""

    @property
    def messages(self) -> MessageOutbox: ...

    @property
    def leases(self) -> LeaseRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[OutboxStore]: ...


class Transport(Protocol):
    """Sends stored messages on one platform; never raises for what the platform says."""

    channel: str

    async def send(self, message: OutboundMessage) -> Verdict: ...

    async def check(self) -> str | None:
        """Whether the channel works again (after a channel-wide refusal): None if so, else
        why not."""
        ...


# --- the sender ---------------------------------------------------------------------------------


@dataclass
class SenderStats:
    """What one sender did since it started (for metrics and the benchmark)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    throttled: int = 0
    paused: int = 0
    by_method: dict[str, int] = field(default_factory=dict)


class Sender:
    def __init__(
        self,
        store: OutboxStore,
        *,
        transport: Transport,
        pacing: ChannelPacing,
        clock: Clock,
        worker: str,
        lease: timedelta = OUTBOX_LEASE,
        concurrency: int = 256,
        idle_poll: float = 1.0,
        max_attempts: int = 8,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
        pause_probe: float = 30.0,
        record_every: float = 0.05,
        record_batch: int = 50,
        on_event: SendHook | None = None,
    ) -> None:
        self._store = store
        self._transport = transport
        self._pacing = pacing
        self._clock = clock
        self._worker = worker
        self._lease = lease
        self._concurrency = max(concurrency, 1)
        self._idle_poll = idle_poll
        self._max_attempts = max(max_attempts, 1)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._pause_probe = pause_probe
        self._record_every = record_every
        self._record_batch = max(record_batch, 1)
        self._on_event = on_event
        self._deliveries: list[tuple[Delivery, asyncio.Future[None]]] = []
        self._recording: set[asyncio.Task[None]] = set()
        self._record_timer: asyncio.TimerHandle | None = None
        self.channel = transport.channel
        self.stats = SenderStats()
        self.paused_because: str | None = None
        """Why the channel is paused (a channel-wide refusal), None while it sends."""
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self._flying: set[asyncio.Task[None]] = set()
        self._flying_ids: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_share: datetime | None = None
        self._database_down = False

    @property
    def lease_name(self) -> str:
        return f"sender:{self.channel}:{self._worker}"

    def wake(self) -> None:
        """Something was enqueued: look now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"sender-{self.channel}")

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming; let messages in flight finish for ``grace`` seconds."""
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
            if pending:
                log.warning(
                    "%s: %d messages still being sent at stop; they are sent again after "
                    "their lease",
                    self.channel,
                    len(pending),
                )
                await asyncio.gather(*pending, return_exceptions=True)
        self._record_now()
        if self._recording:
            await asyncio.gather(*self._recording, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._store.leases.release(self.lease_name, holder=self._worker)

    async def drain(self) -> int:
        """Send whatever is due now until nothing is (tests and the demo call it instead of
        running the loop); returns how many messages were handled."""
        handled = 0
        while True:
            claimed = await self._claim()
            if not claimed:
                if not self._flying:
                    return handled
                await asyncio.wait(set(self._flying), return_when=asyncio.FIRST_COMPLETED)
                continue
            handled += len(claimed)
            for message in claimed:
                self._launch(message)

    async def until_idle(self) -> None:
        """Wait until no message is in flight (bound it with ``asyncio.timeout``)."""
        async with self._done:
            await self._done.wait_for(lambda: not self._flying)

    # --- the loop -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the claim, not after: a wake while the claim runs (a message
            # enqueued after its snapshot) then ends the wait below at once instead of being lost.
            self._wake.clear()
            try:
                await self._share()
                if self.paused_because is not None:
                    await self._probe()
                    continue
                claimed = await self._claim()
                if self._database_down:
                    log.info("%s sender: the database answers again", self.channel)
                    self._database_down = False
            except Exception as error:
                if not self._database_down:
                    log.warning(
                        "%s sender: cannot reach the database (%s)",
                        self.channel,
                        brief(error),
                        exc_info=not unreachable(error),
                    )
                    self._database_down = True
                await self._idle(self._idle_poll)
                continue
            for message in claimed:
                self._launch(message)
            if not claimed or len(self._flying) >= self._capacity():
                await self._idle(self._idle_poll)

    async def _idle(self, seconds: float) -> None:
        """Wait for a wake-up (since the loop's turn began), a message finishing, or
        ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    def _capacity(self) -> int:
        """How many messages may be claimed at once: what the rate sends in a third of the
        lease, so that none waits for its turn past its lease."""
        rate = self._pacing.global_rate.per_second
        window = self._lease.total_seconds() / 3
        return max(1, min(self._concurrency, int(rate * window)))

    async def _claim(self) -> list[OutboundMessage]:
        free = self._capacity() - len(self._flying)
        if free <= 0 or self._stopping or self.paused_because is not None:
            return []
        async with self._store.transaction() as tx:
            claimed = await tx.messages.claim(
                channel=self.channel,
                worker=self._worker,
                now=self._clock.now(),
                lease=self._lease,
                limit=free,
            )
        # A message whose lease ran out while this sender is still sending it comes back to
        # this same claimant: the task in flight records it; sending it again would double it.
        return [message for message in claimed if message.id not in self._flying_ids]

    def _launch(self, message: OutboundMessage) -> None:
        task = asyncio.create_task(self._fly(message), name=f"send-{message.key}")
        self._flying.add(task)
        self._flying_ids.add(message.id)

    async def _fly(self, message: OutboundMessage) -> None:
        try:
            await self._send(message)
        except Exception as error:
            # Most likely the database, while recording the outcome: the message stays claimed
            # and is sent again once its lease ends (at most one duplicate).
            if unreachable(error):
                log.warning(
                    "%s sender: %s could not be recorded (%s); it is sent again once its "
                    "lease ends",
                    self.channel,
                    message.key,
                    brief(error),
                )
            else:
                log.exception("%s sender: %s could not be recorded", self.channel, message.key)
        finally:
            current = asyncio.current_task()
            if current is not None:
                self._flying.discard(current)
            self._flying_ids.discard(message.id)
            self._wake.set()
            async with self._done:
                self._done.notify_all()

    async def _share(self) -> None:
        now = self._clock.now()
        if self._next_share is not None and now < self._next_share:
            return
        self._next_share = now + SHARE_EVERY
        leases = self._store.leases
        await leases.acquire(self.lease_name, holder=self._worker, now=now, ttl=SHARE_EVERY * 3)
        alive = await leases.holders(f"sender:{self.channel}:", now=now)
        self._pacing.share(len(alive))

    async def _probe(self) -> None:
        self._wake.clear()  # what was enqueued meanwhile waits for the channel, not a probe
        await self._idle(self._pause_probe)
        reason = await self._transport.check()
        if reason is None:
            log.warning("%s: the channel works again; sending resumes", self.channel)
            self.paused_because = None
        else:
            log.error("%s: still refused (%s); nothing is sent on it", self.channel, reason)

    # --- one message ----------------------------------------------------------------------------

    async def _send(self, message: OutboundMessage) -> None:
        await self._pacing.wait(
            address=message.address, method=message.method, priority=int(message.lane)
        )
        if self.paused_because is not None:
            await self._postpone(message, after=self._pause_probe, error=None, attempt=False)
            return
        try:
            verdict = await self._transport.send(message)
        except Exception as error:  # a transport bug: treat as transient, keep the message
            log.exception("%s: sending %s failed", self.channel, message.key)
            verdict = RetryLater(f"{type(error).__name__}: {error}")
        if self._on_event is not None:
            self._on_event(self.channel, message, verdict)
        match verdict:
            case Sent(platform_id=platform_id, address=address):
                await self._delivered(Delivery(message.id, platform_id, address))
                self.stats.sent += 1
                self.stats.by_method[message.method] = (
                    self.stats.by_method.get(message.method, 0) + 1
                )
            case RetryLater(reason=reason, after=after, rate_limited=True, per_address=per_address):
                self.stats.throttled += 1
                wait = after if after is not None else self._backoff
                self._pacing.pause(
                    wait,
                    address=message.address if per_address else None,
                    method=message.method,
                )
                await self._postpone(message, after=wait, error=reason, attempt=False)
            case RetryLater(reason=reason, after=after):
                if message.attempts >= self._max_attempts:
                    await self._fail(
                        message, f"gave up after {message.attempts} attempts: {reason}"
                    )
                    return
                self.stats.retried += 1
                wait = after if after is not None else self._delay(message.attempts)
                await self._postpone(message, after=wait, error=reason, attempt=True)
            case Refused(reason=reason, channel_wide=True):
                if self.paused_because is None:
                    log.error(
                        "%s refuses every message (%s): sending paused; fix the channel's "
                        "settings, sending resumes by itself",
                        self.channel,
                        reason,
                    )
                    self.stats.paused += 1
                self.paused_because = reason
                await self._postpone(message, after=self._pause_probe, error=reason, attempt=False)
            case Refused(reason=reason):
                await self._fail(message, reason)

    # --- recording deliveries, a batch at a time ------------------------------------------------

    async def _delivered(self, delivery: Delivery) -> None:
        """Record a delivery with those that finish about the same time: in one transaction
        once ``record_batch`` wait or ``record_every`` seconds after the first. Returns once it
        is recorded (so the message stays in flight until then: a claim that hands it back
        meanwhile does not send it again); raises what recording it raised. Stopped before
        that, the message stays claimed and is sent again after its lease (at least once)."""
        done = asyncio.get_running_loop().create_future()
        self._deliveries.append((delivery, done))
        if len(self._deliveries) >= self._record_batch:
            self._record_now()
        elif self._record_timer is None:
            self._record_timer = asyncio.get_running_loop().call_later(
                self._record_every, self._record_now
            )
        await done

    def _record_now(self) -> None:
        if self._record_timer is not None:
            self._record_timer.cancel()
            self._record_timer = None
        batch, self._deliveries = self._deliveries, []
        if batch:
            task = asyncio.create_task(self._record(batch), name=f"record-{self.channel}")
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _record(self, batch: list[tuple[Delivery, asyncio.Future[None]]]) -> None:
        try:
            async with self._store.transaction() as tx:
                recorded = await tx.messages.delivered_many(
                    [delivery for delivery, _ in batch],
                    worker=self._worker,
                    now=self._clock.now(),
                )
        except Exception as error:
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        for delivery, done in batch:
            if delivery.message_id not in recorded:
                log.warning("%s: sent message %s is not in the outbox", self.channel, delivery)
            if not done.done():
                done.set_result(None)

    def _delay(self, attempts: int) -> float:
        """Exponential backoff with full jitter between half and all of the step."""
        step = min(self._max_backoff, self._backoff * 2.0 ** max(attempts - 1, 0))
        return step * random.uniform(0.5, 1.0)

    async def _postpone(
        self, message: OutboundMessage, *, after: float, error: str | None, attempt: bool
    ) -> None:
        async with self._store.transaction() as tx:
            await tx.messages.postpone(
                message.id,
                worker=self._worker,
                available_at=self._clock.now() + timedelta(seconds=after),
                error=error,
                count_attempt=attempt,
            )

    async def _fail(self, message: OutboundMessage, reason: str) -> None:
        self.stats.failed += 1
        log.warning("%s: %s not delivered, not retried: %s", self.channel, message.key, reason)
        async with self._store.transaction() as tx:
            await tx.messages.fail(
                message.id, worker=self._worker, now=self._clock.now(), error=reason
            )


__all__ = [
    "OutboxStore",
    "Refused",
    "RetryLater",
    "SendHook",
    "Sender",
    "SenderStats",
    "Sent",
    "Transport",
    "Verdict",
]
