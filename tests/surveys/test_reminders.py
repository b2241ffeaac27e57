"""Who is reminded when: a pure function of the clock, across timezones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.errors import RoundError
from surveys.records import (
    Audience,
    Participant,
    ResponseStatus,
    Role,
    Round,
    StatusLine,
)
from surveys.reminders import (
    LATE_GRACE,
    OfficeHours,
    PlannedReminder,
    describe_step,
    due_reminders,
    parse_days,
    parse_reminder_policy,
    reminder_key,
    schedule_for,
)

HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")
D3, D1, H2 = 3 * 24 * 60, 24 * 60, 2 * 60


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def make_round(
    closes_at: datetime,
    *,
    opens_at: datetime | None = None,
    policy: tuple[int, ...] = (D3, D1, H2),
    round_id: int = 7,
    closed_at: datetime | None = None,
) -> Round:
    opens = opens_at or closes_at - timedelta(days=14)
    return Round(
        id=round_id,
        survey_id="s",
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=opens,
        closes_at=closes_at,
        created_at=opens,
        closed_at=closed_at,
        reminder_policy=policy,
    )


def make_line(
    participant_id: int,
    timezone: str,
    status: ResponseStatus = ResponseStatus.NOT_STARTED,
    *,
    language: str = "en",
    answered: int = 0,
) -> StatusLine:
    participant = Participant(
        name=f"P{participant_id}",
        email=f"p{participant_id}@example.org",
        role=Role.DELEGATE,
        delegation="FRA",
        language=language,
        timezone=timezone,
        id=participant_id,
    )
    return StatusLine(participant, None, status, answered, None, None, None)


def plan(round_: Round, timezone: str) -> list[tuple[int, datetime]]:
    return [(p.step_minutes, p.at) for p in schedule_for(round_, timezone, HOURS)]


# --- office hours ----------------------------------------------------------------------------


def test_office_hours_parse_and_contain() -> None:
    hours = OfficeHours.parse(" 08:30 - 17:00 ", "mon-fri")
    assert (hours.start, hours.end, hours.last_minute) == (time(8, 30), time(17), time(16, 59))
    assert str(hours) == "08:30-17:00 mon,tue,wed,thu,fri"
    friday = datetime(2026, 6, 12, 8, 30)
    assert hours.contains(friday)
    assert not hours.contains(friday.replace(hour=17))  # the end is excluded
    assert not hours.contains(friday.replace(hour=8, minute=29))
    assert not hours.contains(friday + timedelta(days=1, hours=2))  # Saturday


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),  # wraps around the week
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon-Wed, fri", {0, 1, 2, 4}),
        ("saturday", {5}),
        ("fri-fri", {4}),
    ],
)
def test_office_days_forms(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("hours", "days", "message"),
    [
        ("9-18", "mon-fri", "'9' is not a time like 09:00"),
        ("09:00", "mon-fri", "use the form 09:00-18:00"),
        ("18:00-09:00", "mon-fri", "the end must come after the start"),
        ("09:00-24:00", "mon-fri", "'24:00' is not a time of day"),
        ("09:00-18:00", "mon-fry", "'fry' is not a day"),
        ("09:00-18:00", "", "name days like mon-fri"),
        ("09:00-18:00", "mon,,tue", "name days like mon-fri"),
        ("09:00-18:00", "mo-fr", "'mo' is not a day"),
    ],
)
def test_office_hours_errors(hours: str, days: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OfficeHours.parse(hours, days)


# --- planning --------------------------------------------------------------------------------

# Friday 12 June 2026, 16:00 UTC: 18:00 in Paris, 23:00 in Jakarta, 10:00 in Mexico City.
JUNE = make_round(utc(2026, 6, 12, 16))


def test_a_step_inside_office_hours_is_kept_as_is() -> None:
    assert plan(JUNE, "America/Mexico_City")[:2] == [
        (D3, utc(2026, 6, 9, 16)),  # Tuesday 10:00 local
        (D1, utc(2026, 6, 11, 16)),  # Thursday 10:00 local
    ]


def test_evening_steps_move_to_the_next_morning_in_each_timezone() -> None:
    assert plan(JUNE, "Europe/Paris") == [
        (D3, utc(2026, 6, 10, 7)),  # Tuesday 18:00 -> Wednesday 09:00 CEST
        (D1, utc(2026, 6, 12, 7)),  # Thursday 18:00 -> Friday 09:00 CEST
        (H2, utc(2026, 6, 12, 14)),  # Friday 16:00 CEST, inside
    ]
    assert plan(JUNE, "Asia/Jakarta") == [
        (D3, utc(2026, 6, 10, 2)),  # Tuesday 23:00 -> Wednesday 09:00 WIB
        (D1, utc(2026, 6, 12, 2)),  # Thursday 23:00 -> Friday 09:00 WIB
        # Friday 21:00: the next opening (Monday) is after closing, so Friday 17:59 WIB.
        (H2, utc(2026, 6, 12, 10, 59)),
    ]


def test_an_opening_exactly_one_hour_before_closing_is_still_used() -> None:
    # Friday 08:00 in Mexico City -> 09:00 (15:00 UTC), exactly one hour before closing.
    assert plan(JUNE, "America/Mexico_City")[2] == (H2, utc(2026, 6, 12, 15))


def test_steps_before_the_round_opens_are_dropped() -> None:
    late_launch = make_round(JUNE.closes_at, opens_at=utc(2026, 6, 11, 12))
    assert plan(late_launch, "America/Mexico_City") == [
        (D1, utc(2026, 6, 11, 16)),
        (H2, utc(2026, 6, 12, 15)),
    ]
    assert plan(make_round(JUNE.closes_at, policy=()), "Europe/Paris") == []


def test_paris_across_the_spring_dst_change() -> None:
    # Monday 30 March 2026 12:00 CEST; clocks went forward on Sunday 29 March.
    round_ = make_round(utc(2026, 3, 30, 10))
    assert plan(round_, "Europe/Paris") == [
        (D3, utc(2026, 3, 27, 10)),  # Friday 11:00 CET
        (D1, utc(2026, 3, 30, 7)),  # Sunday -> Monday 09:00 CEST (07:00 UTC, not 08:00)
        (H2, utc(2026, 3, 30, 8)),  # Monday 10:00 CEST
    ]


def test_paris_falls_back_to_friday_across_dst_and_steps_collapse() -> None:
    # Monday 30 March 2026 09:30 CEST: Monday 09:00 leaves only 30 minutes.
    round_ = make_round(utc(2026, 3, 30, 7, 30))
    assert plan(round_, "Europe/Paris") == [
        (D3, utc(2026, 3, 27, 8)),  # Friday 08:30 CET -> 09:00 CET
        # The 1-day (Sunday) and 2-hour (Monday 07:30) steps both fall back to Friday
        # 17:59 CET (16:59 UTC) and collapse into the one closer to closing.
        (H2, utc(2026, 3, 27, 16, 59)),
    ]


def test_new_york_across_the_spring_dst_change() -> None:
    # Monday 9 March 2026 10:00 EDT; US clocks went forward on Sunday 8 March.
    round_ = make_round(utc(2026, 3, 9, 14))
    assert plan(round_, "America/New_York") == [
        (D3, utc(2026, 3, 6, 14)),  # Friday 09:00 EST, inside
        # Sunday 10:00 EDT and Monday 08:00 EDT both move to Monday 09:00 EDT (13:00 UTC).
        (H2, utc(2026, 3, 9, 13)),
    ]


def test_paris_across_the_autumn_dst_change() -> None:
    # Monday 26 October 2026 10:00 CET; clocks went back on Sunday 25 October.
    round_ = make_round(utc(2026, 10, 26, 9))
    assert plan(round_, "Europe/Paris") == [
        (D3, utc(2026, 10, 23, 9)),  # Friday 11:00 CEST
        # Sunday 10:00 CET and Monday 08:00 CET both move to Monday 09:00 CET (08:00 UTC,
        # not 07:00 as summer time would give), exactly an hour before closing.
        (H2, utc(2026, 10, 26, 8)),
    ]


def test_unknown_or_missing_timezones_count_as_utc() -> None:
    assert plan(JUNE, "Mars/Olympus") == plan(JUNE, "") == plan(JUNE, "UTC")
    assert plan(JUNE, "UTC") == [
        (D3, utc(2026, 6, 9, 16)),
        (D1, utc(2026, 6, 11, 16)),
        (H2, utc(2026, 6, 12, 14)),
    ]


def test_other_working_weeks() -> None:
    # A Sunday-to-Thursday week: the Friday 2-hour step falls back to Thursday 17:59.
    hours = OfficeHours.parse("09:00-18:00", "sun-thu")
    cairo = [(p.step_minutes, p.at) for p in schedule_for(JUNE, "Africa/Cairo", hours)]
    assert cairo[-1] == (H2, utc(2026, 6, 11, 14, 59))  # Thursday 17:59 EEST


TIMEZONES = [
    "Europe/Paris",
    "Asia/Jakarta",
    "America/Mexico_City",
    "America/New_York",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",  # +05:45
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "Africa/Casablanca",  # DST suspended during Ramadan
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    closes=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    length=st.integers(min_value=1, max_value=30 * 24 * 60),
    zone=st.sampled_from(TIMEZONES),
    policy=st.lists(st.integers(min_value=1, max_value=10 * 24 * 60), max_size=5),
)
def test_planned_reminders_are_in_office_hours_within_the_round(
    closes: datetime, length: int, zone: str, policy: list[int]
) -> None:
    round_ = make_round(closes, opens_at=closes - timedelta(minutes=length), policy=tuple(policy))
    planned = schedule_for(round_, zone, HOURS)
    moments = [p.at for p in planned]
    assert moments == sorted(set(moments))
    assert len({p.step_minutes for p in planned}) == len(planned)
    for reminder in planned:
        assert round_.opens_at <= reminder.at < round_.closes_at
        assert reminder.at.tzinfo is UTC
        assert HOURS.contains(reminder.at.astimezone(ZoneInfo(zone)))
        nominal = closes - timedelta(minutes=reminder.step_minutes)
        # Moved forward only while leaving an hour; moved back, never past the nominal time.
        assert reminder.at <= nominal or reminder.at <= closes - timedelta(hours=1)


# --- what is due -----------------------------------------------------------------------------

PARIS, JAKARTA, MEXICO = "Europe/Paris", "Asia/Jakarta", "America/Mexico_City"


def test_only_delegates_who_have_not_submitted_are_due() -> None:
    lines = [
        make_line(1, PARIS, ResponseStatus.NOT_STARTED),
        make_line(2, PARIS, ResponseStatus.IN_PROGRESS, answered=3),
        make_line(3, PARIS, ResponseStatus.SUBMITTED),
        make_line(4, PARIS, ResponseStatus.PARTIAL),
    ]
    due = due_reminders(JUNE, lines, utc(2026, 6, 10, 7), office_hours=HOURS, already_sent=set())
    assert [(d.participant.id, d.step_minutes, d.superseded) for d in due] == [
        (1, D3, False),
        (2, D3, False),
    ]
    assert due[1].status is ResponseStatus.IN_PROGRESS and due[1].answered == 3
    assert due[0].key == f"reminder:7:1:{D3}:{int(JUNE.closes_at.timestamp())}"
    assert due[0].planned_at == utc(2026, 6, 10, 7)


def test_a_step_is_due_from_its_planned_time_in_each_timezone() -> None:
    lines = [make_line(1, PARIS), make_line(2, JAKARTA), make_line(3, MEXICO)]

    def due_at(now: datetime) -> list[tuple[int, int]]:
        found = due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=set())
        return [(d.participant.id, d.step_minutes) for d in found]

    assert due_at(utc(2026, 6, 9, 15, 59)) == []
    assert due_at(utc(2026, 6, 9, 16)) == [(3, D3)]  # Mexico City, Tuesday 10:00
    assert due_at(utc(2026, 6, 10, 2)) == [(2, D3)]  # Jakarta 09:00; Mexico is asleep
    assert due_at(utc(2026, 6, 10, 7)) == [(1, D3), (2, D3)]  # Paris 09:00
    # Mexico City 09:00 on Wednesday; Jakarta's unsent step (22:00 there) waits for morning.
    assert due_at(utc(2026, 6, 10, 15)) == [(1, D3), (3, D3)]


def test_a_late_step_waits_for_office_hours_unless_barely_late() -> None:
    lines = [make_line(3, MEXICO)]
    planned = utc(2026, 6, 9, 16)
    for now, expected in [
        (planned + LATE_GRACE, 1),  # 10:30 local, and inside anyway
        (utc(2026, 6, 10, 2), 0),  # Wednesday 20:00 local: too late and outside: wait
        (utc(2026, 6, 10, 15), 1),  # Wednesday 09:00 local
    ]:
        found = due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=set())
        assert len(found) == expected, now


def test_jakartas_friday_1759_reminder_still_goes_out_a_minute_late() -> None:
    lines = [make_line(2, JAKARTA)]
    sent = {reminder_key(JUNE, 2, step) for step in (D3, D1)}
    now = utc(2026, 6, 12, 11)  # 18:00 in Jakarta: outside, but within the grace
    found = due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=sent)
    assert [(d.step_minutes, d.superseded) for d in found] == [(H2, False)]


def test_after_downtime_only_the_latest_due_step_is_sent_the_rest_superseded() -> None:
    lines = [make_line(1, PARIS)]
    now = utc(2026, 6, 12, 7, 30)  # the 3-day and 1-day steps both fell due
    found = due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=set())
    assert [(d.step_minutes, d.superseded) for d in found] == [(D3, True), (D1, False)]
    # Once recorded, neither comes back; nor does a step already sent.
    recorded = {d.key for d in found}
    assert due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=recorded) == []
    only_first = {found[0].key}
    again = due_reminders(JUNE, lines, now, office_hours=HOURS, already_sent=only_first)
    assert [(d.step_minutes, d.superseded) for d in again] == [(D1, False)]


def test_nothing_is_due_unless_the_round_is_open() -> None:
    lines = [make_line(1, PARIS)]
    closed = make_round(JUNE.closes_at, closed_at=utc(2026, 6, 10, 0))
    scheduled = make_round(JUNE.closes_at, opens_at=utc(2026, 6, 11, 0))
    for round_, now in [
        (closed, utc(2026, 6, 10, 7)),
        (JUNE, JUNE.closes_at),
        (scheduled, utc(2026, 6, 10, 7)),
    ]:
        assert due_reminders(round_, lines, now, office_hours=HOURS, already_sent=set()) == []


def test_an_extension_gives_new_keys_and_a_new_plan() -> None:
    extended = make_round(utc(2026, 6, 19, 16), opens_at=JUNE.opens_at)
    assert reminder_key(JUNE, 1, D3) != reminder_key(extended, 1, D3)
    assert plan(extended, PARIS)[0] == (D3, utc(2026, 6, 17, 7))
    lines = [make_line(1, PARIS)]
    sent_for_old_date = {reminder_key(JUNE, 1, D3)}
    now = utc(2026, 6, 10, 7)
    assert (
        due_reminders(extended, lines, now, office_hours=HOURS, already_sent=sent_for_old_date)
        == []
    )


# --- policies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("3d,1d,2h", (D3, D1, H2)),
        ("2h, 3d ,1d", (D3, D1, H2)),
        ("90m,30min", (90, 30)),
        ("1d,24h", (D1,)),
        ("none", ()),
        ("", ()),
    ],
)
def test_reminder_policy_text(text: str, minutes: tuple[int, ...]) -> None:
    assert parse_reminder_policy(text) == minutes


@pytest.mark.parametrize("text", ["3 days", "0h", "1w", "2h,", "-1d"])
def test_reminder_policy_errors(text: str) -> None:
    with pytest.raises(RoundError, match=r"use e\.g\. 3d,1d,2h"):
        parse_reminder_policy(text)


def test_steps_are_described_in_the_policy_form() -> None:
    assert [describe_step(m) for m in (D3, D1, H2, 90)] == ["3d", "1d", "2h", "90m"]


def test_planned_reminders_are_plain_values() -> None:
    assert PlannedReminder(60, utc(2026, 1, 1)) == PlannedReminder(60, utc(2026, 1, 1))
