"""A pacing timer that never waits: time moves by what was slept (tests and the demo).

Senders pace messages with token buckets on a :class:`surveys.pacing.Timer`; on this one a
sleep returns at once and moves the timer's clock on by its length, so the order and the
counts of what is paced are real while nothing waits for a second to pass.
"""

from __future__ import annotations

import asyncio


class InstantTimer:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


__all__ = ["InstantTimer"]
