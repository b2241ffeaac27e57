"""Organisers launch, extend, close rounds and ask for digests from Telegram; others cannot."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.fakes.telegram_api import FakeTelegram, FakeUser
from handlers.telegram.organiser import command_text
from surveys import i18n
from surveys.records import Audience, ResponseStatus

REFUSAL = (
    "Désolé, cette commande est réservée à l’équipe organisatrice. Pour répondre à une "
    "enquête, utilisez les messages qu’Itinera vous envoie."
)
SENT = (
    "The full digest was posted to the organisers’ Slack channel and Telegram chat, where they "
    "are set; without a Telegram chat, each organiser enrolled on Telegram receives it."
)
NO_ROUND_999 = "There is no round 999. To see the rounds, send /rounds"


def day_in(world: Any, days: int) -> str:
    moment: datetime = world.clock.now() + timedelta(days=days)
    return moment.date().isoformat()


def end_of(day: str, zone: str) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(23, 59), ZoneInfo(zone))


async def say(bot: Any, fake: FakeTelegram, user: FakeUser, line: str) -> str:
    """``user`` sends the command ``line`` (``/verb args``); the bot's last reply."""
    verb, *args = line.removeprefix("/").split(" ")
    await bot.act(fake.command(user, verb, *args))
    return fake.last_text(user)


async def test_an_organiser_launches_extends_and_closes_a_round(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    olga = fake.user(9001, "Olga")
    await world.enrol("olga", olga.id)
    closes = day_in(world, 20)
    async with run_bot("polling") as bot:
        # The world's round of the same survey is open and asks France and Senegal already.
        reply = await say(
            bot, fake, olga, f"/launch route_alignment --audience FRA,SEN --closes {closes}"
        )
        assert reply.startswith(
            f"That was not done: round {world.round.id} of survey 'route_alignment' is not "
            "closed yet (it closes "
        )
        assert "already asks 2 of these delegates in FRA, SEN; add --again" in reply
        assert len(await world.store.rounds.list_rounds()) == 1
        reply = await say(
            bot,
            fake,
            olga,
            f"/launch route_alignment --audience FRA,SEN --closes {closes} --again",
        )
        rounds = await world.store.rounds.list_rounds()
        launched = max(rounds, key=lambda round_: round_.id)
        assert launched.id != world.round.id
        zurich = "Europe/Zurich"
        assert reply == (
            f"Round {launched.id} is launched: route_alignment version 2026.1, for 2 delegates "
            f"in 2 delegations. It closes {i18n.moment(end_of(closes, zurich), 'en', zurich)}. "
            "Invitations go out within a minute."
        )
        assert launched.audience == Audience("delegations", ("FRA", "SEN"))
        assert launched.closes_at == end_of(closes, "Europe/Zurich")
        invited = {line.participant.email for line in await world.store.rounds.status(launched.id)}
        assert invited == {"claire@example.org", "aminata@example.org"}

        later = day_in(world, 40)
        reply = await say(
            bot, fake, olga, f"/extend {launched.id} --closes {later} --tz Africa/Dakar"
        )
        assert reply == (
            f"Round {launched.id} now closes "
            f"{i18n.moment(end_of(later, 'Africa/Dakar'), 'en', 'Africa/Dakar')}. Reminders follow "
            "the new date."
        )
        extended = await world.store.rounds.get_round(launched.id)
        assert extended.closes_at == end_of(later, "Africa/Dakar")

        reply = await say(bot, fake, olga, f"/close {launched.id}")
        assert reply.startswith(f"Round {launched.id} is now closed.")
        closed = await world.store.rounds.get_round(launched.id)
        assert closed.closed_at is not None

        # A round closed by hand can be neither closed again nor extended.
        reply = await say(bot, fake, olga, f"/close {launched.id}")
        assert reply.startswith(f"That was not done: round {launched.id} was already closed at")
        reply = await say(bot, fake, olga, f"/extend {launched.id} --closes {later}")
        assert reply.startswith("That was not done: ") and str(launched.id) in reply

    actions = [entry.action for entry in await world.store.audit.entries()]
    assert {"round.launch", "round.extend", "round.close"} <= set(actions)
    actors = {entry.actor for entry in await world.store.audit.entries()}
    assert "olga@example.org (telegram)" in actors


async def test_refusals_of_the_core_are_said_specifically(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    olga = fake.user(9010, "Olga")
    await world.enrol("olga", olga.id)
    closes = day_in(world, 10)
    before = len(await world.store.rounds.list_rounds())
    async with run_bot("polling") as bot:
        reply = await say(bot, fake, olga, f"/launch no_such --audience FRA --closes {closes}")
        assert reply == "That was not done: no survey 'no_such'"
        reply = await say(
            bot, fake, olga, f"/launch route_alignment --audience Europe --closes {closes}"
        )
        assert reply.startswith("That was not done: audience 'Europe'")
        reply = await say(
            bot, fake, olga, "/launch route_alignment --audience FRA --closes 2020-01-01"
        )
        assert reply.startswith("That was not done: the closing time 2020-01-01")
        assert "already past" in reply
        reply = await say(
            bot,
            fake,
            olga,
            f"/launch route_alignment --audience FRA --closes {closes} --tz Mars/Base",
        )
        assert reply == "That was not done: 'Mars/Base' is not an IANA timezone like Europe/Zurich"
        reply = await say(bot, fake, olga, "/launch route_alignment --audience FRA --closes soon")
        assert "'soon' is not a date or date-time" in reply
        reply = await say(
            bot, fake, olga, f"/launch route_alignment --audience tag:nobody --closes {closes}"
        )
        assert reply == (
            "That was not done: audience tag:nobody: no participant carries tag 'nobody'"
        )
        assert await say(bot, fake, olga, "/close 999") == NO_ROUND_999
        assert (await say(bot, fake, olga, f"/extend 999 --closes {closes}")).startswith(
            "There is no round 999."
        )
        assert await say(bot, fake, olga, "/digest 999") == NO_ROUND_999
    assert len(await world.store.rounds.list_rounds()) == before


async def test_malformed_commands_get_what_is_wrong(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    olga = fake.user(9020, "Olga")
    await world.enrol("olga", olga.id)
    hint = ".\nFor the organisers’ commands, send /help"
    cases = {
        "/launch": "launch needs a survey id, e.g. /launch route_alignment ...",
        "/launch route_alignment --audience FRA": "launch needs --closes",
        "/launch route_alignment": "launch needs --audience and --closes",
        "/launch route_alignment --audience FRA --closes 2030-01-01 --colour red": (
            "unknown option '--colour' (use --audience, --closes, --opens, --tz, --again)"
        ),
        '/launch "route_alignment': "No closing quotation",
        "/close": "close takes one round number, e.g. /close 3",
        "/close first": "close takes one round number, e.g. /close 3",
        "/extend 1": "extend needs --closes",
        "/extend --closes 2030-01-01": "extend takes a round number, e.g. /extend 3 --closes ...",
        "/extend 1 --closes": "--closes needs a value",
        "/digest": "digest takes one round number, e.g. /digest 3",
    }
    async with run_bot("polling") as bot:
        for line, problem in cases.items():
            reply = await say(bot, fake, olga, line)
            assert reply == f"I could not read that command: {problem}{hint}", line
        await world.store.identities.set_language(world.person("olga").id, "fr")
        reply = await say(bot, fake, olga, "/close first")
        assert reply.startswith("Je n’ai pas pu lire cette commande")
        assert "close takes one round number" in reply and reply.endswith("envoyez /help")
        await bot.act(fake.command(olga, "help"))
        shown = fake.last_text(olga)
        assert shown.startswith("Je recueille les réponses de votre délégation")  # delegates' part
        assert "/launch ENQUÊTE --audience AUDIENCE --closes QUAND" in shown  # the core's part


def photos(fake: FakeTelegram, user: FakeUser) -> list[Any]:
    return [message for message in fake.bot_messages(user) if message.kind == "photo"]


async def test_the_digest_on_demand(
    fake: FakeTelegram, world: Any, run_bot: Any, tmp_path: Path
) -> None:
    olga = fake.user(9030, "Olga")
    claire = fake.user(9031, "Claire")
    await world.enrol("olga", olga.id)
    await world.enrol("claire", claire.id)
    round_id = world.round.id
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        await bot.act(fake.tap(claire, "4"))
        reply = await say(bot, fake, olga, f"/digest {round_id}")
        summary, where = reply.split("\n\n")
        assert summary.startswith(
            f"Digest of round {round_id}:\n0 of 4 delegations have answered (0%). 1 more has "
            "started but not submitted yet."
        )
        assert where == SENT
        (digest,) = photos(fake, olga)  # the chart, with the digest as its caption or after it
        assert digest.file is not None and digest.file.startswith(b"\x89PNG")
        assert photos(fake, claire) == []  # delegates do not get digests
        written = sorted(path.suffix for path in (tmp_path / "digests").iterdir())
        assert written == [".html", ".md", ".png"]
        assert await say(bot, fake, olga, "/digest 999") == NO_ROUND_999
        assert len(photos(fake, olga)) == 1
    requests = [e for e in await world.store.audit.entries() if e.action == "digest"]
    assert [(e.actor, e.target) for e in requests] == [
        ("olga@example.org (telegram)", f"round {round_id}")
    ]

    group = fake.user(-100123, "Organisers")
    async with run_bot("polling", telegram_digest_chat="-100123") as bot:
        world.clock.advance(timedelta(minutes=1))  # another digest, not the same one again
        reply = await say(bot, fake, olga, f"/digest {round_id}")
        assert reply.endswith(SENT)
        assert len(photos(fake, group)) == 1
        assert len(photos(fake, olga)) == 1  # the chat instead of each organiser


async def test_delegates_are_refused_every_organiser_command(
    fake: FakeTelegram, world: Any, run_bot: Any, tmp_path: Path
) -> None:
    claire = fake.user(9040, "Claire")
    await world.enrol("claire", claire.id)
    round_id = world.round.id
    before = await world.store.rounds.get_round(round_id)
    commands = [
        f"/launch route_alignment --audience FRA --closes {day_in(world, 5)}",
        f"/extend {round_id} --closes {day_in(world, 60)}",
        f"/close {round_id}",
        f"/digest {round_id}",
        "/launch",
    ]
    async with run_bot("polling") as bot:
        for line in commands:
            assert await say(bot, fake, claire, line) == REFUSAL, line
        await bot.act(fake.command(claire, "help"))
        assert "/launch" not in fake.last_text(claire)
    assert not (tmp_path / "digests").exists()  # no digest was made
    assert all(message.kind == "text" for message in fake.bot_messages(claire))
    assert [round_.id for round_ in await world.store.rounds.list_rounds()] == [round_id]
    after = await world.store.rounds.get_round(round_id)
    assert (after.closes_at, after.closed_at) == (before.closes_at, before.closed_at)
    response = await world.store.responses.get_response(round_id, world.person("claire").id)
    assert response.status is ResponseStatus.NOT_STARTED


async def test_a_launch_that_opens_later_says_when(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    olga = fake.user(9050, "Olga")
    await world.enrol("olga", olga.id)
    opens, closes = day_in(world, 3), day_in(world, 9)
    async with run_bot("polling") as bot:
        reply = await say(
            bot,
            fake,
            olga,
            f"/launch route_alignment --audience region:GRULAC --opens {opens}T09:00 "
            f"--closes {closes} --again",  # the world's round asks them too
        )
    launched = max(await world.store.rounds.list_rounds(), key=lambda round_: round_.id)
    opens_at = datetime.combine(
        datetime.fromisoformat(opens).date(), time(9, 0), ZoneInfo("Europe/Zurich")
    )
    zurich = "Europe/Zurich"
    assert reply.endswith(
        f"for 1 delegate in 1 delegation. It opens {i18n.moment(opens_at, 'en', zurich)} and "
        f"closes {i18n.moment(end_of(closes, zurich), 'en', zurich)}. Invitations go out within "
        "a minute of its opening."
    )
    assert launched.opens_at == opens_at
    assert launched.audience == Audience("region", ("GRULAC",))


def test_the_command_words_keep_their_quotes_and_lose_the_bot_name() -> None:
    assert command_text("/launch@itinera_bot  x --audience 'all'") == "launch x --audience 'all'"
    assert command_text("/close") == "close "
