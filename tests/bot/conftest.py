"""Fixtures for the scheduler and round command tests: a recording channel, a settable
clock, and a round launched on any store.

``tests`` has no packages, so helpers are fixtures that return classes or functions::

    def test_x(recording_out, fixed_clock):
        slack = recording_out()
        clock = fixed_clock(datetime(2026, 6, 8, tzinfo=UTC))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from bot.fakes.messenger import RecordingOut
from surveys.definition import Survey, load_survey
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    Audience,
    Delegation,
    Participant,
    ParticipantData,
    Role,
    Round,
)


@dataclass
class FixedClock:
    """A clock that says what the test sets."""

    current: datetime

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def recording_out() -> type[RecordingOut]:
    return RecordingOut


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
