"""The scheduler's wiring: which jobs, on which triggers, calling what; the jobs themselves are
run directly with an injected clock, and one start/stop runs the real loop."""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import scheduler as scheduling
from bot.run import channel_messengers
from bot.scheduler import (
    DIGEST_JOB_ID,
    TICK_JOB_ID,
    DigestSchedule,
    SchedulerSettingsError,
    build_scheduler,
    load_publisher,
    stop_scheduler,
)
from bot.settings import Settings, load_settings
from handlers import jobs
from storage.memory import InMemoryStore
from surveys.delivery import invitation_key
from surveys.reminders import OfficeHours

OPENS, CLOSES = datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 12, 16, tzinfo=UTC)


def settings(**overrides: Any) -> Settings:
    return load_settings(database_url="sqlite+aiosqlite:///unused.db", **overrides)


# --- the digest schedule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days", "hour", "minute", "cron"),
    [
        ("mon 08:00", (0,), 8, 0, "mon"),
        ("mon,thu 07:30", (0, 3), 7, 30, "mon,thu"),
        ("Mon-Fri 9:05", (0, 1, 2, 3, 4), 9, 5, "mon,tue,wed,thu,fri"),
        ("sun 23:59", (6,), 23, 59, "sun"),
    ],
)
def test_digest_schedule_forms(
    text: str, days: tuple[int, ...], hour: int, minute: int, cron: str
) -> None:
    schedule = DigestSchedule.parse(text)
    assert (schedule.days, schedule.hour, schedule.minute) == (days, hour, minute)
    assert schedule.day_of_week == cron


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon", "use day\\(s\\) and a time"),
        ("08:00", "use day\\(s\\) and a time"),
        ("mon 8h", "'8h' is not a time like 08:00"),
        ("mon 24:00", "'24:00' is not a time like 08:00"),
        ("lun 08:00", "'lun' is not a day"),
        ("mon, thu 08:00", "use day\\(s\\) and a time"),
    ],
)
def test_digest_schedule_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DigestSchedule.parse(text)


# --- registration ----------------------------------------------------------------------------


def test_jobs_are_registered_with_explicit_ids_and_triggers(
    recording_messenger: Any, fixed_clock: Any
) -> None:
    store = InMemoryStore()
    slack = recording_messenger()
    clock = fixed_clock(OPENS)
    before = datetime.now(UTC)
    scheduler = build_scheduler(
        settings(tick_seconds=30, digest_schedule="mon,thu 07:30", digest_timezone="Europe/Zurich"),
        store,
        {"slack": slack},
        clock,
        publish=None,
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == [TICK_JOB_ID, DIGEST_JOB_ID]

    tick = scheduler.get_job(TICK_JOB_ID)
    assert tick.func is jobs.tick_job
    assert isinstance(tick.trigger, IntervalTrigger)
    assert tick.trigger.interval == timedelta(seconds=30)
    assert (tick.coalesce, tick.max_instances, tick.misfire_grace_time) == (True, 1, None)
    assert before <= tick.next_run_time <= datetime.now(UTC)  # at once, to catch up
    assert tick.kwargs["repos"] is store and tick.kwargs["clock"] is clock
    assert tick.kwargs["messengers"] == {"slack": slack}
    assert tick.kwargs["office_hours"] == OfficeHours.parse("09:00-18:00", "mon-fri")

    digest = scheduler.get_job(DIGEST_JOB_ID)
    assert digest.func is jobs.digest_job
    assert isinstance(digest.trigger, CronTrigger)
    assert digest.trigger.timezone == ZoneInfo("Europe/Zurich")
    assert (digest.coalesce, digest.max_instances) == (True, 1)
    assert digest.kwargs["folder"] == Path("digests") and digest.kwargs["publish"] is None
    # 07:30 in Zurich across the spring DST change: 06:30 UTC before it, 05:30 UTC after.
    fire = digest.trigger.get_next_fire_time(None, datetime(2026, 3, 27, tzinfo=UTC))
    assert fire == datetime(2026, 3, 30, 7, 30, tzinfo=ZoneInfo("Europe/Zurich"))
    assert fire.astimezone(UTC) == datetime(2026, 3, 30, 5, 30, tzinfo=UTC)
    thursday = digest.trigger.get_next_fire_time(None, datetime(2026, 3, 24, tzinfo=UTC))
    assert thursday.astimezone(UTC) == datetime(2026, 3, 26, 6, 30, tzinfo=UTC)


async def test_registering_again_replaces_the_jobs(fixed_clock: Any) -> None:
    scheduler = build_scheduler(settings(), InMemoryStore(), {}, fixed_clock(OPENS), publish=None)
    scheduler.start(paused=True)
    try:
        tick = scheduler.get_job(TICK_JOB_ID)
        scheduler.add_job(
            tick.func,
            trigger=tick.trigger,
            id=TICK_JOB_ID,
            kwargs=tick.kwargs,
            replace_existing=True,
        )
        assert sorted(job.id for job in scheduler.get_jobs()) == [TICK_JOB_ID, DIGEST_JOB_ID]
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"office_hours": "9-18"}, "ITINERA_OFFICE_HOURS: office hours '9-18'"),
        ({"office_days": "weekdays"}, "ITINERA_OFFICE_DAYS: office days 'weekdays'"),
        ({"digest_schedule": "monday"}, "ITINERA_DIGEST_SCHEDULE: digest schedule 'monday'"),
        ({"digest_timezone": "Europe/Geneva"}, "ITINERA_DIGEST_TIMEZONE: 'Europe/Geneva' is not"),
    ],
)
def test_unusable_settings_are_refused_at_start(
    overrides: dict[str, str], message: str, fixed_clock: Any
) -> None:
    with pytest.raises(SchedulerSettingsError) as raised:
        build_scheduler(
            settings(**overrides), InMemoryStore(), {}, fixed_clock(OPENS), publish=None
        )
    assert str(raised.value).startswith(message)


def test_the_digest_publisher_is_found_if_this_version_has_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def publish_digest(*args: Any, **kwargs: Any) -> None: ...

    module = types.ModuleType("bot.digest_cmd")
    monkeypatch.setitem(sys.modules, "bot.digest_cmd", module)
    assert load_publisher() is None
    assert "has no publish_digest" in caplog.text
    module.publish_digest = publish_digest  # type: ignore[attr-defined]
    assert load_publisher() is publish_digest

    def missing(name: str) -> Any:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(scheduling.importlib, "import_module", missing)
    caplog.clear()
    assert load_publisher() is None
    assert "digests are not available in this version" in caplog.text


def test_messengers_come_from_the_runtimes_in_order(recording_messenger: Any) -> None:
    telegram, slack = recording_messenger("telegram"), recording_messenger("slack")

    class Runtime:
        def __init__(self, name: str, messenger: Any) -> None:
            self.name = name
            self.messenger = messenger

    found = channel_messengers(
        [Runtime("telegram", telegram), Runtime("slack", slack), Runtime("slack-2", slack)]
    )
    assert list(found) == ["telegram", "slack"]
    assert found["slack"] is slack


# --- the jobs, run directly --------------------------------------------------------------------


async def test_the_tick_job_delivers_with_the_injected_clock(
    any_store: Any,
    recording_messenger: Any,
    fixed_clock: Any,
    seed_round: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seeded = await seed_round(any_store, opens=OPENS, closes=CLOSES)
    slack = recording_messenger()
    clock = fixed_clock(OPENS - timedelta(hours=1))
    scheduler = build_scheduler(settings(), any_store, {"slack": slack}, clock, publish=None)
    job = scheduler.get_job(TICK_JOB_ID)
    assert (await job.func(**job.kwargs)).sent == []  # not open yet
    clock.current = OPENS + timedelta(minutes=1)
    caplog.set_level(logging.INFO, logger="handlers.jobs")
    report = await job.func(**job.kwargs)
    assert len(report.sent) == 3 and len(slack.sent) == 3
    assert "3 sent" in caplog.text
    again = await job.func(**job.kwargs)
    assert again.sent == [] and len(slack.sent) == 3
    clock.current = CLOSES
    closing = await job.func(**job.kwargs)
    assert closing.closed == [seeded.round.id]


async def test_the_digest_job_publishes_each_open_round(
    recording_messenger: Any, fixed_clock: Any, seed_round: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryStore()
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    calls: list[tuple[Any, ...]] = []

    async def publish_digest(
        store_: Any,
        round_id: int,
        *,
        messengers: Any,
        now: datetime,
        folder: Path,
        language: str | None,
    ) -> None:
        calls.append((store_, round_id, messengers, now, folder, language))
        if round_id != seeded.round.id:
            raise RuntimeError("no chart today")

    other = await store.rounds.create_round(
        survey_version_id=seeded.round.survey_version_id,
        audience=seeded.round.audience,
        opens_at=OPENS,
        closes_at=CLOSES,
        participant_ids=[seeded.participants["FRA"].id],
        now=OPENS,
    )
    slack = recording_messenger()
    clock = fixed_clock(OPENS + timedelta(days=1))
    scheduler = build_scheduler(
        settings(digest_folder="out"), store, {"slack": slack}, clock, publish=publish_digest
    )
    job = scheduler.get_job(DIGEST_JOB_ID)
    assert await job.func(**job.kwargs) == 1  # the other round's failure is logged, not raised
    assert [call[1] for call in calls] == [seeded.round.id, other.id]
    assert calls[0] == (store, seeded.round.id, [slack], clock.current, Path("out"), None)
    assert "weekly digest of round 2 failed" in caplog.text

    without = build_scheduler(settings(), store, {}, clock, publish=None).get_job(DIGEST_JOB_ID)
    assert await without.func(**without.kwargs) == 0
    assert "digests are not available" in caplog.text


# --- the real loop -----------------------------------------------------------------------------


async def test_start_runs_a_tick_at_once_and_stop_waits_for_a_send_in_flight(
    any_store: Any, recording_messenger: Any, fixed_clock: Any, seed_round: Any
) -> None:
    seeded = await seed_round(
        any_store,
        opens=OPENS,
        closes=CLOSES,
        people=[("FRA", "Claire Dubois", "fr", "Europe/Paris")],
    )
    gate = asyncio.Event()
    slack = recording_messenger(gate=gate)
    clock = fixed_clock(OPENS + timedelta(minutes=1))
    scheduler = build_scheduler(settings(), any_store, {"slack": slack}, clock, publish=None)
    scheduler.start()
    try:
        await asyncio.wait_for(slack.sending.wait(), timeout=10)  # the catch-up tick runs
        stopping = asyncio.create_task(stop_scheduler(scheduler, grace_seconds=10))
        await asyncio.sleep(0)
        assert not stopping.done()  # waits for the send in flight instead of cancelling it
        gate.set()
        await asyncio.wait_for(stopping, timeout=10)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
    assert not scheduler.running
    fra = seeded.participants["FRA"].id
    record = await any_store.outbox.get(channel="slack", key=invitation_key(seeded.round.id, fra))
    assert record is not None and record.status == "sent"
    await stop_scheduler(scheduler)  # stopping twice is harmless


async def test_the_weekly_digest_job_publishes_through_bot_digest_cmd(
    store: Any, recording_messenger: Any, fixed_clock: Any, seed_round: Any, tmp_path: Path
) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    slack = recording_messenger()
    clock = fixed_clock(datetime(2026, 6, 8, 6, 0, tzinfo=UTC))
    scheduler = build_scheduler(
        settings(digest_folder=str(tmp_path / "digests")), store, {"slack": slack}, clock
    )
    job = scheduler.get_job(DIGEST_JOB_ID)
    assert job.kwargs["publish"] is load_publisher() is not None
    assert await job.func(**job.kwargs) == 1
    assert len(slack.digests) == 1 and slack.digests[0][2].endswith(".png")
    stem = f"digest-round-{seeded.round.id}-2026-06-08"
    for suffix in (".html", ".md", ".png"):
        assert (tmp_path / "digests" / f"{stem}{suffix}").is_file()
