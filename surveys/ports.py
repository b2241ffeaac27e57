"""The ports the core needs from the outside world, as Protocols.

``storage`` implements them with SQLAlchemy; tests have in-memory fakes; ``bot`` wires one in.
A repository method called on the store is one short transaction of its own; use cases run
in :meth:`Repositories.transaction`, where every call shares one transaction (a unit of work).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

from surveys.definition import Survey
from surveys.digest import DigestData, DigestFigures, DigestPlan, DigestRun
from surveys.queues import (
    Delivery,
    InboxBacklog,
    Lease,
    LiveScreen,
    NewInboundEvent,
    NewMessage,
    OutboxBacklog,
)
from surveys.queues import InboundEvent as QueuedEvent
from surveys.queues import OutboundMessage as QueuedMessage
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    AnswerChange,
    Attribution,
    Audience,
    AuditEntry,
    Ballot,
    Delegation,
    Due,
    Enrolment,
    ExportRow,
    Identity,
    Invited,
    Participant,
    ParticipantData,
    Response,
    ResponseMode,
    ResponseState,
    ResponseStatus,
    RosterImportResult,
    Round,
    Sharer,
    StatusLine,
    SurveyVersion,
)
from surveys.rights import Erasure, ErasureRequest, PersonalData, Purged


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SurveyRepository(Protocol):
    async def save_version(self, survey: Survey, *, now: datetime) -> SurveyVersion:
        """Store a definition; an identical one (same hash) returns the stored version."""
        ...

    async def latest_version(self, survey_id: str) -> SurveyVersion:
        """The newest stored version of a survey; raises NotFoundError."""
        ...

    async def get_version(self, version_id: int) -> SurveyVersion:
        """A stored version by its id; raises NotFoundError."""
        ...

    async def list_versions(self, survey_id: str | None = None) -> Sequence[SurveyVersion]: ...


class RosterRepository(Protocol):
    async def import_roster(
        self, delegations: Sequence[Delegation], participants: Sequence[ParticipantData]
    ) -> RosterImportResult:
        """Create or update delegations (by code) and participants (by email), all or nothing."""
        ...

    async def get_participant(self, participant_id: int) -> Participant: ...

    async def find_by_identity(self, channel: str, external_id: str) -> Participant | None: ...

    async def link_identity(self, participant_id: int, channel: str, external_id: str) -> None:
        """Record that ``external_id`` on ``channel`` is this participant."""
        ...

    async def list_delegations(self) -> Sequence[Delegation]: ...

    async def list_participants(self) -> Sequence[Participant]: ...

    async def audience_members(self, audience: Audience) -> Sequence[Participant]:
        """Delegates (not organisers) the audience names, ordered by delegation then name."""
        ...


class RoundRepository(Protocol):
    async def create_round(
        self,
        *,
        survey_version_id: int,
        audience: Audience,
        opens_at: datetime,
        closes_at: datetime,
        participant_ids: Sequence[int],
        now: datetime,
        reminder_policy: Sequence[int] = DEFAULT_REMINDER_POLICY,
        attribution: Attribution = Attribution.DELEGATION,
        responses: ResponseMode = ResponseMode.INDIVIDUAL,
    ) -> Round:
        """Create a round and a not-started response for each participant, atomically."""
        ...

    async def close_round(self, round_id: int, *, now: datetime) -> Round:
        """Close now: set ``closed_at`` (if not set) and mark unsubmitted started responses
        ``partial``; idempotent."""
        ...

    async def extend_round(self, round_id: int, *, closes_at: datetime, now: datetime) -> Round:
        """Move the closing time (reopening a round closed by time, not one closed by hand)."""
        ...

    async def open_rounds(self, now: datetime) -> Sequence[Round]:
        """Rounds open at ``now`` (opened, not closed), oldest first."""
        ...

    async def rounds_to_close(self, now: datetime) -> Sequence[Round]:
        """Rounds whose closing time has passed but that were not closed yet."""
        ...

    async def get_round(self, round_id: int) -> Round: ...

    async def list_rounds(self) -> Sequence[Round]: ...

    async def status(self, round_id: int) -> Sequence[StatusLine]:
        """Each invited participant and how far they are, ordered by delegation then name."""
        ...

    async def counts(self, round_id: int) -> dict[ResponseStatus, int]: ...

    async def due_invitations(self, *, now: datetime, limit: int) -> Sequence[Due]:
        """Responses not submitted of rounds open at ``now`` whose invitation is due
        (``invite_at <= now``; a new response's is its round's opening), earliest due first.
        An indexed query: its cost follows what is due, not the roster."""
        ...

    async def due_reminders(self, *, now: datetime, limit: int) -> Sequence[Due]:
        """Invited responses not submitted, of rounds open at ``now``, whose next reminder is
        due (``remind_at <= now``), earliest first. Indexed, like :meth:`due_invitations`."""
        ...

    async def invited(
        self, response_id: int, *, channel: str, at: datetime, remind_at: datetime | None
    ) -> None:
        """Record the invitation as enqueued (no longer due) and plan the first reminder."""
        ...

    async def invited_many(self, invited: Sequence[Invited], *, at: datetime) -> None:
        """:meth:`invited` for many responses at once, all enqueued ``at``; a response that
        does not exist raises :class:`NotFoundError` (and the caller's transaction, rolled
        back, records none of them)."""
        ...

    async def defer_invitation(self, response_id: int, *, until: datetime) -> None:
        """Look at this invitation again at ``until`` (no channel reached the delegate)."""
        ...

    async def invite_again(self, participant_id: int, *, now: datetime) -> None:
        """The participant can be reached now (they enrolled): their deferred invitations of
        open rounds are due at ``now``."""
        ...

    async def plan_reminder(self, response_id: int, *, at: datetime | None) -> None:
        """When to look at the response's reminders next (None: nothing left)."""
        ...

    async def reminder_plans(self, round_id: int) -> Sequence[Due]:
        """The round's invited responses not submitted (to plan their reminders again)."""
        ...


class ResponseRepository(Protocol):
    async def get_response(self, round_id: int, participant_id: int) -> Response:
        """The participant's response; in a consolidated round, their own row's id with the
        state, answers, status and version of the delegation's response it shares
        (``holder_id``)."""
        ...

    async def load_responses(self, response_ids: Collection[int]) -> None:
        """Read these responses (by their own ids) at once, for a unit of work that will ask
        for each with :meth:`get_response` (a batch of invitations); a hint only: a store
        may do nothing."""
        ...

    async def own_response(self, response_id: int, participant_id: int) -> Response | None:
        """As :meth:`get_response`, by the participant's own response id; None when that
        response is not theirs (a button from another's message, or a forgotten one)."""
        ...

    async def save_state(
        self,
        response_id: int,
        *,
        version: int,
        state: ResponseState,
        changes: Sequence[AnswerChange],
        status: ResponseStatus,
        now: datetime,
        shared: bool = False,
        by: int | None = None,
    ) -> Response:
        """Store the new state, the answers that changed and their history (with each
        change's ``by``), in one transaction, if the response is still at ``version`` (the one
        read); raises ConflictError if not. ``by``: who acts; kept as who submitted when the
        response becomes submitted. ``shared``: the response is a delegation's
        (consolidated round): the rows of its delegates take its status and times too, so that
        reminders and closing treat them as the delegation's."""
        ...

    async def sharers(self, response_id: int) -> Sequence[Sharer]:
        """The delegates sharing the response ``response_id`` holds, its own delegate
        included, by response id (just that one for a response nobody shares)."""
        ...

    async def history(self, response_id: int) -> Sequence[AnswerChange]: ...

    async def cast_ballot(self, response_id: int) -> Ballot:
        """Move a submitted response's answers into a new ballot of its round (anonymous
        rounds), in the caller's transaction: the ballot gets a random id and no time; the
        response's answers and answer history are deleted (it keeps its status and times, for
        completion and reminders); the inbound events already handled for it and the messages
        already sent for it lose their bodies (they held its answers beside the delegate's
        account). Raises NotFoundError for an unknown response."""
        ...

    def ballots(self, round_id: int) -> AsyncIterator[Ballot]:
        """The round's ballots, by ballot id (an order that follows no submission).
        Raises NotFoundError for an unknown round."""
        ...

    async def ballot_count(self, round_id: int) -> int: ...

    def export_rows(
        self, round_id: int, *, delegations: Collection[str] | None = None
    ) -> AsyncIterator[ExportRow]:
        """Every response of a round with its answers, streamed in participant order; only
        those of ``delegations`` when given."""
        ...


class AuditLog(Protocol):
    async def record(
        self, *, actor: str, action: str, target: str, details: dict[str, object], now: datetime
    ) -> None: ...

    async def entries(
        self,
        *,
        limit: int = 100,
        round_id: int | None = None,
        since: datetime | None = None,
        actor: str | None = None,
    ) -> Sequence[AuditEntry]:
        """The newest ``limit`` entries, newest first: only those about round ``round_id``
        (target :func:`~surveys.records.round_target`), recorded at or after ``since``, whose
        actor contains ``actor`` (ignoring case), when given."""
        ...


class IdentityRepository(Protocol):
    """Channel identities and the preferences delegates set from a channel."""

    async def identity(self, participant_id: int, channel: str) -> Identity | None: ...

    async def identities(
        self, participant_ids: Sequence[int], channel: str
    ) -> Mapping[int, Identity]:
        """The identities on ``channel`` of those of ``participant_ids`` who have one, by
        participant id, in one query (a tick's batch of invitations)."""
        ...

    async def set_address(self, participant_id: int, channel: str, address: str) -> None:
        """Cache where to write to the participant (the identity must exist)."""
        ...

    async def set_language(self, participant_id: int, language: str) -> None: ...

    async def set_timezone(self, participant_id: int, timezone: str) -> None: ...

    async def participations(self, participant_id: int) -> Sequence[tuple[Round, Response]]:
        """Every round the participant was invited to, newest first, with their response."""
        ...

    async def unlink(self, participant_id: int, channel: str) -> Identity | None:
        """Forget the participant's account on ``channel`` and its address: the next code they
        redeem may link another account. The identity removed, if any."""
        ...


class EnrolmentRepository(Protocol):
    """One-time enrolment codes, stored as hashes only."""

    async def issue(
        self,
        *,
        participant_id: int,
        channel: str,
        code_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """Store a new code; earlier unused codes of the participant on the channel stop working."""
        ...

    async def redeem(
        self, *, channel: str, code_hash: str, external_id: str, now: datetime
    ) -> Enrolment:
        """Use a code once: link ``external_id`` to its participant, in one transaction.

        A participant already linked to another account on the channel is not linked again
        (``LINKED_ELSEWHERE``, the code stays unused): an organiser unlinks the old account
        first (:meth:`IdentityRepository.unlink`)."""
        ...

    async def record_failure(self, *, channel: str, external_id: str, now: datetime) -> None:
        """Remember that a wrong (unknown, used or expired) code came from this account."""
        ...

    async def recent_failures(
        self, *, channel: str, external_id: str, since: datetime
    ) -> Sequence[datetime]:
        """When this account sent wrong codes at or after ``since``, oldest first."""
        ...


class PersonalDataRepository(Protocol):
    """What is kept about one person, their erasure, and the purge of old raw bodies."""

    async def about(self, participant_id: int) -> PersonalData:
        """Everything stored about the participant; raises NotFoundError."""
        ...

    async def erase(self, request: ErasureRequest, *, now: datetime) -> Erasure:
        """Remove the participant's personal data, keeping their row, role, delegation and
        responses (see :mod:`surveys.rights`): name and email replaced, tags, channel links,
        addresses, enrolment codes and failures, live screens removed, the free-text answers
        ``request`` names blanked (current and history), the raw bodies of events from them
        and messages to them emptied (unprocessed events and unsent messages are stopped,
        recorded as ``erased``), their email in audit actors replaced by their id, and their
        invitations and reminders no longer planned. Raises NotFoundError."""
        ...

    async def purge(self, *, before: datetime) -> Purged:
        """Retention: delete processed inbound events received before ``before``, empty the
        body of sent outbound messages last changed before it, drop older enrolment
        failures. Unprocessed events, unsent and failed messages are kept whole."""
        ...


class EventInbox(Protocol):
    """The one inbox of every channel (see :mod:`surveys.queues` for its rule)."""

    async def accept(self, event: NewInboundEvent, *, now: datetime) -> int | None:
        """Store the event and return its id; None if (channel, key) was stored before (a
        retry or a replay). With ``from_screen``, the target is the subject's latest live
        screen on the channel at this moment (the subject is the identity's external id),
        in place of any ``target`` given; none if there is none. Keys longer than the store
        holds are kept unique by a hash (stored as a prefix and the key's SHA-256, looked up
        the same way by :meth:`get`): records carry the stored form."""
        ...

    async def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        event_id: int | None = None,
    ) -> Sequence[QueuedEvent]:
        """Claim up to ``limit`` events for ``worker`` until ``now + lease``: unprocessed,
        available (``available_at <= now``), not under a live lease (anyone's, the caller's
        too), and each the oldest unprocessed event of its (channel, subject), whose other
        events are under no live lease either; oldest first. A lease is live while
        ``now < lease_until``. ``event_id``: claim that one event only (if it qualifies).
        Counts an attempt on each. Safe under concurrency: two callers never get the same
        event, nor two events of one subject."""
        ...

    async def complete(
        self, event_id: int, *, worker: str, now: datetime, error: str | None = None
    ) -> None:
        """Mark the event processed (with why it was not applied, if ``error``), in the
        caller's transaction. Raises :class:`~surveys.errors.ConflictError` if ``worker`` no
        longer holds its lease or it was completed already (then the caller's transaction must
        roll back: another worker took it over). A lease that ran out is still held until
        someone else claims the event (it was nobody else's meanwhile, so the work stands).
        Raises :class:`~surveys.errors.NotFoundError` for an unknown event."""
        ...

    async def release(
        self, event_id: int, *, worker: str, available_at: datetime, error: str | None = None
    ) -> None:
        """Give a claimed event back, to be claimed again from ``available_at`` (a transient
        failure; later events of its subject keep waiting behind it); a no-op if ``worker``
        does not hold it. ``error`` is recorded if given (else the previous one stays)."""
        ...

    async def get(self, *, channel: str, key: str) -> QueuedEvent | None:
        """A stored event by its platform key (keys are hashed the same way as in accept)."""
        ...

    async def backlog(self) -> InboxBacklog:
        """How many events wait, and the oldest one's time (for metrics and health)."""
        ...


class MessageOutbox(Protocol):
    """The one outbox of every channel (see :mod:`surveys.queues` for its rule)."""

    async def enqueue(
        self, messages: Sequence[NewMessage], *, now: datetime
    ) -> Sequence[int | None]:
        """Store each message as pending, in the caller's transaction; per message, its id, or
        None where (channel, key) was stored before (nothing changes then). An interactive
        message moves the unsent bulk messages ahead of it to the same address into the
        interactive lane: they must go before it, and it must not wait for the bulk lane."""
        ...

    async def claim(
        self, *, channel: str, worker: str, now: datetime, lease: timedelta, limit: int
    ) -> Sequence[QueuedMessage]:
        """Claim up to ``limit`` messages of ``channel`` for ``worker``: pending and available,
        or claimed under a lease that ended (a sender died); for each address only its oldest
        unsent message, and none for an address that has a message under a live lease; the
        interactive lane first, then oldest first. Counts an attempt on each. Two callers
        never get the same message (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).

        "Unsent" is pending or claimed (a failed message holds nothing up); an address's
        messages go in the order they were enqueued, whatever their lanes (see
        :meth:`enqueue` for how a reply is kept out of the bulk lane). Returned by lane, then
        id."""
        ...

    async def delivered(
        self,
        message_id: int,
        *,
        worker: str,
        now: datetime,
        platform_id: str | None,
        address: str | None = None,
    ) -> bool:
        """Record a message as sent with the platform's id and where it went; and, for a
        screen message, that the live screen it shows is that platform message (if the live
        screen still refers to this outbox message). False if ``worker`` did not hold it (the
        record is still written: the message was sent). Raises
        :class:`~surveys.errors.NotFoundError` for an unknown message."""
        ...

    async def delivered_many(
        self, deliveries: Sequence[Delivery], *, worker: str, now: datetime
    ) -> Mapping[int, bool]:
        """Record several deliveries at once, each as :meth:`delivered` does, in a few
        statements whatever their number; per message recorded, whether ``worker`` held it.
        An unknown message is left out of the answer rather than failing the others."""
        ...

    async def postpone(
        self,
        message_id: int,
        *,
        worker: str,
        available_at: datetime,
        error: str | None = None,
        count_attempt: bool = True,
    ) -> None:
        """Put a claimed message back as pending, to be sent from ``available_at`` (its
        address waits for it); ``count_attempt`` False (a rate limit, a paused channel) gives
        its attempt back. A no-op if ``worker`` does not hold it; ``error`` is recorded if
        given."""
        ...

    async def fail(self, message_id: int, *, worker: str, now: datetime, error: str) -> None:
        """Record a message as refused for good (a no-op if ``worker`` does not hold it)."""
        ...

    async def get(self, *, channel: str, key: str) -> QueuedMessage | None: ...

    async def find(
        self, *, channel: str | None = None, keys: Sequence[str]
    ) -> Sequence[QueuedMessage]:
        """The stored messages with these keys (on ``channel``, else on any), by id. Keys are
        stored as in :meth:`EventInbox.accept`; rows of the older ``OutboxRepository`` are
        not messages of this outbox and are never returned."""
        ...

    async def resend(self, *, round_id: int, now: datetime) -> int:
        """Make the round's failed messages pending again, available at ``now``, their
        attempts and error cleared; how many."""
        ...

    async def backlog(self) -> Sequence[OutboxBacklog]:
        """Per channel, by name: unsent messages (pending or claimed), the oldest one's
        ``created_at``, failed ones; channels with none of either are left out."""
        ...


class ScreenRepository(Protocol):
    """Which message shows each delegate's current screen, per channel and response."""

    async def show(self, screen: LiveScreen) -> None:
        """Record (or replace) the live screen of (channel, response)."""
        ...

    async def show_many(self, screens: Sequence[LiveScreen]) -> None:
        """Record several, as :meth:`show` does each, in one statement (a later one of the
        same channel and response replaces an earlier)."""
        ...

    async def get(self, *, channel: str, response_id: int) -> LiveScreen | None: ...

    async def latest(self, *, channel: str, participant_id: int) -> LiveScreen | None:
        """The participant's most recently shown screen on the channel, any round (a tie
        goes to the larger response id)."""
        ...

    async def latest_any(self, participant_id: int) -> LiveScreen | None:
        """The participant's most recently shown screen on any channel."""
        ...


class LeaseRepository(Protocol):
    """Named leases: who does a job that only one process may do (the scheduler, polling),
    and which senders are alive (to share a platform's rate between them)."""

    async def acquire(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease until ``now + ttl``; True if ``holder`` holds it now (it
        was free, expired, or already theirs)."""
        ...

    async def release(self, name: str, *, holder: str) -> None:
        """Give the lease up, if ``holder`` holds it."""
        ...

    async def holders(self, prefix: str, *, now: datetime) -> Sequence[Lease]:
        """The live leases (``now < expires_at``) whose names start with ``prefix`` (a
        literal, case-sensitive prefix), by name."""
        ...


class Messenger(Protocol):
    """Posts digests to the organisers on one channel (Slack or Telegram), via the outbox.

    Raises :class:`surveys.errors.DeliveryError` (``permanent``) when there is nowhere to post
    on this channel (no digest channel set, no organiser enrolled).
    """

    channel: str

    async def post_digest(
        self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
    ) -> None:
        """Enqueue a digest (Markdown-ish text, optional PNG) for the organisers; ``key``
        names this digest (enqueuing it again changes nothing)."""
        ...


class DigestQueries(Protocol):
    """What digests read and keep: a round's counts, aggregated where the data is, and runs.

    ``digest_data`` runs a fixed, small number of queries whatever the size of the round:
    counting happens in the database, never by loading every answer.
    """

    async def digest_data(
        self,
        round_id: int,
        *,
        plan: DigestPlan,
        since: datetime | None,
        delegations: Collection[str] | None = None,
    ) -> DigestData:
        """The round's counts (see :class:`~surveys.digest.DigestData`), in canonical order;
        ``since`` (the previous digest's time) selects new comments; ``delegations``, when
        given, counts only their responses (an organiser scoped to regions). Raises
        NotFoundError."""
        ...

    async def last_run(self, round_id: int) -> DigestRun | None:
        """The latest digest run of the round, if any."""
        ...

    async def record_run(
        self, round_id: int, *, figures: DigestFigures, now: datetime
    ) -> DigestRun:
        """Store a digest run, for the next digest to compare with."""
        ...


class Repositories(Protocol):
    """Every repository, as ``storage.Store`` and ``storage.memory.InMemoryStore`` provide them.

    Use cases and channels take this one bundle; narrower protocols (e.g. the conversation's)
    exist where a caller needs only a few.
    """

    @property
    def surveys(self) -> SurveyRepository: ...

    @property
    def roster(self) -> RosterRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def identities(self) -> IdentityRepository: ...

    @property
    def enrolments(self) -> EnrolmentRepository: ...

    @property
    def personal(self) -> PersonalDataRepository: ...

    @property
    def events(self) -> EventInbox: ...

    @property
    def messages(self) -> MessageOutbox: ...

    @property
    def screens(self) -> ScreenRepository: ...

    @property
    def leases(self) -> LeaseRepository: ...

    def transaction(self) -> AbstractAsyncContextManager[Repositories]:
        """The same repositories over one transaction (a unit of work): committed when the
        block ends, rolled back if it raises; called inside one, it joins it."""
        ...


class DigestService(Protocol):
    """Makes a round's digest on demand (from a chat command) and posts it to the organisers."""

    async def publish(
        self,
        round_id: int,
        *,
        language: str | None = None,
        delegations: Collection[str] | None = None,
    ) -> str:
        """Write the digest files and post it; returns its summary paragraph for the asker.
        ``delegations``: only theirs (an organiser scoped to regions), not recorded as a run."""
        ...
