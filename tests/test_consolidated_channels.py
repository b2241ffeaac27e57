"""A consolidated round across channels: one delegate on Slack, the other on Telegram.

One Itinera serves both channels, through the real Bolt app (signed requests over HTTP,
Web API calls to ``bot/fakes/slack_api.py``) and the real python-telegram-bot application
(long polling ``bot/fakes/telegram_api.py``), on SQLite and PostgreSQL (when
``ITINERA_TEST_DATABASE_URL`` is set). Claire answers the first question on Slack; Luc, of
the same delegation, presses a button of his (now stale) Telegram screen and is shown where
the shared draft is; he answers the rest and submits; Claire is told on Slack that Luc
submitted it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.bootstrap import Itinera, build
from bot.fakes.slack_api import FakeSlackApi, FakeUser, SignedSender, SlackUser
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.telegram_api import FakeUser as TelegramUser
from bot.fakes.timing import InstantTimer
from bot.settings import TelegramMode, load_settings
from handlers.slack.runtime import EVENTS_PATH
from handlers.telegram.enrolment import issue_code
from handlers.telegram.runtime import TelegramRuntime
from storage.database import Store, open_store
from storage.migrate import upgrade_async
from surveys.definition import load_survey
from surveys.records import Participant, ResponseStatus
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.delivery import tick
from tests.conftest import SQL_BACKENDS, isolated_database
from tests.handlers.slack.conftest import BOT_TOKEN, SIGNING_SECRET, loopback_only, serving
from tests.handlers.telegram.conftest import ptb_timedelta

__all__ = ["loopback_only", "ptb_timedelta"]  # autouse: loopback only; PTB without warnings

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

SURVEY = {
    "id": "shared",
    "version": "1",
    "default_language": "en",
    "languages": ["en"],
    "title": {"en": "Shared check"},
    "choice_lists": {
        "engagement": [
            {"value": "engaged", "label": {"en": "Already engaged"}},
            {"value": "planning", "label": {"en": "Planning to engage"}},
        ]
    },
    "questions": [
        {
            "id": "engagement",
            "type": "single_choice",
            "required": True,
            "choices": "engagement",
            "label": {"en": "Is your State engaged?"},
        },
        {
            "id": "comment",
            "type": "text",
            "required": True,
            "label": {"en": "How?"},
        },
    ],
}

ROSTER = """\
delegation,delegation_name,region,name,email,role,language,timezone,slack_user_id
FRA,France,WEOG,Claire Dubois,claire@example.org,delegate,en,Europe/Paris,U01FRA0001
FRA,France,WEOG,Luc Martin,luc@example.org,delegate,en,Europe/Paris,
"""

SLACK_USERS = [
    FakeUser("U01FRA0001", "claire@example.org", "Claire Dubois", "Europe/Paris", "en-GB"),
]


@dataclass
class Clock:
    moment: datetime = NOW

    def now(self) -> datetime:
        return self.moment


@dataclass
class Both:
    store: Store
    itinera: Itinera
    slack: FakeSlackApi
    claire: SlackUser
    telegram: FakeTelegram
    runtime: TelegramRuntime
    luc: TelegramUser

    async def settle(self) -> None:
        await self.itinera.settle(within=20)

    async def on_telegram(self, action: Any) -> None:
        update_id = await action
        async with asyncio.timeout(10):
            await self.runtime.receiver.until_received(update_id)
        await self.settle()


async def participant(store: Store, email: str) -> Participant:
    (found,) = [p for p in await store.roster.list_participants() if p.email == email]
    return found


@asynccontextmanager
async def both_channels(url: str) -> AsyncIterator[Both]:
    store = await open_store(url)
    folder = tempfile.mkdtemp(prefix="itinera-consolidated-")
    try:
        actor = Actor.command_line("test")
        survey = load_survey(yaml.safe_load(yaml.safe_dump(SURVEY)))
        await organising.import_survey(store, actor, survey, now=NOW)
        await organising.import_roster(store, actor, read_roster_csv(ROSTER), now=NOW)
        async with (
            FakeSlackApi(users=SLACK_USERS, token=BOT_TOKEN) as slack,
            FakeTelegram() as telegram,
        ):
            settings = load_settings(
                database_url=url,
                slack_bot_token=BOT_TOKEN,
                slack_signing_secret=SIGNING_SECRET,
                slack_api_url=slack.url,
                telegram_token=SecretStr(telegram.token),
                telegram_api_url=telegram.url,
                telegram_mode=TelegramMode.POLLING,
                telegram_bot_username=telegram.username,
                http_port=0,
                digest_folder=folder,
            )
            itinera = build(settings, store, clock=Clock(), timer=InstantTimer(), poll_timeout=1)
            (runtime,) = [r for r in itinera.runtimes if isinstance(r, TelegramRuntime)]
            async with serving(itinera) as base_url:
                for started in itinera.runtimes:
                    await started.start()
                sender = SignedSender(base_url + EVENTS_PATH, SIGNING_SECRET)
                claire = SlackUser(slack, sender, "U01FRA0001")
                luc = telegram.user(7101, "Luc")
                both = Both(store, itinera, slack, claire, telegram, runtime, luc)
                try:
                    yield both
                finally:
                    for started in itinera.runtimes:
                        await started.stop()
                    for close in itinera.closers:
                        await close()
                    await sender.aclose()
    finally:
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=SQL_BACKENDS)
async def both(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Both]:
    async with isolated_database(str(request.param), tmp_path) as url:
        await upgrade_async(url)
        async with both_channels(url) as opened:
            yield opened


async def test_delegates_on_slack_and_telegram_share_the_response_and_hear_who_submitted(
    both: Both,
) -> None:
    store = both.store
    claire = await participant(store, "claire@example.org")
    luc = await participant(store, "luc@example.org")
    issued = await issue_code(
        store.enrolments,
        participant_id=luc.id,
        bot_username=both.telegram.username,
        now=NOW,
        days=14,
    )
    await both.on_telegram(both.telegram.command(both.luc, "start", issued.code))
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            "shared", "FRA", closes=NOW + timedelta(days=7), responses="consolidated"
        ),
        now=NOW,
    )
    round_id = launched.round.id
    await tick(
        store,
        channels=both.itinera.outs,
        now=NOW,
        office_hours=both.itinera.settings.office.parsed,
    )
    await both.settle()
    assert "Is your State engaged?" in both.claire.texts()
    assert "Is your State engaged?" in both.telegram.last_text(both.luc)

    # Claire answers the first question on Slack.
    assert (await both.claire.press("Planning to engage")).status_code == 200
    await both.settle()
    assert "How?" in both.claire.texts()

    # Luc presses on his Telegram screen, which still shows the first question: his press is
    # not applied over Claire's answer; he is shown where the shared draft is.
    await both.on_telegram(both.telegram.tap(both.luc, "Already engaged"))
    assert "How?" in both.telegram.last_text(both.luc)
    await both.on_telegram(both.telegram.send_text(both.luc, "Bilateral agreements"))
    summary = both.telegram.last_text(both.luc)
    assert "Planning to engage" in summary and "Bilateral agreements" in summary
    await both.on_telegram(both.telegram.tap(both.luc, "Submit"))

    shared = await store.responses.get_response(round_id, claire.id)
    assert shared.status is ResponseStatus.SUBMITTED
    assert shared.state.answers == {"engagement": "planning", "comment": "Bilateral agreements"}
    history = await store.responses.history(shared.shared_id)
    assert [(change.question_id, change.by) for change in history] == [
        ("engagement", claire.id),
        ("comment", luc.id),
    ]
    # Claire hears on Slack that Luc submitted it; Luc is not told of his own submission.
    told = both.claire.screen().text
    assert told.startswith("Luc Martin submitted the response of France to “Shared check”")
    assert "Luc Martin submitted" not in both.telegram.last_text(both.luc)
    counts = await store.rounds.counts(round_id)
    assert (counts[ResponseStatus.SUBMITTED], sum(counts.values())) == (1, 1)
