"""Invitations, reminders and closing written to the outbox, on every store, with an injected
clock: each invitation and reminder is enqueued once, to the right people, at a decent hour in
their timezone, in their language, also across repeated ticks, concurrent ticks, restarts and
failures; and a tick costs what is due, not the roster."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import event, update

from bot.fakes.messenger import RecordingOut
from bot.fakes.slack_api import FakeSlackApi, FakeUser
from handlers.slack.delivery import SlackOut
from handlers.slack.identity import SlackIdentities
from handlers.telegram.delivery import TelegramOut
from storage.database import Store
from storage.memory import InMemoryStore
from storage.tables import ResponseRow
from surveys import delivery_texts
from surveys.conversation import ScreenKind
from surveys.definition import Survey
from surveys.engine import Typed
from surveys.errors import RoundError
from surveys.queues import Lane, OutboundStatus
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
from surveys.reminders import OfficeHours, next_reminder, reminder_key
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.delivery import (
    UNREACHABLE_RETRY,
    DeliveryReport,
    close_due_rounds,
    deliver_invitations,
    invitation_key,
    send_due_reminders,
    tick,
)
from tests.support import FixedClock, act_as

AnyStore = Store | InMemoryStore
HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")
ORGANISER = Actor.command_line("organiser")
D3, D1, H2 = DEFAULT_REMINDER_POLICY


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


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
    slack_ids: dict[str, str] | None = None,
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
                slack_user_id=(slack_ids or {}).get(code),
            )
            for code, name, language, timezone in people
        ],
    )
    codes = {code for code, *_ in people}
    participants = [p for p in await repos.roster.list_participants() if p.delegation in codes]
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


async def submit(repos: AnyStore, setup: Setup, code: str, *, now: datetime) -> None:
    await answer(repos, setup, code, "a", "b", "c", "d", now=now)
    await act_as(
        repos, round_id=setup.round.id, participant_id=setup.id(code), action="submit", now=now
    )


async def run(repos: AnyStore, *outs: RecordingOut, now: datetime) -> DeliveryReport:
    return await tick(repos, channels=list(outs), now=now, office_hours=HOURS)


def keys(enqueued: list[Any]) -> list[str]:
    return [item.key for item in enqueued]


async def due_invitations(repos: AnyStore, now: datetime) -> set[int]:
    return {item.participant.id for item in await repos.rounds.due_invitations(now=now, limit=99)}


# --- invitations -----------------------------------------------------------------------------


async def test_invitations_go_out_once_in_each_language_and_timezone(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    now = OPENS + timedelta(minutes=1)
    first = await run(any_store, slack, now=now)
    again = await run(any_store, slack, now=now)
    assert sorted(item.participant_id for item in first.invited) == sorted(
        p.id for p in setup.by_code.values()
    )
    assert again.invited == [] and again.skipped == 0  # nothing is due any more
    # Four questions take about five minutes; the closing time is the delegate's own.
    assert await slack.texts(any_store, setup.id("FRA")) == [
        "Bonjour Claire Dubois,\n\nVotre délégation est invitée à répondre à l’enquête "
        "«\u00a0Enquête test\u00a0». Cela prend environ 5\u00a0minutes. Merci de répondre avant "
        "le vendredi 12 juin 2026, 18:00 (heure d’été d’Europe centrale)."
    ]
    [idn] = await slack.texts(any_store, setup.id("IDN"))
    assert "Friday, 12 June 2026, 23:00 (Western Indonesia Time)" in idn
    [mex] = await slack.texts(any_store, setup.id("MEX"))
    assert "viernes, 12 de junio de 2026, 10:00 (hora estándar central)" in mex
    [arabic] = await slack.texts(any_store, setup.id("EGY"))
    # Names, dates and numbers in an Arabic text are isolated (FSI ... PDI) for bidi.
    assert "«\u2068Test survey\u2069»" in arabic and "\u2068Omar Farouk\u2069" in arabic
    assert "\u2068الجمعة، 12 يونيو 2026، 7:00 م\u2069" in arabic
    assert "نحو \u20685\u2069 دقائق" in arabic
    # Each is the first question's screen, in the bulk lane, and recorded as the invitation.
    [message] = [m for m in await slack.stored(any_store) if m.participant_id == setup.id("FRA")]
    assert message.key == invitation_key(setup.round.id, setup.id("FRA"))
    assert (message.body["screen"], message.body["question"]) == ("asking", "q1")
    assert message.status is OutboundStatus.PENDING and message.created_at == now
    assert message.lane is Lane.BULK
    plans = await any_store.rounds.reminder_plans(setup.round.id)
    fra = next(item for item in plans if item.participant.id == setup.id("FRA"))
    assert (fra.invited_on, fra.invited_at) == ("slack", now)
    # Her 3-day reminder: Tuesday 18:00 in Paris is after hours, so Wednesday 09:00.
    assert fra.remind_at == utc(2026, 6, 10, 7)


async def test_the_invitation_and_the_first_question_are_one_message_on_each_channel(
    any_store: AnyStore, survey: Survey
) -> None:
    # Claire has her Slack id in the roster, Putri is found on Slack by her email, Lucía is
    # not on Slack but enrolled on Telegram.
    setup = await launch(any_store, survey, people=PEOPLE[:3], slack_ids={"FRA": "U0FRA"})
    fra, idn, mex = setup.id("FRA"), setup.id("IDN"), setup.id("MEX")
    await any_store.roster.link_identity(mex, "telegram", "4711")
    clock = FixedClock(OPENS)
    async with FakeSlackApi(users=[FakeUser("U0IDN", "idn@example.org", "Putri")]) as api:
        client = AsyncWebClient(token="xoxb-test", base_url=api.url)
        identities = SlackIdentities(
            roster=any_store.roster, identities=any_store.identities, client=client
        )
        slack = SlackOut(identities, store=any_store, clock=clock)
        telegram = TelegramOut(any_store, clock=clock)
        report = await tick(any_store, channels=[slack, telegram], now=OPENS, office_hours=HOURS)
        # Only Putri is looked up: Lucía's Telegram chat is known, which costs Slack nothing.
        assert [call.args["email"] for call in api.calls_to("users.lookupByEmail")] == [
            "idn@example.org"
        ]
    assert sorted((item.participant_id, item.channel) for item in report.invited) == sorted(
        [(fra, "slack"), (idn, "slack"), (mex, "telegram")]
    )

    def parts(participant_id: int) -> list[str]:
        key = invitation_key(setup.round.id, participant_id)
        return [key, *(f"{key}:part{n}" for n in range(3))]

    [to_claire] = await any_store.messages.find(keys=parts(fra))
    assert (to_claire.method, to_claire.address) == ("chat.postMessage", "U0FRA")
    assert to_claire.body["channel"] == "U0FRA"  # posted to the user id, no conversations.open
    shown = str(to_claire.body["blocks"])
    assert shown.index("Bonjour Claire Dubois") < shown.index("Question q1 ?")
    [to_putri] = await any_store.messages.find(keys=parts(idn))
    assert to_putri.address == "U0IDN" and "Dear Putri Lestari" in str(to_putri.body["blocks"])

    [to_lucia] = await any_store.messages.find(keys=parts(mex))
    assert (to_lucia.channel, to_lucia.method, to_lucia.address) == (
        "telegram",
        "sendMessage",
        "4711",
    )
    text = str(to_lucia.body["text"])
    assert text.index("Estimado/a Lucía Hernández") < text.index("¿Pregunta q1?")
    assert "viernes, 12 de junio de 2026, 10:00 (hora estándar central)" in text
    # The live screen says which message shows her first question, for typed answers.
    live = await any_store.screens.latest(channel="telegram", participant_id=mex)
    assert live is not None and (live.question_id, live.outbox_id) == ("q1", to_lucia.id)


async def test_a_scheduled_round_waits_until_it_opens(any_store: AnyStore, survey: Survey) -> None:
    await launch(any_store, survey, opens=utc(2026, 6, 10, 6))
    slack = RecordingOut()
    before = await run(any_store, slack, now=utc(2026, 6, 10, 5, 59))
    assert before.invited == [] and slack.asked == []
    at_opening = await run(any_store, slack, now=utc(2026, 6, 10, 6))
    assert len(at_opening.invited) == 4
    assert {m.created_at for m in await slack.stored(any_store)} == {utc(2026, 6, 10, 6)}
    closed = await deliver_invitations(any_store, channels=[slack], now=CLOSES, office_hours=HOURS)
    assert closed.invited == [] and closed.skipped == 0


async def test_each_delegate_is_invited_on_the_first_channel_that_reaches_them(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    fra, idn, egy = setup.id("FRA"), setup.id("IDN"), setup.id("EGY")
    on_telegram: set[int] = set()
    on_slack = {idn, setup.id("MEX")}
    slack = RecordingOut("slack", reaches=lambda p: p.id in on_slack)
    telegram = RecordingOut("telegram", reaches=lambda p: p.id in on_telegram)
    first = await run(any_store, slack, telegram, now=OPENS)
    assert sorted(item.participant_id for item in first.invited) == sorted(on_slack)
    assert sorted(first.unreachable) == sorted([fra, egy])
    assert await telegram.stored(any_store) == []

    # Claire enrols on Telegram five minutes later: invited at the next tick, not in 15 minutes.
    enrolled = OPENS + timedelta(minutes=5)
    on_telegram.add(fra)
    async with any_store.transaction() as tx:
        await tx.rounds.invite_again(fra, now=enrolled)
    slack.asked.clear()
    telegram.asked.clear()
    second = await run(any_store, slack, telegram, now=enrolled + timedelta(minutes=1))
    assert [(item.participant_id, item.channel) for item in second.invited] == [(fra, "telegram")]
    # Omar is not looked up again before his retry time: the tick asks only about Claire.
    assert slack.asked == [fra] and telegram.asked == [fra]

    # Reaching Indonesia on Telegram too later does not invite her a second time.
    on_telegram.add(idn)
    on_slack.add(egy)  # Omar has joined the Slack workspace
    quiet = await run(any_store, telegram, slack, now=OPENS + UNREACHABLE_RETRY / 2)
    assert quiet.invited == [] and quiet.unreachable == []
    retry = await run(any_store, telegram, slack, now=OPENS + UNREACHABLE_RETRY)
    assert [(item.participant_id, item.channel) for item in retry.invited] == [(egy, "slack")]
    assert [m.participant_id for m in await telegram.stored(any_store)] == [fra]
    assert sorted(m.participant_id for m in await slack.stored(any_store)) == sorted(
        [idn, setup.id("MEX"), egy]
    )


@dataclass
class DiesAtTheThird(RecordingOut):
    """A process that is killed while it looks up its third delegate."""

    stuck: asyncio.Event = field(default_factory=asyncio.Event)

    async def reach(self, participant: Participant, *, look_up: bool = True) -> str | None:
        if look_up and len(self.asked) == 2:
            self.stuck.set()
            await asyncio.Event().wait()  # until the process is killed
        return await super().reach(participant, look_up=look_up)


async def test_a_restart_halfway_invites_each_delegate_exactly_once(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    # The first process commits a batch of two invitations, then dies halfway through the
    # next batch (killed, or stopped with Ctrl-C).
    before = DiesAtTheThird()
    working = asyncio.create_task(
        deliver_invitations(any_store, channels=[before], now=OPENS, office_hours=HOURS, batch=2)
    )
    await asyncio.wait_for(before.stuck.wait(), timeout=10)
    working.cancel()
    with pytest.raises(asyncio.CancelledError):
        await working
    earlier = [m.participant_id for m in await before.stored(any_store)]
    assert len(earlier) == 2
    # A new process takes over (same database); then the next ticks, and a repeated one.
    after = RecordingOut()
    reports = [await run(any_store, after, now=OPENS + timedelta(minutes=m)) for m in (1, 1, 2)]
    invited = [item.participant_id for report in reports for item in report.invited]
    assert sorted(earlier + invited) == sorted(p.id for p in setup.by_code.values())
    stored = await any_store.messages.find(
        keys=[invitation_key(setup.round.id, p.id) for p in setup.by_code.values()]
    )
    assert len(stored) == 4


async def test_concurrent_ticks_invite_once(any_store: AnyStore, survey: Survey) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    now = OPENS + timedelta(minutes=1)
    reports = await asyncio.gather(*(run(any_store, slack, now=now) for _ in range(3)))
    invited = [item.participant_id for report in reports for item in report.invited]
    assert sorted(invited) == sorted(p.id for p in setup.by_code.values())
    assert sum(report.skipped for report in reports) == len(slack.drawn) - 4
    assert len(await slack.stored(any_store)) == 4
    assert await due_invitations(any_store, now) == set()


async def test_concurrent_ticks_remind_once(any_store: AnyStore, survey: Survey) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS)
    # Wednesday 07:00 UTC: 09:00 in Paris, 14:00 in Jakarta, 10:00 in Cairo.
    wednesday = utc(2026, 6, 10, 7)
    reports = await asyncio.gather(*(run(any_store, slack, now=wednesday) for _ in range(3)))
    reminded = sorted(key for report in reports for key in keys(report.reminded))
    assert reminded == sorted(
        reminder_key(setup.round, setup.id(code), D3) for code in ("FRA", "IDN", "EGY")
    )
    assert len(await slack.stored(any_store)) == 4 + 3


async def test_an_invitation_and_its_record_commit_together(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    fra = setup.id("FRA")
    fra_key = invitation_key(setup.round.id, fra)
    # Claire's invitation is written to the outbox, then something fails before the tick
    # records it: both are undone, and the others' invitations are not held up.
    slack = RecordingOut(faults={fra_key: ConnectionResetError("peer went away")})
    report = await run(any_store, slack, now=OPENS)
    assert sorted(item.participant_id for item in report.invited) == sorted(
        p.id for code, p in setup.by_code.items() if code != "FRA"
    )
    assert report.errors == [f"invitation {fra_key}: ConnectionResetError('peer went away')"]
    assert "1 errors" in report.summary()
    assert await any_store.messages.get(channel="slack", key=fra_key) is None
    assert fra in await due_invitations(any_store, OPENS + UNREACHABLE_RETRY)
    assert fra not in {
        item.participant.id for item in await any_store.rounds.reminder_plans(setup.round.id)
    }
    # Tried again later, and then invited once.
    slack.faults.clear()
    assert (await run(any_store, slack, now=OPENS + timedelta(minutes=1))).invited == []
    later = await run(any_store, slack, now=OPENS + UNREACHABLE_RETRY)
    assert keys(later.invited) == [fra_key]
    assert len(await slack.texts(any_store, fra)) == 1


async def test_a_failed_channel_lookup_holds_up_nobody_else(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    fra = setup.id("FRA")
    down = True

    def reaches(participant: Participant) -> bool:
        if participant.id == fra and down:
            raise ConnectionError("the platform did not answer")
        return True

    slack = RecordingOut(reaches=reaches)
    report = await run(any_store, slack, now=OPENS)
    assert len(report.invited) == 3 and report.unreachable == []
    assert report.errors == [
        f"invitation {invitation_key(setup.round.id, fra)}: "
        "ConnectionError('the platform did not answer')"
    ]
    down = False
    assert keys((await run(any_store, slack, now=OPENS + UNREACHABLE_RETRY)).invited) == [
        invitation_key(setup.round.id, fra)
    ]
    # The same for a reminder: looked at again later, still in time.
    down = True
    wednesday = utc(2026, 6, 10, 7)  # 09:00 in Paris
    failed = await run(any_store, slack, now=wednesday)
    assert failed.errors == [
        f"reminder {reminder_key(setup.round, fra, D3)}: "
        "ConnectionError('the platform did not answer')"
    ]
    down = False
    later = await run(any_store, slack, now=wednesday + UNREACHABLE_RETRY)
    assert keys(later.reminded) == [reminder_key(setup.round, fra, D3)]


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
    third = await memory_store.rounds.create_round(
        survey_version_id=setup.round.survey_version_id,
        audience=Audience("all"),
        opens_at=OPENS,
        closes_at=OPENS + timedelta(hours=1),
        participant_ids=[setup.id("IDN")],
        now=OPENS,
    )
    # The first round's invitations cannot be drawn; the third round cannot be closed.
    slack = RecordingOut(faults={f"invite:{setup.round.id}:": RuntimeError("disk on fire")})
    original = memory_store.rounds.close_round

    async def failing_close(round_id: int, *, now: datetime) -> Round:
        if round_id == third.id:
            raise RuntimeError("no space left")
        return await original(round_id, now=now)

    monkeypatch.setattr(memory_store.rounds, "close_round", failing_close)
    report = await run(memory_store, slack, now=OPENS)
    assert [(item.participant_id, item.key) for item in report.invited] == [
        (setup.id("FRA"), invitation_key(other.id, setup.id("FRA"))),
        (setup.id("IDN"), invitation_key(third.id, setup.id("IDN"))),
    ]
    assert len(report.errors) == 4  # each of the first round's invitations
    # Later the first round's trouble is over, the third round's is not.
    slack.faults.clear()
    later = await run(memory_store, slack, now=OPENS + timedelta(hours=2))
    assert later.errors == [f"closing round {third.id}: RuntimeError('no space left')"]
    assert "1 errors" in later.summary()
    assert sorted(item.participant_id for item in later.invited) == sorted(
        p.id for p in setup.by_code.values()
    )


# --- reminders -------------------------------------------------------------------------------


def hourly(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += timedelta(hours=1)


# Two rounds of a week across Paris's 2026 changes of time (29 March, 25 October): when each
# delegate's reminders go out, in UTC and on their own clock. Steps landing on the same
# moment collapse into the one closest to closing.
ACROSS_DST = {
    "spring": (
        utc(2026, 3, 23),
        utc(2026, 3, 30, 16),  # Monday 18:00 in Paris (summer time since Sunday)
        {
            "FRA": [
                (D3, utc(2026, 3, 27, 16), "Fri 17:00 CET"),
                (D1, utc(2026, 3, 30, 7), "Mon 09:00 CEST"),  # Sunday's step, to Monday
                (H2, utc(2026, 3, 30, 14), "Mon 16:00 CEST"),
            ],
            "IDN": [
                # Friday 23:00 and Sunday 23:00 in Jakarta: both to Monday 09:00.
                (D1, utc(2026, 3, 30, 2), "Mon 09:00 WIB"),
                # 21:00 on closing day: back to 17:59, the last minute of office hours.
                (H2, utc(2026, 3, 30, 10, 59), "Mon 17:59 WIB"),
            ],
            "MEX": [
                (D3, utc(2026, 3, 27, 16), "Fri 10:00 CST"),
                # Sunday's step and Monday 08:00 both to Monday 09:00.
                (H2, utc(2026, 3, 30, 15), "Mon 09:00 CST"),
            ],
        },
    ),
    "autumn": (
        utc(2026, 10, 19),
        utc(2026, 10, 26, 12),  # Monday 13:00 in Paris (winter time since Sunday)
        {
            "FRA": [
                (D3, utc(2026, 10, 23, 12), "Fri 14:00 CEST"),
                (D1, utc(2026, 10, 26, 8), "Mon 09:00 CET"),
                (H2, utc(2026, 10, 26, 10), "Mon 11:00 CET"),
            ],
            "IDN": [
                (D1, utc(2026, 10, 26, 2), "Mon 09:00 WIB"),
                (H2, utc(2026, 10, 26, 10), "Mon 17:00 WIB"),
            ],
            "MEX": [
                (D3, utc(2026, 10, 23, 15), "Fri 09:00 CST"),
                # Monday 09:00 would leave less than an hour: back to Friday 17:59.
                (H2, utc(2026, 10, 23, 23, 59), "Fri 17:59 CST"),
            ],
        },
    ),
}


@pytest.mark.parametrize("season", ["spring", "autumn"])
async def test_reminders_go_to_non_submitters_in_their_office_hours_across_dst(
    any_store: AnyStore, survey: Survey, season: str
) -> None:
    opens, closes, expected = ACROSS_DST[season]
    people = [*PEOPLE[:3], ("DEU", "Jonas Weber", "en", "Europe/Berlin")]
    people.append(("SEN", "Aminata Diop", "fr", "Africa/Dakar"))
    setup = await launch(any_store, survey, people=people, opens=opens, closes=closes)
    # Jonas submits before his invitation goes out; Aminata right after her first reminder.
    await submit(any_store, setup, "DEU", now=opens)
    first, second = RecordingOut(), RecordingOut()
    # A tick every hour, and at each moment a reminder is planned (as the default 60-second
    # tick would be), twice then; halfway through the week the bot restarts (a new process,
    # the same database).
    planned = {at for steps in expected.values() for _, at, _ in steps}
    restart = opens + (closes - opens) / 2
    reminded: list[tuple[str, datetime]] = []
    sen_reminded = False
    for now in sorted(set(hourly(opens, closes + timedelta(hours=1))) | planned):
        current = first if now < restart else second
        reports = [await run(any_store, current, now=now) for _ in range(1 + (now in planned))]
        reminded += [(item.key, now) for report in reports for item in report.reminded]
        if not sen_reminded and any(
            key.split(":")[2] == str(setup.id("SEN")) for key, _ in reminded
        ):
            sen_reminded = True
            await submit(any_store, setup, "SEN", now=now + timedelta(minutes=5))
    assert first.drawn and second.drawn

    # No step twice, and each at its time.
    assert len(reminded) == len({key for key, _ in reminded})
    when = dict(reminded)
    for code, steps in expected.items():
        participant = setup.by_code[code]
        zone = ZoneInfo(participant.timezone)
        got = [
            (step, when[reminder_key(setup.round, participant.id, step)])
            for step in DEFAULT_REMINDER_POLICY
            if reminder_key(setup.round, participant.id, step) in when
        ]
        assert got == [(step, at) for step, at, _ in steps], code
        assert [f"{at.astimezone(zone):%a %H:%M %Z}" for _, at in got] == [
            local for _, _, local in steps
        ], code
    reminders = {
        code: [
            text
            for out in (first, second)
            for text in await out.texts(any_store, setup.id(code))
            if text.startswith(("Rappel", "Reminder", "Recordatorio"))
        ]
        for code in setup.by_code
    }
    assert reminders["DEU"] == []  # submitted: neither invited nor reminded
    assert len(reminders["SEN"]) == 1  # submitted after her first reminder
    assert [len(reminders[code]) for code in ("FRA", "IDN", "MEX")] == [3, 2, 2]
    assert all(text.startswith("Rappel") for text in reminders["FRA"])
    assert all(text.startswith("Reminder") for text in reminders["IDN"])
    assert all(text.startswith("Recordatorio") for text in reminders["MEX"])
    invitations = [key for out in (first, second) for key in keys(await out.stored(any_store))]
    assert sum(key.startswith("invite:") for key in invitations) == 4  # not Jonas


async def test_a_delegate_who_started_is_told_where_they_stopped(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS + timedelta(minutes=1))
    await answer(any_store, setup, "FRA", "un", "deux", now=OPENS + timedelta(hours=2))
    await answer(any_store, setup, "IDN", "1", "2", "3", "4", now=OPENS + timedelta(hours=2))
    # Wednesday 10 June: 09:00 in Paris, 14:00 in Jakarta, 10:00 in Cairo: 3-day reminders
    # (Paris's 3-day step was Tuesday 18:00, moved to Wednesday's opening).
    report = await send_due_reminders(
        any_store, channels=[slack], now=utc(2026, 6, 10, 7), office_hours=HOURS
    )
    assert {item.participant_id for item in report.reminded} == {
        setup.id(c) for c in ("FRA", "IDN", "EGY")
    }
    assert (await slack.texts(any_store, setup.id("FRA")))[-1] == (
        "Rappel\u00a0: vous avez répondu à 2 des 4 questions de l’enquête «\u00a0Enquête test"
        "\u00a0», qui sera clôturée le vendredi 12 juin 2026, 18:00 (heure d’été d’Europe "
        "centrale). Voici où vous vous êtes arrêté(e)."
    )
    stored = {m.key: m for m in await slack.stored(any_store)}
    fra = stored[reminder_key(setup.round, setup.id("FRA"), D3)]
    assert (fra.body["screen"], fra.body["question"]) == ("asking", "q3")  # where she stopped
    # Everything answered but not submitted: asked to review and submit.
    assert (await slack.texts(any_store, setup.id("IDN")))[-1].startswith(
        "Reminder: you have answered the questions of the survey “Test survey” (4 of 4) but "
        "not submitted them yet."
    )
    idn = stored[reminder_key(setup.round, setup.id("IDN"), D3)]
    assert (idn.body["screen"], idn.body["question"]) == ("review", None)
    assert (await slack.texts(any_store, setup.id("EGY")))[-1].startswith("تذكير")


async def test_after_downtime_the_latest_due_reminder_goes_out_once_late(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS + timedelta(minutes=1))
    # Down from Monday to Friday 12 June 08:00 UTC (10:00 in Paris): the 3-day and 1-day
    # steps both fell due; only the 1-day one goes out, the other is skipped.
    back = utc(2026, 6, 12, 8)
    report = await run(any_store, slack, now=back)
    assert keys(report.reminded) == [reminder_key(setup.round, fra, D1)]
    assert report.superseded == 1
    again = await run(any_store, slack, now=back + timedelta(minutes=1))
    assert again.reminded == [] and again.superseded == 0
    assert (
        await any_store.messages.get(channel="slack", key=reminder_key(setup.round, fra, D3))
        is None
    )
    assert len(await slack.texts(any_store, fra)) == 2  # the invitation and one reminder


async def test_a_very_late_reminder_waits_for_office_hours_a_little_late_one_does_not(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:2])
    fra, idn = setup.id("FRA"), setup.id("IDN")
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS)
    # Down from Monday until Wednesday 20:00 UTC (22:00 in Paris, 03:00 on Thursday in
    # Jakarta): both 3-day reminders fell due meanwhile, and wait for office hours; nobody is
    # written to at night.
    night = await run(any_store, slack, now=utc(2026, 6, 10, 20))
    assert night.reminded == [] and slack.asked == [fra, idn]  # asked only at the invitation
    plans = {
        item.participant.id: item.remind_at
        for item in await any_store.rounds.reminder_plans(setup.round.id)
    }
    assert plans == {fra: utc(2026, 6, 11, 7), idn: utc(2026, 6, 11, 2)}  # 09:00 there
    assert (await run(any_store, slack, now=utc(2026, 6, 10, 23))).reminded == []
    jakarta = await run(any_store, slack, now=utc(2026, 6, 11, 2))
    assert keys(jakarta.reminded) == [reminder_key(setup.round, idn, D3)]
    paris = await run(any_store, slack, now=utc(2026, 6, 11, 7))
    assert keys(paris.reminded) == [reminder_key(setup.round, fra, D3)]
    # Friday: the 1-day steps (09:00 in Jakarta, 09:00 in Paris).
    await run(any_store, slack, now=utc(2026, 6, 12, 2))
    await run(any_store, slack, now=utc(2026, 6, 12, 7))
    # Jakarta's last one is planned at 17:59 there (10:59 UTC); a tick twenty minutes late,
    # 18:19 in Jakarta, still sends it: late rather than lost.
    late = await run(any_store, slack, now=utc(2026, 6, 12, 11, 19))
    assert keys(late.reminded) == [reminder_key(setup.round, idn, H2)]
    assert [len(await slack.texts(any_store, p)) for p in (fra, idn)] == [3, 4]


async def test_reminders_before_a_late_invitation_are_skipped(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    enrolled = False
    telegram = RecordingOut("telegram", reaches=lambda p: enrolled)
    # Claire enrols on Thursday 11 June at 10:00 UTC, after her 3-day reminder's time.
    thursday = utc(2026, 6, 11, 10)
    assert (await run(any_store, telegram, now=thursday)).unreachable == [fra]
    enrolled = True
    async with any_store.transaction() as tx:
        await tx.rounds.invite_again(fra, now=thursday)
    report = await run(any_store, telegram, now=thursday + timedelta(minutes=1))
    # The invitation goes out; the 3-day reminder, planned before it, never does.
    assert keys(report.invited) == [invitation_key(setup.round.id, fra)]
    assert report.reminded == [] and report.superseded == 0
    next_tick = await run(any_store, telegram, now=thursday + timedelta(minutes=2))
    assert next_tick.reminded == [] and next_tick.invited == []
    friday = await run(any_store, telegram, now=utc(2026, 6, 12, 7))
    assert keys(friday.reminded) == [reminder_key(setup.round, fra, D1)]
    assert len(await telegram.texts(any_store, fra)) == 2


async def test_after_an_extension_reminders_follow_the_new_date(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=[PEOPLE[2]])
    mex = setup.id("MEX")
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS)
    tuesday = utc(2026, 6, 9, 16)  # 10:00 in Mexico City: the 3-day reminder
    await run(any_store, slack, now=tuesday)
    assert "viernes, 12 de junio" in (await slack.texts(any_store, mex))[-1]
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
    [plan] = await any_store.rounds.reminder_plans(setup.round.id)
    assert plan.remind_at == utc(2026, 6, 16, 16)  # the new 3-day step, Tuesday 10:00 there
    # Thursday 11 June, the old 1-day step's time: nothing (the old date's steps are gone).
    quiet = await run(any_store, slack, now=utc(2026, 6, 11, 16))
    assert quiet.reminded == []
    # Tuesday 16 June, the new 3-day step: a new reminder with the new date.
    report = await run(any_store, slack, now=utc(2026, 6, 16, 16))
    assert keys(report.reminded) == [reminder_key(extended.round, mex, D3)]
    assert "viernes, 19 de junio de 2026" in (await slack.texts(any_store, mex))[-1]
    assert len(await slack.texts(any_store, mex)) == 3


async def test_extending_a_round_that_closed_on_time_brings_its_reminders_back(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey, people=PEOPLE[:1])
    fra = setup.id("FRA")
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS)
    await answer(any_store, setup, "FRA", "un", now=OPENS + timedelta(hours=1))
    for moment in (utc(2026, 6, 10, 7), utc(2026, 6, 12, 7), utc(2026, 6, 12, 14)):
        await run(any_store, slack, now=moment)
    assert (await run(any_store, slack, now=CLOSES)).closed == [setup.round.id]
    assert (await any_store.rounds.counts(setup.round.id))[ResponseStatus.PARTIAL] == 1
    # Reopened on Saturday until the next Friday: in progress again, reminded again.
    saturday = utc(2026, 6, 13, 9)
    await organising.extend(
        any_store,
        ORGANISER,
        organising.ExtendRequest(setup.round.id, closes=utc(2026, 6, 19, 16)),
        now=saturday,
        office_hours=HOURS,
    )
    # The new 3-day step: Tuesday 18:00 in Paris is after hours, so Wednesday 09:00.
    [plan] = await any_store.rounds.reminder_plans(setup.round.id)
    assert plan.remind_at == utc(2026, 6, 17, 7)
    report = await run(any_store, slack, now=utc(2026, 6, 17, 7))
    assert len(report.reminded) == 1
    assert "vendredi 19 juin 2026" in (await slack.texts(any_store, fra))[-1]


# --- closing ---------------------------------------------------------------------------------


async def test_a_round_closes_on_time_and_started_responses_become_partial(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    await answer(any_store, setup, "FRA", "un", now=OPENS + timedelta(hours=1))
    just_before = await run(any_store, slack, now=CLOSES - timedelta(seconds=1))
    assert just_before.closed == []
    # The bot was down at closing time and comes back two days later: closed "on time".
    late = await run(any_store, slack, now=CLOSES + timedelta(days=2))
    assert late.closed == [setup.round.id]
    closed = await any_store.rounds.get_round(setup.round.id)
    assert closed.closed_at == CLOSES
    counts = await any_store.rounds.counts(setup.round.id)
    assert counts[ResponseStatus.PARTIAL] == 1 and counts[ResponseStatus.NOT_STARTED] == 3
    assert (await run(any_store, slack, now=CLOSES + timedelta(days=3))).closed == []
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
    # The invitations went out just in time; nothing went out after closing.
    assert len(just_before.invited) == 4 and late.reminded == []


async def test_closing_can_tell_those_with_a_partial_response(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    slack = RecordingOut()
    await run(any_store, slack, now=OPENS)
    await answer(any_store, setup, "MEX", "uno", "dos", now=OPENS + timedelta(hours=1))
    reports = [
        await close_due_rounds(any_store, now=CLOSES, channels=[slack], notify_partial=True)
        for _ in range(2)
    ]
    assert reports[0].notified == [setup.id("MEX")] and reports[1].notified == []
    assert (await slack.texts(any_store, setup.id("MEX")))[-1] == (
        "La encuesta «Encuesta de prueba» se cerró el viernes, 12 de junio de 2026, 10:00 "
        "(hora estándar central). Las 2 respuestas que dio se han conservado como "
        "respuesta parcial. Gracias."
    )
    assert len(await slack.texts(any_store, setup.id("MEX"))) == 2
    assert len(await slack.texts(any_store, setup.id("FRA"))) == 1


async def test_closing_by_hand_records_who_and_refuses_twice(
    any_store: AnyStore, survey: Survey
) -> None:
    setup = await launch(any_store, survey)
    now = utc(2026, 6, 10)
    closed = await organising.close(any_store, ORGANISER, setup.round.id, now=now)
    assert closed.round.closed_at == now
    assert (await any_store.audit.entries())[0].action == "round.close"
    with pytest.raises(RoundError, match="already closed"):
        await organising.close(any_store, ORGANISER, setup.round.id, now=now)
    assert (await run(any_store, RecordingOut(), now=now)).invited == []


# --- what a tick costs -------------------------------------------------------------------------


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store sends while the block runs (BEGIN/COMMIT left out)."""
    assert store.database is not None
    engine = store.database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def kind(statement: str) -> str:
    found = re.match(r"(UPDATE \w+|INSERT INTO \w+|DELETE FROM \w+|SELECT)", statement)
    assert found is not None, statement
    if found.group(1) == "SELECT":
        table = re.search(r" FROM (\w+)", statement)
        assert table is not None, statement
        return f"SELECT FROM {table.group(1)}"
    return found.group(1)


async def a_week_of(store: Store, survey: Survey, *, delegates: int, opens: datetime) -> Setup:
    """A round of a week with ``delegates`` delegates, three of them in Jakarta, the rest in
    Paris, all invited."""
    people = [
        (f"J{n:02d}", f"Jakarta {n}", "en", "Asia/Jakarta")
        if n < 3
        else (f"P{n:04d}", f"Paris {n}", "fr", "Europe/Paris")
        for n in range(delegates)
    ]
    tag = f"W{opens:%d}"
    people = [(f"{tag}{code}", name, language, zone) for code, name, language, zone in people]
    setup = await launch(
        store, survey, people=people, opens=opens, closes=opens + timedelta(days=4, hours=16)
    )
    # Invited: the columns ``rounds.invited`` sets, set for everyone at once (drawing 2,000
    # screens, or 2,000 single updates, would only make the test slow).
    assert store.database is not None
    async with store.database.engine.begin() as connection:
        for zone in ("Asia/Jakarta", "Europe/Paris"):
            ids = [p.id for p in setup.by_code.values() if p.timezone == zone]
            await connection.execute(
                update(ResponseRow)
                .where(ResponseRow.round_id == setup.round.id, ResponseRow.participant_id.in_(ids))
                .values(
                    invite_at=None,
                    invited_at=opens,
                    invited_on="slack",
                    remind_at=next_reminder(setup.round, zone, HOURS, after=opens),
                )
            )
    assert await store.rounds.due_invitations(now=opens, limit=10) == []
    assert len(await store.rounds.reminder_plans(setup.round.id)) == delegates
    return setup


async def test_a_tick_costs_what_is_due_not_the_roster(store: Store, survey: Survey) -> None:
    costs: dict[int, tuple[list[str], list[str]]] = {}
    for delegates, opens in ((20, OPENS), (2000, OPENS + timedelta(weeks=1))):
        await a_week_of(store, survey, delegates=delegates, opens=opens)
        slack = RecordingOut()
        await run(store, slack, now=opens)  # last week's round closes
        # Monday noon: everyone invited, nothing due.
        with statements(store) as idle:
            report = await run(store, slack, now=opens + timedelta(hours=12))
        assert not report.eventful and slack.asked == []
        # Wednesday 09:00 in Jakarta: the three delegates there are due their 3-day reminder.
        with statements(store) as due:
            report = await run(store, slack, now=opens + timedelta(days=2, hours=2))
        assert len(report.reminded) == 3
        costs[delegates] = (idle, due)
    small, large = costs[20], costs[2000]
    # Idle: which rounds to close, which invitations and which reminders are due; that's all.
    assert [kind(s) for s in large[0]] == [
        "SELECT FROM rounds",
        "SELECT FROM responses",
        "SELECT FROM responses",
    ]
    assert [kind(s) for s in small[0]] == [kind(s) for s in large[0]]
    # Three reminders among 2,000 delegates cost what three among 20 do (the survey is read
    # once, then cached): for each, its round and response and the next reminder's time; then
    # the three messages and their live screens, together.
    first_time = [kind(s) for s in small[1]]
    first_time.remove("SELECT FROM survey_versions")
    assert first_time == [kind(s) for s in large[1]]
    assert [kind(s) for s in large[1]][3:] == [
        *["SELECT FROM rounds", "SELECT FROM responses", "UPDATE responses"] * 3,
        "INSERT INTO outbound_messages",
        "INSERT INTO live_screens",
    ]


async def test_a_batch_of_invitations_reads_its_responses_in_one_query(
    store: Store, survey: Survey
) -> None:
    """A batch of invitations reads each delegate's round and response by key: one query for
    all the responses, not one per delegate, whatever the batch's size."""
    reads: dict[int, Counter[str]] = {}
    for delegates, opens in ((5, OPENS), (60, OPENS + timedelta(weeks=1))):
        people = [
            (f"I{opens:%d}{n:03d}", f"Delegate {n}", "fr", "Europe/Paris") for n in range(delegates)
        ]
        await launch(store, survey, people=people, opens=opens, closes=opens + timedelta(days=4))
        slack = RecordingOut()
        with statements(store) as seen:
            report = await run(store, slack, now=opens + timedelta(minutes=1))
        assert len(report.invited) == delegates
        reads[delegates] = Counter(kind(s) for s in seen if s.startswith("SELECT"))
        reads[delegates].pop("SELECT FROM survey_versions", None)  # cached after the first
    assert reads[60] == reads[5]


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
