"""One scenario, every channel: Slack, Telegram and (where it applies) the CLI do the same.

The scenario table (:data:`SCENARIO`) is played through the real Slack app (signed requests
over HTTP into Bolt, Web API calls to ``bot/fakes/slack_api.py``), through the real Telegram
app (updates from ``bot/fakes/telegram_api.py`` into python-telegram-bot, long polling), and,
for the organisers' steps, through the ``itinera`` CLI (whose replies are the same, printed
plain); each on a fresh database (SQLite, and
PostgreSQL when ``ITINERA_TEST_DATABASE_URL`` is set). The test then compares what each channel
stored, read back through the store's repositories, and what each said, reduced to plain text:
mrkdwn and HTML markup stripped, and commands written with one channel's
:class:`~surveys.organiser_replies.Syntax`. Where channels genuinely differ, a comment says so.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml
from typer.testing import CliRunner

from bot.bootstrap import Itinera, build
from bot.cli import app as cli_app
from bot.fakes.slack_api import FakeSlackApi, FakeUser, SignedSender, SlackUser
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.telegram_api import FakeUser as TelegramUser
from bot.fakes.timing import InstantTimer
from bot.settings import TelegramMode
from handlers.slack.runtime import EVENTS_PATH
from handlers.telegram.enrolment import issue_code
from handlers.telegram.runtime import TelegramRuntime
from storage.database import Store, open_store
from storage.migrate import upgrade_async
from surveys import i18n
from surveys.definition import load_survey
from surveys.errors import NotFoundError
from surveys.organiser_replies import SLACK, TELEGRAM, Syntax
from surveys.records import Participant
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from tests.conftest import SQL_BACKENDS, isolated_database
from tests.handlers.slack.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    loopback_only,
    serving,
    slack_settings,
)
from tests.handlers.telegram.conftest import bot_settings, ptb_timedelta

__all__ = ["loopback_only", "ptb_timedelta"]  # autouse: loopback only; PTB without warnings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
"""A Monday morning: the chat channels' clock (the CLI reads the real one). It lies before
the fakes' own clocks, which stamp typed messages with the real time as Slack and Telegram
do, so a message typed in the scenario is written after the screen it answers."""

SURVEY = {
    "id": "parity",
    "version": "1",
    "default_language": "en",
    "languages": ["en", "fr"],
    "title": {"en": "Parity check", "fr": "Contrôle de parité"},
    "choice_lists": {
        "engagement": [
            {"value": "engaged", "label": {"en": "Already engaged", "fr": "Déjà engagé"}},
            {"value": "planning", "label": {"en": "Planning to engage", "fr": "Engagement prévu"}},
            {"value": "considering", "label": {"en": "Considering it", "fr": "À l’étude"}},
        ]
    },
    "questions": [
        {
            "id": "engagement",
            "type": "single_choice",
            "required": True,
            "choices": "engagement",
            "label": {"en": "Is your State engaged?", "fr": "Votre État est-il engagé ?"},
        },
        {
            "id": "comment",
            "type": "text",
            "required": True,
            "max_length": 200,
            "label": {"en": "How?", "fr": "Comment ?"},
            "hint": {"en": "A sentence or two.", "fr": "Une phrase ou deux."},
        },
    ],
}

ROSTER = """\
delegation,delegation_name,region,name,email,role,language,timezone,slack_user_id
FRA,France,WEOG,Claire Dubois,claire@example.org,delegate,fr,Europe/Paris,U01FRA0001
SEN,Senegal,African States,Aminata Diop,aminata@example.org,delegate,fr,Africa/Dakar,U09SEN0001
,,,Sofia Marquez,sofia@example.org,organiser,es,Europe/Zurich,U01ORG0001
"""

CLAIRE, SOFIA = "claire", "sofia"
CLOSES, LATER = "2027-06-30", "2027-07-31"


# --- the scenario --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing someone does: ``command`` (the words after the channel's prefix), ``press``
    (a button's caption), ``type`` (a message), ``tick`` (the scheduler's round), ``change``
    (the summary's Change button of the answer numbered ``what``)."""

    name: str
    who: str
    do: str
    what: str = ""


SCENARIO = (
    Step("launch", SOFIA, "command", f"launch parity --audience FRA --closes {CLOSES} --tz UTC"),
    Step("invited", "", "tick"),
    Step("choice by button", CLAIRE, "press", "Engagement prévu"),
    Step("back", CLAIRE, "press", i18n.text("button_back", "fr")),
    Step("choice again", CLAIRE, "press", "Déjà engagé"),
    Step("text typed", CLAIRE, "type", "Par des accords bilatéraux & <régionaux>"),
    Step("change from summary", CLAIRE, "change", "1"),
    Step("changed", CLAIRE, "press", "À l’étude"),
    Step("submit", CLAIRE, "press", i18n.text("button_submit", "fr")),
    Step("status", SOFIA, "command", "status 1"),
    Step("extend", SOFIA, "command", f"extend 1 --closes {LATER} --tz UTC"),
    Step("close", SOFIA, "command", "close 1"),
    Step("late answer", CLAIRE, "type", "Une dernière chose"),
    Step("close again", SOFIA, "command", "close 1"),
    Step("delegate tries", CLAIRE, "command", "close 1"),
)


class Channel(Protocol):
    syntax: Syntax
    store: Store

    async def command(self, who: str, words: str) -> str: ...
    async def press(self, who: str, caption: str) -> None: ...
    async def change(self, who: str, number: int) -> None: ...
    async def type(self, who: str, text: str) -> None: ...
    async def tick(self) -> None: ...
    def screen(self, who: str) -> str: ...


@dataclass
class Played:
    said: dict[str, str] = field(default_factory=dict)
    """Each step's reply (commands) or the screen it left (the others), as plain text."""
    state: dict[str, Any] = field(default_factory=dict)


async def play(channel: Channel) -> Played:
    played = Played()
    for step in SCENARIO:
        if step.do == "command":
            reply = await channel.command(step.who, step.what)
            played.said[step.name] = normalised(reply, channel.syntax)
            continue
        if step.do == "tick":
            await channel.tick()
        elif step.do == "press":
            await channel.press(step.who, step.what)
        elif step.do == "change":
            await channel.change(step.who, int(step.what))
        else:
            await channel.type(step.who, step.what)
        played.said[step.name] = "\n".join(reading(channel.screen(CLAIRE)))
        if step.name == "submit":
            played.state["submitted"] = await stored(channel.store)
    played.state["end"] = await stored(channel.store)
    return played


async def populate(store: Store) -> None:
    actor = Actor.command_line("parity")
    survey = load_survey(yaml.safe_load(yaml.safe_dump(SURVEY)))
    await organising.import_survey(store, actor, survey, now=NOW)
    await organising.import_roster(store, actor, read_roster_csv(ROSTER), now=NOW)


async def stored(store: Store) -> dict[str, Any]:
    """What the repositories say about every round and response: no ids of the platforms."""
    out: dict[str, Any] = {}
    for round_ in await store.rounds.list_rounds():
        version = await store.surveys.get_version(round_.survey_version_id)
        out[f"round {round_.id}"] = {
            "survey": (round_.survey_id, version.version),
            "audience": str(round_.audience),
            "closes_at": round_.closes_at,
            "closed": round_.closed_at is not None,
            "attribution": round_.attribution,
            "status": sorted(
                (line.participant.email, line.status.value, line.answered)
                for line in await store.rounds.status(round_.id)
            ),
        }
        for participant in await store.roster.list_participants():
            try:
                response = await store.responses.get_response(round_.id, participant.id)
            except NotFoundError:
                continue
            history = await store.responses.history(response.id)
            out[f"response {round_.id} {participant.email}"] = {
                "status": response.status.value,
                "answers": dict(response.state.answers),
                "current": response.state.current,
                "version": response.version,
                "history": [
                    (change.question_id, change.value, change.reason) for change in history
                ],
            }
    out["audit"] = [(entry.action, entry.target) for entry in await store.audit.entries()]
    return out


# --- plain text ----------------------------------------------------------------------------------

_STRONG = re.compile(r"(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]*)`")


def slack_plain(mrkdwn: str) -> str:
    """mrkdwn as the person reads it: no ``*bold*`` or ``code`` marks, entities undone."""
    text = _CODE.sub(r"\1", _STRONG.sub(r"\1", mrkdwn))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def normalised(plain: str, syntax: Syntax) -> str:
    """Commands written the Telegram way, whatever channel wrote them."""
    return plain.replace(syntax.prefix, TELEGRAM.prefix)


CHANNEL_ONLY = {
    # Telegram has no form for a typed answer: it says to type one (Slack shows a button that
    # opens a form), and its summary numbers the answers for its numbered Change buttons
    # (Slack puts a Change button beside each answer).
    i18n.text("type_answer", "fr"),
    i18n.text("telegram.change_hint", "fr"),
}
_NUMBERED = re.compile(r"^(?:\d+\. |[→←] )")


def reading(screen: str) -> list[str]:
    """A screen's lines as a delegate reads them, channel-only lines and layout left out.

    Sorted: Slack puts the summary's sentence (review, or submitted) under its title, Telegram
    under the answers; Telegram writes each answer as ``1. label`` then ``→ answer``."""
    lines = (_NUMBERED.sub("", line).strip() for line in screen.splitlines())
    return sorted(line for line in lines if line and line not in CHANNEL_ONLY)


# --- Slack ---------------------------------------------------------------------------------------

SLACK_IDS = {CLAIRE: "U01FRA0001", SOFIA: "U01ORG0001"}
SLACK_USERS = [
    FakeUser("U01FRA0001", "claire@example.org", "Claire Dubois", "Europe/Paris", "fr-FR"),
    FakeUser("U09SEN0001", "aminata@example.org", "Aminata Diop", "Africa/Dakar", "fr-FR"),
    FakeUser("U01ORG0001", "sofia@example.org", "Sofia Marquez", "Europe/Zurich", "es-ES"),
]


@dataclass
class MutableClock:
    moment: datetime = NOW

    def now(self) -> datetime:
        return self.moment


@dataclass
class SlackChannel:
    store: Store
    slack: FakeSlackApi
    itinera: Itinera
    sender: SignedSender
    syntax: Syntax = SLACK

    def user(self, who: str) -> SlackUser:
        return SlackUser(self.slack, self.sender, SLACK_IDS[who])

    async def _done(self, response: Any) -> None:
        assert response.status_code == 200, response.text
        await self.itinera.settle(within=20)

    async def command(self, who: str, words: str) -> str:
        await self._done(await self.user(who).command(words))
        return slack_plain(self.slack.responses[-1]["text"])

    async def press(self, who: str, caption: str) -> None:
        await self._done(await self.user(who).press(caption))

    async def change(self, who: str, number: int) -> None:
        changes = [
            block["accessory"]["action_id"]
            for block in self.user(who).screen().blocks
            if block.get("accessory", {}).get("type") == "button"
        ]
        await self._done(await self.user(who).press(action_id=changes[number - 1]))

    async def type(self, who: str, text: str) -> None:
        await self._done(await self.user(who).say(text))

    async def tick(self) -> None:
        await tick_on(self.itinera)

    def screen(self, who: str) -> str:
        shown = self.user(who).screen()  # a note has its text and no blocks
        return slack_plain(self.user(who).texts() if shown.blocks else shown.text)


@asynccontextmanager
async def slack_channel(url: str) -> AsyncIterator[SlackChannel]:
    store = await open_store(url)
    folder = tempfile.mkdtemp(prefix="itinera-parity-")
    try:
        await populate(store)
        async with FakeSlackApi(users=SLACK_USERS, token=BOT_TOKEN) as slack:
            itinera = build(
                slack_settings(slack, url, digest_folder=folder),
                store,
                clock=MutableClock(),
                timer=InstantTimer(),
            )
            async with serving(itinera) as base_url:
                for runtime in itinera.runtimes:
                    await runtime.start()
                sender = SignedSender(base_url + EVENTS_PATH, SIGNING_SECRET)
                try:
                    yield SlackChannel(store, slack, itinera, sender)
                finally:
                    for runtime in itinera.runtimes:
                        await runtime.stop()
                    for close in itinera.closers:
                        await close()
                    await sender.aclose()
    finally:
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- Telegram ------------------------------------------------------------------------------------


@dataclass
class TelegramChannel:
    store: Store
    fake: FakeTelegram
    itinera: Itinera
    runtime: TelegramRuntime
    users: dict[str, TelegramUser]
    syntax: Syntax = TELEGRAM

    async def _act(self, action: Any) -> None:
        update_id = await action
        async with asyncio.timeout(10):
            await self.runtime.receiver.until_received(update_id)
        await self.itinera.settle(within=20)

    async def command(self, who: str, words: str) -> str:
        verb, _, rest = words.partition(" ")
        await self._act(self.fake.command(self.users[who], verb, *rest.split()))
        return self.fake.last_text(self.users[who])

    async def press(self, who: str, caption: str) -> None:
        await self._act(self.fake.tap(self.users[who], caption))

    async def change(self, who: str, number: int) -> None:
        await self._act(self.fake.tap(self.users[who], f"✎ {number}"))

    async def type(self, who: str, text: str) -> None:
        await self._act(self.fake.send_text(self.users[who], text))

    async def tick(self) -> None:
        await tick_on(self.itinera)

    def screen(self, who: str) -> str:
        return self.fake.last_text(self.users[who])


@asynccontextmanager
async def telegram_channel(url: str) -> AsyncIterator[TelegramChannel]:
    store = await open_store(url)
    folder = tempfile.mkdtemp(prefix="itinera-parity-")
    try:
        await populate(store)
        async with FakeTelegram() as fake:
            settings = bot_settings(fake, TelegramMode.POLLING, folder=Path(folder))
            itinera = build(
                settings, store, clock=MutableClock(), timer=InstantTimer(), poll_timeout=1
            )
            (runtime,) = [r for r in itinera.runtimes if isinstance(r, TelegramRuntime)]
            users = {CLAIRE: fake.user(7001, "Claire"), SOFIA: fake.user(7002, "Sofia")}
            await runtime.start()
            channel = TelegramChannel(store, fake, itinera, runtime, users)
            try:
                for who, user in users.items():  # each enrols with their link, as people do
                    participant = await participant_of(store, who)
                    issued = await issue_code(
                        store.enrolments,
                        participant_id=participant.id,
                        bot_username=fake.username,
                        now=NOW,
                        days=14,
                    )
                    await channel._act(fake.command(user, "start", issued.code))
                yield channel
            finally:
                await runtime.stop()
                for close in itinera.closers:
                    await close()
    finally:
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)


async def participant_of(store: Store, who: str) -> Participant:
    (found,) = [
        p for p in await store.roster.list_participants() if p.email == f"{who}@example.org"
    ]
    return found


async def tick_on(itinera: Itinera) -> None:
    from surveys.service.delivery import tick

    await tick(
        itinera.store,
        channels=itinera.outs,
        now=itinera.clock.now(),
        office_hours=itinera.settings.office.parsed,
    )
    await itinera.settle(within=20)


# --- the test ------------------------------------------------------------------------------------


@pytest.fixture(params=SQL_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Opener = Callable[[str], Any]


async def on_fresh_database(backend: str, folder: Path, opener: Opener) -> Played:
    await asyncio.to_thread(folder.mkdir)
    async with isolated_database(backend, folder) as url:
        await upgrade_async(url)
        async with opener(url) as channel:
            return await play(channel)


def cli(url: str, *args: str) -> tuple[int, str]:
    """``itinera ARGS`` on ``url`` as the organiser Sofia: exit code and output."""
    result = CliRunner().invoke(
        cli_app,
        list(args),
        env={"ITINERA_DATABASE_URL": url, "ITINERA_ACTOR": "sofia@example.org"},
    )
    return result.exit_code, result.output


CLI_STEPS = {
    "launch": ("round", "launch", "parity", "--audience", "FRA", "--closes", CLOSES, "--tz", "UTC"),
    "status": ("round", "status", "1"),
    "extend": ("round", "extend", "1", "--closes", LATER, "--tz", "UTC"),
    "close": ("round", "close", "1"),
    "close again": ("round", "close", "1"),
}
"""The organisers' steps of the scenario, as ``itinera`` arguments."""


async def cli_rounds(backend: str, folder: Path) -> Played:
    """The organisers' steps of the scenario through the CLI: what it said and stored."""
    await asyncio.to_thread(folder.mkdir)
    async with isolated_database(backend, folder) as url:
        await upgrade_async(url)
        store = await open_store(url)
        try:
            await populate(store)
            played = Played()
            codes = []
            for name, step in CLI_STEPS.items():
                code, output = await asyncio.to_thread(cli, url, *step)
                codes.append(code)
                played.said[name] = output.rstrip("\n")
            assert codes == [0, 0, 0, 0, 1], played.said
            played.state["end"] = await stored(store)
            return played
        finally:
            await store.close()


_UTC_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")


def closing_time_left_out(text: str) -> str:
    """The CLI reads the real clock, the chat channels the scenario's: when a round was
    closed differs, the sentence does not."""
    return _UTC_MOMENT.sub("<closed at>", text)


async def test_slack_and_telegram_play_the_scenario_alike(backend: str, tmp_path: Path) -> None:
    slack = await on_fresh_database(backend, tmp_path / "slack", slack_channel)
    telegram = await on_fresh_database(backend, tmp_path / "telegram", telegram_channel)
    assert slack.state == telegram.state
    submitted = slack.state["submitted"]["response 1 claire@example.org"]
    assert submitted["status"] == "submitted"
    assert submitted["answers"] == {
        "engagement": "considering",
        "comment": "Par des accords bilatéraux & <régionaux>",
    }
    ended = slack.state["end"]
    assert ended["response 1 claire@example.org"] == submitted  # the late answer changed nothing
    assert ended["round 1"]["closed"]

    # Every organiser reply and every screen reads the same on both channels: the answer typed
    # after closing too (nothing is stored, and both say the survey closed, and when).
    assert slack.said == telegram.said
    assert slack.said["close again"].endswith(
        f"round 1 was already closed at {NOW:%Y-%m-%d %H:%M} UTC"
    )
    assert slack.said["delegate tries"].startswith("Désolé, cette commande est réservée")
    assert slack.said["late answer"].startswith(
        "L’enquête «\u00a0Contrôle de parité\u00a0» a été clôturée"
    )

    # The CLI says what the chat channels say, as plain text, in Sofia's language (from the
    # roster, as ITINERA_ACTOR names her): the launch (then the round's id alone, for
    # scripts), the extension, the closing, and the refusal to close again (on stderr, after
    # the terminal's "error: ", with exit 1). Its status stays a table, better read there.
    by_cli = await cli_rounds(backend, tmp_path / "cli")
    launched, round_id = by_cli.said["launch"].rsplit("\n", 1)
    assert (launched, round_id) == (slack.said["launch"], "1")
    assert by_cli.said["extend"] == slack.said["extend"]
    assert by_cli.said["close"] == slack.said["close"]
    refused = by_cli.said["close again"].removeprefix("error: ")
    assert refused != by_cli.said["close again"]
    assert closing_time_left_out(refused) == closing_time_left_out(slack.said["close again"])
    assert by_cli.said["status"].startswith("Round 1 (parity), open")

    # The CLI stores the same round (the organisers' steps only: no delegate answered there).
    cli_ended = by_cli.state["end"]
    chat = {key: value for key, value in ended["round 1"].items() if key != "status"}
    assert {key: value for key, value in cli_ended["round 1"].items() if key != "status"} == chat
    assert cli_ended["round 1"]["status"] == [("claire@example.org", "not_started", 0)]
    rounds = [(action, target) for action, target in ended["audit"] if action.startswith("round.")]
    assert [(a, t) for a, t in cli_ended["audit"] if a.startswith("round.")] == rounds
