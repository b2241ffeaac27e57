"""What delegates ask for besides answering: their current round, their rounds, preferences.

Enrolment (:func:`enrol`) redeems a one-time code for a channel account, throttled per
account: after :data:`ENROLMENT_ATTEMPTS` wrong codes within :data:`ENROLMENT_WINDOW` the
account's codes are not even looked at until the oldest of those falls out of the window.

The current round is one rule for every channel: the round of the screen the delegate was
shown last (on any channel) while it is open; else the newest open round they have not
submitted; else the newest open round. Typed text and ``/survey`` go there.

Example::

    round_id = await current_round(store, participant, now=now)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import available_timezones

from surveys import engine
from surveys.definition import Survey
from surveys.errors import RequestError
from surveys.ports import Repositories
from surveys.records import (
    Enrolment,
    EnrolmentOutcome,
    Participant,
    Response,
    ResponseStatus,
    Round,
    RoundStatus,
)

ENROLMENT_ATTEMPTS = 5
"""Wrong codes one channel account may send within :data:`ENROLMENT_WINDOW`."""
ENROLMENT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class EnrolAttempt:
    """What came of a code: the enrolment (or why not), and until when a throttled account
    waits (``outcome`` ``THROTTLED``)."""

    enrolment: Enrolment
    retry_at: datetime | None = None

    @property
    def outcome(self) -> EnrolmentOutcome:
        return self.enrolment.outcome


@dataclass(frozen=True)
class MyRound:
    """One open round of a delegate, as their home screen lists it."""

    round: Round
    title: str
    response: Response
    answered: int
    total: int


def progress(survey: Survey, answers: engine.Answers) -> tuple[int, int]:
    """How many of the questions that apply now are answered (or skipped), of how many."""
    asking = engine.relevant_questions(survey, answers)
    return sum(1 for question in asking if question.id in answers), len(asking)


async def open_rounds(
    store: Repositories, participant: Participant, *, now: datetime
) -> list[tuple[Round, Response]]:
    """The open rounds the participant was invited to, newest first."""
    return [
        (round_, response)
        for round_, response in await store.identities.participations(participant.id)
        if round_.status_at(now) is RoundStatus.OPEN
    ]


async def current_round(
    store: Repositories, participant: Participant, *, now: datetime
) -> int | None:
    """The round a delegate's typed text and ``/survey`` go to (see the module's rule)."""
    opened = await open_rounds(store, participant, now=now)
    if not opened:
        return None
    shown = await store.screens.latest_any(participant.id)
    if shown is not None:
        for round_, _ in opened:
            if round_.id == shown.round_id:
                return round_.id
    for round_, response in opened:
        if response.status is not ResponseStatus.SUBMITTED:
            return round_.id
    return opened[0][0].id


async def enrol(
    store: Repositories, *, channel: str, code_hash: str, external_id: str, now: datetime
) -> EnrolAttempt:
    """Redeem an enrolment code for ``external_id`` on ``channel``, unless the account sent
    too many wrong codes lately (then the code is not looked at). A wrong code (unknown,
    expired, or used by someone else) counts against the account; the state is in the
    database, so every process and restart sees it. Call it inside the caller's unit of work
    (what it records commits with the reply)."""
    recent = await store.enrolments.recent_failures(
        channel=channel, external_id=external_id, since=now - ENROLMENT_WINDOW
    )
    if len(recent) >= ENROLMENT_ATTEMPTS:
        retry_at = recent[-ENROLMENT_ATTEMPTS] + ENROLMENT_WINDOW
        return EnrolAttempt(Enrolment(EnrolmentOutcome.THROTTLED), retry_at=retry_at)
    result = await store.enrolments.redeem(
        channel=channel, code_hash=code_hash, external_id=external_id, now=now
    )
    wrong = result.outcome in (EnrolmentOutcome.UNKNOWN, EnrolmentOutcome.EXPIRED) or (
        result.outcome is EnrolmentOutcome.USED
        and await store.roster.find_by_identity(channel, external_id) is None
    )
    if wrong:
        await store.enrolments.record_failure(channel=channel, external_id=external_id, now=now)
    return EnrolAttempt(result)


async def my_rounds(
    store: Repositories, participant: Participant, *, now: datetime
) -> list[MyRound]:
    """The delegate's open rounds with how far they are, newest first."""
    listed: list[MyRound] = []
    for round_, response in await open_rounds(store, participant, now=now):
        survey = (await store.surveys.get_version(round_.survey_version_id)).definition
        answered, total = progress(survey, response.state.answers)
        listed.append(
            MyRound(
                round=round_,
                title=survey.title_in(survey.language_for(participant.language)),
                response=response,
                answered=answered,
                total=total,
            )
        )
    return listed


async def set_language(store: Repositories, participant: Participant, language: str) -> None:
    """Write to the participant in ``language`` from now on."""
    await store.identities.set_language(participant.id, language)


def zone_named(name: str) -> str:
    """The canonical IANA name for ``name`` (any case), or a RequestError."""
    wanted = name.strip().casefold()
    for zone in _zones():
        if zone.casefold() == wanted:
            return zone
    raise RequestError(f"{name.strip()[:64]!r} is not a timezone like Europe/Paris")


async def set_timezone(store: Repositories, participant: Participant, name: str) -> str:
    """Remind the participant in this timezone from now on; returns its canonical name."""
    zone = zone_named(name)
    await store.identities.set_timezone(participant.id, zone)
    return zone


@functools.cache
def _zones() -> Sequence[str]:
    """Every IANA zone name (read once: the list does not change while the program runs)."""
    return sorted(available_timezones())


__all__ = [
    "MyRound",
    "current_round",
    "my_rounds",
    "open_rounds",
    "progress",
    "set_language",
    "set_timezone",
    "zone_named",
]
