"""The bodies of scheduled jobs: thin functions the scheduler in :mod:`bot.scheduler` calls.

Each reads the time from the injected clock, makes one call into the core, and logs what
happened; what is due is decided from our own tables, never from the scheduler's state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Protocol

from surveys import delivery
from surveys.ports import Clock, Messenger, RoundRepository
from surveys.reminders import OfficeHours

log = logging.getLogger(__name__)

DigestPublisher = Callable[..., Awaitable[object]]
"""``publish_digest(store, round_id, *, messengers, now, folder, language)``."""


class DigestRepositories(Protocol):
    @property
    def rounds(self) -> RoundRepository: ...


async def tick_job(
    repos: delivery.DeliveryRepositories,
    *,
    messengers: Mapping[str, Messenger],
    clock: Clock,
    office_hours: OfficeHours,
    busy: asyncio.Lock | None = None,
) -> delivery.DeliveryReport:
    """Close, invite and remind whatever is due now (see :func:`surveys.delivery.tick`).

    ``busy`` is held while the job works, so that shutting down can wait for it to finish
    instead of cancelling it between a send and its record.
    """
    async with busy or asyncio.Lock():
        now = clock.now()
        report = await delivery.tick(
            repos, messengers=messengers, now=now, office_hours=office_hours
        )
    if report.eventful:
        log.info("tick at %s: %s", now.isoformat(timespec="seconds"), report.summary())
    for failure in report.failed:
        log.warning("not delivered, not retried: %s: %s", failure.key, failure.error)
    return report


async def digest_job(
    repos: DigestRepositories,
    *,
    publish: DigestPublisher | None,
    messengers: Mapping[str, Messenger],
    clock: Clock,
    folder: Path,
    language: str | None = None,
    busy: asyncio.Lock | None = None,
) -> int:
    """Publish the weekly digest of every open round; returns how many were published.

    ``publish`` is ``bot.digest_cmd.publish_digest`` (``None`` while digests are not
    available: the job then logs and does nothing); it posts to each of ``messengers`` (the
    organisers' channel or chat). ``language`` None: each survey's default. One round's failure
    does not stop the others.
    """
    if publish is None:
        log.warning("weekly digest skipped: digests are not available in this version")
        return 0
    published = 0
    async with busy or asyncio.Lock():
        now = clock.now()
        rounds = await repos.rounds.open_rounds(now)
        for round_ in rounds:
            try:
                await publish(
                    repos,
                    round_.id,
                    messengers=list(messengers.values()),
                    now=now,
                    folder=folder,
                    language=language,
                )
            except Exception:
                log.exception("weekly digest of round %s failed", round_.id)
            else:
                published += 1
    log.info("weekly digest: %s of %s open rounds published", published, len(rounds))
    return published


__all__ = ["DigestPublisher", "DigestRepositories", "digest_job", "tick_job"]
