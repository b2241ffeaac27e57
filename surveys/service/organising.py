"""What organisers do, once for Slack, Telegram and the CLI: import, launch, close, extend,
follow rounds, ask for a digest.

Each use case takes the store, the :class:`~surveys.service.actors.Actor` asking, typed input
and ``now``; it checks that the actor may do it, runs in one transaction (what it reads and
what it writes, audit entry included, commit together) and returns a typed result that the
channel renders. Refusals are core errors with their reason (:mod:`surveys.errors`).

Example::

    launched = await launch(store, actor, LaunchRequest("route_alignment", "all",
                                                        closes="2026-12-15T18:00"), now=now)
    print(launched.round.id, launched.participants)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from surveys import commands
from surveys.definition import Survey
from surveys.errors import NotFoundError, RequestError, RoundError
from surveys.membership import audience_problems
from surveys.ports import DigestService, Repositories
from surveys.queues import OutboundStatus
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    ID_LIMIT,
    Attribution,
    Audience,
    AuditEntry,
    Due,
    Participant,
    ResponseStatus,
    RosterImportResult,
    Round,
    StatusLine,
    SurveyVersion,
    round_target,
)
from surveys.reminders import (
    WAITING,
    OfficeHours,
    PlannedReminder,
    ReminderDecision,
    parse_reminder_policy,
    reminder_due,
    reminder_key,
    schedule_for,
)
from surveys.roster import Roster
from surveys.service.actors import Actor, require_organiser
from surveys.service.delivery import replan_reminders

# --- requests and results ----------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchRequest:
    """A round to launch, as an organiser writes it: times are read in ``tz`` (else the
    organiser's timezone) unless they carry an offset; a date alone closes at 23:59."""

    survey_id: str
    audience: str | Audience
    closes: str | datetime
    opens: str | datetime | None = None
    tz: str | None = None
    remind: str | Sequence[int] | None = None
    """Reminder steps before closing, e.g. ``3d,1d,2h`` (or minutes); None for the default."""
    attribution: Attribution = Attribution.DELEGATION


@dataclass(frozen=True)
class Launched:
    round: Round
    version: SurveyVersion
    participants: int
    delegations: int
    zone: str
    """The timezone the request was read in, for showing the times back."""
    opens_later: bool


@dataclass(frozen=True)
class Closed:
    round: Round
    counts: dict[ResponseStatus, int]


@dataclass(frozen=True)
class Resent:
    round: Round
    messages: int
    """Failed messages made pending again (invitations, reminders, replies, digests)."""


@dataclass(frozen=True)
class ExtendRequest:
    round_id: int
    closes: str | datetime
    tz: str | None = None


@dataclass(frozen=True)
class Extended:
    round: Round
    closes_before: datetime
    zone: str
    waiting: int
    """Delegates who have not submitted, and will be reminded."""
    upcoming: Sequence[datetime] = field(default_factory=tuple)
    """When the reminders still ahead are planned, earliest first."""


@dataclass(frozen=True)
class RoundSummary:
    round: Round
    title: str
    """The survey's title in the asker's language."""
    counts: dict[ResponseStatus, int]

    @property
    def submitted(self) -> int:
        return self.counts.get(ResponseStatus.SUBMITTED, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class RoundReport(RoundSummary):
    """A round with each invited participant and how far they are."""

    lines: Sequence[StatusLine] = ()


@dataclass(frozen=True)
class DigestPublished:
    round_id: int
    summary: str


TakenAs = Literal["export", "digest"]

AUDIT_LIMIT = 100_000
"""Most audit entries one listing returns."""


@dataclass(frozen=True)
class Taken:
    """What :func:`record_export` allowed to leave the database, and how it must look."""

    round: Round
    survey: Survey
    """The round's survey version, as the round asks it."""

    @property
    def attribution(self) -> Attribution:
        """What the export or digest may say of who answered (see :mod:`surveys.export`)."""
        return self.round.attribution


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries to list: all filters optional, newest first, at most ``limit``."""

    round_id: int | None = None
    since: datetime | None = None
    actor: str | None = None
    """Part of the actor's name, any case (``alice`` finds ``alice@example.org (slack)``)."""
    limit: int = 50


# --- helpers ------------------------------------------------------------------------------------


def read_moment(value: str | datetime, *, zone: str, end_of_day: bool) -> datetime:
    """An organiser's date or date-time, read in ``zone``: UTC out, or a RequestError. A
    ``datetime`` (from code, not a person) must carry its timezone."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise RequestError(f"{value!r} has no timezone")
        return value.astimezone(UTC)
    try:
        return commands.parse_moment(value, zone=zone, end_of_day=end_of_day)
    except ValueError as error:
        raise RequestError(str(error)) from None


def _text(value: str, what: str) -> str:
    """``value``, or a RequestError if it holds a lone surrogate: bytes that were not UTF-8
    (a shell passes them so), or a broken escape in a chat payload. No store can keep it."""
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise RequestError(f"{what} is not valid text (it holds bytes that are not UTF-8)")
    return value


def _existing(round_id: int) -> int:
    """``round_id``, or NotFoundError when no store could hold it (0, negative, too large)."""
    if not 0 < round_id <= ID_LIMIT:
        raise NotFoundError("round", round_id)
    return round_id


def _policy(given: str | Sequence[int] | None) -> tuple[int, ...]:
    if given is None:
        return DEFAULT_REMINDER_POLICY
    if not isinstance(given, str):
        return tuple(given)
    try:
        return parse_reminder_policy(given)
    except (ValueError, RoundError) as error:
        raise RequestError(str(error)) from None


async def _title(repos: Repositories, round_: Round, language: str) -> str:
    survey: Survey = (await repos.surveys.get_version(round_.survey_version_id)).definition
    return survey.title_in(language)


# --- imports ------------------------------------------------------------------------------------


async def import_survey(
    store: Repositories, actor: Actor, survey: Survey, *, now: datetime
) -> SurveyVersion:
    """Store a survey definition (a new version if its content changed)."""
    require_organiser(actor, "import surveys")
    async with store.transaction() as tx:
        version = await tx.surveys.save_version(survey, now=now)
        if version.created:
            await tx.audit.record(
                actor=actor.name,
                action="survey.import",
                target=f"{survey.id}@{survey.version}",
                details={"version_id": version.id, "hash": version.content_hash},
                now=now,
            )
    return version


async def import_roster(
    store: Repositories, actor: Actor, roster: Roster, *, now: datetime
) -> RosterImportResult:
    """Create or update delegations and participants, all or nothing."""
    require_organiser(actor, "import the roster")
    async with store.transaction() as tx:
        result = await tx.roster.import_roster(roster.delegations, roster.participants)
        await tx.audit.record(
            actor=actor.name,
            action="roster.import",
            target="roster",
            details={
                "delegations_created": result.delegations_created,
                "delegations_updated": result.delegations_updated,
                "participants_created": result.participants_created,
                "participants_updated": result.participants_updated,
            },
            now=now,
        )
    return result


# --- rounds -------------------------------------------------------------------------------------


async def launch(
    store: Repositories, actor: Actor, request: LaunchRequest, *, now: datetime
) -> Launched:
    """Create a round on the survey's latest version for every delegate in the audience."""
    require_organiser(actor, "launch rounds")
    for value, what in (
        (request.survey_id, "the survey id"),
        (str(request.audience), "the audience"),
        (request.tz or "", "the timezone"),
        (request.remind if isinstance(request.remind, str) else "", "the reminders"),
    ):
        _text(value, what)
    zone = request.tz or actor.timezone
    closes_at = read_moment(request.closes, zone=zone, end_of_day=True)
    opens_at = read_moment(request.opens, zone=zone, end_of_day=False) if request.opens else now
    audience = (
        request.audience
        if isinstance(request.audience, Audience)
        else Audience.parse(request.audience)
    )
    policy = _policy(request.remind)
    if closes_at <= now:
        raise RoundError(f"the closing time {closes_at:%Y-%m-%d %H:%M} UTC is already past")
    if closes_at <= opens_at:
        raise RoundError(
            f"the round would close ({closes_at:%Y-%m-%d %H:%M} UTC) before it opens "
            f"({opens_at:%Y-%m-%d %H:%M} UTC)"
        )
    async with store.transaction() as tx:
        version = await tx.surveys.latest_version(request.survey_id)
        problems = audience_problems(
            audience, await tx.roster.list_delegations(), await tx.roster.list_participants()
        )
        if problems:
            raise RoundError(f"audience {audience}: " + "; ".join(problems))
        members = await tx.roster.audience_members(audience)
        if not members:
            raise RoundError(f"audience {audience} names no delegate in the roster")
        created = await tx.rounds.create_round(
            survey_version_id=version.id,
            audience=audience,
            opens_at=opens_at,
            closes_at=closes_at,
            participant_ids=[member.id for member in members],
            now=now,
            reminder_policy=policy,
            attribution=request.attribution,
        )
        await tx.audit.record(
            actor=actor.name,
            action="round.launch",
            target=round_target(created.id),
            details={
                "survey": request.survey_id,
                "version": version.version,
                "audience": str(audience),
                "participants": len(members),
                "via": actor.channel,
            },
            now=now,
        )
    return Launched(
        round=created,
        version=version,
        participants=len(members),
        delegations=len({member.delegation for member in members}),
        zone=zone,
        opens_later=created.opens_at > now,
    )


async def close(store: Repositories, actor: Actor, round_id: int, *, now: datetime) -> Closed:
    """Close a round now, before its time; started responses are kept as partial.

    Refuses a round that is closed already (by hand or at its closing time).
    """
    require_organiser(actor, "close rounds")
    async with store.transaction() as tx:
        round_ = await tx.rounds.get_round(_existing(round_id))
        if round_.closed_at is not None or round_.closes_at <= now:
            when = round_.closed_at or round_.closes_at
            raise RoundError(f"round {round_id} was already closed at {when:%Y-%m-%d %H:%M} UTC")
        closed = await tx.rounds.close_round(round_id, now=now)
        counts = await tx.rounds.counts(round_id)
        await tx.audit.record(
            actor=actor.name,
            action="round.close",
            target=round_target(round_id),
            details={"closes_at": round_.closes_at.isoformat(), "via": actor.channel},
            now=now,
        )
    return Closed(round=closed, counts=counts)


async def resend(store: Repositories, actor: Actor, round_id: int, *, now: datetime) -> Resent:
    """Send again what failed for good in an open round (a token refused until it was fixed, a
    delegate who had blocked the bot): each failed message becomes pending, as if new, and
    the running bot's senders deliver it. A channel refused as a whole is paused, not
    failed, and resumes by itself; this is for what was given up on."""
    require_organiser(actor, "resend messages")
    async with store.transaction() as tx:
        round_ = await tx.rounds.get_round(_existing(round_id))
        if round_.closed_at is not None or round_.closes_at <= now:
            when = round_.closed_at or round_.closes_at
            raise RoundError(
                f"round {round_id} closed at {when:%Y-%m-%d %H:%M} UTC; nothing is resent"
            )
        resent = await tx.messages.resend(round_id=round_id, now=now)
        await tx.audit.record(
            actor=actor.name,
            action="round.resend",
            target=round_target(round_id),
            details={"messages": resent, "via": actor.channel},
            now=now,
        )
    return Resent(round=round_, messages=resent)


async def extend(
    store: Repositories,
    actor: Actor,
    request: ExtendRequest,
    *,
    now: datetime,
    office_hours: OfficeHours,
) -> Extended:
    """Move a round's closing time; reminders are planned again from the new date."""
    require_organiser(actor, "extend rounds")
    zone = request.tz or actor.timezone
    closes_at = read_moment(request.closes, zone=zone, end_of_day=True)
    async with store.transaction() as tx:
        before = await tx.rounds.get_round(_existing(request.round_id))
        extended = await tx.rounds.extend_round(request.round_id, closes_at=closes_at, now=now)
        await replan_reminders(tx, extended, now=now, office_hours=office_hours)
        lines = await tx.rounds.status(request.round_id)
        await tx.audit.record(
            actor=actor.name,
            action="round.extend",
            target=round_target(request.round_id),
            details={
                "closes_at_before": before.closes_at.isoformat(),
                "closes_at": extended.closes_at.isoformat(),
                "via": actor.channel,
            },
            now=now,
        )
    waiting = [line for line in lines if line.status in WAITING]
    upcoming = sorted(
        planned.at
        for line in waiting
        for planned in schedule_for(extended, line.participant.timezone, office_hours)
        if planned.at > now
    )
    return Extended(
        round=extended,
        closes_before=before.closes_at,
        zone=zone,
        waiting=len(waiting),
        upcoming=tuple(upcoming),
    )


async def overview(
    store: Repositories, actor: Actor, *, now: datetime, open_only: bool = False
) -> list[RoundSummary]:
    """Every round (or the open ones) with how many have submitted, oldest first."""
    require_organiser(actor, "follow rounds")
    async with store.transaction() as tx:
        rounds = await (tx.rounds.open_rounds(now) if open_only else tx.rounds.list_rounds())
        return [
            RoundSummary(
                round=round_,
                title=await _title(tx, round_, actor.language),
                counts=await tx.rounds.counts(round_.id),
            )
            for round_ in rounds
        ]


async def status(store: Repositories, actor: Actor, round_id: int) -> RoundReport:
    """Who has and has not answered a round, by delegation."""
    require_organiser(actor, "follow rounds")
    async with store.transaction() as tx:
        round_ = await tx.rounds.get_round(_existing(round_id))
        lines = await tx.rounds.status(round_id)
        title = await _title(tx, round_, actor.language)
    counts = dict.fromkeys(ResponseStatus, 0)
    for line in lines:
        counts[line.status] += 1
    return RoundReport(round=round_, title=title, counts=counts, lines=tuple(lines))


@dataclass(frozen=True)
class PlannedRow:
    """One reminder of one delegate, as ``round remind --dry-run`` shows it."""

    participant: Participant
    status: ResponseStatus
    step_minutes: int
    at: datetime
    state: str
    """sent | sending | not sent (refused) | planned | not invited yet | skipped (before the
    invitation) | skipped (a later one was due) | waits for office hours | due at the next tick"""


@dataclass(frozen=True)
class ReminderPlan:
    round: Round
    waiting: int
    """Delegates who have not submitted."""
    total: int
    rows: Sequence[PlannedRow]


async def reminder_plan(
    store: Repositories,
    actor: Actor,
    round_id: int,
    *,
    now: datetime,
    office_hours: OfficeHours,
) -> ReminderPlan:
    """Every reminder planned for the round's delegates who have not submitted, with what
    happened to it or will happen at the next tick."""
    require_organiser(actor, "follow rounds")
    async with store.transaction() as tx:
        round_ = await tx.rounds.get_round(round_id)
        lines = await tx.rounds.status(round_id)
        invited = {due.participant.id: due for due in await tx.rounds.reminder_plans(round_id)}
        plans = {
            line.participant.id: schedule_for(round_, line.participant.timezone, office_hours)
            for line in lines
            if line.status in WAITING
        }
        keys = [
            reminder_key(round_, pid, planned.step_minutes)
            for pid, plan in plans.items()
            for planned in plan
        ]
        recorded = {message.key: message.status for message in await tx.messages.find(keys=keys)}
    rows: list[PlannedRow] = []
    for line in lines:
        plan = plans.get(line.participant.id, [])
        due = invited.get(line.participant.id)
        decision = (
            reminder_due(
                round_, line.participant.timezone, office_hours, now=now, invited_at=due.invited_at
            )
            if due is not None and due.invited_at is not None
            else None
        )
        for planned in plan:
            key = reminder_key(round_, line.participant.id, planned.step_minutes)
            state = _reminder_state(
                recorded.get(key), planned, now=now, due=due, plan=plan, decision=decision
            )
            rows.append(
                PlannedRow(line.participant, line.status, planned.step_minutes, planned.at, state)
            )
    return ReminderPlan(
        round=round_,
        waiting=sum(1 for line in lines if line.status in WAITING),
        total=len(lines),
        rows=tuple(rows),
    )


def _reminder_state(
    recorded: OutboundStatus | None,
    planned: PlannedReminder,
    *,
    now: datetime,
    due: Due | None,
    plan: Sequence[PlannedReminder],
    decision: ReminderDecision | None,
) -> str:
    """What happened to one planned reminder, or what the next tick will do with it: the
    tick's own rule (:func:`~surveys.reminders.reminder_due`) decides."""
    if recorded is OutboundStatus.SENT:
        return "sent"
    if recorded is OutboundStatus.FAILED:
        return "not sent (refused)"
    if recorded is not None:
        return "sending"
    if planned.at > now:
        return "planned"
    if due is None or due.invited_at is None or decision is None:
        return "not invited yet"
    if planned.at <= due.invited_at:
        return "skipped (before the invitation)"
    latest = [step for step in plan if due.invited_at < step.at <= now][-1]
    if latest != planned:
        return "skipped (a later one was due)"
    if decision.send == planned:
        return "due at the next tick"
    return "waits for office hours"


async def record_export(
    store: Repositories,
    actor: Actor,
    round_id: int,
    *,
    format: str,
    now: datetime,
    taken_as: TakenAs = "export",
) -> Taken:
    """Let an organiser take a round's answers out (an export, or a digest) and record it.

    The audit entry (``export`` or ``digest``: who, the round, the format, the round's
    attribution, the channel) is written before anything leaves, so that a file is never
    made without a trace. The caller then renders as :attr:`Taken.attribution` says.
    """
    require_organiser(actor, "export rounds" if taken_as == "export" else "ask for digests")
    async with store.transaction() as tx:
        round_ = await tx.rounds.get_round(_existing(round_id))
        version = await tx.surveys.get_version(round_.survey_version_id)
        await tx.audit.record(
            actor=actor.name,
            action=taken_as,
            target=round_target(round_id),
            details={
                "format": format,
                "attribution": round_.attribution.value,
                "via": actor.channel,
            },
            now=now,
        )
    return Taken(round=round_, survey=version.definition)


async def request_digest(
    store: Repositories,
    actor: Actor,
    round_id: int,
    *,
    digests: DigestService,
    now: datetime,
    language: str | None = None,
) -> DigestPublished:
    """Make the round's digest now and post it where digests go (recorded as a ``digest``)."""
    # An unknown round is a clear error, not a digest; the entry is written before it is made.
    await record_export(store, actor, round_id, format="post", now=now, taken_as="digest")
    summary = await digests.publish(round_id, language=language or actor.language)
    return DigestPublished(round_id=round_id, summary=summary)


async def audit_trail(store: Repositories, actor: Actor, query: AuditQuery) -> list[AuditEntry]:
    """The audit log, newest first, filtered by round, time and actor (organisers only)."""
    require_organiser(actor, "read the audit log")
    if not 1 <= query.limit <= AUDIT_LIMIT:
        raise RequestError(f"limit {query.limit}: show from 1 to {AUDIT_LIMIT:,} entries")
    async with store.transaction() as tx:
        if query.round_id is not None:
            await tx.rounds.get_round(_existing(query.round_id))  # an unknown one is said so
        entries = await tx.audit.entries(
            limit=query.limit,
            round_id=query.round_id,
            since=query.since,
            actor=_text(query.actor, "the actor").strip() or None if query.actor else None,
        )
    return list(entries)


__all__ = [
    "AuditQuery",
    "Closed",
    "DigestPublished",
    "ExtendRequest",
    "Extended",
    "LaunchRequest",
    "Launched",
    "PlannedRow",
    "ReminderPlan",
    "Resent",
    "RoundReport",
    "RoundSummary",
    "Taken",
    "TakenAs",
    "audit_trail",
    "close",
    "extend",
    "import_roster",
    "import_survey",
    "launch",
    "overview",
    "read_moment",
    "record_export",
    "reminder_plan",
    "request_digest",
    "resend",
    "status",
]
