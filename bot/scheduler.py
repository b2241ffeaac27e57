"""The clock of ``itinera run``: APScheduler 3.x wiring for the tick and the weekly digest.

APScheduler only says *when to look*; our tables say what is due, and a lease says which process
looks (:class:`~surveys.service.leadership.Leadership`): every process runs a scheduler, the
leader does the work, and another takes over within a few ticks if the leader dies. Jobs live
in the default in-memory job store and are registered afresh at every start (explicit ids,
``replace_existing=True``): nothing about rounds is kept in the scheduler, so a restart loses
nothing, and several processes never share a job store.

- ``tick`` runs :func:`handlers.jobs.tick_job` every ``tick_seconds`` (never two at once:
  ``max_instances=1``), and once right at start so that whatever fell due while the bot was
  down goes out (once, late);
- ``retention`` runs :func:`handlers.jobs.retention_job` at start and every hour when
  ``ITINERA_RETENTION_DAYS`` is set (not ``off``), purging raw bodies older than that;
- ``weekly-digest`` runs :func:`handlers.jobs.digest_job` on ``ITINERA_DIGEST_SCHEDULE`` (e.g.
  ``"mon 08:00"``) in ``ITINERA_DIGEST_TIMEZONE``.

Example::

    schedule = build_scheduler(settings, store, channels=outs, digests=outs,
                               publish=publish_digest, clock=clock, leader=leader)
    schedule.start()
    ...
    await schedule.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings, parse_schedule
from handlers import jobs
from surveys.ports import Clock, Messenger, Repositories
from surveys.service.delivery import ChannelOut
from surveys.service.leadership import Leadership
from surveys.service.reachability import brief, unreachable

log = logging.getLogger(__name__)

TICK_JOB_ID = "tick"
DIGEST_JOB_ID = "weekly-digest"
RETENTION_JOB_ID = "retention"
RETENTION_EVERY = timedelta(hours=1)
STOP_TIMEOUT_SECONDS = 30.0


class Running:
    """Counts jobs in progress, so that stopping waits for them instead of cutting one short."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()


def _tracked(
    running: Running, body: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    """``body`` counted in ``running``; a database that cannot be reached is one line in the
    log (the next run tries again, and what is due is still due then), any other error is
    left to APScheduler, which logs it with its traceback."""

    @functools.wraps(body)
    async def job(**kwargs: Any) -> Any:
        async with running.job():
            try:
                return await body(**kwargs)
            except Exception as error:
                if not unreachable(error):
                    raise
                log.warning(
                    "%s: cannot reach the database (%s); the next run tries again",
                    body.__name__,
                    brief(error),
                )
                return None

    return job


def build_scheduler(
    settings: Settings,
    store: Repositories,
    *,
    channels: Sequence[ChannelOut],
    digests: Sequence[Messenger],
    publish: jobs.DigestPublisher,
    clock: Clock,
    leader: Leadership,
) -> Schedule:
    """A scheduler (not started) with the ``tick``, ``weekly-digest`` and (unless retention is
    off) ``retention`` jobs registered;
    ``channels`` in the order of preference for reaching a delegate."""
    office_hours = settings.office.parsed
    schedule = parse_schedule(settings.digest.schedule)
    digest_zone = ZoneInfo(settings.digest.timezone)
    running = Running()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _tracked(running, jobs.tick_job),
        trigger=IntervalTrigger(seconds=settings.tick_seconds, timezone=UTC),
        id=TICK_JOB_ID,
        name="close rounds, enqueue invitations and reminders",
        kwargs={
            "store": store,
            "channels": channels,
            "clock": clock,
            "office_hours": office_hours,
            "leader": leader,
        },
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        # At once on start: catch up with whatever fell due while the bot was down. This is
        # APScheduler's (real) time, not the injected clock the job itself reads.
        next_run_time=datetime.now(UTC),
    )
    scheduler.add_job(
        _tracked(running, jobs.digest_job),
        trigger=CronTrigger(
            day_of_week=schedule.day_of_week,
            hour=schedule.hour,
            minute=schedule.minute,
            timezone=digest_zone,
        ),
        id=DIGEST_JOB_ID,
        name=f"weekly digest, {schedule} {digest_zone.key}",
        kwargs={
            "store": store,
            "publish": publish,
            "messengers": digests,
            "clock": clock,
            "folder": Path(settings.digest.folder),
            "leader": leader,
            "classification": settings.digest.classification,
            "min_group": settings.min_group,
        },
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    if settings.retention.days is not None:
        scheduler.add_job(
            _tracked(running, jobs.retention_job),
            trigger=IntervalTrigger(seconds=RETENTION_EVERY.total_seconds(), timezone=UTC),
            id=RETENTION_JOB_ID,
            name=f"purge raw bodies older than {settings.retention.days} days",
            kwargs={
                "store": store,
                "days": settings.retention.days,
                "clock": clock,
                "leader": leader,
            },
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
    return Schedule(scheduler, running)


class Schedule:
    """The APScheduler scheduler with what its jobs are doing."""

    def __init__(self, scheduler: AsyncIOScheduler, running: Running) -> None:
        self.scheduler = scheduler
        self._running = running

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, *, grace_seconds: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop starting jobs, let a running one finish (up to ``grace_seconds``), then shut
        down. APScheduler's asyncio executor cancels running jobs on shutdown; waiting first
        means a tick is never cut between what it enqueued and what it recorded."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        try:
            async with asyncio.timeout(grace_seconds):
                await self._running.wait_idle()
        except TimeoutError:
            log.warning("a scheduled job still runs after %ss; stopping it", grace_seconds)
        self.scheduler.shutdown(wait=False)

    def describe(self) -> str:
        """One line for the log: the jobs and when they run next."""
        parts = []
        for job in self.scheduler.get_jobs():
            when = getattr(job, "next_run_time", None)  # none before the scheduler starts
            at = when.isoformat(timespec="seconds") if isinstance(when, datetime) else "-"
            parts.append(f"{job.id} ({job.trigger}, next {at})")
        return "scheduler: " + "; ".join(parts)


__all__ = ["DIGEST_JOB_ID", "RETENTION_JOB_ID", "TICK_JOB_ID", "Schedule", "build_scheduler"]
