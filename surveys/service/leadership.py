"""Work only one process may do at a time (the scheduler's tick, Telegram polling), by lease.

Every process that could do it calls :meth:`Leadership.hold` before each turn: the holder of
the named lease renews it, anyone else takes it only once it has run out. A leader that dies
stops renewing; after ``ttl`` another process takes over, so scheduled work goes on without a
restart. Two processes never hold the lease at once (the database decides, not a lock here).

Example::

    leader = Leadership(store, name="scheduler", holder="host-1", ttl=timedelta(minutes=3),
                        clock=clock)
    if await leader.hold():
        ...  # this process's turn
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Protocol

from surveys.ports import Clock, LeaseRepository

log = logging.getLogger("itinera.leadership")


class LeaseStore(Protocol):
    @property
    def leases(self) -> LeaseRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[LeaseStore]: ...


class Leadership:
    def __init__(
        self, store: LeaseStore, *, name: str, holder: str, ttl: timedelta, clock: Clock
    ) -> None:
        self._store = store
        self.name = name
        self.holder = holder
        self._ttl = ttl
        self._clock = clock
        self.leading = False

    async def hold(self) -> bool:
        """Take or renew the lease; whether this process leads now (False if the database
        cannot be reached: better no leader for a while than two)."""
        try:
            async with self._store.transaction() as tx:
                held = await tx.leases.acquire(
                    self.name, holder=self.holder, now=self._clock.now(), ttl=self._ttl
                )
        except Exception as error:
            if self.leading:
                log.warning("%s: lease not renewed (%s); standing down", self.name, error)
            held = False
        if held and not self.leading:
            log.info("%s: this process (%s) leads now", self.name, self.holder)
        elif self.leading and not held:
            log.warning("%s: another process leads now", self.name)
        self.leading = held
        return held

    async def release(self) -> None:
        """Give the lease up (at a clean stop), so another process takes over at once."""
        if not self.leading:
            return
        self.leading = False
        try:
            async with self._store.transaction() as tx:
                await tx.leases.release(self.name, holder=self.holder)
        except Exception as error:
            log.info("%s: lease not released (%s); it runs out by itself", self.name, error)


__all__ = ["Leadership", "LeaseStore"]
