"""The clock of ``itinera run``: APScheduler 3.x wiring for the tick and the weekly digest.

APScheduler only says *when to look*; our tables say what is due. Jobs live in the default
in-memory job store and are registered afresh at every start (explicit ids,
``replace_existing=True``): nothing about rounds is kept in the scheduler, so a restart loses
nothing, and several processes never share a job store.

- ``tick`` runs :func:`handlers.jobs.tick_job` every ``tick_seconds``, and once right at start
  so that whatever fell due while the bot was down goes out (once, late);
- ``weekly-digest`` runs :func:`handlers.jobs.digest_job` on ``digest_schedule`` (e.g.
  ``"mon 08:00"``) in ``digest_timezone``.

Example::

    scheduler = build_scheduler(settings, store, messengers, clock)
    scheduler.start()
    ...
    await stop_scheduler(scheduler)
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings
from handlers import jobs
from surveys.delivery import DeliveryRepositories
from surveys.errors import ItineraError
from surveys.ports import Clock, Messenger
from surveys.reminders import DAY_NAMES, OfficeHours, parse_days

log = logging.getLogger(__name__)

TICK_JOB_ID = "tick"
DIGEST_JOB_ID = "weekly-digest"
DIGEST_LANGUAGE: str | None = None
"""Language of the weekly digest: None for each survey's default (a setting could choose)."""
STOP_TIMEOUT_SECONDS = 30.0

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_USAGE = "use day(s) and a time, e.g. 'mon 08:00', 'mon,thu 07:30' or 'mon-fri 09:00'"


class SchedulerSettingsError(ItineraError):
    """A scheduling setting (office hours, digest schedule or timezone) cannot be used."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"ITINERA_{variable.upper()}: {problem}")


@dataclass(frozen=True)
class DigestSchedule:
    """When the weekly digest goes out: days of the week and a time of day."""

    days: tuple[int, ...]
    """Weekdays, 0 = Monday."""
    hour: int
    minute: int

    @classmethod
    def parse(cls, text: str) -> DigestSchedule:
        """``"mon 08:00"``, ``"mon,thu 07:30"``, ``"mon-fri 09:00"``; raises ``ValueError``."""
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(f"digest schedule {text!r}: {_USAGE}")
        days_text, time_text = parts
        days = parse_days(days_text, what="digest schedule")
        found = _TIME.match(time_text)
        if found is None or int(found[1]) > 23 or int(found[2]) > 59:
            raise ValueError(
                f"digest schedule {text!r}: {time_text!r} is not a time like 08:00; {_USAGE}"
            )
        return cls(days=tuple(sorted(days)), hour=int(found[1]), minute=int(found[2]))

    @property
    def day_of_week(self) -> str:
        """The days as APScheduler's cron ``day_of_week`` (``"mon,thu"``)."""
        return ",".join(DAY_NAMES[day] for day in self.days)

    def __str__(self) -> str:
        return f"{self.day_of_week} {self.hour:02d}:{self.minute:02d}"


def parse_digest_schedule(text: str) -> DigestSchedule:
    return DigestSchedule.parse(text)


def load_publisher() -> jobs.DigestPublisher | None:
    """``bot.digest_cmd.publish_digest`` if this version has it, else ``None`` (logged)."""
    try:
        module = importlib.import_module("bot.digest_cmd")
    except ModuleNotFoundError as error:
        if error.name != "bot.digest_cmd":
            log.exception("digests are unavailable: a module they need is missing")
        else:
            log.warning("digests are not available in this version: no weekly digest")
        return None
    publish: jobs.DigestPublisher | None = getattr(module, "publish_digest", None)
    if publish is None:
        log.warning("bot.digest_cmd has no publish_digest: no weekly digest")
    return publish


def build_scheduler(
    settings: Settings,
    store: DeliveryRepositories,
    messengers: Mapping[str, Messenger],
    clock: Clock,
    *,
    publish: jobs.DigestPublisher | Literal["auto"] | None = "auto",
) -> AsyncIOScheduler:
    """A scheduler (not started) with the ``tick`` and ``weekly-digest`` jobs registered.

    ``messengers`` maps channel names to messengers in the order of preference for reaching
    a delegate. ``publish`` is found by :func:`load_publisher` unless given. Raises
    :class:`SchedulerSettingsError` for unusable settings.
    """
    try:
        parse_days(settings.office_days)
    except ValueError as error:
        raise SchedulerSettingsError("office_days", str(error)) from None
    try:
        office_hours = OfficeHours.parse(settings.office_hours, settings.office_days)
    except ValueError as error:
        raise SchedulerSettingsError("office_hours", str(error)) from None
    try:
        schedule = DigestSchedule.parse(settings.digest_schedule)
    except ValueError as error:
        raise SchedulerSettingsError("digest_schedule", str(error)) from None
    try:
        digest_zone = ZoneInfo(settings.digest_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SchedulerSettingsError(
            "digest_timezone",
            f"{settings.digest_timezone!r} is not an IANA timezone like Europe/Zurich",
        ) from None
    publisher = load_publisher() if publish == "auto" else publish
    if publisher is not None and settings.digest_classification:
        publisher = functools.partial(publisher, classification=settings.digest_classification)

    busy = asyncio.Lock()
    """Held by a running job; :func:`stop_scheduler` waits for it instead of cancelling."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        jobs.tick_job,
        trigger=IntervalTrigger(seconds=settings.tick_seconds, timezone=UTC),
        id=TICK_JOB_ID,
        name="close rounds, send invitations and reminders",
        kwargs={
            "repos": store,
            "messengers": messengers,
            "clock": clock,
            "office_hours": office_hours,
            "busy": busy,
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
        jobs.digest_job,
        trigger=CronTrigger(
            day_of_week=schedule.day_of_week,
            hour=schedule.hour,
            minute=schedule.minute,
            timezone=digest_zone,
        ),
        id=DIGEST_JOB_ID,
        name=f"weekly digest, {schedule} {digest_zone.key}",
        kwargs={
            "repos": store,
            "publish": publisher,
            "messengers": messengers,
            "clock": clock,
            "folder": Path(settings.digest_folder),
            "language": DIGEST_LANGUAGE,
            "busy": busy,
        },
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler


async def stop_scheduler(
    scheduler: AsyncIOScheduler, *, grace_seconds: float = STOP_TIMEOUT_SECONDS
) -> None:
    """Stop starting jobs, let a running one finish (up to ``grace_seconds``), then shut down.

    APScheduler's asyncio executor cancels running jobs on shutdown; waiting first means a
    message is never cut between its send and its record in the outbox.
    """
    if not scheduler.running:
        return
    scheduler.pause()
    job = scheduler.get_job(TICK_JOB_ID)
    busy = job.kwargs.get("busy") if job is not None else None
    acquired = False
    if isinstance(busy, asyncio.Lock):
        try:
            async with asyncio.timeout(grace_seconds):
                acquired = await busy.acquire()
        except TimeoutError:
            log.warning("a scheduled job still runs after %ss; stopping it", grace_seconds)
    try:
        scheduler.shutdown(wait=False)
    finally:
        if acquired and isinstance(busy, asyncio.Lock):
            busy.release()


def describe(scheduler: AsyncIOScheduler) -> str:
    """One line for the log: the jobs and when they run next."""
    parts = []
    for job in scheduler.get_jobs():
        when = getattr(job, "next_run_time", None)
        at = when.isoformat(timespec="seconds") if isinstance(when, datetime) else "-"
        parts.append(f"{job.id} ({job.trigger}, next {at})")
    return "scheduler: " + "; ".join(parts)


__all__ = [
    "DIGEST_JOB_ID",
    "TICK_JOB_ID",
    "DigestSchedule",
    "SchedulerSettingsError",
    "build_scheduler",
    "describe",
    "load_publisher",
    "parse_digest_schedule",
    "stop_scheduler",
]
