"""Pacing outbound messages at the rate a platform allows: token buckets with priorities.

Telegram allows about 30 messages a second per bot and one a second per chat; Slack about one a
second per channel, and per-method tiers. A :class:`TokenBucket` holds ``burst`` tokens and
refills ``rate`` a second; :meth:`TokenBucket.acquire` waits for a token, and waiters with a
lower ``priority`` number go first (a reply to a delegate before a bulk invitation). A 429
pauses the bucket it concerns (:meth:`TokenBucket.pause`) and nothing else. The rate can change
while it runs (replicas share a platform's rate).

:class:`ChannelPacing` combines the buckets of one channel: one global, one per address, one per
method where the platform has tiers. A message takes its address's token first (the slowest
wait), then its method's, then the global one, so that a message waiting for its chat does not
hold a global token that another chat could use.

Time is injected (:class:`Timer`), so tests run on virtual time and never sleep.

Example::

    pacing = ChannelPacing(global_rate=30, per_address=Rate(1, 1), timer=MonotonicTimer())
    await pacing.wait(address="4711", method="sendMessage", priority=Lane.INTERACTIVE)
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

_EPSILON = 1e-9

ADDRESS_BUCKETS = 20_000
"""Per-address buckets kept at most (the least recently used full one goes first)."""


class Timer(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicTimer:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Rate:
    """``per_second`` tokens a second, at most ``burst`` at once."""

    per_second: float
    burst: float = 1.0

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_second > 0 and burst >= 1, not {self}")


@dataclass(eq=False)
class _Waiter:
    """One acquire in a bucket's queue: ordered by priority, then arrival; woken by ``turn``."""

    priority: int
    ticket: int
    turn: asyncio.Future[None] | None = None

    def __lt__(self, other: _Waiter) -> bool:
        return (self.priority, self.ticket) < (other.priority, other.ticket)


class TokenBucket:
    """Tokens refilled at ``rate``; waiters served by priority, then in order of arrival."""

    def __init__(self, rate: Rate, *, timer: Timer) -> None:
        self._timer = timer
        self._rate = rate
        self._tokens = rate.burst
        self._stamp = timer.monotonic()
        self._paused_until = 0.0
        self._waiting: list[_Waiter] = []
        self._tickets = itertools.count()

    @property
    def rate(self) -> Rate:
        return self._rate

    @rate.setter
    def rate(self, rate: Rate) -> None:
        self._refill()
        self._rate = rate
        self._tokens = min(self._tokens, rate.burst)
        self._wake_first()

    @property
    def idle(self) -> bool:
        """Full and unwaited for: forgetting it changes nothing."""
        self._refill()
        now = self._timer.monotonic()
        return not self._waiting and self._tokens >= self._rate.burst and now >= self._paused_until

    def pause(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` from now (the platform asked us to wait)."""
        until = self._timer.monotonic() + max(seconds, 0.0)
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 0.0
            self._stamp = until

    async def acquire(self, priority: int = 1) -> None:
        """Wait for a token; lower ``priority`` numbers are served first. Only the first
        waiter watches the clock; the others sleep until it hands them the turn (waking every
        waiter at every token would cost the loop a wake-up per waiter per message)."""
        waiter = _Waiter(priority, next(self._tickets))
        heapq.heappush(self._waiting, waiter)
        try:
            while True:
                if self._waiting[0] is not waiter:
                    waiter.turn = asyncio.get_running_loop().create_future()
                    await waiter.turn
                    continue
                wait = self._try_take()
                if wait == 0.0:
                    heapq.heappop(self._waiting)
                    self._wake_first()
                    return
                await self._timer.sleep(wait)
        except BaseException:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
                heapq.heapify(self._waiting)
                self._wake_first()
            raise

    def _wake_first(self) -> None:
        """Hand the turn to whoever waits first now (a newcomer of a lower priority number
        may have gone ahead of a waiter that was first)."""
        if self._waiting:
            turn = self._waiting[0].turn
            if turn is not None and not turn.done():
                turn.set_result(None)

    def _refill(self) -> None:
        now = self._timer.monotonic()
        if now > self._stamp:
            self._tokens = min(
                self._rate.burst, self._tokens + (now - self._stamp) * self._rate.per_second
            )
            self._stamp = now

    def _try_take(self) -> float:
        """Take a token and return 0, or return how long until one is due."""
        now = self._timer.monotonic()
        if now < self._paused_until:
            return self._paused_until - now
        self._refill()
        if self._tokens >= 1.0 - _EPSILON:  # refills are sums of floats: allow their error
            self._tokens = max(self._tokens - 1.0, 0.0)
            return 0.0
        return (1.0 - self._tokens) / self._rate.per_second


class ChannelPacing:
    """The buckets of one channel: global, per address, and per method where given."""

    def __init__(
        self,
        *,
        global_rate: Rate,
        per_address: Rate | None = None,
        per_method: Mapping[str, Rate] | None = None,
        address_methods: frozenset[str] | None = None,
        global_methods: frozenset[str] | None = None,
        unpaced: frozenset[str] = frozenset(),
        timer: Timer,
    ) -> None:
        """``address_methods``: the methods the per-address rate applies to (None: all);
        ``global_methods``: the methods the channel's rate counts (None: all; Telegram's
        published limit counts new messages, not edits); ``unpaced``: methods no bucket
        applies to (answering a button press)."""
        self._timer = timer
        self._address_methods = address_methods
        self._global_methods = global_methods
        self._unpaced = unpaced
        self._limit = global_rate
        self._global = TokenBucket(global_rate, timer=timer)
        self._per_address = per_address
        self._addresses: OrderedDict[str, TokenBucket] = OrderedDict()
        self._methods = {
            method: TokenBucket(rate, timer=timer) for method, rate in (per_method or {}).items()
        }

    @property
    def global_rate(self) -> Rate:
        return self._global.rate

    def share(self, senders: int) -> None:
        """Use 1/``senders`` of the channel's global rate (replicas share the platform's)."""
        senders = max(senders, 1)
        limit = self._limit
        self._global.rate = Rate(limit.per_second / senders, max(1.0, limit.burst / senders))

    async def wait(self, *, address: str, method: str, priority: int) -> None:
        """Wait until a message to ``address`` with ``method`` may be sent."""
        if method in self._unpaced:
            return
        bucket = self._address(address) if self._per_address_applies(method) else None
        if bucket is not None:
            await bucket.acquire(priority)
        tier = self._methods.get(method)
        if tier is not None:
            await tier.acquire(priority)
        if self._global_methods is None or method in self._global_methods:
            await self._global.acquire(priority)

    def pause(
        self, seconds: float, *, address: str | None = None, method: str | None = None
    ) -> None:
        """The platform asked to wait: pause the address's bucket if the limit was that chat's,
        else the method's tier if it has one, else the whole channel."""
        if address is not None:
            bucket = self._address(address)
            if bucket is not None:
                bucket.pause(seconds)
                return
        if method is not None and method in self._methods:
            self._methods[method].pause(seconds)
            return
        self._global.pause(seconds)

    def _per_address_applies(self, method: str) -> bool:
        return self._address_methods is None or method in self._address_methods

    def _address(self, address: str) -> TokenBucket | None:
        if self._per_address is None:
            return None
        bucket = self._addresses.get(address)
        if bucket is None:
            bucket = TokenBucket(self._per_address, timer=self._timer)
            self._addresses[address] = bucket
            self._forget_idle()
        else:
            self._addresses.move_to_end(address)
        return bucket

    def _forget_idle(self) -> None:
        while len(self._addresses) > ADDRESS_BUCKETS:
            oldest, bucket = next(iter(self._addresses.items()))
            if not bucket.idle:
                self._addresses.move_to_end(oldest)
                return
            del self._addresses[oldest]


__all__ = ["ChannelPacing", "MonotonicTimer", "Rate", "Timer", "TokenBucket"]
