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

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from surveys import commands
from surveys.definition import Survey
from surveys.digest import DEFAULT_MIN_GROUP
from surveys.errors import (
    NotFoundError,
    OutOfScopeError,
    OverlappingRoundError,
    Problem,
    RequestError,
    RosterError,
    RoundError,
    TooFewBallotsError,
)
from surveys.export import ExportItem
from surveys.membership import audience_problems
from surveys.ports import DigestService, Repositories
from surveys.queues import OutboundStatus
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    ID_LIMIT,
    Attribution,
    Audience,
    AuditEntry,
    Delegation,
    Due,
    Participant,
    ResponseMode,
    ResponseStatus,
    Role,
    RosterImportResult,
    Round,
    RoundStatus,
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
from surveys.service.actors import Actor, require_organiser, require_within
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
    responses: ResponseMode | str = ResponseMode.INDIVIDUAL
    """``individual`` (one response per delegate) or ``consolidated`` (one per delegation)."""
    again: bool = False
    """Launch even though a round of the survey that is not closed asks some of the same
    delegates (otherwise refused with :class:`~surveys.errors.OverlappingRoundError`)."""


@dataclass(frozen=True)
class StoredSurvey:
    """A stored survey version as ``itinera survey list`` shows it."""

    version: SurveyVersion
    title: str
    """The survey's title in the asker's language (else its default)."""
    questions: int
    """Questions that ask something (notes left out)."""


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
    delegations: frozenset[str] | None = None
    """The delegations whose answers may leave (an organiser scoped to regions); None: all."""

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


async def _reachable_round(repos: Repositories, actor: Actor, round_id: int, action: str) -> Round:
    """The round, if the actor may reach it. A scoped organiser gets the same refusal for a
    round that asks none of their delegations and for a round that does not exist, so that
    the answer tells nothing of other regions' rounds; an unscoped one is told it is unknown."""
    refusal = OutOfScopeError(
        actor.name,
        action,
        outside=[round_target(round_id)],
        regions=actor.regions,
        round_id=round_id,
    )
    try:
        round_ = await repos.rounds.get_round(_existing(round_id))
    except NotFoundError:
        if actor.scoped:
            raise refusal from None
        raise
    if actor.scoped and not any(
        actor.covers(line.delegation) for line in await repos.rounds.status(round_id)
    ):
        raise refusal
    return round_


async def _visible_lines(
    repos: Repositories, actor: Actor, round_id: int, action: str
) -> list[StatusLine]:
    """The round's status lines the actor may see; refused when the round lies entirely
    outside a scoped organiser's regions (an unscoped organiser sees every line)."""
    lines = list(await repos.rounds.status(round_id))
    if not actor.scoped:
        return lines
    mine = [line for line in lines if actor.covers(line.delegation)]
    if lines and not mine:
        raise OutOfScopeError(
            actor.name,
            action,
            outside=[round_target(round_id)],
            regions=actor.regions,
            round_id=round_id,
        )
    return mine


def _counts(lines: Sequence[StatusLine]) -> dict[ResponseStatus, int]:
    counts = dict.fromkeys(ResponseStatus, 0)
    for line in lines:
        counts[line.status] += 1
    return counts


async def _whole_round_within(
    repos: Repositories, actor: Actor, round_id: int, action: str
) -> None:
    """Refuse ``action`` on a round that asks any delegation outside the actor's regions."""
    if actor.scoped:
        lines = await repos.rounds.status(round_id)
        require_within(actor, action, (line.delegation for line in lines))


async def _refuse_overlap(
    repos: Repositories, survey_id: str, members: Sequence[Participant], *, now: datetime
) -> None:
    """Refuse a launch whose delegates a round of the same survey, not closed yet (open or
    scheduled), already asks: the oldest such round is named, with the overlap."""
    wanted = {member.id: member for member in members}
    for other in await repos.rounds.list_rounds():
        if other.survey_id != survey_id or other.status_at(now) is RoundStatus.CLOSED:
            continue
        shared = [
            line.participant
            for line in await repos.rounds.status(other.id)
            if line.participant.id in wanted
        ]
        if shared:
            raise OverlappingRoundError(
                survey_id=survey_id,
                round_id=other.id,
                closes_at=f"{other.closes_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                delegates=len(shared),
                delegations=sorted({p.delegation for p in shared if p.delegation}),
            )


# --- surveys ------------------------------------------------------------------------------------


async def stored_surveys(store: Repositories, actor: Actor) -> list[StoredSurvey]:
    """Every stored survey version, by survey id then oldest version first."""
    require_organiser(actor, "list surveys")
    async with store.transaction() as tx:
        versions = await tx.surveys.list_versions()
    return [
        StoredSurvey(
            version=version,
            title=version.definition.title_in(actor.language),
            questions=sum(1 for question in version.definition.questions if question.asks),
        )
        for version in sorted(versions, key=lambda version: (version.survey_id, version.id))
    ]


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
        stored = {delegation.code: delegation for delegation in await tx.roster.list_delegations()}
        known = {**stored, **{delegation.code: delegation for delegation in roster.delegations}}
        _check_regions(roster, list(known.values()))
        if actor.scoped:
            organisers = [
                f"organiser {person.email}"
                for person in roster.participants
                if person.role is Role.ORGANISER
            ]
            if organisers:
                raise OutOfScopeError(
                    actor.name, "import organisers", outside=organisers, regions=actor.regions
                )
            require_within(
                actor,
                "import the roster",
                [
                    *roster.delegations,
                    *(known.get(p.delegation or "") for p in roster.participants),
                ],
            )
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


def _check_regions(roster: Roster, delegations: Sequence[Delegation]) -> None:
    """Refuse an organiser's ``regions`` naming a region no delegation is in (with a guess)."""
    problems = [
        Problem(person.email, problem)
        for person in roster.participants
        for region in person.regions
        for problem in audience_problems(Audience("region", (region,)), delegations, [])
    ]
    if problems:
        raise RosterError(problems)


async def invitees(
    store: Repositories, actor: Actor, *, channel: str, everyone: bool = False
) -> list[Participant]:
    """Who the actor may send enrolment links for ``channel``: participants not yet enrolled
    there (everyone with ``everyone``), delegates first by delegation. An organiser scoped to
    regions invites only delegates of their regions' delegations."""
    require_organiser(actor, "issue enrolment links")
    async with store.transaction() as tx:
        known = {d.code: d for d in await tx.roster.list_delegations()}
        chosen = []
        for participant in await tx.roster.list_participants():
            if actor.scoped and (
                participant.role is Role.ORGANISER
                or not actor.covers(known.get(participant.delegation or ""))
            ):
                continue
            if not everyone and await tx.identities.identity(participant.id, channel):
                continue
            chosen.append(participant)
    return sorted(
        chosen,
        key=lambda p: (p.role is Role.ORGANISER, p.delegation or "", p.name.casefold()),
    )


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
    mode = response_mode(request.responses)
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
        if actor.scoped:
            known = {d.code: d for d in await tx.roster.list_delegations()}
            require_within(
                actor,
                f"launch to audience {audience}",
                (known.get(member.delegation or "") for member in members),
            )
        if not request.again:
            await _refuse_overlap(tx, request.survey_id, members, now=now)
        created = await tx.rounds.create_round(
            survey_version_id=version.id,
            audience=audience,
            opens_at=opens_at,
            closes_at=closes_at,
            participant_ids=[member.id for member in members],
            now=now,
            reminder_policy=policy,
            attribution=request.attribution,
            responses=mode,
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
                "responses": mode.value,
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


def response_mode(value: ResponseMode | str) -> ResponseMode:
    """The response mode ``value`` names; :class:`RoundError` names the choices otherwise."""
    try:
        return ResponseMode(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(mode.value for mode in ResponseMode)
        raise RoundError(f"responses {value!r}: use one of {choices}") from None


async def close(store: Repositories, actor: Actor, round_id: int, *, now: datetime) -> Closed:
    """Close a round now, before its time; started responses are kept as partial.

    Refuses a round that is closed already (by hand or at its closing time).
    """
    require_organiser(actor, "close rounds")
    async with store.transaction() as tx:
        round_ = await _reachable_round(tx, actor, round_id, f"close round {round_id}")
        await _whole_round_within(tx, actor, round_id, f"close round {round_id}")
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
        round_ = await _reachable_round(tx, actor, round_id, f"resend round {round_id}")
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
        action = f"extend round {request.round_id}"
        before = await _reachable_round(tx, actor, request.round_id, action)
        await _whole_round_within(tx, actor, request.round_id, action)
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


async def overview(store: Repositories, actor: Actor, *, now: datetime) -> list[RoundSummary]:
    """Every round with how many have submitted, oldest first."""
    require_organiser(actor, "follow rounds")
    async with store.transaction() as tx:
        rounds = await tx.rounds.list_rounds()
        summaries = []
        for round_ in rounds:
            if actor.scoped:
                lines = await tx.rounds.status(round_.id)
                mine = [line for line in lines if actor.covers(line.delegation)]
                if not mine:
                    continue  # a round of other regions is not listed
                counts = _counts(mine)
            else:
                counts = await tx.rounds.counts(round_.id)
            title = await _title(tx, round_, actor.language)
            summaries.append(RoundSummary(round=round_, title=title, counts=counts))
        return summaries


async def status(store: Repositories, actor: Actor, round_id: int) -> RoundReport:
    """Who has and has not answered a round, by delegation (only the delegations of a scoped
    organiser's regions; refused if the round asks none of them)."""
    require_organiser(actor, "follow rounds")
    async with store.transaction() as tx:
        round_ = await _reachable_round(tx, actor, round_id, f"follow round {round_id}")
        lines = await _visible_lines(tx, actor, round_id, f"follow round {round_id}")
        title = await _title(tx, round_, actor.language)
    return RoundReport(round=round_, title=title, counts=_counts(lines), lines=tuple(lines))


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
        round_ = await _reachable_round(tx, actor, round_id, f"follow round {round_id}")
        lines = await _visible_lines(tx, actor, round_id, f"follow round {round_id}")
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
    min_group: int = DEFAULT_MIN_GROUP,
) -> Taken:
    """Let an organiser take a round's answers out (an export, or a digest) and record it.

    The audit entry (``export`` or ``digest``: who, the round, the format, the round's
    attribution, the channel) is written before anything leaves, so that a file is never
    made without a trace. The caller then renders as :attr:`Taken.attribution` says.

    An anonymous round's answers are ballots, which name no delegation: a scoped organiser
    takes them only from a round whose every delegation is in their regions, and an export
    is refused while the round has fewer ballots than ``min_group`` (``ITINERA_MIN_GROUP``;
    a digest holds back its small figures instead).
    """
    require_organiser(actor, "export rounds" if taken_as == "export" else "ask for digests")
    async with store.transaction() as tx:
        what = "export" if taken_as == "export" else "ask for the digest of"
        round_ = await _reachable_round(tx, actor, round_id, f"{what} round {round_id}")
        version = await tx.surveys.get_version(round_.survey_version_id)
        delegations: frozenset[str] | None = None
        anonymous = round_.attribution is Attribution.ANONYMOUS
        if actor.scoped and anonymous:
            # Ballots cannot be split by region: all of the round, or none of it.
            await _visible_lines(tx, actor, round_id, f"{what} round {round_id}")
            await _whole_round_within(tx, actor, round_id, f"{what} anonymous round {round_id}")
        elif actor.scoped:
            lines = await _visible_lines(tx, actor, round_id, f"{what} round {round_id}")
            delegations = frozenset(line.delegation.code for line in lines if line.delegation)
        if anonymous and taken_as == "export":
            ballots = await tx.responses.ballot_count(round_id)
            if ballots < min_group:
                raise TooFewBallotsError(round_id, ballots=ballots, min_group=min_group)
        details: dict[str, object] = {
            "format": format,
            "attribution": round_.attribution.value,
            "via": actor.channel,
        }
        if delegations is not None:
            details["delegations"] = sorted(delegations)
        await tx.audit.record(
            actor=actor.name,
            action=taken_as,
            target=round_target(round_id),
            details=details,
            now=now,
        )
    return Taken(round=round_, survey=version.definition, delegations=delegations)


def export_items(store: Repositories, taken: Taken) -> AsyncIterator[ExportItem]:
    """What an export of ``taken`` writes: the round's ballots when it is anonymous (never its
    responses), else its responses (of the scoped organiser's delegations)."""
    round_id = taken.round.id
    if taken.attribution is Attribution.ANONYMOUS:
        return store.responses.ballots(round_id)
    return store.responses.export_rows(round_id, delegations=taken.delegations)


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
    taken = await record_export(store, actor, round_id, format="post", now=now, taken_as="digest")
    summary = await digests.publish(
        round_id, language=language or actor.language, delegations=taken.delegations
    )
    return DigestPublished(round_id=round_id, summary=summary)


async def audit_trail(store: Repositories, actor: Actor, query: AuditQuery) -> list[AuditEntry]:
    """The audit log, newest first, filtered by round, time and actor (organisers only). An
    organiser scoped to regions reads what was done to rounds of their regions, and their own
    actions."""
    require_organiser(actor, "read the audit log")
    if not 1 <= query.limit <= AUDIT_LIMIT:
        raise RequestError(f"limit {query.limit}: show from 1 to {AUDIT_LIMIT:,} entries")
    async with store.transaction() as tx:
        if query.round_id is not None:
            await tx.rounds.get_round(_existing(query.round_id))  # an unknown one is said so
            await _visible_lines(
                tx, actor, query.round_id, f"read the log of round {query.round_id}"
            )
        entries = await tx.audit.entries(
            limit=AUDIT_LIMIT if actor.scoped else query.limit,
            round_id=query.round_id,
            since=query.since,
            actor=_text(query.actor, "the actor").strip() or None if query.actor else None,
        )
        if actor.scoped:
            own = (actor.participant.email if actor.participant else actor.name).casefold()
            mine = {
                round_target(round_.id)
                for round_ in await tx.rounds.list_rounds()
                if any(actor.covers(line.delegation) for line in await tx.rounds.status(round_.id))
            }
            entries = [
                entry
                for entry in entries
                if entry.target in mine or entry.actor.split(" (")[0].casefold() == own
            ][: query.limit]
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
    "export_items",
    "extend",
    "import_roster",
    "import_survey",
    "invitees",
    "launch",
    "overview",
    "read_moment",
    "record_export",
    "reminder_plan",
    "request_digest",
    "resend",
    "status",
]
