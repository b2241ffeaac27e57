"""The ports the core needs from the outside world, as Protocols.

``storage`` implements them with SQLAlchemy; tests have in-memory fakes; ``bot`` wires one in.
Each repository method is one short transaction, so that what a method returned is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from surveys.definition import AnswerValue, Survey
from surveys.records import (
    AnswerChange,
    Audience,
    AuditEntry,
    Delegation,
    ExportRow,
    Participant,
    ParticipantData,
    Response,
    ResponseState,
    ResponseStatus,
    Round,
    RosterImportResult,
    StatusLine,
    SurveyVersion,
)


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
    ) -> Round:
        """Create a round and a not-started response for each participant, atomically."""
        ...

    async def get_round(self, round_id: int) -> Round: ...

    async def list_rounds(self) -> Sequence[Round]: ...

    async def status(self, round_id: int) -> Sequence[StatusLine]:
        """Each invited participant and how far they are, ordered by delegation then name."""
        ...

    async def counts(self, round_id: int) -> dict[ResponseStatus, int]: ...


class ResponseRepository(Protocol):
    async def get_response(self, round_id: int, participant_id: int) -> Response: ...

    async def save_state(
        self,
        response_id: int,
        *,
        state: ResponseState,
        changes: Sequence[AnswerChange],
        status: ResponseStatus,
        now: datetime,
    ) -> Response:
        """Store the new state, the answers that changed and their history, in one transaction."""
        ...

    async def history(self, response_id: int) -> Sequence[AnswerChange]: ...

    def export_rows(self, round_id: int) -> AsyncIterator[ExportRow]:
        """Every response of a round with its answers, streamed in participant order."""
        ...


class AuditLog(Protocol):
    async def record(
        self, *, actor: str, action: str, target: str, details: dict[str, object], now: datetime
    ) -> None: ...

    async def entries(self, *, limit: int = 100) -> Sequence[AuditEntry]: ...


__all__ = [
    "AnswerValue",
    "AuditLog",
    "Clock",
    "ResponseRepository",
    "RosterRepository",
    "RoundRepository",
    "SurveyRepository",
]
