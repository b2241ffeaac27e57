"""Fixtures for the scheduler and round command tests: a recording messenger, a settable
clock, and a round launched on any store.

``tests`` has no packages, so helpers are fixtures that return classes or functions::

    def test_x(recording_messenger, fixed_clock):
        slack = recording_messenger()
        clock = fixed_clock(datetime(2026, 6, 8, tzinfo=UTC))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from surveys.definition import Survey, load_survey
from surveys.errors import DeliveryError
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    Audience,
    Delegation,
    Participant,
    ParticipantData,
    Role,
    Round,
)


@dataclass(frozen=True)
class Sent:
    participant_id: int
    round_id: int
    preface: str | None
    channel: str


@dataclass
class RecordingMessenger:
    """A ``Messenger`` that records what it sends instead of sending it.

    ``refuse`` maps participant ids to ``permanent``: sending to them raises
    :class:`DeliveryError`; ``reach`` says whom the channel reaches (everyone by default);
    ``gate``, when set, holds every send until it is set (to test shutdowns mid-send), and
    ``sending`` is set as soon as a send starts.
    """

    channel: str = "slack"
    reach: Callable[[Participant], bool] = lambda participant: True
    refuse: dict[int, bool] = field(default_factory=dict)
    gate: asyncio.Event | None = None
    sending: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[Sent] = field(default_factory=list)
    digests: list[tuple[str, bytes | None, str]] = field(default_factory=list)

    async def reachable(self, participant: Participant) -> bool:
        return self.reach(participant)

    async def send_screen(
        self, participant: Participant, round_id: int, *, preface: str | None = None
    ) -> str | None:
        self.sending.set()
        if self.gate is not None:
            await self.gate.wait()
        if participant.id in self.refuse:
            permanent = self.refuse[participant.id]
            reason = "bot blocked" if permanent else "rate limited"
            raise DeliveryError(self.channel, participant.id, reason, permanent=permanent)
        self.sent.append(Sent(participant.id, round_id, preface, self.channel))
        return f"{self.channel}-{len(self.sent)}"

    async def post_digest(self, *, text: str, image: bytes | None, image_name: str) -> None:
        self.digests.append((text, image, image_name))


@dataclass
class FixedClock:
    """A clock that says what the test sets."""

    current: datetime

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def recording_messenger() -> type[RecordingMessenger]:
    return RecordingMessenger


@pytest.fixture
def fixed_clock() -> Callable[[datetime], FixedClock]:
    return FixedClock


SURVEY = {
    "id": "check_in",
    "version": "1",
    "title": {"en": "Check-in", "fr": "Point d’étape", "es": "Seguimiento"},
    "default_language": "en",
    "languages": ["en", "fr", "es"],
    "questions": [
        {"id": f"q{n}", "type": "text", "label": {"en": f"Q{n}?", "fr": f"Q{n} ?", "es": f"¿Q{n}?"}}
        for n in range(1, 4)
    ],
}

PEOPLE = [
    # delegation, name, language, timezone
    ("FRA", "Claire Dubois", "fr", "Europe/Paris"),
    ("IDN", "Putri Lestari", "en", "Asia/Jakarta"),
    ("MEX", "Lucía Hernández", "es", "America/Mexico_City"),
]


@dataclass(frozen=True)
class Seeded:
    round: Round
    participants: dict[str, Participant]
    survey: Survey


Seeder = Callable[..., Awaitable[Seeded]]


@pytest.fixture
def seed_round() -> Seeder:
    """``await seed_round(repos, opens=..., closes=...)``: a round asking :data:`PEOPLE`."""

    async def seed(
        repos: Any,
        *,
        opens: datetime,
        closes: datetime,
        people: list[tuple[str, str, str, str]] = PEOPLE,
        policy: tuple[int, ...] = DEFAULT_REMINDER_POLICY,
    ) -> Seeded:
        survey = load_survey(SURVEY)
        version = await repos.surveys.save_version(survey, now=opens)
        await repos.roster.import_roster(
            [Delegation(code, code) for code, *_ in people],
            [
                ParticipantData(
                    name=name,
                    email=f"{code.lower()}@example.org",
                    role=Role.DELEGATE,
                    delegation=code,
                    language=language,
                    timezone=timezone,
                )
                for code, name, language, timezone in people
            ],
        )
        participants = await repos.roster.list_participants()
        round_ = await repos.rounds.create_round(
            survey_version_id=version.id,
            audience=Audience("all"),
            opens_at=opens,
            closes_at=closes,
            participant_ids=[p.id for p in participants],
            now=opens,
            reminder_policy=policy,
        )
        return Seeded(round_, {p.delegation or "": p for p in participants}, survey)

    return seed
