"""When each non-responder is reminded: pure functions of the round, the clock and office hours.

A round's reminder policy says how long before closing to remind (3 days, 1 day, 2 hours by
default). Each step is moved into the delegate's office hours *in their timezone*, so that
nobody is written to at 3 a.m. or on a Sunday; :func:`due_reminders` then says, for a given
``now``, which reminder each delegate should get. Nothing here reads a clock or a database,
so tests choose ``now`` and the timezones freely (DST changes included).

Example::

    hours = OfficeHours.parse("09:00-18:00", "mon-fri")
    for planned in schedule_for(round_, "Europe/Paris", hours):
        print(planned.step_minutes, planned.at)  # aware UTC datetimes, earliest first
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from surveys.errors import RoundError
from surveys.records import Participant, ResponseStatus, Round, RoundStatus, StatusLine

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day abbreviations in ``date.weekday()`` order."""

MIN_LEAD = timedelta(hours=1)
"""A reminder moved forward to the next office-hours opening must leave this much time."""

LATE_GRACE = timedelta(minutes=30)
"""A reminder at most this late still goes out outside office hours (the 17:59 one at 18:00);
a later one (after downtime) waits for the delegate's next office hours."""

WAITING = frozenset({ResponseStatus.NOT_STARTED, ResponseStatus.IN_PROGRESS})
"""Statuses of delegates who are reminded (those who have not submitted)."""

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_POLICY_STEP = re.compile(r"^\s*(\d+)\s*(d|h|m|min)\s*$", re.IGNORECASE)
_UNITS = {"d": 24 * 60, "h": 60, "m": 1, "min": 1}


# --- office hours ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeHours:
    """When delegates may be written to, in their own timezone: ``start <= time < end``."""

    start: time
    end: time
    days: frozenset[int]
    """Weekdays, 0 = Monday as in ``date.weekday()``."""

    @classmethod
    def parse(cls, hours: str = "09:00-18:00", days: str = "mon-fri") -> OfficeHours:
        """Read ``"09:00-18:00"`` and ``"mon-fri"`` / ``"mon,tue,thu"`` / ``"sun-thu"``.

        Raises ``ValueError`` with a message naming the setting and the expected form.
        """
        start_text, dash, end_text = hours.partition("-")
        if not dash:
            raise ValueError(f"office hours {hours!r}: use the form 09:00-18:00")
        start = _clock(start_text, hours)
        end = _clock(end_text, hours)
        if end <= start:
            raise ValueError(
                f"office hours {hours!r}: the end must come after the start on the same day"
            )
        return cls(start=start, end=end, days=parse_days(days))

    def contains(self, local: datetime) -> bool:
        """Whether a local (wall-clock) time is inside office hours."""
        return local.weekday() in self.days and self.start <= local.time() < self.end

    @property
    def last_minute(self) -> time:
        """The last whole minute inside office hours on a working day (17:59 for 18:00)."""
        return (datetime.combine(date.min, self.end) - timedelta(minutes=1)).time()

    def __str__(self) -> str:
        days = ",".join(DAY_NAMES[day] for day in sorted(self.days))
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


def _clock(text: str, whole: str) -> time:
    found = _CLOCK.match(text)
    if found is None:
        raise ValueError(f"office hours {whole!r}: {text.strip()!r} is not a time like 09:00")
    hour, minute = int(found[1]), int(found[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"office hours {whole!r}: {text.strip()!r} is not a time of day")
    return time(hour, minute)


def parse_days(text: str, *, what: str = "office days") -> frozenset[int]:
    """``"mon-fri"``, ``"sun-thu"`` (ranges wrap around the week), ``"mon,wed,fri"``, or both
    mixed (``"mon-wed,fri"``); raises ``ValueError``."""
    found: set[int] = set()
    parts = [part.strip().lower() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise ValueError(f"{what} {text!r}: name days like mon-fri or mon,tue,thu")
    for part in parts:
        first, dash, last = (piece.strip() for piece in part.partition("-"))
        begin = _day(first, text, what)
        if not dash:
            found.add(begin)
            continue
        finish = _day(last, text, what)
        day = begin
        found.add(day)
        while day != finish:
            day = (day + 1) % 7
            found.add(day)
    return frozenset(found)


def _day(name: str, whole: str, what: str) -> int:
    key = name[:3]
    if key not in DAY_NAMES or not (len(name) == 3 or _full_name(name)):
        raise ValueError(
            f"{what} {whole!r}: {name!r} is not a day; use {', '.join(DAY_NAMES)} "
            "(ranges like mon-fri, lists like mon,thu)"
        )
    return DAY_NAMES.index(key)


def _full_name(name: str) -> bool:
    return name in {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }


# --- timezones -------------------------------------------------------------------------------


def zone_or_utc(name: str | None) -> tzinfo:
    """The IANA timezone ``name``, or UTC when it is empty or unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


def _at(day: date, moment: time, zone: tzinfo) -> datetime:
    """``day`` at wall-clock ``moment`` in ``zone``, as UTC.

    A wall time that does not exist (skipped by a DST change) comes out as the equivalent
    later time, like clocks that were moved forward; an ambiguous one is its first occurrence.
    """
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


def next_opening(moment: datetime, zone: tzinfo, hours: OfficeHours) -> datetime:
    """The first office-hours opening at or after ``moment`` in ``zone`` (UTC out)."""
    moment = moment.astimezone(UTC)
    local_day = moment.astimezone(zone).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if day.weekday() in hours.days:
            opening = _at(day, hours.start, zone)
            if opening >= moment:
                return opening
    raise AssertionError("office hours have at least one day a week")  # pragma: no cover


def last_office_moment(moment: datetime, zone: tzinfo, hours: OfficeHours) -> datetime:
    """The latest whole minute inside office hours strictly before ``moment`` (UTC out)."""
    moment = moment.astimezone(UTC)
    local_day = moment.astimezone(zone).date()
    for offset in range(8):
        day = local_day - timedelta(days=offset)
        if day.weekday() not in hours.days:
            continue
        last = _at(day, hours.last_minute, zone)
        if last < moment:
            return last
        opening = _at(day, hours.start, zone)
        if opening < moment:  # ``moment`` is inside this day's office hours
            latest = moment - timedelta(minutes=1)
            return max(opening, latest.replace(second=0, microsecond=0))
    raise AssertionError("office hours have at least one day a week")  # pragma: no cover


# --- planning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedReminder:
    step_minutes: int
    """The policy step (minutes before closing) this reminder is for."""
    at: datetime
    """When it goes out, aware UTC, inside the delegate's office hours."""


def schedule_for(
    round_: Round, participant_timezone: str | None, office_hours: OfficeHours
) -> list[PlannedReminder]:
    """The reminders of one delegate for the round's current closing time, earliest first.

    Each step's nominal time (``closes_at - step``) is kept if it falls inside office hours in
    the delegate's timezone; otherwise it moves to the next opening if that still leaves
    :data:`MIN_LEAD` before closing, else back to the last office-hours minute before the
    nominal time (Friday 17:59 for a Sunday step). Steps that land before the round opens are
    dropped; steps landing on the same moment collapse into the one closest to closing. An
    unknown timezone counts as UTC.
    """
    zone = zone_or_utc(participant_timezone)
    closes_at = round_.closes_at.astimezone(UTC)
    opens_at = round_.opens_at.astimezone(UTC)
    by_moment: dict[datetime, PlannedReminder] = {}
    for step in sorted(set(round_.reminder_policy), reverse=True):
        nominal = closes_at - timedelta(minutes=step)
        if office_hours.contains(nominal.astimezone(zone)):
            at = nominal
        else:
            at = next_opening(nominal, zone, office_hours)
            if at > closes_at - MIN_LEAD:
                at = last_office_moment(nominal, zone, office_hours)
        if at < opens_at or at >= closes_at:
            continue
        by_moment[at] = PlannedReminder(step_minutes=step, at=at)  # smaller steps come later
    return sorted(by_moment.values(), key=lambda planned: planned.at)


def reminder_key(round_: Round, participant_id: int, step_minutes: int) -> str:
    """The outbox key of one reminder; it names the closing time, so an extension gets new
    reminders while a step is never sent twice for the same deadline."""
    closes = int(round_.closes_at.timestamp())
    return f"reminder:{round_.id}:{participant_id}:{step_minutes}:{closes}"


@dataclass(frozen=True)
class DueReminder:
    participant: Participant
    status: ResponseStatus
    answered: int
    step_minutes: int
    planned_at: datetime
    key: str
    superseded: bool = False
    """True for an earlier step that fell due together with a later one (after downtime):
    it is recorded as never to be sent, and only the later step goes out."""


def due_reminders(
    round_: Round,
    lines: Sequence[StatusLine],
    now: datetime,
    *,
    office_hours: OfficeHours,
    already_sent: set[str] | frozenset[str],
) -> list[DueReminder]:
    """What to do now for each delegate who has not submitted, in ``lines`` order.

    For each such delegate, the latest step whose planned time has come is due (unless its key
    is in ``already_sent``, which holds every key already sent, failed or superseded); earlier
    due steps not yet recorded come back with ``superseded=True``. A step more than
    :data:`LATE_GRACE` late (the bot was down) waits until ``now`` is inside the delegate's
    office hours. Nothing is due unless the round is open at ``now``.
    """
    if round_.status_at(now) is not RoundStatus.OPEN:
        return []
    found: list[DueReminder] = []
    for line in lines:
        if line.status not in WAITING:
            continue
        participant = line.participant
        plan = [
            planned
            for planned in schedule_for(round_, participant.timezone, office_hours)
            if planned.at <= now
        ]
        if not plan:
            continue
        local_now = now.astimezone(zone_or_utc(participant.timezone))
        if now - plan[-1].at > LATE_GRACE and not office_hours.contains(local_now):
            continue
        for index, planned in enumerate(plan):
            key = reminder_key(round_, participant.id, planned.step_minutes)
            if key in already_sent:
                continue
            found.append(
                DueReminder(
                    participant=participant,
                    status=line.status,
                    answered=line.answered,
                    step_minutes=planned.step_minutes,
                    planned_at=planned.at,
                    key=key,
                    superseded=index < len(plan) - 1,
                )
            )
    return found


@dataclass(frozen=True)
class ReminderDecision:
    """What to do now about one delegate's reminders (see :func:`reminder_due`)."""

    send: PlannedReminder | None
    """The reminder to send now, if any."""
    superseded: tuple[PlannedReminder, ...]
    """Earlier steps that fell due too (after downtime): never sent, the latest one goes."""
    next_check: datetime | None
    """When to look again: the next planned step, or the delegate's next office hours for a
    late one; None when nothing is left before closing."""


def next_reminder(
    round_: Round, participant_timezone: str | None, office_hours: OfficeHours, *, after: datetime
) -> datetime | None:
    """When the delegate's next reminder is planned strictly after ``after``, if any."""
    for planned in schedule_for(round_, participant_timezone, office_hours):
        if planned.at > after:
            return planned.at
    return None


def reminder_due(
    round_: Round,
    participant_timezone: str | None,
    office_hours: OfficeHours,
    *,
    now: datetime,
    invited_at: datetime | None,
) -> ReminderDecision:
    """The reminder a delegate who has not submitted should get at ``now``, if any.

    Steps planned before the invitation went out are never sent. Of the steps due since, only
    the latest goes out; a step more than :data:`LATE_GRACE` late (the bot was down) waits
    until ``now`` is inside the delegate's office hours. The same rule as
    :func:`due_reminders`, for one delegate, so that a tick looks only at those due.
    """
    plan = schedule_for(round_, participant_timezone, office_hours)
    since = invited_at or round_.opens_at
    past = [planned for planned in plan if since < planned.at <= now]
    ahead = [planned for planned in plan if planned.at > now]
    following = ahead[0].at if ahead else None
    if round_.status_at(now) is not RoundStatus.OPEN or not past:
        return ReminderDecision(
            None, (), following if round_.status_at(now) is RoundStatus.OPEN else None
        )
    latest = past[-1]
    zone = zone_or_utc(participant_timezone)
    if now - latest.at > LATE_GRACE and not office_hours.contains(now.astimezone(zone)):
        opening = next_opening(now, zone, office_hours)
        later = opening if following is None or opening < following else following
        return ReminderDecision(None, (), later)
    return ReminderDecision(latest, tuple(past[:-1]), following)


# --- policies ------------------------------------------------------------------------------


def parse_reminder_policy(text: str) -> tuple[int, ...]:
    """``"3d,1d,2h"`` (days, hours, minutes as ``m``/``min``) -> minutes, largest first.

    ``"none"`` or an empty string means no reminders. Raises :class:`RoundError`.
    """
    value = text.strip().lower()
    if value in ("", "none"):
        return ()
    steps: set[int] = set()
    for part in value.split(","):
        found = _POLICY_STEP.match(part)
        if found is None or int(found[1]) == 0:
            raise RoundError(
                f"reminder policy {text!r}: {part.strip()!r} is not a time before closing; "
                "use e.g. 3d,1d,2h (d days, h hours, m minutes) or none"
            )
        steps.add(int(found[1]) * _UNITS[found[2].lower()])
    return tuple(sorted(steps, reverse=True))


def describe_step(minutes: int) -> str:
    """``4320`` -> ``"3d"``, ``90`` -> ``"90m"``: the inverse of :func:`parse_reminder_policy`."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


__all__ = [
    "DueReminder",
    "OfficeHours",
    "PlannedReminder",
    "ReminderDecision",
    "describe_step",
    "due_reminders",
    "last_office_moment",
    "next_opening",
    "next_reminder",
    "parse_days",
    "parse_reminder_policy",
    "reminder_due",
    "reminder_key",
    "schedule_for",
    "zone_or_utc",
]
