"""The things Itinera keeps besides survey definitions: delegations, people, rounds, responses.

These are plain frozen dataclasses that the ports in :mod:`surveys.ports` take and return;
storage maps them to tables, channels render them. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from surveys.definition import AnswerValue, Survey
from surveys.errors import RoundError

AUDIENCE_FORMS = "use all, region:NAME, tag:NAME or ISO codes like FRA,SEN"
_ISO_LIST = re.compile(r"^[A-Za-z]{3}(\s*,\s*[A-Za-z]{3})*$")


class Role(StrEnum):
    DELEGATE = "delegate"
    ORGANISER = "organiser"


class Channel(StrEnum):
    SLACK = "slack"
    TELEGRAM = "telegram"


class ResponseStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    PARTIAL = "partial"
    """The round closed before the delegate submitted; what they answered is kept."""


class RoundStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Delegation:
    """One Member State's representation, keyed by ISO 3166-1 alpha-3 code."""

    code: str
    name: str
    region: str = ""


@dataclass(frozen=True)
class ParticipantData:
    """A roster row as imported: who, in which role, for which delegation, reached how."""

    name: str
    email: str
    role: Role
    delegation: str | None
    language: str = "en"
    timezone: str = "UTC"
    slack_user_id: str | None = None
    tags: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    """For an organiser: the regions they follow (none: every region). Delegates have none."""


@dataclass(frozen=True)
class Participant(ParticipantData):
    id: int = 0
    telegram_user_id: str | None = None


@dataclass(frozen=True)
class RosterImportResult:
    delegations_created: int
    delegations_updated: int
    participants_created: int
    participants_updated: int
    participants_unchanged: int


@dataclass(frozen=True)
class SurveyVersion:
    """A survey as stored: the definition exactly as loaded, with its content hash."""

    id: int
    survey_id: str
    version: str
    content_hash: str
    definition: Survey
    created_at: datetime
    created: bool = True
    """False when an identical definition was already stored (import is idempotent)."""


@dataclass(frozen=True)
class Audience:
    """Who a round asks. Text form: ``all``, ``region:NAME``, ``tag:NAME`` or ``FRA,SEN``."""

    kind: str  # "all" | "region" | "tag" | "delegations"
    values: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Audience:
        """``all``, ``region:NAME``, ``tag:NAME`` or comma-separated ISO alpha-3 codes.

        The inverse of ``str(audience)``; raises :class:`RoundError` for anything else.
        """
        value = text.strip()
        if value.lower() == "all":
            return cls("all")
        kind, sep, rest = value.partition(":")
        if sep:
            kind = kind.strip().lower()
            rest = rest.strip()
            if kind not in ("region", "tag"):
                raise RoundError(f"audience {text!r}: {AUDIENCE_FORMS}")
            if not rest:
                raise RoundError(f"audience {text!r}: {kind}: needs a name after the colon")
            return cls(kind, (rest,))
        if _ISO_LIST.match(value):
            codes = tuple(dict.fromkeys(code.strip().upper() for code in value.split(",")))
            return cls("delegations", codes)
        raise RoundError(f"audience {text!r}: {AUDIENCE_FORMS}")

    def __str__(self) -> str:
        if self.kind == "all":
            return "all"
        if self.kind == "delegations":
            return ",".join(self.values)
        return f"{self.kind}:{self.values[0]}"


DEFAULT_REMINDER_POLICY: tuple[int, ...] = (3 * 24 * 60, 24 * 60, 2 * 60)


class Attribution(StrEnum):
    """Who organisers see behind a round's answers, in exports and digests alike."""

    NAMED = "named"
    """The delegate: name, email and delegation, with exact times."""
    DELEGATION = "delegation"
    """The delegation only: never a name, an email or anything that tells its delegates apart."""
    ANONYMOUS = "anonymous"
    """No identity in exports and digests: neither person nor delegation; only completion (who
    has answered) stays visible, and groups of fewer than the minimum are not broken down."""


class ResponseMode(StrEnum):
    """Whose response a round collects."""

    INDIVIDUAL = "individual"
    """One response per delegate."""
    CONSOLIDATED = "consolidated"
    """One response per delegation, shared by all its delegates."""


@dataclass(frozen=True)
class Round:
    id: int
    survey_id: str
    survey_version_id: int
    audience: Audience
    opens_at: datetime
    closes_at: datetime
    created_at: datetime
    closed_at: datetime | None = None
    reminder_policy: tuple[int, ...] = DEFAULT_REMINDER_POLICY
    """Minutes before closing at which non-responders are reminded (3 days, 1 day, 2 hours)."""
    attribution: Attribution = Attribution.DELEGATION
    responses: ResponseMode = ResponseMode.INDIVIDUAL

    def status_at(self, now: datetime) -> RoundStatus:
        if self.closed_at is not None or now >= self.closes_at:
            return RoundStatus.CLOSED
        if now < self.opens_at:
            return RoundStatus.SCHEDULED
        return RoundStatus.OPEN


@dataclass(frozen=True)
class ResponseState:
    """Where one delegate stands in one round: answers so far and the question being asked.

    ``answers`` maps a question id to its value; ``None`` means the delegate skipped it.
    A question absent from ``answers`` has not been reached (or was cleared as irrelevant).
    ``current`` is the id of the question awaiting input, or ``None`` once all is answered.
    ``editing`` is set while a delegate changes one answer from the summary.
    """

    answers: dict[str, AnswerValue | None] = field(default_factory=dict)
    current: str | None = None
    editing: bool = False
    started: bool = False


@dataclass(frozen=True)
class Response:
    id: int
    round_id: int
    participant_id: int
    status: ResponseStatus
    state: ResponseState
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0
    """Incremented by every stored change; a change names the version it was computed from."""
    holder_id: int | None = None
    """In a consolidated round, the delegation's response this delegate shares: its state,
    answers, status and version are the ones here (None: the response is the delegate's own)."""

    @property
    def shared_id(self) -> int:
        """The response whose state this one is: where its changes are stored."""
        return self.holder_id if self.holder_id is not None else self.id


@dataclass(frozen=True)
class Due:
    """A delegate's response that has a delivery due: its invitation, or a reminder."""

    response_id: int
    round: Round
    participant: Participant
    status: ResponseStatus
    invited_on: str | None = None
    """The channel the invitation went out on (None: not invited yet)."""
    invited_at: datetime | None = None
    remind_at: datetime | None = None


@dataclass(frozen=True)
class Invited:
    """An invitation enqueued: the response, the channel it went out on, and when its first
    reminder is planned."""

    response_id: int
    channel: str
    remind_at: datetime | None


@dataclass(frozen=True)
class AnswerChange:
    """One entry of an answer's history (``value`` None: skipped or cleared)."""

    question_id: str
    value: AnswerValue | None
    at: datetime
    reason: str = "answered"  # answered | skipped | cleared | changed
    by: int | None = None
    """The participant who made the change (None: not kept, as in anonymous rounds)."""


@dataclass(frozen=True)
class Sharer:
    """A delegate sharing a consolidated response: their own response row, and its channel."""

    response_id: int
    participant: Participant
    invited_on: str | None = None


@dataclass(frozen=True)
class StatusLine:
    """One row of a round's status: a participant and how far they are."""

    participant: Participant
    delegation: Delegation | None
    status: ResponseStatus
    answered: int
    started_at: datetime | None
    submitted_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ExportRow:
    """One response with its answers, as exports stream them."""

    response_id: int
    participant: Participant
    delegation: Delegation | None
    status: ResponseStatus
    started_at: datetime | None
    submitted_at: datetime | None
    answers: dict[str, AnswerValue | None]


@dataclass(frozen=True)
class Ballot:
    """A submitted response of an anonymous round, kept apart from whoever submitted it.

    ``ballot_id`` is random (:func:`new_ballot_id`); nothing stored links it to the
    participant, the delegation, the response or the time it was cast.
    """

    ballot_id: str
    round_id: int
    answers: dict[str, AnswerValue | None]


def new_ballot_id() -> str:
    """A fresh random ballot id: 32 hexadecimal digits from the OS's random source."""
    return secrets.token_hex(16)


ID_LIMIT = 2**31 - 1
"""The largest id a store gives (a 32-bit integer column): a larger one names nothing."""


def round_target(round_id: int) -> str:
    """The audit ``target`` of what is done to one round (``round 3``): what ``--round`` finds."""
    return f"round {round_id}"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Identity:
    """How one participant is reached on one channel.

    ``external_id`` is the channel's user id; ``address`` where to write to them (the Slack DM
    channel, the Telegram chat), cached because finding it can cost a rate-limited call.
    """

    participant_id: int
    channel: str
    external_id: str
    address: str | None = None


class EnrolmentOutcome(StrEnum):
    ENROLLED = "enrolled"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    LINKED_ELSEWHERE = "linked_elsewhere"
    """The participant is linked to another account on the channel (the code stays unused)."""
    THROTTLED = "throttled"
    """Too many wrong codes came from this account lately: the code was not looked at."""


@dataclass(frozen=True)
class Enrolment:
    outcome: EnrolmentOutcome
    participant_id: int | None = None


def response_holders(
    ids: Sequence[int], delegation_of: Mapping[int, str | None], mode: ResponseMode
) -> tuple[list[int], dict[int, int]]:
    """Who holds a response of their own (in a consolidated round: the first delegate of each
    delegation, and anyone without one), and for each of the others, whose they share."""
    if mode is not ResponseMode.CONSOLIDATED:
        return list(ids), {}
    first: list[int] = []
    by_delegation: dict[str, int] = {}
    others: dict[int, int] = {}
    for pid in ids:
        code = delegation_of.get(pid)
        if code is None:
            first.append(pid)
        elif code in by_delegation:
            others[pid] = by_delegation[code]
        else:
            by_delegation[code] = pid
            first.append(pid)
    return first, others


def final_changes(changes: Sequence[AnswerChange]) -> dict[str, AnswerChange]:
    """The last change of each question, which decides the stored answer."""
    final: dict[str, AnswerChange] = {}
    for change in changes:
        final.pop(change.question_id, None)
        final[change.question_id] = change
    return final


def answers_after(
    answers: Mapping[str, AnswerValue | None], changes: Sequence[AnswerChange]
) -> dict[str, AnswerValue | None]:
    """The answers once ``changes`` are stored, by question id: a cleared question removed,
    any other change's value kept (None: skipped)."""
    after = dict(answers)
    for question_id, change in final_changes(changes).items():
        if change.reason == "cleared":
            after.pop(question_id, None)
        else:
            after[question_id] = change.value
    return dict(sorted(after.items()))


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused, as the SQL store refuses it."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times")
    return value.astimezone(UTC)
