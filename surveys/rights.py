"""What Itinera keeps about one person, what erasing them leaves, and what retention purges.

Plain records that :class:`~surveys.ports.PersonalDataRepository` returns and the use cases in
:mod:`surveys.service.rights` take and give; the CLI prints them as JSON.

- :class:`PersonalData`: everything stored about a participant (``itinera participant show``);
- :class:`Erasure`: what ``itinera participant erase`` removed;
- :class:`Purged`: what a retention pass removed (``ITINERA_RETENTION_DAYS``).

An erased participant keeps their row, role, delegation and responses with their structured
answers (so that counts per delegation and per status stay what they were); their name and
email become :func:`erased_name` and :func:`erased_email`, and everything that could name or
reach them (channel links, free text, raw bodies) is gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from surveys.definition import QuestionType, Survey
from surveys.queues import InboundEvent, LiveScreen, OutboundMessage
from surveys.records import AnswerChange, AuditEntry, Delegation, Identity, Participant, Response

ERASED_DOMAIN = "erased.invalid"
"""The domain of an erased participant's email (``.invalid`` never resolves: RFC 2606)."""

ERASED = "erased"
"""The error recorded on messages and events that erasure stopped."""


def erased_name(participant_id: int) -> str:
    """The name an erased participant keeps: their id, nothing that names them."""
    return f"[erased #{participant_id}]"


def erased_email(participant_id: int) -> str:
    """Unique (the roster's key) and unreachable."""
    return f"erased-{participant_id}@{ERASED_DOMAIN}"


def participant_target(participant_id: int) -> str:
    """The audit ``target`` of what is done to one participant (``participant 7``)."""
    return f"participant {participant_id}"


def actor_is(actor: str, email: str) -> bool:
    """Whether an audit ``actor`` is this email: ``email`` alone or ``email (channel)``."""
    return bool(email) and (actor == email or actor.startswith(f"{email} ("))


def actor_erased(actor: str, email: str, participant_id: int) -> str:
    """The actor with the email replaced by the participant's id (``participant 7 (slack)``)."""
    return participant_target(participant_id) + actor[len(email) :]


def mentions(entry: AuditEntry, participant_id: int, email: str) -> bool:
    """Whether an audit entry names the participant: as its actor, its target, or in its
    details (``participant``, or one of ``participants``)."""
    if actor_is(entry.actor, email) or entry.target == participant_target(participant_id):
        return True
    details = entry.details
    listed = details.get("participants")
    return details.get("participant") == participant_id or (
        isinstance(listed, list) and participant_id in listed
    )


def free_text_questions(survey: Survey) -> frozenset[str]:
    """The questions whose answers are words the delegate typed (erased with the person)."""
    return frozenset(q.id for q in survey.questions if q.type is QuestionType.TEXT)


@dataclass(frozen=True)
class EnrolmentCodeRecord:
    """One enrolment code issued to the participant (its hash is not shown: it is a secret's)."""

    channel: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None


@dataclass(frozen=True)
class ResponseData:
    """One response of the participant with its answers and every change to them."""

    response: Response
    history: Sequence[AnswerChange]


@dataclass(frozen=True)
class PersonalData:
    """Everything stored about one participant, as ``itinera participant show`` prints it."""

    participant: Participant
    delegation: Delegation | None
    identities: Sequence[Identity]
    enrolment_codes: Sequence[EnrolmentCodeRecord]
    responses: Sequence[ResponseData]
    inbound: Sequence[InboundEvent]
    """Events received from them (by their channel ids) or about their responses."""
    outbound: Sequence[OutboundMessage]
    """Messages to them, or showing their screens."""
    screens: Sequence[LiveScreen]
    audit: Sequence[AuditEntry]
    """Entries they made (their email in the actor) or about them (target, or listed)."""
    enrolment_failures: Sequence[datetime] = ()
    """When wrong enrolment codes came from their channel accounts (for throttling)."""


@dataclass(frozen=True)
class Erasure:
    """What erasing one participant changed: how many of each were removed or blanked."""

    participant_id: int
    identities: int = 0
    enrolment_codes: int = 0
    answers: int = 0
    """Free-text answers (current ones and history entries) blanked."""
    inbound: int = 0
    outbound: int = 0
    screens: int = 0
    audit: int = 0
    """Audit entries whose actor named them, now naming their id."""

    def as_dict(self) -> dict[str, int]:
        return {
            "identities": self.identities,
            "enrolment_codes": self.enrolment_codes,
            "answers": self.answers,
            "inbound": self.inbound,
            "outbound": self.outbound,
            "screens": self.screens,
            "audit": self.audit,
        }


@dataclass(frozen=True)
class Purged:
    """What one retention pass removed."""

    before: datetime
    inbound: int = 0
    """Processed inbound events received before ``before`` (deleted with their raw body)."""
    outbound: int = 0
    """Sent outbound messages last changed before ``before`` whose body was emptied."""
    enrolment_failures: int = 0


@dataclass(frozen=True)
class ErasureRequest:
    """The free-text questions of each of the participant's responses (response id -> ids)."""

    participant_id: int
    free_text: Mapping[int, frozenset[str]] = field(default_factory=dict)


__all__ = [
    "ERASED",
    "ERASED_DOMAIN",
    "EnrolmentCodeRecord",
    "Erasure",
    "ErasureRequest",
    "PersonalData",
    "Purged",
    "ResponseData",
    "actor_erased",
    "actor_is",
    "erased_email",
    "erased_name",
    "free_text_questions",
    "mentions",
    "participant_target",
]
