"""Token buckets on virtual time: rates, bursts, priorities, pauses, shared rates."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import sys
from types import FrameType
from typing import Any

import pytest

from surveys.pacing import ChannelPacing, Rate, TokenBucket


class VirtualTimer:
    """Time that moves only when every task is waiting: to the next sleeper's wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *coroutines: object) -> list[object]:
        """Run the coroutines to the end, moving time whenever all of them wait."""
        tasks = [asyncio.ensure_future(c) for c in coroutines]  # type: ignore[arg-type]
        while not all(task.done() for task in tasks):
            for _ in range(20):  # let every runnable task run until it waits
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                break
            assert self._sleepers, "deadlock: nothing sleeps and nothing runs"
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            if not future.done():
                future.set_result(None)
        return [task.result() for task in tasks]


async def take(bucket: TokenBucket, timer: VirtualTimer, priority: int = 1) -> float:
    await bucket.acquire(priority)
    return timer.now


async def test_a_bucket_gives_its_burst_at_once_then_one_token_per_period() -> None:
    timer = VirtualTimer()
    bucket = TokenBucket(Rate(10, burst=3), timer=timer)
    times = await timer.run(*(take(bucket, timer) for _ in range(6)))
    assert times == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2, 0.3])


async def test_lower_priority_numbers_are_served_first() -> None:
    timer = VirtualTimer()
    bucket = TokenBucket(Rate(1, burst=1), timer=timer)
    served: list[str] = []

    async def one(name: str, priority: int, delay: float) -> None:
        await timer.sleep(delay)
        await bucket.acquire(priority)
        served.append(f"{name}@{timer.now:g}")

    # Three bulk waiters queue; an interactive one arrives later and still goes next.
    await timer.run(
        one("bulk1", 1, 0.0),
        one("bulk2", 1, 0.0),
        one("bulk3", 1, 0.0),
        one("reply", 0, 0.5),
    )
    assert served == ["bulk1@0", "reply@1", "bulk2@2", "bulk3@3"]


async def test_a_token_wakes_one_waiter_not_every_waiter() -> None:
    """Two hundred messages queue for one bucket: each token resumes the waiter it goes to
    (and the one whose turn is next), not all two hundred, which would cost the loop tens of
    thousands of wake-ups a second at Telegram's rate."""
    timer = VirtualTimer()
    bucket = TokenBucket(Rate(100, burst=1), timer=timer)
    resumed = 0
    code = TokenBucket.acquire.__code__

    def trace(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal resumed
        if event == "call" and frame.f_code is code:  # a call, or a coroutine resumed
            resumed += 1

    waiters = 200
    sys.settrace(trace)
    try:
        times = await timer.run(*(take(bucket, timer) for _ in range(waiters)))
    finally:
        sys.settrace(None)
    assert times == pytest.approx([n / 100 for n in range(waiters)])
    assert resumed <= 4 * waiters, f"{resumed} resumptions for {waiters} waiters"


async def test_a_pause_holds_the_bucket_then_the_rate_resumes() -> None:
    timer = VirtualTimer()
    bucket = TokenBucket(Rate(2, burst=1), timer=timer)
    first = await timer.run(take(bucket, timer))
    bucket.pause(5.0)
    later = await timer.run(take(bucket, timer), take(bucket, timer))
    assert first == [0.0]
    assert later == pytest.approx([5.5, 6.0])


async def test_a_cancelled_waiter_does_not_block_the_others() -> None:
    timer = VirtualTimer()
    bucket = TokenBucket(Rate(1, burst=1), timer=timer)
    await timer.run(take(bucket, timer))  # the burst is spent
    waiting = asyncio.ensure_future(bucket.acquire(0))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await timer.run(take(bucket, timer)) == pytest.approx([1.0])


async def test_a_chat_waits_for_its_own_rate_not_the_others() -> None:
    timer = VirtualTimer()
    pacing = ChannelPacing(
        global_rate=Rate(30, burst=30),
        per_address=Rate(1, burst=1),
        address_methods=frozenset({"sendMessage"}),
        unpaced=frozenset({"answerCallbackQuery"}),
        timer=timer,
    )

    async def send(address: str, method: str = "sendMessage") -> float:
        await pacing.wait(address=address, method=method, priority=1)
        return timer.now

    times = await timer.run(
        send("a"),
        send("a"),
        send("b"),
        send("a", "editMessageText"),
        send("a", "answerCallbackQuery"),
    )
    # The second message to chat a waits a second; chat b and the edit do not wait for a.
    assert times == pytest.approx([0.0, 1.0, 0.0, 0.0, 0.0])


async def test_only_the_methods_the_channel_rate_counts_wait_for_it() -> None:
    timer = VirtualTimer()
    pacing = ChannelPacing(
        global_rate=Rate(1, burst=1),
        address_methods=frozenset({"sendMessage"}),
        global_methods=frozenset({"sendMessage"}),
        timer=timer,
    )

    async def send(address: str, method: str) -> float:
        await pacing.wait(address=address, method=method, priority=1)
        return timer.now

    times = await timer.run(
        send("a", "sendMessage"),
        send("b", "sendMessage"),
        send("c", "editMessageText"),
        send("d", "editMessageText"),
    )
    # New messages share the one-a-second rate; edits in place do not wait for it.
    assert times == pytest.approx([0.0, 1.0, 0.0, 0.0])


async def test_replicas_share_the_global_rate() -> None:
    timer = VirtualTimer()
    pacing = ChannelPacing(global_rate=Rate(10, burst=1), timer=timer)
    pacing.share(2)
    assert pacing.global_rate.per_second == pytest.approx(5.0)

    async def send() -> float:
        await pacing.wait(address="x", method="m", priority=1)
        return timer.now

    assert await timer.run(send(), send(), send()) == pytest.approx([0.0, 0.2, 0.4])


async def test_a_rate_limit_on_one_chat_pauses_only_that_chat() -> None:
    timer = VirtualTimer()
    pacing = ChannelPacing(
        global_rate=Rate(30, burst=30), per_address=Rate(1, burst=1), timer=timer
    )
    pacing.pause(10.0, address="a", method="sendMessage")

    async def send(address: str) -> float:
        await pacing.wait(address=address, method="sendMessage", priority=1)
        return timer.now

    assert await timer.run(send("a"), send("b")) == pytest.approx([11.0, 0.0])
