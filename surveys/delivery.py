"""Delivering rounds: invitations, reminders, closing, and the tick that runs them all.

Every message is keyed by what it is for (``invite:3:17``, ``reminder:3:17:1440:1798970400``)
and claimed in the outbox before it is sent, so a repeated launch, two ticks at once or a
restart halfway never send anything twice. A send refused for good (a delegate who blocked
the bot) is recorded as failed and not retried; a transient refusal releases the claim and the
next tick tries again. Nothing here reads a clock: the scheduler passes ``now``.

Example::

    report = await tick(store, messengers={"slack": slack}, now=clock.now(), office_hours=hours)
    print(report.summary())
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from surveys import delivery_texts, engine
from surveys.definition import Survey
from surveys.errors import DeliveryError
from surveys.ports import (
    AuditLog,
    IdentityRepository,
    Messenger,
    OutboxRepository,
    ResponseRepository,
    RoundRepository,
    SurveyRepository,
)
from surveys.records import (
    Channel,
    OutboundMessage,
    Participant,
    ResponseStatus,
    Round,
    RoundStatus,
)
from surveys.reminders import (
    WAITING,
    DueReminder,
    OfficeHours,
    describe_step,
    due_reminders,
)

log = logging.getLogger(__name__)

SENT = "sent"
KNOWN_CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)
"""Channels whose outbox records are checked before sending, so that a delegate reachable on
a second channel later is not invited there again."""


class DeliveryRepositories(Protocol):
    """What delivery needs; ``storage.Store`` and the in-memory store provide it."""

    @property
    def surveys(self) -> SurveyRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...

    @property
    def identities(self) -> IdentityRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def audit(self) -> AuditLog: ...


def invitation_key(round_id: int, participant_id: int) -> str:
    return f"invite:{round_id}:{participant_id}"


def closing_key(round_id: int, participant_id: int) -> str:
    return f"closed:{round_id}:{participant_id}"


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One message: for whom, what for (its outbox key), on which channel, and why not."""

    participant_id: int
    key: str
    channel: str
    error: str | None = None


@dataclass
class DeliveryReport:
    """What a delivery pass did; passes merge into the tick's report."""

    sent: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    """Refused for good (e.g. the delegate blocked the bot): recorded, not retried."""
    deferred: list[Delivery] = field(default_factory=list)
    """Refused for now (rate limit, outage): the claim was released; the next tick retries."""
    superseded: list[Delivery] = field(default_factory=list)
    """Reminders recorded as never to be sent: a later one was due too, or the invitation
    went out after their time."""
    unreachable: list[int] = field(default_factory=list)
    """Participants no configured channel can reach (no identity yet); retried every tick."""
    closed: list[int] = field(default_factory=list)
    """Rounds closed by this pass."""
    errors: list[str] = field(default_factory=list)
    """Rounds a pass gave up on, with why (logged with the traceback)."""
    skipped: int = 0
    """Messages not sent because they were sent, claimed or failed before."""

    def merge(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.failed += other.failed
        self.deferred += other.deferred
        self.superseded += other.superseded
        self.unreachable += other.unreachable
        self.closed += other.closed
        self.errors += other.errors
        self.skipped += other.skipped
        return self

    @property
    def eventful(self) -> bool:
        """Whether anything was sent, refused, superseded, closed or went wrong."""
        return bool(
            self.sent
            or self.failed
            or self.deferred
            or self.superseded
            or self.closed
            or self.errors
        )

    def summary(self) -> str:
        parts = [
            f"{len(self.sent)} sent",
            f"{len(self.failed)} failed",
            f"{len(self.deferred)} to retry",
            f"{len(self.superseded)} superseded",
            f"{len(set(self.unreachable))} unreachable",
            f"{len(self.closed)} rounds closed",
        ]
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)


# --- texts -----------------------------------------------------------------------------------


def _duration(survey: Survey, language: str) -> str:
    questions = len(engine.relevant_questions(survey, {}))
    return delivery_texts.duration(delivery_texts.estimated_minutes(questions), language)


def invitation_text(survey: Survey, round_: Round, participant: Participant) -> str:
    """The invitation in the delegate's language, closing time in their timezone."""
    language = participant.language
    return delivery_texts.text(
        "invitation",
        language,
        name=participant.name,
        title=survey.title_in(language),
        duration=_duration(survey, language),
        closes=delivery_texts.moment(round_.closes_at, language, participant.timezone),
    )


async def reminder_text(
    repos: DeliveryRepositories, survey: Survey, round_: Round, participant: Participant
) -> str:
    """The reminder in the delegate's language: where they stopped if they started."""
    language = participant.language
    title = survey.title_in(language)
    closes = delivery_texts.moment(round_.closes_at, language, participant.timezone)
    response = await repos.responses.get_response(round_.id, participant.id)
    if response.status is not ResponseStatus.IN_PROGRESS or not response.state.started:
        duration = _duration(survey, language)
        return delivery_texts.text(
            "reminder_not_started", language, title=title, closes=closes, duration=duration
        )
    answers = response.state.answers
    relevant = engine.relevant_questions(survey, answers)
    answered = sum(1 for question in relevant if answers.get(question.id) is not None)
    if response.state.current is None:
        return delivery_texts.text(
            "reminder_review",
            language,
            title=title,
            closes=closes,
            answered=answered,
            total=len(relevant),
        )
    return delivery_texts.text(
        "reminder_in_progress",
        language,
        title=title,
        closes=closes,
        answered=answered,
        count=len(relevant),
    )


# --- sending ---------------------------------------------------------------------------------


async def _record(outbox: OutboxRepository, key: str) -> OutboundMessage | None:
    """The outbox record of ``key`` on any known channel, if there is one."""
    for channel in KNOWN_CHANNELS:
        found = await outbox.get(channel=channel, key=key)
        if found is not None:
            return found
    return None


async def _channel_for(
    participant: Participant, messengers: Mapping[str, Messenger]
) -> Messenger | None:
    """The first messenger, in the given order, that can reach the participant."""
    for messenger in messengers.values():
        if await messenger.reachable(participant):
            return messenger
    return None


async def _address(repos: DeliveryRepositories, participant_id: int, channel: str) -> str:
    identity = await repos.identities.identity(participant_id, channel)
    if identity is None:
        return ""
    return identity.address or identity.external_id


async def _send(
    repos: DeliveryRepositories,
    messenger: Messenger,
    participant: Participant,
    round_id: int,
    *,
    key: str,
    preface: str,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Claim ``key``, send, and record the outcome (sent, failed for good, or released)."""
    channel = messenger.channel
    if not await repos.outbox.claim(channel=channel, key=key, now=now):
        report.skipped += 1
        return
    try:
        message_id = await messenger.send_screen(participant, round_id, preface=preface)
    except DeliveryError as error:
        if error.permanent:
            await repos.outbox.mark_failed(channel=channel, key=key, error=str(error), now=now)
            report.failed.append(Delivery(participant.id, key, channel, str(error)))
            log.warning("%s: not retried: %s", key, error)
        else:
            await repos.outbox.release(channel=channel, key=key)
            report.deferred.append(Delivery(participant.id, key, channel, str(error)))
            log.info("%s: will retry: %s", key, error)
        return
    except Exception as error:
        # Not a refusal the channel explained: release, so the next tick tries again.
        await repos.outbox.release(channel=channel, key=key)
        report.deferred.append(Delivery(participant.id, key, channel, repr(error)))
        log.exception("%s: unexpected error while sending on %s", key, channel)
        return
    address = await _address(repos, participant.id, channel)
    await repos.outbox.mark_sent(
        channel=channel, key=key, address=address, message_id=message_id, now=now
    )
    report.sent.append(Delivery(participant.id, key, channel))


async def _supersede(
    repos: DeliveryRepositories, channel: str, due: DueReminder, why: str, *, now: datetime
) -> Delivery | None:
    """Record a reminder as never to be sent (a failed row with the reason)."""
    if not await repos.outbox.claim(channel=channel, key=due.key, now=now):
        return None
    await repos.outbox.mark_failed(channel=channel, key=due.key, error=why, now=now)
    return Delivery(due.participant.id, due.key, channel, why)


# --- use cases -------------------------------------------------------------------------------


async def deliver_invitations(
    repos: DeliveryRepositories,
    round_id: int,
    *,
    messengers: Mapping[str, Messenger],
    now: datetime,
) -> DeliveryReport:
    """Invite every participant of an open round who was not invited yet, once.

    Each goes to the first messenger (in ``messengers`` order) that can reach them. Those who
    already submitted are not invited; those no channel reaches are reported and tried again
    at the next call. A scheduled round waits until it opens.
    """
    report = DeliveryReport()
    round_ = await repos.rounds.get_round(round_id)
    if round_.status_at(now) is not RoundStatus.OPEN:
        return report
    survey: Survey | None = None
    for line in await repos.rounds.status(round_id):
        if line.status not in WAITING:
            continue
        participant = line.participant
        key = invitation_key(round_id, participant.id)
        if await _record(repos.outbox, key) is not None:
            report.skipped += 1
            continue
        messenger = await _channel_for(participant, messengers)
        if messenger is None:
            report.unreachable.append(participant.id)
            continue
        if survey is None:
            survey = (await repos.surveys.get_version(round_.survey_version_id)).definition
        preface = invitation_text(survey, round_, participant)
        await _send(
            repos,
            messenger,
            participant,
            round_id,
            key=key,
            preface=preface,
            now=now,
            report=report,
        )
    return report


async def send_due_reminders(
    repos: DeliveryRepositories,
    round_id: int,
    *,
    messengers: Mapping[str, Messenger],
    now: datetime,
    office_hours: OfficeHours,
) -> DeliveryReport:
    """Send the reminders due at ``now`` (see :func:`surveys.reminders.due_reminders`), once.

    Only delegates whose invitation was sent are reminded, on the invitation's channel; a
    step whose time came before the invitation went out is superseded, not sent.
    """
    report = DeliveryReport()
    round_ = await repos.rounds.get_round(round_id)
    if round_.status_at(now) is not RoundStatus.OPEN:
        return report
    lines = await repos.rounds.status(round_id)
    candidates = due_reminders(
        round_, lines, now, office_hours=office_hours, already_sent=frozenset()
    )
    recorded = {due.key for due in candidates if await _record(repos.outbox, due.key)}
    due_now = [due for due in candidates if due.key not in recorded]
    report.skipped += len(candidates) - len(due_now)
    by_channel = {messenger.channel: messenger for messenger in messengers.values()}
    survey: Survey | None = None
    invitations: dict[int, OutboundMessage | None] = {}
    for due in due_now:
        participant = due.participant
        if participant.id not in invitations:
            key = invitation_key(round_id, participant.id)
            invitations[participant.id] = await _record(repos.outbox, key)
        invitation = invitations[participant.id]
        if invitation is None or invitation.status != SENT:
            continue  # not invited (yet, or ever: blocked): nothing to remind of
        messenger = by_channel.get(invitation.channel)
        if messenger is None:
            messenger = await _channel_for(participant, messengers)
        if messenger is None:
            report.unreachable.append(participant.id)
            continue
        if due.superseded or invitation.updated_at >= due.planned_at:
            why = (
                "superseded by a later reminder due at the same time"
                if due.superseded
                else "superseded: the invitation went out after this reminder's time"
            )
            done = await _supersede(repos, messenger.channel, due, why, now=now)
            if done is not None:
                report.superseded.append(done)
            continue
        if survey is None:
            survey = (await repos.surveys.get_version(round_.survey_version_id)).definition
        preface = await reminder_text(repos, survey, round_, participant)
        log.debug("%s: %s reminder for %s", due.key, describe_step(due.step_minutes), round_id)
        await _send(
            repos,
            messenger,
            participant,
            round_id,
            key=due.key,
            preface=preface,
            now=now,
            report=report,
        )
    return report


async def close_due_rounds(
    repos: DeliveryRepositories,
    *,
    now: datetime,
    messengers: Mapping[str, Messenger],
    notify_partial: bool = False,
) -> DeliveryReport:
    """Close every round whose closing time has passed; started responses become partial.

    A round is recorded as closed at its closing time even when this runs late (after
    downtime). Delegates are not told by default (a late answer gets the conversation's polite
    refusal); with ``notify_partial``, those whose response became partial get a closing note.
    """
    report = DeliveryReport()
    for round_ in await repos.rounds.rounds_to_close(now):
        closed = await repos.rounds.close_round(round_.id, now=min(now, round_.closes_at))
        report.closed.append(closed.id)
        log.info("round %s closed (closing time %s)", closed.id, closed.closes_at.isoformat())
        if notify_partial:
            report.merge(await _notify_partial(repos, closed, messengers=messengers, now=now))
    return report


async def _notify_partial(
    repos: DeliveryRepositories,
    round_: Round,
    *,
    messengers: Mapping[str, Messenger],
    now: datetime,
) -> DeliveryReport:
    report = DeliveryReport()
    by_channel = {messenger.channel: messenger for messenger in messengers.values()}
    survey: Survey | None = None
    for line in await repos.rounds.status(round_.id):
        if line.status is not ResponseStatus.PARTIAL:
            continue
        participant = line.participant
        key = closing_key(round_.id, participant.id)
        if await _record(repos.outbox, key) is not None:
            report.skipped += 1
            continue
        invitation = await _record(repos.outbox, invitation_key(round_.id, participant.id))
        messenger = by_channel.get(invitation.channel) if invitation is not None else None
        messenger = messenger or await _channel_for(participant, messengers)
        if messenger is None:
            report.unreachable.append(participant.id)
            continue
        if survey is None:
            survey = (await repos.surveys.get_version(round_.survey_version_id)).definition
        language = participant.language
        preface = delivery_texts.text(
            "closed_partial",
            language,
            title=survey.title_in(language),
            closes=delivery_texts.moment(
                round_.closed_at or round_.closes_at, language, participant.timezone
            ),
            count=line.answered,
        )
        await _send(
            repos,
            messenger,
            participant,
            round_.id,
            key=key,
            preface=preface,
            now=now,
            report=report,
        )
    return report


async def tick(
    repos: DeliveryRepositories,
    *,
    messengers: Mapping[str, Messenger],
    now: datetime,
    office_hours: OfficeHours,
) -> DeliveryReport:
    """Everything due at ``now``: close rounds past their time, then, for each open round,
    send the invitations not sent yet and the reminders due.

    Idempotent, and safe to run twice at once (the outbox claims decide who sends); after
    downtime, what fell due meanwhile goes out once, late.
    """
    report = await close_due_rounds(repos, now=now, messengers=messengers)
    for round_ in await repos.rounds.open_rounds(now):
        try:
            report.merge(
                await deliver_invitations(repos, round_.id, messengers=messengers, now=now)
            )
            report.merge(
                await send_due_reminders(
                    repos, round_.id, messengers=messengers, now=now, office_hours=office_hours
                )
            )
        except Exception as error:  # one round's trouble must not stop the others
            log.exception("round %s: delivery failed", round_.id)
            report.errors.append(f"round {round_.id}: {error!r}")
    return report


__all__ = [
    "Delivery",
    "DeliveryReport",
    "DeliveryRepositories",
    "close_due_rounds",
    "closing_key",
    "deliver_invitations",
    "invitation_key",
    "invitation_text",
    "reminder_text",
    "send_due_reminders",
    "tick",
]
