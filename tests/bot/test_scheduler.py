"""The scheduler's wiring: which jobs, on which triggers, calling what, and only on the leader;
the jobs themselves run directly with an injected clock; one start/stop runs the real loop; and
two replicas on one database, the leader killed, remind each delegate once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.bootstrap import build
from bot.digest_cmd import publish_digest
from bot.fakes.messenger import RecordingOut
from bot.scheduler import (
    DIGEST_JOB_ID,
    RETENTION_JOB_ID,
    TICK_JOB_ID,
    Schedule,
    build_scheduler,
)
from bot.settings import Settings, SettingsError, load_settings, parse_schedule
from handlers import jobs
from storage.database import Store, open_store
from storage.memory import InMemoryStore
from surveys.ports import Clock, Repositories
from surveys.queues import NewInboundEvent
from surveys.reminders import OfficeHours, reminder_key, schedule_for
from surveys.service.delivery import DeliveryReport, invitation_key
from surveys.service.leadership import Leadership

OPENS, CLOSES = datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 12, 16, tzinfo=UTC)
HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")


def settings(**overrides: Any) -> Settings:
    return load_settings(database_url="sqlite+aiosqlite:///unused.db", **overrides)


def leader_of(store: Repositories, clock: Clock, *, holder: str = "host-1") -> Leadership:
    return Leadership(store, name="scheduler", holder=holder, ttl=timedelta(minutes=3), clock=clock)


def scheduled(
    store: Repositories,
    clock: Clock,
    *outs: RecordingOut,
    publish: jobs.DigestPublisher = publish_digest,
    leader: Leadership | None = None,
    **overrides: Any,
) -> Schedule:
    return build_scheduler(
        settings(**overrides),
        store,
        channels=outs,
        digests=outs,
        publish=publish,
        clock=clock,
        leader=leader or leader_of(store, clock),
    )


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
    schedule = parse_schedule(text)
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
        parse_schedule(text)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"office_hours": "9-18"}, "ITINERA_OFFICE_HOURS: office hours '9-18'"),
        ({"office_days": "weekdays"}, "ITINERA_OFFICE_DAYS: office days 'weekdays'"),
        ({"digest_schedule": "monday"}, "ITINERA_DIGEST_SCHEDULE: digest schedule 'monday'"),
        ({"digest_timezone": "Europe/Geneva"}, "ITINERA_DIGEST_TIMEZONE: 'Europe/Geneva' is not"),
        ({"tick_seconds": "1"}, "ITINERA_TICK_SECONDS: Input should be greater than or equal"),
        (
            {"tick_seconds": "10", "leader_lease_seconds": "10"},
            "ITINERA_LEADER_LEASE_SECONDS: must be longer than ITINERA_TICK_SECONDS (10)",
        ),
    ],
)
def test_unusable_scheduler_settings_are_refused_when_read(
    overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings(**overrides)
    assert str(raised.value).startswith(message)


# --- registration ----------------------------------------------------------------------------


def test_jobs_are_registered_with_explicit_ids_and_triggers(fixed_clock: Any) -> None:
    store = InMemoryStore()
    slack = RecordingOut()
    clock = fixed_clock(OPENS)
    leader = leader_of(store, clock)
    before = datetime.now(UTC)
    schedule = scheduled(
        store,
        clock,
        slack,
        leader=leader,
        tick_seconds=30,
        digest_schedule="mon,thu 07:30",
        digest_timezone="Europe/Zurich",
        digest_classification="UNHCR internal",
    )
    scheduler = schedule.scheduler
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        RETENTION_JOB_ID,
        TICK_JOB_ID,
        DIGEST_JOB_ID,
    ]

    tick = scheduler.get_job(TICK_JOB_ID)
    assert tick.func.__wrapped__ is jobs.tick_job
    assert isinstance(tick.trigger, IntervalTrigger)
    assert tick.trigger.interval == timedelta(seconds=30)
    assert (tick.coalesce, tick.max_instances, tick.misfire_grace_time) == (True, 1, None)
    assert before <= tick.next_run_time <= datetime.now(UTC)  # at once, to catch up
    assert tick.kwargs == {
        "store": store,
        "channels": (slack,),
        "clock": clock,
        "office_hours": HOURS,
        "leader": leader,
    }

    digest = scheduler.get_job(DIGEST_JOB_ID)
    assert digest.func.__wrapped__ is jobs.digest_job
    assert isinstance(digest.trigger, CronTrigger)
    assert digest.trigger.timezone == ZoneInfo("Europe/Zurich")
    assert (digest.coalesce, digest.max_instances) == (True, 1)
    assert digest.kwargs["folder"] == Path("digests")
    assert digest.kwargs["publish"] is publish_digest and digest.kwargs["messengers"] == (slack,)
    assert digest.kwargs["leader"] is leader
    assert digest.kwargs["classification"] == "UNHCR internal"
    # 07:30 in Zurich across the spring DST change: 06:30 UTC before it, 05:30 UTC after.
    fire = digest.trigger.get_next_fire_time(None, datetime(2026, 3, 27, tzinfo=UTC))
    assert fire == datetime(2026, 3, 30, 7, 30, tzinfo=ZoneInfo("Europe/Zurich"))
    assert fire.astimezone(UTC) == datetime(2026, 3, 30, 5, 30, tzinfo=UTC)
    thursday = digest.trigger.get_next_fire_time(None, datetime(2026, 3, 24, tzinfo=UTC))
    assert thursday.astimezone(UTC) == datetime(2026, 3, 26, 6, 30, tzinfo=UTC)
    assert "tick (interval[0:00:30]" in schedule.describe()


async def test_registering_again_replaces_the_jobs(fixed_clock: Any) -> None:
    scheduler = scheduled(InMemoryStore(), fixed_clock(OPENS)).scheduler
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
        assert sorted(job.id for job in scheduler.get_jobs()) == [
            RETENTION_JOB_ID,
            TICK_JOB_ID,
            DIGEST_JOB_ID,
        ]
    finally:
        scheduler.shutdown(wait=False)


async def test_itinera_schedules_its_channels_slack_first_then_telegram(store: Store) -> None:
    configured = load_settings(
        database_url="sqlite+aiosqlite:///unused.db",
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_api_url="http://127.0.0.1:9/api/",
        telegram_token="123:test",
        telegram_api_url="http://127.0.0.1:9",
    )
    itinera = build(configured, store)  # builds only; nothing is contacted
    try:
        scheduler = itinera.schedule.scheduler
        tick = scheduler.get_job(TICK_JOB_ID).kwargs
        assert [out.channel for out in tick["channels"]] == ["slack", "telegram"]
        assert list(tick["channels"]) == list(itinera.outs)
        assert tick["leader"] is itinera.leader and tick["store"] is store
        digest = scheduler.get_job(DIGEST_JOB_ID).kwargs
        assert list(digest["messengers"]) == list(itinera.outs)
        assert digest["leader"] is itinera.leader
    finally:
        for close in itinera.closers:
            await close()


# --- the jobs, run directly --------------------------------------------------------------------


async def test_the_retention_job_purges_what_is_older_than_the_setting(
    any_store: Any, fixed_clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = fixed_clock(OPENS)
    await any_store.events.accept(
        NewInboundEvent("slack", "event:old", "U1", '{"text": "old"}'), now=OPENS
    )
    [claimed] = await any_store.events.claim(
        worker="w", now=OPENS, lease=timedelta(seconds=60), limit=1
    )
    await any_store.events.complete(claimed.id, worker="w", now=OPENS)
    await any_store.events.accept(
        NewInboundEvent("slack", "event:waiting", "U2", '{"text": "waiting"}'), now=OPENS
    )
    schedule = scheduled(any_store, clock, retention_days="30")
    job = schedule.scheduler.get_job(RETENTION_JOB_ID)
    assert job.func.__wrapped__ is jobs.retention_job and job.kwargs["days"] == 30
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(hours=1)

    clock.current = OPENS + timedelta(days=29)
    early = await job.func(**job.kwargs)
    assert early is not None and early.inbound == 0
    assert await any_store.events.get(channel="slack", key="event:old") is not None

    clock.current = OPENS + timedelta(days=30, seconds=1)
    caplog.set_level(logging.INFO, logger="handlers.jobs")
    purged = await job.func(**job.kwargs)

    assert purged is not None and purged.inbound == 1
    assert await any_store.events.get(channel="slack", key="event:old") is None
    assert await any_store.events.get(channel="slack", key="event:waiting") is not None
    assert "retention (30 days): 1 inbound events deleted" in caplog.text
    follower = scheduled(
        any_store, clock, retention_days="30", leader=leader_of(any_store, clock, holder="b")
    ).scheduler.get_job(RETENTION_JOB_ID)
    assert await follower.func(**follower.kwargs) is None  # only the leader purges


def test_retention_off_registers_no_purge(fixed_clock: Any) -> None:
    scheduler = scheduled(InMemoryStore(), fixed_clock(OPENS), retention_days="off").scheduler
    assert scheduler.get_job(RETENTION_JOB_ID) is None
    assert settings().retention.days == 180
    with pytest.raises(SettingsError, match="ITINERA_RETENTION_DAYS"):
        settings(retention_days="six months")


async def test_the_tick_job_delivers_with_the_injected_clock(
    any_store: Any, fixed_clock: Any, seed_round: Any, caplog: pytest.LogCaptureFixture
) -> None:
    seeded = await seed_round(any_store, opens=OPENS, closes=CLOSES)
    slack = RecordingOut()
    clock = fixed_clock(OPENS - timedelta(hours=1))
    job = scheduled(any_store, clock, slack).scheduler.get_job(TICK_JOB_ID)
    quiet = await job.func(**job.kwargs)
    assert quiet is not None and not quiet.eventful  # not open yet
    clock.current = OPENS + timedelta(minutes=1)
    caplog.set_level(logging.INFO, logger="handlers.jobs")
    report = await job.func(**job.kwargs)
    assert len(report.invited) == 3 and len(await slack.stored(any_store)) == 3
    assert {m.created_at for m in await slack.stored(any_store)} == {clock.current}
    assert "tick at 2026-06-08T00:01:00+00:00: 3 invitations, 0 reminders" in caplog.text
    again = await job.func(**job.kwargs)
    assert again.invited == [] and len(await slack.stored(any_store)) == 3
    clock.current = CLOSES
    closing = await job.func(**job.kwargs)
    assert closing.closed == [seeded.round.id]


async def test_only_the_leader_does_scheduled_work(
    any_store: Any, fixed_clock: Any, seed_round: Any
) -> None:
    await seed_round(any_store, opens=OPENS, closes=CLOSES)
    clock = fixed_clock(OPENS)
    published: list[int] = []

    async def publish(store: Any, round_id: int, **kwargs: Any) -> None:
        published.append(round_id)

    leading, following = RecordingOut(), RecordingOut()
    first = scheduled(any_store, clock, leading, publish=publish).scheduler
    second = scheduled(
        any_store, clock, following, publish=publish, leader=leader_of(any_store, clock, holder="b")
    ).scheduler
    for scheduler in (first, second):
        for job_id in (TICK_JOB_ID, DIGEST_JOB_ID):
            job = scheduler.get_job(job_id)
            await job.func(**job.kwargs)
    assert len(await leading.stored(any_store)) == 3 and following.asked == []
    assert published == [1]  # the leader's digest of round 1; the other process did nothing
    tick = second.get_job(TICK_JOB_ID)
    assert await tick.func(**tick.kwargs) is None


async def test_the_digest_job_publishes_each_open_round(
    fixed_clock: Any, seed_round: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryStore()
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    calls: list[tuple[Any, ...]] = []

    async def publish(
        store_: Any,
        round_id: int,
        *,
        messengers: Sequence[Any],
        now: datetime,
        folder: Path,
        language: str | None,
        classification: str | None,
        min_group: int,
    ) -> None:
        calls.append(
            (store_, round_id, list(messengers), now, folder, language, classification, min_group)
        )
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
    await store.rounds.create_round(  # closed by now: no digest
        survey_version_id=seeded.round.survey_version_id,
        audience=seeded.round.audience,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(hours=1),
        participant_ids=[seeded.participants["FRA"].id],
        now=OPENS,
    )
    slack = RecordingOut()
    clock = fixed_clock(OPENS + timedelta(days=1))
    caplog.set_level(logging.INFO, logger="handlers.jobs")
    job = scheduled(store, clock, slack, publish=publish, digest_folder="out").scheduler.get_job(
        DIGEST_JOB_ID
    )
    assert await job.func(**job.kwargs) == 1  # the other round's failure is logged, not raised
    assert [call[1] for call in calls] == [seeded.round.id, other.id]
    assert calls[0] == (store, seeded.round.id, [slack], clock.current, Path("out"), None, None, 3)
    assert f"weekly digest of round {other.id} failed" in caplog.text
    assert "weekly digest: 1 of 2 open rounds published" in caplog.text


async def test_the_weekly_digest_job_publishes_through_bot_digest_cmd(
    store: Store, fixed_clock: Any, seed_round: Any, tmp_path: Path
) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    slack = RecordingOut()
    clock = fixed_clock(datetime(2026, 6, 8, 6, 0, tzinfo=UTC))
    folder = tmp_path / "digests"
    job = scheduled(store, clock, slack, digest_folder=str(folder)).scheduler.get_job(DIGEST_JOB_ID)
    assert job.kwargs["publish"] is publish_digest
    assert await job.func(**job.kwargs) == 1
    [digest] = slack.digests
    assert digest.round_id == seeded.round.id and digest.image_name.endswith(".png")
    assert digest.key == f"digest:{seeded.round.id}:2026-06-08T06:00:00+00:00"
    stem = f"digest-round-{seeded.round.id}-2026-06-08"
    for suffix in (".html", ".md", ".png"):
        assert (folder / f"{stem}{suffix}").is_file()


# --- the real loop -----------------------------------------------------------------------------


async def test_start_runs_a_tick_at_once_and_stop_waits_for_the_tick_in_flight(
    any_store: Any, fixed_clock: Any, seed_round: Any
) -> None:
    seeded = await seed_round(
        any_store,
        opens=OPENS,
        closes=CLOSES,
        people=[("FRA", "Claire Dubois", "fr", "Europe/Paris")],
    )
    gate = asyncio.Event()
    slack = RecordingOut(gate=gate)
    clock = fixed_clock(OPENS + timedelta(minutes=1))
    schedule = scheduled(any_store, clock, slack)
    schedule.start()
    try:
        await asyncio.wait_for(slack.reaching.wait(), timeout=10)  # the catch-up tick runs
        stopping = asyncio.create_task(schedule.stop(grace_seconds=10))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not stopping.done()  # waits for the tick in flight instead of cancelling it
        assert schedule.scheduler.running
        gate.set()
        await asyncio.wait_for(stopping, timeout=10)
    finally:
        if schedule.scheduler.running:
            schedule.scheduler.shutdown(wait=False)
    assert not schedule.scheduler.running
    fra = seeded.participants["FRA"].id
    key = invitation_key(seeded.round.id, fra)
    assert [m.key for m in await slack.stored(any_store)] == [key]  # the tick was not cut
    plans = await any_store.rounds.reminder_plans(seeded.round.id)
    assert [item.participant.id for item in plans] == [fra]
    await schedule.stop()  # stopping twice is harmless


# --- two replicas ------------------------------------------------------------------------------


@dataclass
class Replica:
    """One ``itinera run`` process: its own connection to the database, lease and channel."""

    name: str
    store: Store
    leader: Leadership
    out: RecordingOut
    reports: list[tuple[datetime, DeliveryReport]] = field(default_factory=list)

    async def tick(self, clock: Any) -> DeliveryReport | None:
        now = clock.now()
        report = await jobs.tick_job(
            self.store, channels=[self.out], clock=clock, office_hours=HOURS, leader=self.leader
        )
        if report is not None:
            self.reports.append((now, report))
        return report

    def enqueued(self) -> list[str]:
        return [
            item.key for _, report in self.reports for item in [*report.invited, *report.reminded]
        ]


@pytest.mark.parametrize("leader_fate", ["killed", "stalled"])
async def test_two_replicas_with_the_leader_killed_remind_each_delegate_once(
    database_url: str, fixed_clock: Any, seed_round: Any, leader_fate: str
) -> None:
    """Two processes on one database tick through a week; the leader dies (or stalls) in the
    middle of a tick while Claire's 3-day reminder is due. The other takes over when the lease
    runs out, three minutes later, and sends it; a stalled leader that wakes up enqueues
    nothing twice. Every invitation and reminder is enqueued exactly once."""
    clock = fixed_clock(OPENS)
    replicas: list[Replica] = []
    for name in ("a", "b"):
        store = await open_store(database_url)
        leader = Leadership(
            store, name="scheduler", holder=name, ttl=timedelta(minutes=3), clock=clock
        )
        replicas.append(Replica(name, store, leader, RecordingOut()))
    a, b = replicas
    try:
        seeded = await seed_round(a.store, opens=OPENS, closes=CLOSES)
        fra = seeded.participants["FRA"]
        due_at = datetime(2026, 6, 10, 7, tzinfo=UTC)  # Claire's 3-day step, 09:00 in Paris
        # Ticks: every four hours, at every planned reminder (as a 60-second tick would be),
        # and every minute around the failure.
        hours = int((CLOSES - OPENS) / timedelta(hours=1)) + 2
        moments = {OPENS + timedelta(hours=h) for h in range(0, hours, 4)}
        for person in seeded.participants.values():
            moments |= {p.at for p in schedule_for(seeded.round, person.timezone, HOURS)}
        moments |= {due_at + timedelta(minutes=m) for m in range(-2, 6)}
        failing: asyncio.Task[DeliveryReport | None] | None = None
        woke = False
        for now in sorted(moments):
            clock.current = now
            if now < due_at:
                assert await a.tick(clock) is not None, now  # the leader
                assert await b.tick(clock) is None, now
                continue
            if now == due_at:
                # The leader renews its lease and starts the tick, then dies (or stalls)
                # while it looks Claire up.
                a.out.reaching.clear()
                a.out.gate = gate = asyncio.Event()
                failing = asyncio.create_task(a.tick(clock))
                await asyncio.wait_for(a.out.reaching.wait(), timeout=10)
                if leader_fate == "killed":
                    failing.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await failing
            report = await b.tick(clock)
            if woke:
                assert await a.tick(clock) is None, now  # back, but the other one leads
            if now < due_at + timedelta(minutes=3):
                assert report is None, now  # the follower waits while the lease lasts
                continue
            assert report is not None, now  # then takes over, and keeps the lease
            if leader_fate == "stalled" and not woke:
                gate.set()  # the stalled leader wakes up and finishes its tick
                stale = await failing  # type: ignore[misc]
                assert stale is not None and stale.reminded == [] and stale.skipped == 1
                woke = True

        assert woke is (leader_fate == "stalled")
        # Claire's 3-day reminder went out once, from the new leader, three minutes late.
        key = reminder_key(seeded.round, fra.id, 4320)
        assert key not in a.enqueued()
        [(taken_over, report)] = [
            (t, r) for t, r in b.reports if key in [i.key for i in r.reminded]
        ]
        assert taken_over == due_at + timedelta(minutes=3)
        # Each invitation and reminder exactly once, across both.
        everything = a.enqueued() + b.enqueued()
        assert len(everything) == len(set(everything)) == 3 + 9
        invitations = {invitation_key(seeded.round.id, p.id) for p in seeded.participants.values()}
        assert invitations <= set(a.enqueued())  # the first leader invited everyone
        assert all(at < due_at for at, report in a.reports if report.invited or report.reminded)
        assert all(at >= taken_over for at, _ in b.reports)
        stored = await a.store.messages.find(keys=everything)
        assert len(stored) == 12
    finally:
        for replica in replicas:
            await replica.store.close()
