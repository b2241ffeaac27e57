"""The bodies of scheduled jobs: thin functions the scheduler in :mod:`bot.scheduler` calls.

Each holds the leader's lease first (one process does scheduled work, whichever), reads the time
from the injected clock, makes one call into the core, and logs what happened; what is due is
decided from our own tables, never from the scheduler's state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from surveys.ports import Clock, Messenger, Repositories
from surveys.reminders import OfficeHours
from surveys.rights import Purged
from surveys.service import delivery, rights
from surveys.service.leadership import Leadership

log = logging.getLogger(__name__)

DigestPublisher = Callable[..., Awaitable[object]]
"""``publish_digest(store, round_id, *, messengers, now, folder, language)``."""


async def tick_job(
    store: Repositories,
    *,
    channels: Sequence[delivery.ChannelOut],
    clock: Clock,
    office_hours: OfficeHours,
    leader: Leadership,
) -> delivery.DeliveryReport | None:
    """Close, invite and remind whatever is due now (see :func:`surveys.service.delivery.tick`),
    if this process leads; None if it does not."""
    if not await leader.hold():
        return None
    now = clock.now()
    report = await delivery.tick(store, channels=channels, now=now, office_hours=office_hours)
    if report.eventful:
        log.info("tick at %s: %s", now.isoformat(timespec="seconds"), report.summary())
    return report


async def retention_job(
    store: Repositories, *, days: int, clock: Clock, leader: Leadership
) -> Purged | None:
    """Purge raw bodies older than ``days`` (see :func:`surveys.service.rights.purge_expired`),
    if this process leads; None if it does not."""
    if not await leader.hold():
        return None
    purged = await rights.purge_expired(store, days=days, now=clock.now())
    if purged.inbound or purged.outbound or purged.enrolment_failures:
        log.info(
            "retention (%s days): %s inbound events deleted, %s sent message bodies emptied, "
            "%s old enrolment failures dropped",
            days,
            purged.inbound,
            purged.outbound,
            purged.enrolment_failures,
        )
    return purged


async def digest_job(
    store: Repositories,
    *,
    publish: DigestPublisher,
    messengers: Sequence[Messenger],
    clock: Clock,
    folder: Path,
    leader: Leadership,
    language: str | None = None,
    **options: Any,
) -> int:
    """Publish the weekly digest of every open round, if this process leads; how many were
    published. One round's failure does not stop the others."""
    if not await leader.hold():
        return 0
    published = 0
    now = clock.now()
    rounds = await store.rounds.open_rounds(now)
    for round_ in rounds:
        try:
            await publish(
                store,
                round_.id,
                messengers=messengers,
                now=now,
                folder=folder,
                language=language,
                **options,
            )
        except Exception:
            log.exception("weekly digest of round %s failed", round_.id)
        else:
            published += 1
    log.info("weekly digest: %s of %s open rounds published", published, len(rounds))
    return published


__all__ = ["DigestPublisher", "digest_job", "tick_job"]
