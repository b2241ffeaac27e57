"""Invitations, reminders and closing on every store, with an injected clock and a recording
messenger: each message goes out once, to the right people, at a decent hour, in their
language, also across repeated ticks, concurrent ticks and restarts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.fakes.messenger import RecordingMessenger
from storage.database import Store
from storage.memory import InMemoryStore
from surveys import delivery_texts
from surveys.conversation import ScreenKind
from surveys.definition import Survey
from surveys.delivery import (
    close_due_rounds,
    deliver_invitations,
    invitation_key,
    send_due_reminders,
    tick,
)
from surveys.engine import Typed
from surveys.errors import RoundError
from surveys.ports import Messenger
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    Audience,
    Delegation,
    Participant,
    ParticipantData,
    ResponseStatus,
    Role,
    Round,
)
from surveys.reminders import OfficeHours, reminder_key
from surveys.service import organising
from surveys.service.actors import Actor
from tests.support import act_as

AnyStore = Store | InMemoryStore
HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")
ORGANISER = Actor.command_line("organiser")
D3, D1, H2 = DEFAULT_REMINDER_POLICY


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- a messenger that records --------------------------------------------------------------


def messengers(*found: RecordingMessenger) -> dict[str, Messenger]:
    return {m.channel: m for m in found}


# --- a round ----------------------------------------------------------------------------------

PEOPLE = [
    # code, name, language, timezone
    ("FRA", "Claire Dubois", "fr", "Europe/Paris"),
    ("IDN", "Putri Lestari", "en", "Asia/Jakarta"),
    ("MEX", "Lucía Hernández", "es", "America/Mexico_City"),
    ("EGY", "Omar Farouk", "ar", "Africa/Cairo"),
]
# Opens Monday 8 June 2026 00:00 UTC; closes Friday 12 June 16:00 UTC (18:00 in Paris).
OPENS, CLOSES = utc(2026, 6, 8), utc(2026, 6, 12, 16)


@dataclass
class Setup:
    round: Round
    by_code: dict[str, Participant]
    survey: Survey

    def id(self, code: str) -> int:
        return self.by_code[code].id


async def launch(
    repos: AnyStore,
    survey: Survey,
    *,
    people: list[tuple[str, str, str, str]] = PEOPLE,
    opens: datetime = OPENS,
    closes: datetime = CLOSES,
    policy: tuple[int, ...] = DEFAULT_REMINDER_POLICY,
) -> Setup:
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
    by_code = {p.delegation or "": p for p in participants}
    return Setup(round_, by_code, survey)


@pytest.fixture
def survey(make_survey: Callable[..., Survey], make_question: Callable[..., Any]) -> Survey:
    return make_survey(*(make_question(f"q{n}") for n in range(1, 5)))


async def answer(repos: AnyStore, setup: Setup, code: str, *texts: str, now: datetime) -> None:
    participant = setup.by_code[code]
    for text in texts:
        await act_as(
            repos,
            round_id=setup.round.id,
            participant_id=participant.id,
            action=Typed(text),
            language=participant.language,
            now=now,
        )


def hourly(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(hours=1)


# --- invitations -----------------------------------------------------------------------------


async def test_invitations_go_out_once_in_each_language_and_timezone(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingMessenger()
    now = OPENS + timedelta(minutes=1)
    first = await deliver_invitations(
        any_store, setup.round.id, messengers=messengers(slack), now=now
    )
    again = await deliver_invitations(
        any_store, setup.round.id, messengers=messengers(slack), now=now
    )
    assert len(first.sent) == 4 and again.sent == [] and again.skipped == 4
    assert sorted(s.participant_id for s in slack.sent) == sorted(
        setup.by_code[c].id for c in setup.by_code
    )
    # Four questions take about five minutes; the closing time is the delegate's own.
    assert slack.to(setup.id("FRA")) == [
        "Bonjour Claire Dubois,\n\nVotre délégation est invitée à répondre à l’enquête "
        "«\u00a0Enquête test\u00a0». Cela prend environ 5\u00a0minutes. Merci de répondre avant "
        "le vendredi 12 juin 2026, 18:00 (heure d’été d’Europe centrale)."
    ]
    assert "Friday, 12 June 2026, 23:00 (Western Indonesia Time)" in slack.to(setup.id("IDN"))[0]
    assert (
        "viernes, 12 de junio de 2026, 10:00 (hora estándar central)"
        in (slack.to(setup.id("MEX"))[0])
    )
    arabic = slack.to(setup.id("EGY"))[0]
    # Names, dates and numbers in an Arabic text are isolated (FSI ... PDI) for bidi.
    assert "«\u2068Test survey\u2069»" in arabic and "\u2068Omar Farouk\u2069" in arabic
    assert "\u2068الجمعة، 12 يونيو 2026، 7:00 م\u2069" in arabic
    assert "نحو \u20685\u2069 دقائق" in arabic
    record = await any_store.outbox.get(
        channel="slack", key=invitation_key(setup.round.id, setup.id("FRA"))
    )
    assert record is not None and record.status == "sent" and record.message_id is not None


async def test_a_scheduled_round_waits_until_it_opens(any_store: AnyStore, survey: Survey) -> None:
    setup = await launch(any_store, survey, opens=utc(2026, 6, 10, 6))
    slack = RecordingMessenger()
    before = await tick(
        any_store, messengers=messengers(slack), now=utc(2026, 6, 10, 5), office_hours=HOURS
    )
    assert before.sent == [] and slack.sent == []
    at_opening = await tick(
        any_store, messengers=messengers(slack), now=utc(2026, 6, 10, 6), office_hours=HOURS
    )
    assert len(at_opening.sent) == 4
    closed = await deliver_invitations(
        any_store, setup.round.id, messengers=messengers(slack), now=CLOSES
    )
    assert closed.sent == [] and closed.skipped == 0


async def test_a_transient_refusal_is_retried_a_permanent_one_is_not(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    fra, idn = setup.id("FRA"), setup.id("IDN")
    slack = RecordingMessenger(refuse={fra: False, idn: True})
    now = OPENS + timedelta(minutes=1)
    first = await deliver_invitations(
        any_store, setup.round.id, messengers=messengers(slack), now=now
    )
    assert [d.participant_id for d in first.deferred] == [fra]
    assert [d.participant_id for d in first.failed] == [idn]
    assert "bot blocked" in (first.failed[0].error or "")
    assert len(first.sent) == 2
    failed = await any_store.outbox.get(channel="slack", key=invitation_key(setup.round.id, idn))
    assert failed is not None and failed.status == "failed"
    assert (
        await any_store.outbox.get(channel="slack", key=invitation_key(setup.round.id, fra)) is None
    )

    slack.refuse.clear()  # the rate limit is over, and the blocked delegate unblocked the bot
    later = await deliver_invitations(
        any_store, setup.round.id, messengers=messengers(slack), now=now + timedelta(minutes=1)
    )
    assert [d.participant_id for d in later.sent] == [fra]
    assert later.skipped == 3  # the blocked delegate is not retried automatically
    assert slack.to(idn) == [] and len(slack.to(fra)) == 1


async def test_a_restart_halfway_sends_each_invitation_exactly_once(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    ids = sorted(p.id for p in setup.by_code.values())
    # The first process gets through two invitations, then the channel fails and it stops.
    before = RecordingMessenger(refuse={pid: False for pid in ids[2:]})
    now = OPENS + timedelta(minutes=1)
    await tick(any_store, messengers=messengers(before), now=now, office_hours=HOURS)
    # A new process (new messenger, same database) takes over; then a repeated launch.
    after = RecordingMessenger()
    for minutes in (2, 3):
        await tick(
            any_store,
            messengers=messengers(after),
            now=now + timedelta(minutes=minutes),
            office_hours=HOURS,
        )
    sent = [s.participant_id for s in before.sent + after.sent]
    assert sorted(sent) == ids


async def test_concurrent_ticks_send_once(any_store: AnyStore, survey: Survey) -> None:
    await launch(any_store, survey)
    slack = RecordingMessenger()
    now = OPENS + timedelta(minutes=1)
    reports = await asyncio.gather(
        *(
            tick(any_store, messengers=messengers(slack), now=now, office_hours=HOURS)
            for _ in range(3)
        )
    )
    assert len(slack.sent) == 4
    assert sum(len(r.sent) for r in reports) == 4


async def test_the_first_channel_that_reaches_a_delegate_is_used_and_only_once(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    fra = setup.id("FRA")
    telegram_users: set[int] = set()
    slack = RecordingMessenger("slack", reach=lambda p: p.delegation in ("IDN", "MEX"))
    telegram = RecordingMessenger("telegram", reach=lambda p: p.id in telegram_users)
    both = messengers(slack, telegram)
    now = OPENS + timedelta(minutes=1)
    first = await tick(any_store, messengers=both, now=now, office_hours=HOURS)
    assert len(slack.sent) == 2 and telegram.sent == []
    assert sorted(first.unreachable) == sorted([fra, setup.id("EGY")])
    # Claire enrols on Telegram: the next tick invites her there.
    telegram_users.add(fra)
    await tick(any_store, messengers=both, now=now + timedelta(minutes=1), office_hours=HOURS)
    assert [s.participant_id for s in telegram.sent] == [fra]
    # Reaching Indonesia on Telegram too later does not invite her a second time.
    telegram_users.add(setup.id("IDN"))
    await tick(
        any_store,
        messengers=messengers(telegram, slack),
        now=now + timedelta(minutes=2),
        office_hours=HOURS,
    )
    assert len(telegram.sent) == 1 and len(slack.sent) == 2


async def test_an_unexpected_error_releases_the_claim(any_store: AnyStore, survey: Survey) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])

    class Broken(RecordingMessenger):
        async def send_screen(
            self, participant: Participant, round_id: int, *, preface: str | None = None
        ) -> str | None:
            raise ConnectionResetError("peer went away")

    now = OPENS + timedelta(minutes=1)
    report = await tick(any_store, messengers=messengers(Broken()), now=now, office_hours=HOURS)
    assert [d.participant_id for d in report.deferred] == [setup.id("FRA")]
    slack = RecordingMessenger()
    await tick(any_store, messengers=messengers(slack), now=now, office_hours=HOURS)
    assert len(slack.sent) == 1


# --- reminders -------------------------------------------------------------------------------


async def test_reminders_only_to_non_responders_inside_office_hours_once_across_a_restart(
    any_store: AnyStore, survey: Survey
) -> None:
    people = [*PEOPLE[:3], ("DEU", "Jonas Weber", "en", "Europe/Berlin")]
    setup = await launch(any_store, survey, people=people)
    await answer(any_store, setup, "DEU", "a", "b", "c", "d", now=OPENS + timedelta(hours=1))
    await act_as(
        any_store,
        round_id=setup.round.id,
        participant_id=setup.id("DEU"),
        action="submit",
        now=OPENS + timedelta(hours=1),
    )
    first, second = RecordingMessenger(), RecordingMessenger()
    # Every hour of the week, each tick run twice; Jakarta's fallback minute (Friday 17:59
    # WIB) is a tick too, as it would be with the default 60-second tick. Halfway through
    # the week the bot restarts: a new messenger, the same database.
    moments = sorted([*hourly(OPENS, CLOSES + timedelta(hours=1)), utc(2026, 6, 12, 10, 59)])
    restart = utc(2026, 6, 10, 12)
    for now in moments:
        current = first if now < restart else second
        for _ in range(2):
            await tick(any_store, messengers=messengers(current), now=now, office_hours=HOURS)
    reminders = [
        (s.participant_id, s.preface or "")
        for s in first.sent + second.sent
        if not (s.preface or "").startswith(("Dear", "Bonjour", "Estimado", "السيد"))
    ]
    by_person = {
        code: [p for pid, p in reminders if pid == setup.id(code)] for code in setup.by_code
    }
    assert by_person["DEU"] == []  # submitted: never reminded
    assert [len(by_person[code]) for code in ("FRA", "IDN", "MEX")] == [3, 3, 3]
    assert all(p.startswith("Rappel") for p in by_person["FRA"])
    assert all(p.startswith("Reminder") for p in by_person["IDN"])
    assert all(p.startswith("Recordatorio") for p in by_person["MEX"])
    # Each was sent in the delegate's office hours, and once: the outbox has them all.
    for code in ("FRA", "IDN", "MEX"):
        participant = setup.by_code[code]
        for step in (D3, D1, H2):
            key = reminder_key(setup.round, participant.id, step)
            row = await any_store.outbox.get(channel="slack", key=key)
            assert row is not None and row.status == "sent", key
            local = row.updated_at.astimezone(ZoneInfo(participant.timezone))
            assert HOURS.contains(local), (key, local)
    assert len(first.sent) + len(second.sent) == 3 + 9  # invitations (DEU submitted first) + 9
    assert second.sent and first.sent


async def test_a_delegate_who_started_is_told_where_they_stopped(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingMessenger()
    await tick(
        any_store,
        messengers=messengers(slack),
        now=OPENS + timedelta(minutes=1),
        office_hours=HOURS,
    )
    await answer(any_store, setup, "FRA", "un", "deux", now=OPENS + timedelta(hours=2))
    await answer(any_store, setup, "IDN", "1", "2", "3", "4", now=OPENS + timedelta(hours=2))
    # Wednesday 10 June: 09:00 in Paris, 14:00 in Jakarta, 10:00 in Cairo: 3-day reminders.
    report = await send_due_reminders(
        any_store,
        setup.round.id,
        messengers=messengers(slack),
        now=utc(2026, 6, 10, 7),
        office_hours=HOURS,
    )
    assert {d.participant_id for d in report.sent} == {setup.id(c) for c in ("FRA", "IDN", "EGY")}
    assert slack.to(setup.id("FRA"))[-1] == (
        "Rappel\u00a0: vous avez répondu à 2 des 4 questions de l’enquête «\u00a0Enquête test"
        "\u00a0», qui sera clôturée le vendredi 12 juin 2026, 18:00 (heure d’été d’Europe "
        "centrale). Voici où vous vous êtes arrêté(e)."
    )
    # Everything answered but not submitted: asked to review and submit.
    assert slack.to(setup.id("IDN"))[-1].startswith(
        "Reminder: you have answered the questions of the survey “Test survey” (4 of 4) but "
        "not submitted them yet."
    )


async def test_after_downtime_the_latest_due_reminder_goes_out_once_late(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    slack = RecordingMessenger()
    await tick(
        any_store,
        messengers=messengers(slack),
        now=OPENS + timedelta(minutes=1),
        office_hours=HOURS,
    )
    # Down from Monday to Friday 12 June 08:00 UTC (10:00 in Paris): the 3-day and 1-day
    # steps both fell due; only the 1-day one is sent, the other is recorded as superseded.
    back = utc(2026, 6, 12, 8)
    report = await tick(any_store, messengers=messengers(slack), now=back, office_hours=HOURS)
    fra = setup.id("FRA")
    assert [d.key for d in report.sent] == [reminder_key(setup.round, fra, D1)]
    assert [d.key for d in report.superseded] == [reminder_key(setup.round, fra, D3)]
    again = await tick(
        any_store, messengers=messengers(slack), now=back + timedelta(minutes=1), office_hours=HOURS
    )
    assert again.sent == [] and again.superseded == []
    superseded = await any_store.outbox.get(channel="slack", key=reminder_key(setup.round, fra, D3))
    assert superseded is not None and superseded.status == "failed"
    assert len(slack.to(fra)) == 2  # the invitation and one reminder


async def test_a_late_invitation_supersedes_the_reminders_already_due(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    enrolled = False
    telegram = RecordingMessenger("telegram", reach=lambda p: enrolled)
    # Claire enrols on Thursday 11 June at 10:00 UTC, after her 3-day reminder's time.
    thursday = utc(2026, 6, 11, 10)
    assert (
        await tick(any_store, messengers=messengers(telegram), now=thursday, office_hours=HOURS)
    ).unreachable == [fra]
    enrolled = True
    report = await tick(
        any_store,
        messengers=messengers(telegram),
        now=thursday + timedelta(minutes=1),
        office_hours=HOURS,
    )
    # The same tick sends the invitation and records the 3-day reminder as superseded.
    assert [d.key for d in report.sent] == [invitation_key(setup.round.id, fra)]
    assert [d.key for d in report.superseded] == [reminder_key(setup.round, fra, D3)]
    next_tick = await tick(
        any_store,
        messengers=messengers(telegram),
        now=thursday + timedelta(minutes=2),
        office_hours=HOURS,
    )
    assert next_tick.sent == [] and next_tick.superseded == []
    friday = await tick(
        any_store, messengers=messengers(telegram), now=utc(2026, 6, 12, 7), office_hours=HOURS
    )
    assert [d.key for d in friday.sent] == [reminder_key(setup.round, fra, D1)]


async def test_a_blocked_delegate_gets_no_reminders(any_store: AnyStore, survey: Survey) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    slack = RecordingMessenger(refuse={fra: True})
    for now in hourly(OPENS, CLOSES):
        await tick(any_store, messengers=messengers(slack), now=now, office_hours=HOURS)
    assert slack.sent == []
    row = await any_store.outbox.get(channel="slack", key=reminder_key(setup.round, fra, D3))
    assert row is None


async def test_a_transient_refusal_of_a_reminder_is_retried_at_the_next_tick(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    slack = RecordingMessenger()
    await tick(any_store, messengers=messengers(slack), now=OPENS, office_hours=HOURS)
    slack.refuse[fra] = False
    wednesday = utc(2026, 6, 10, 7)
    report = await tick(any_store, messengers=messengers(slack), now=wednesday, office_hours=HOURS)
    assert [d.key for d in report.deferred] == [reminder_key(setup.round, fra, D3)]
    slack.refuse.clear()
    retry = await tick(
        any_store,
        messengers=messengers(slack),
        now=wednesday + timedelta(minutes=1),
        office_hours=HOURS,
    )
    assert [d.key for d in retry.sent] == [reminder_key(setup.round, fra, D3)]


async def test_after_an_extension_reminders_follow_the_new_date(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=[PEOPLE[2]])
    mex = setup.id("MEX")
    slack = RecordingMessenger()
    await tick(any_store, messengers=messengers(slack), now=OPENS, office_hours=HOURS)
    tuesday = utc(2026, 6, 9, 16)  # 10:00 in Mexico City: the 3-day reminder
    await tick(any_store, messengers=messengers(slack), now=tuesday, office_hours=HOURS)
    assert "viernes, 12 de junio" in slack.to(mex)[-1]
    extended = await organising.extend(
        any_store,
        ORGANISER,
        organising.ExtendRequest(setup.round.id, closes=utc(2026, 6, 19, 16)),
        now=tuesday + timedelta(hours=1),
        office_hours=HOURS,
    )
    assert extended.round.closes_at == utc(2026, 6, 19, 16)
    entries = await any_store.audit.entries()
    assert entries[0].action == "round.extend"
    assert entries[0].details["closes_at"] == "2026-06-19T16:00:00+00:00"
    # Thursday 11 June, the old 1-day step's time: nothing (the old date's steps are gone).
    quiet = await tick(
        any_store, messengers=messengers(slack), now=utc(2026, 6, 11, 16), office_hours=HOURS
    )
    assert quiet.sent == []
    # Tuesday 16 June, the new 3-day step: a new reminder with the new date.
    report = await tick(
        any_store, messengers=messengers(slack), now=utc(2026, 6, 16, 16), office_hours=HOURS
    )
    assert [d.key for d in report.sent] == [reminder_key(extended.round, mex, D3)]
    assert "viernes, 19 de junio de 2026" in slack.to(mex)[-1]
    assert len(slack.to(mex)) == 3


# --- closing ---------------------------------------------------------------------------------


async def test_a_round_closes_on_time_and_started_responses_become_partial(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingMessenger()
    await answer(any_store, setup, "FRA", "un", now=OPENS + timedelta(hours=1))
    just_before = await tick(
        any_store,
        messengers=messengers(slack),
        now=CLOSES - timedelta(seconds=1),
        office_hours=HOURS,
    )
    assert just_before.closed == []
    # The bot was down at closing time and comes back two days later: closed "on time".
    late = await tick(
        any_store, messengers=messengers(slack), now=CLOSES + timedelta(days=2), office_hours=HOURS
    )
    assert late.closed == [setup.round.id]
    closed = await any_store.rounds.get_round(setup.round.id)
    assert closed.closed_at == CLOSES
    counts = await any_store.rounds.counts(setup.round.id)
    assert counts[ResponseStatus.PARTIAL] == 1 and counts[ResponseStatus.NOT_STARTED] == 3
    assert (
        await tick(
            any_store,
            messengers=messengers(slack),
            now=CLOSES + timedelta(days=3),
            office_hours=HOURS,
        )
    ).closed == []
    late_answer = await act_as(
        any_store,
        round_id=setup.round.id,
        participant_id=setup.id("FRA"),
        action=Typed("deux"),
        language="fr",
        now=CLOSES + timedelta(days=2),
    )
    assert late_answer.kind is ScreenKind.CLOSED and not late_answer.accepted
    assert (await any_store.rounds.counts(setup.round.id))[ResponseStatus.PARTIAL] == 1


async def test_closing_can_tell_those_with_a_partial_response(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingMessenger()
    await tick(any_store, messengers=messengers(slack), now=OPENS, office_hours=HOURS)
    await answer(any_store, setup, "MEX", "uno", "dos", now=OPENS + timedelta(hours=1))
    for _ in range(2):
        await close_due_rounds(
            any_store, now=CLOSES, messengers=messengers(slack), notify_partial=True
        )
    assert slack.to(setup.id("MEX"))[-1] == (
        "La encuesta «Encuesta de prueba» se cerró el viernes, 12 de junio de 2026, 10:00 "
        "(hora estándar central). Las 2 respuestas que dio se han conservado como "
        "respuesta parcial. Gracias."
    )
    assert len(slack.to(setup.id("MEX"))) == 2 and len(slack.to(setup.id("FRA"))) == 1


async def test_closing_by_hand_records_who_and_refuses_twice(
    memory_store: InMemoryStore, survey: Survey
) -> None:
    setup = await launch(memory_store, survey)
    now = utc(2026, 6, 10)
    closed = await organising.close(memory_store, ORGANISER, setup.round.id, now=now)
    assert closed.round.closed_at == now
    assert (await memory_store.audit.entries())[0].action == "round.close"
    with pytest.raises(RoundError, match="already closed"):
        await organising.close(memory_store, ORGANISER, setup.round.id, now=now)


async def test_one_rounds_trouble_does_not_stop_the_others(
    memory_store: InMemoryStore, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = await launch(memory_store, survey)
    other = await memory_store.rounds.create_round(
        survey_version_id=setup.round.survey_version_id,
        audience=Audience("all"),
        opens_at=OPENS,
        closes_at=CLOSES,
        participant_ids=[setup.id("FRA")],
        now=OPENS,
    )
    original = memory_store.rounds.status

    async def failing_status(round_id: int) -> Any:
        if round_id == setup.round.id:
            raise RuntimeError("disk on fire")
        return await original(round_id)

    monkeypatch.setattr(memory_store.rounds, "status", failing_status)
    slack = RecordingMessenger()
    report = await tick(memory_store, messengers=messengers(slack), now=OPENS, office_hours=HOURS)
    assert report.errors == [f"round {setup.round.id}: RuntimeError('disk on fire')"]
    assert [(s.round_id, s.participant_id) for s in slack.sent] == [(other.id, setup.id("FRA"))]
    assert "1 errors" in report.summary()


# --- texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "timezone", "expected"),
    [
        ("en", "Europe/Paris", "Monday, 30 March 2026, 12:00 (Central European Summer Time)"),
        (
            "fr-CA",
            "America/Toronto",
            "lundi 30 mars 2026, 06:00 (heure d’été de l’Est nord-américain)",
        ),
        ("de", "Mars/Olympus", "Monday, 30 March 2026, 10:00 (Coordinated Universal Time)"),
    ],
)
def test_moments_are_written_in_the_delegates_language_and_timezone(
    language: str, timezone: str, expected: str
) -> None:
    assert delivery_texts.moment(utc(2026, 3, 30, 10), language, timezone) == expected


@pytest.mark.parametrize(("questions", "minutes"), [(0, 5), (10, 5), (11, 10), (22, 15), (40, 20)])
def test_how_long_a_survey_takes(questions: int, minutes: int) -> None:
    assert delivery_texts.estimated_minutes(questions) == minutes


def test_arabic_counts_minutes() -> None:
    assert delivery_texts.duration(10, "ar") == "نحو \u206810\u2069 دقائق"
    assert delivery_texts.duration(15, "ar") == "نحو \u206815\u2069 دقيقة"
    assert re.fullmatch(r"about \d+ minutes", delivery_texts.duration(15, "de"))
