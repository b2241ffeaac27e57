"""Delivering rounds: invitations, reminders and closing, written to the outbox.

The scheduler's tick calls :func:`tick`; its cost follows what is due, not the roster. Each
response records when its invitation is due (``invite_at``, the round's opening) and when its
next reminder is (``remind_at``, planned in the delegate's office hours and timezone), both
indexed: a tick over ten thousand idle delegates is a few queries. What is due is rendered by
the delegate's channel and enqueued in the same transaction that records it, keyed by what it
is for (``invite:3:17``, ``reminder:3:17:1440:1798970400``), so a repeated tick, two ticks at
once or a restart halfway never enqueue anything twice; the senders then deliver at the rate
each platform allows.

- **Invitations** go to the first channel that can reach the delegate (Slack, else Telegram),
  as one message: the invitation and the first question. A delegate no channel reaches yet (not
  enrolled) is looked at again later (:data:`UNREACHABLE_RETRY`), or as soon as they enrol.
- **Reminders** go only to those who have not submitted, on the invitation's channel: the
  latest step due (earlier ones that fell due together are skipped), moved into office hours.
- **Closing**: rounds past their time are closed (started responses become partial), at
  their closing time even if the tick runs late.
- **Trouble** with one delegate (a lookup the platform did not answer, a screen that cannot
  be drawn, a failed write) rolls back that delegate's work only: it is reported in the tick's
  ``errors`` and looked at again after :data:`UNREACHABLE_RETRY`; a round that cannot be
  closed does not keep the others open.

Example::

    report = await tick(store, channels=[slack_out, telegram_out], now=now, office_hours=hours)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from surveys import delivery_texts, engine
from surveys.conversation import Screen, Show
from surveys.definition import Survey
from surveys.ports import Repositories
from surveys.queues import Lane, LiveScreen, NewMessage
from surveys.records import (
    Due,
    Invited,
    Participant,
    Response,
    ResponseMode,
    ResponseStatus,
    Round,
)
from surveys.reminders import (
    OfficeHours,
    PlannedReminder,
    ReminderDecision,
    next_reminder,
    reminder_due,
    reminder_key,
)
from surveys.service.answering import Conversation

log = logging.getLogger("itinera.delivery")

BATCH = 200
"""Invitations or reminders rendered and enqueued per transaction."""

UNREACHABLE_RETRY = timedelta(minutes=15)
"""How long until a delegate no channel could reach, or whose invitation or reminder failed,
is looked at again."""


def invitation_key(round_id: int, participant_id: int) -> str:
    return f"invite:{round_id}:{participant_id}"


def closing_key(round_id: int, participant_id: int) -> str:
    return f"closed:{round_id}:{participant_id}"


class ChannelOut(Protocol):
    """How a channel reaches a delegate and draws a screen as outbox messages."""

    channel: str

    async def reach(self, participant: Participant, *, look_up: bool = True) -> str | None:
        """Where to write to the participant on this channel, or None if it cannot (may look
        them up on the platform, once; never with ``look_up=False``)."""
        ...

    async def known(self, participants: Sequence[Participant]) -> Mapping[int, str]:
        """The addresses of those of ``participants`` this channel reaches without asking its
        platform, by participant id, in one query (what :meth:`reach` with ``look_up=False``
        finds for each)."""
        ...

    def screen_messages(
        self, screen: Screen, *, address: str, key: str, preface: str, lane: Lane
    ) -> Sequence[NewMessage]:
        """``preface`` and the screen, as few messages as the platform allows (one where it
        fits), the last of them showing the screen."""
        ...

    def live_screen(
        self, message: NewMessage, *, outbox_id: int | None, now: datetime
    ) -> LiveScreen | None:
        """The live screen a message shows once sent (None for a message without one)."""
        ...

    def note_message(self, text: str, *, address: str, key: str, lane: Lane) -> NewMessage:
        """A plain note to one person."""
        ...


# --- reports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enqueued:
    """One invitation or reminder written to the outbox: for whom, on which channel, its key."""

    participant_id: int
    channel: str
    key: str


@dataclass
class DeliveryReport:
    """What a tick did (for the log, the demo and tests)."""

    invited: list[Enqueued] = field(default_factory=list)
    reminded: list[Enqueued] = field(default_factory=list)
    superseded: int = 0
    """Reminder steps skipped because a later one was due at the same time."""
    unreachable: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    """Rounds closed."""
    notified: list[int] = field(default_factory=list)
    """Participants told that their round closed with their answers kept as partial."""
    skipped: int = 0
    """Messages already enqueued before (a repeated tick)."""
    errors: list[str] = field(default_factory=list)
    """What failed (and was rolled back, to be tried again later), one line each."""

    def merge(self, other: DeliveryReport) -> DeliveryReport:
        self.invited += other.invited
        self.reminded += other.reminded
        self.superseded += other.superseded
        self.unreachable += other.unreachable
        self.closed += other.closed
        self.notified += other.notified
        self.skipped += other.skipped
        self.errors += other.errors
        return self

    @property
    def eventful(self) -> bool:
        return bool(self.invited or self.reminded or self.closed or self.notified or self.errors)

    def summary(self) -> str:
        text = (
            f"{len(self.invited)} invitations, {len(self.reminded)} reminders, "
            f"{len(self.closed)} rounds closed, {len(set(self.unreachable))} not reachable yet"
        )
        return f"{text}, {len(self.errors)} errors" if self.errors else text


# --- texts --------------------------------------------------------------------------------------


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


def reminder_text(
    survey: Survey, round_: Round, participant: Participant, response: Response
) -> str:
    """The reminder in the delegate's language: where they stopped if they started."""
    language = participant.language
    title = survey.title_in(language)
    closes = delivery_texts.moment(round_.closes_at, language, participant.timezone)
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


def closing_text(survey: Survey, round_: Round, participant: Participant, answered: int) -> str:
    language = participant.language
    return delivery_texts.text(
        "closed_partial",
        language,
        title=survey.title_in(language),
        closes=delivery_texts.moment(
            round_.closed_at or round_.closes_at, language, participant.timezone
        ),
        count=answered,
    )


# --- the passes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _At:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


async def _enqueue(
    tx: Repositories, out: ChannelOut, messages: Sequence[NewMessage], *, now: datetime
) -> bool:
    """Enqueue and record the live screens; False if they were enqueued before."""
    outgoing = _Outgoing(now)
    enqueued: list[bool] = []
    outgoing.add(out, messages, then=enqueued.append)
    await outgoing.write(tx)
    return enqueued[0]


class _Outgoing:
    """The messages of one transaction's delegates, enqueued together before it commits: one
    record of the invitations, one enqueue and one record of the live screens for a batch,
    not for each delegate."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._entries: list[tuple[ChannelOut, Sequence[NewMessage], Callable[[bool], None]]] = []
        self._invited: list[Invited] = []

    def invited(self, invited: Invited) -> None:
        """Record this invitation as enqueued (with the others, at ``now``)."""
        self._invited.append(invited)

    def add(
        self, out: ChannelOut, messages: Sequence[NewMessage], *, then: Callable[[bool], None]
    ) -> None:
        """Enqueue ``messages`` with the others; ``then`` is told whether any was new (False:
        all of them were enqueued before)."""
        self._entries.append((out, messages, then))

    async def write(self, tx: Repositories) -> None:
        invited, self._invited = self._invited, []
        if invited:
            await tx.rounds.invited_many(invited, at=self._now)
        entries, self._entries = self._entries, []
        every = [message for _, messages, _ in entries for message in messages]
        if not every:
            return
        ids = list(await tx.messages.enqueue(every, now=self._now))
        screens: list[LiveScreen] = []
        start = 0
        for out, messages, then in entries:
            mine = ids[start : start + len(messages)]
            start += len(messages)
            for message, outbox_id in zip(messages, mine, strict=True):
                live = out.live_screen(message, outbox_id=outbox_id, now=self._now)
                if live is not None and outbox_id is not None:
                    screens.append(live)
            then(any(outbox_id is not None for outbox_id in mine))
        if screens:
            await tx.screens.show_many(screens)


@dataclass
class _Item:
    """One due delegate in a pass: who reaches them (looked up before the transaction, as it
    may ask the platform), or why that failed, and for a reminder what to do."""

    due: Due
    reached: tuple[ChannelOut, str] | None = None
    error: Exception | None = None
    decision: ReminderDecision | None = None


async def _reach(items: Sequence[_Item], channels: Sequence[ChannelOut], *, prefer: bool) -> None:
    """Find the channel and address that reach each delegate (their invitation's channel first
    when ``prefer``); a lookup that fails is kept as the item's error."""
    by_name = {out.channel: out for out in channels}
    participants = list({item.due.participant.id: item.due.participant for item in items}.values())
    known: dict[str, Mapping[int, str]] = {}
    for out in channels:
        try:
            known[out.channel] = await out.known(participants) if participants else {}
        except Exception as error:  # looked at one by one below
            log.warning("%s: addresses not read in bulk: %r", out.channel, error)
            known[out.channel] = {}
    for item in items:
        ordered = list(channels)
        invited_on = item.due.invited_on
        if prefer and invited_on in by_name:
            ordered.remove(by_name[invited_on])
            ordered.insert(0, by_name[invited_on])
        participant_id = item.due.participant.id
        found = next(
            (
                (out, known[out.channel][participant_id])
                for out in ordered
                if participant_id in known[out.channel]
            ),
            None,
        )
        if found is not None:
            item.reached = found
            continue
        try:
            item.reached = await _reaching_one(item.due.participant, ordered)
        except Exception as error:
            item.error = error


def _count(into: list[Enqueued], what: Enqueued, new: bool, report: DeliveryReport) -> None:
    """Report an invitation or reminder as enqueued, or as skipped (enqueued before)."""
    if new:
        into.append(what)
    else:
        report.skipped += 1


def _unreached(item: _Item, what: str, report: DeliveryReport) -> None:
    """Report a delegate whose channel lookup failed (tried again later)."""
    log.warning("%s: could not look the delegate up: %r; tried again later", what, item.error)
    report.errors.append(f"{what}: {item.error!r}")


Work = Callable[[Repositories, _Item, DeliveryReport, _Outgoing], Awaitable[None]]


async def _in_transactions(
    store: Repositories,
    items: Sequence[_Item],
    *,
    now: datetime,
    work: Work,
    give_up: Callable[[Repositories, _Item], Awaitable[None]],
    what: Callable[[_Item], str],
    prepare: Callable[[Repositories, Sequence[_Item]], Awaitable[None]] | None = None,
) -> DeliveryReport:
    """Do ``work`` for every item in one transaction (what they enqueue is written at its
    end, together), after ``prepare`` (reads for the whole batch). If that fails, do it again
    one item per transaction, so that one delegate's trouble holds up nobody else: an item
    that fails alone is rolled back, reported, and handed to ``give_up`` (to be looked at
    later). The report holds only what was committed."""
    report = DeliveryReport()
    try:
        async with store.transaction() as tx:
            outgoing = _Outgoing(now)
            if prepare is not None:
                await prepare(tx, items)
            for item in items:
                await work(tx, item, report, outgoing)
            await outgoing.write(tx)
        return report
    except Exception as error:
        log.info("a batch of %s failed (%r); one at a time now", len(items), error)
    report = DeliveryReport()
    for item in items:
        report.merge(await _alone(store, item, now=now, work=work, give_up=give_up, what=what))
    return report


async def _alone(
    store: Repositories,
    item: _Item,
    *,
    now: datetime,
    work: Work,
    give_up: Callable[[Repositories, _Item], Awaitable[None]],
    what: Callable[[_Item], str],
) -> DeliveryReport:
    part = DeliveryReport()
    try:
        async with store.transaction() as tx:
            outgoing = _Outgoing(now)
            await work(tx, item, part, outgoing)
            await outgoing.write(tx)
        return part
    except Exception as error:
        log.error("%s failed: %r; tried again later", what(item), error, exc_info=True)
        async with store.transaction() as tx:
            await give_up(tx, item)
        return DeliveryReport(errors=[f"{what(item)}: {error!r}"])


async def _passes(
    fetch: Callable[[], Awaitable[Sequence[Due]]],
    *,
    batch: int,
    handle: Callable[[Sequence[Due]], Awaitable[DeliveryReport]],
) -> DeliveryReport:
    """Handle what ``fetch`` finds due, a batch at a time, until nothing is due. Each batch
    moves what it handles out of what is due; a batch of nothing but delegates already
    handled in this pass (a store that did not record it) stops the pass rather than loop."""
    report = DeliveryReport()
    handled: set[int] = set()
    while True:
        due = await fetch()
        if not due:
            return report
        fresh = [item for item in due if item.response_id not in handled]
        if not fresh:
            log.error("responses %s are still due after they were handled", sorted(handled))
            return report
        handled.update(item.response_id for item in fresh)
        report.merge(await handle(fresh))
        if len(due) < batch:
            return report


async def deliver_invitations(
    store: Repositories,
    *,
    channels: Sequence[ChannelOut],
    now: datetime,
    office_hours: OfficeHours,
    batch: int = BATCH,
) -> DeliveryReport:
    """Enqueue every invitation due at ``now``, each delegate once, on the first channel that
    reaches them, and plan their first reminder, in one transaction per invitation (a batch
    of them at once). A delegate no channel reaches, or whose invitation failed, is looked at
    again after :data:`UNREACHABLE_RETRY` (or as soon as they enrol)."""

    async def work(
        tx: Repositories, item: _Item, report: DeliveryReport, outgoing: _Outgoing
    ) -> None:
        due = item.due
        participant, round_ = due.participant, due.round
        if item.error is not None:
            _unreached(item, what(item), report)
            await give_up(tx, item)
            return
        if item.reached is None:
            await tx.rounds.defer_invitation(due.response_id, until=now + UNREACHABLE_RETRY)
            report.unreachable.append(participant.id)
            return
        out, address = item.reached
        screen = await Conversation(tx, clock=_At(now)).act(participant, round_.id, Show())
        key = invitation_key(round_.id, participant.id)
        messages = out.screen_messages(
            screen,
            address=address,
            key=key,
            preface=invitation_text(screen.survey, round_, participant),
            lane=Lane.BULK,
        )
        invited = Enqueued(participant.id, out.channel, key)
        outgoing.add(out, messages, then=lambda new: _count(report.invited, invited, new, report))
        remind_at = next_reminder(round_, participant.timezone, office_hours, after=now)
        outgoing.invited(Invited(due.response_id, out.channel, remind_at))

    async def give_up(tx: Repositories, item: _Item) -> None:
        await tx.rounds.defer_invitation(item.due.response_id, until=now + UNREACHABLE_RETRY)

    def what(item: _Item) -> str:
        return f"invitation {invitation_key(item.due.round.id, item.due.participant.id)}"

    async def prepare(tx: Repositories, items: Sequence[_Item]) -> None:
        # One query for the batch's responses, which each invitation's screen reads (nothing
        # is written before the batch's end, so they stay read).
        await tx.responses.load_responses([item.due.response_id for item in items])

    async def handle(due: Sequence[Due]) -> DeliveryReport:
        items = [_Item(entry) for entry in due]
        await _reach(items, channels, prefer=False)
        return await _in_transactions(
            store, items, now=now, work=work, give_up=give_up, what=what, prepare=prepare
        )

    async def fetch() -> Sequence[Due]:
        return await store.rounds.due_invitations(now=now, limit=batch)

    return await _passes(fetch, batch=batch, handle=handle)


async def send_due_reminders(
    store: Repositories,
    *,
    channels: Sequence[ChannelOut],
    now: datetime,
    office_hours: OfficeHours,
    batch: int = BATCH,
) -> DeliveryReport:
    """Enqueue the reminders due at ``now`` (one per delegate at most) and plan the next, in
    one transaction per delegate (a batch of them at once). Only delegates with a reminder to
    send now are looked up on their channel."""

    async def work(
        tx: Repositories, item: _Item, report: DeliveryReport, outgoing: _Outgoing
    ) -> None:
        due, decision = item.due, item.decision
        assert decision is not None
        if decision.send is not None and item.error is not None:
            _unreached(item, what(item), report)
            await give_up(tx, item)
            return
        if decision.send is not None:
            report.superseded += len(decision.superseded)
            if item.reached is None:
                report.unreachable.append(due.participant.id)
            else:
                await remind(tx, item, decision.send, report, outgoing)
        await tx.rounds.plan_reminder(due.response_id, at=decision.next_check)

    async def remind(
        tx: Repositories,
        item: _Item,
        step: PlannedReminder,
        report: DeliveryReport,
        outgoing: _Outgoing,
    ) -> None:
        assert item.reached is not None
        out, address = item.reached
        participant, round_ = item.due.participant, item.due.round
        screen = await Conversation(tx, clock=_At(now)).act(participant, round_.id, Show())
        key = reminder_key(round_, participant.id, step.step_minutes)
        messages = out.screen_messages(
            screen,
            address=address,
            key=key,
            preface=reminder_text(screen.survey, round_, participant, screen.response),
            lane=Lane.BULK,
        )
        reminded = Enqueued(participant.id, out.channel, key)
        outgoing.add(out, messages, then=lambda new: _count(report.reminded, reminded, new, report))

    async def give_up(tx: Repositories, item: _Item) -> None:
        await tx.rounds.plan_reminder(item.due.response_id, at=now + UNREACHABLE_RETRY)

    def what(item: _Item) -> str:
        step = item.decision.send if item.decision is not None else None
        if step is None:
            return f"reminder plan of response {item.due.response_id}"
        return (
            f"reminder {reminder_key(item.due.round, item.due.participant.id, step.step_minutes)}"
        )

    async def handle(due: Sequence[Due]) -> DeliveryReport:
        items = [
            _Item(
                entry,
                decision=reminder_due(
                    entry.round,
                    entry.participant.timezone,
                    office_hours,
                    now=now,
                    invited_at=entry.invited_at,
                ),
            )
            for entry in due
        ]
        sending = [item for item in items if item.decision and item.decision.send is not None]
        await _reach(sending, channels, prefer=True)
        return await _in_transactions(store, items, now=now, work=work, give_up=give_up, what=what)

    async def fetch() -> Sequence[Due]:
        return await store.rounds.due_reminders(now=now, limit=batch)

    return await _passes(fetch, batch=batch, handle=handle)


async def close_due_rounds(
    store: Repositories,
    *,
    channels: Sequence[ChannelOut],
    now: datetime,
    notify_partial: bool = False,
) -> DeliveryReport:
    """Close every round whose closing time has passed, at that time; with
    ``notify_partial``, tell those whose answers were kept as partial. A round that cannot be
    closed is reported and tried again at the next tick; the others close."""
    report = DeliveryReport()
    for round_ in await store.rounds.rounds_to_close(now):
        try:
            async with store.transaction() as tx:
                closed = await tx.rounds.close_round(round_.id, now=min(now, round_.closes_at))
        except Exception as error:
            log.error("round %s could not be closed: %r", round_.id, error, exc_info=True)
            report.errors.append(f"closing round {round_.id}: {error!r}")
            continue
        report.closed.append(closed.id)
        log.info("round %s closed (closing time %s)", closed.id, closed.closes_at.isoformat())
        if notify_partial:
            try:
                report.merge(await _notify_partial(store, closed, channels=channels, now=now))
            except Exception as error:
                log.error("closing notes of round %s: %r", closed.id, error, exc_info=True)
                report.errors.append(f"closing notes of round {closed.id}: {error!r}")
    return report


async def _notify_partial(
    store: Repositories, round_: Round, *, channels: Sequence[ChannelOut], now: datetime
) -> DeliveryReport:
    report = DeliveryReport()
    survey = (await store.surveys.get_version(round_.survey_version_id)).definition
    partial = [
        line
        for line in await store.rounds.status(round_.id)
        if line.status is ResponseStatus.PARTIAL
    ]
    told: list[tuple[Participant, int]] = []
    for line in partial:
        if round_.responses is ResponseMode.CONSOLIDATED:
            # Every delegate of the delegation, not only the one whose row holds its response.
            held = await store.responses.get_response(round_.id, line.participant.id)
            for sharer in await store.responses.sharers(held.shared_id):
                told.append((sharer.participant, line.answered))
        else:
            told.append((line.participant, line.answered))
    reached = [(pair, await _reaching_one(pair[0], channels)) for pair in told]
    async with store.transaction() as tx:
        for (participant, answered), found in reached:
            if found is None:
                report.unreachable.append(participant.id)
                continue
            out, address = found
            note = out.note_message(
                closing_text(survey, round_, participant, answered),
                address=address,
                key=closing_key(round_.id, participant.id),
                lane=Lane.BULK,
            )
            if await _enqueue(tx, out, [note], now=now):
                report.notified.append(participant.id)
            else:
                report.skipped += 1
    return report


async def _reaching_one(
    participant: Participant, channels: Sequence[ChannelOut]
) -> tuple[ChannelOut, str] | None:
    """The first channel that knows the participant's address, else the first that finds it
    by asking its platform: a delegate enrolled on Telegram costs Slack no lookup (a
    rate-limited method) at every invitation."""
    for look_up in (False, True):
        for out in channels:
            address = await out.reach(participant, look_up=look_up)
            if address is not None:
                return out, address
    return None


async def tick(
    store: Repositories,
    *,
    channels: Sequence[ChannelOut],
    now: datetime,
    office_hours: OfficeHours,
) -> DeliveryReport:
    """Everything due at ``now``: close rounds past their time, enqueue the invitations and
    reminders due. Idempotent, and safe to run in several processes at once (though one
    leader runs it); after downtime what fell due goes out once, late."""
    report = await close_due_rounds(store, channels=channels, now=now)
    report.merge(
        await deliver_invitations(store, channels=channels, now=now, office_hours=office_hours)
    )
    report.merge(
        await send_due_reminders(store, channels=channels, now=now, office_hours=office_hours)
    )
    return report


async def replan_reminders(
    store: Repositories, round_: Round, *, now: datetime, office_hours: OfficeHours
) -> int:
    """Plan again the next reminder of every invited delegate who has not submitted (after
    the closing time moved); how many are planned."""
    planned = 0
    async with store.transaction() as tx:
        for item in await tx.rounds.reminder_plans(round_.id):
            at = next_reminder(round_, item.participant.timezone, office_hours, after=now)
            await tx.rounds.plan_reminder(item.response_id, at=at)
            planned += at is not None
    return planned


__all__ = [
    "BATCH",
    "UNREACHABLE_RETRY",
    "ChannelOut",
    "DeliveryReport",
    "Enqueued",
    "close_due_rounds",
    "closing_key",
    "closing_text",
    "deliver_invitations",
    "invitation_key",
    "invitation_text",
    "reminder_text",
    "replan_reminders",
    "send_due_reminders",
    "tick",
]
