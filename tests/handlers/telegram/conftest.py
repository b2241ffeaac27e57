"""Fixtures for the Telegram channel: the fake Bot API, a small world, a bot to run.

- ``loopback_only`` (autouse): any connection to a non-loopback host fails the test;
- ``clock``: a :class:`MutableClock` (real time, moved by hand);
- ``fake``: a started :class:`bot.fakes.telegram_api.FakeTelegram`;
- ``world``: the example survey, a small roster and an open round, on the ``store`` fixture
  (SQLite, and PostgreSQL when ``ITINERA_TEST_DATABASE_URL`` is set);
- ``memory_world``: the same on the in-memory store, for the pure rendering tests;
- ``run_bot``: ``async with run_bot("polling" | "webhook") as bot:`` a started runtime
  against the fake (webhook mode behind a real uvicorn server on an ephemeral port);
- ``sleeps``: what the bot was told to wait (429s), recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.fakes.telegram_api import FakeTelegram, FakeUser
from bot.server import build_app, make_server
from bot.settings import TelegramMode, load_settings
from bot.survey_files import read_survey_file
from bot.telegram_wiring import build_telegram
from handlers.telegram.enrolment import code_hash, issue_code
from handlers.telegram.runtime import TelegramRuntime
from storage.database import Store
from storage.memory import InMemoryStore
from storage.tables import InboundEventRow
from surveys.definition import Survey
from surveys.ports import DigestService
from surveys.records import Audience, Participant, Round
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.answering import Conversation

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
SECRET = "s3cret-Webhook_token"

ROSTER = """\
delegation,delegation_name,region,name,email,role,language,timezone
FRA,France,WEOG,Claire Dubois,claire@example.org,delegate,fr,Europe/Paris
SEN,Senegal,African States,Aminata Diop,aminata@example.org,delegate,fr,Africa/Dakar
MEX,Mexico,GRULAC,Diego Ramírez,diego@example.org,delegate,es,America/Mexico_City
EGY,Egypt,African States,Nour Hassan,nour@example.org,delegate,ar,Africa/Cairo
,,,Olga Organiser,olga@example.org,organiser,en,Europe/Zurich
"""


class MutableClock:
    """Aware UTC time that tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class World:
    store: Any
    clock: MutableClock
    survey: Survey
    round: Round
    people: dict[str, Participant] = field(default_factory=dict)

    def person(self, email_prefix: str) -> Participant:
        return self.people[f"{email_prefix}@example.org"]

    async def invite(self, email_prefix: str, *, days: int = 14) -> str:
        """A fresh enrolment code for the participant."""
        issued = await issue_code(
            self.store.enrolments,
            participant_id=self.person(email_prefix).id,
            bot_username="itinera_test_bot",
            now=self.clock.now(),
            days=days,
        )
        return issued.code

    async def enrol(self, email_prefix: str, user_id: int) -> Participant:
        """Link a Telegram user to the participant, as ``/start CODE`` would."""
        code = await self.invite(email_prefix)
        participant = self.person(email_prefix)
        await self.store.enrolments.redeem(
            channel="telegram",
            code_hash=code_hash(code),
            external_id=str(user_id),
            now=self.clock.now(),
        )
        await self.store.identities.set_address(participant.id, "telegram", str(user_id))
        return participant

    async def inbox(self) -> list[tuple[str, bool, str | None]]:
        """(key, processed, error) of every stored Telegram update, oldest first."""
        async with self.store.database.sessions() as session:
            rows = await session.scalars(
                select(InboundEventRow)
                .where(InboundEventRow.channel == "telegram")
                .order_by(InboundEventRow.id)
            )
            return [(row.key, row.processed_at is not None, row.error) for row in rows]

    async def answers(self, email_prefix: str) -> dict[str, Any]:
        participant = self.person(email_prefix)
        response = await self.store.responses.get_response(self.round.id, participant.id)
        return dict(response.state.answers)

    async def current(self, email_prefix: str) -> str | None:
        participant = self.person(email_prefix)
        response = await self.store.responses.get_response(self.round.id, participant.id)
        return response.state.current


async def make_world(store: Any, clock: MutableClock) -> World:
    survey = read_survey_file(EXAMPLE)
    now = clock.now()
    await organising.import_survey(store, Actor.command_line("test"), survey, now=now)
    await organising.import_roster(
        store, Actor.command_line("test"), read_roster_csv(ROSTER), now=now
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=now + timedelta(days=30),
            opens=now - timedelta(minutes=1),
        ),
        now=now,
    )
    people = {p.email: p for p in await store.roster.list_participants()}
    return World(store, clock, survey, launched.round, people)


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (even inside ``RetryAfter.__init__``) unless periods are timedeltas; the
    warning is silent in production but an error under ``filterwarnings = error``."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Fail the test if anything connects to a host that is not on this machine."""
    strays: list[str] = []
    original = asyncio.BaseEventLoop.create_connection

    async def guarded(
        self: Any, protocol_factory: Any, host: Any = None, *args: Any, **kw: Any
    ) -> Any:
        if host is not None and not _is_loopback(str(host)):
            strays.append(str(host))
            raise ConnectionRefusedError(f"test tried to reach {host}")
        return await original(self, protocol_factory, host, *args, **kw)

    monkeypatch.setattr(asyncio.BaseEventLoop, "create_connection", guarded)
    yield strays
    assert strays == [], f"non-loopback hosts contacted: {strays}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as started:
        yield started


@pytest.fixture
async def world(store: Store, clock: MutableClock) -> World:
    return await make_world(store, clock)


@pytest.fixture
async def memory_world(clock: MutableClock) -> World:
    return await make_world(InMemoryStore(), clock)


@pytest.fixture
def sleeps() -> list[float]:
    return []


RunBot = Callable[..., AbstractAsyncContextManager[TelegramRuntime]]


@pytest.fixture
def run_bot(fake: FakeTelegram, world: World, sleeps: list[float]) -> RunBot:
    """``async with run_bot(mode) as runtime``: the real PTB application against the fake
    (``digests=`` gives ``/digest`` a digest service; other keywords override settings)."""

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    @asynccontextmanager
    async def running(
        mode: str, *, digests: DigestService | None = None, **overrides: Any
    ) -> AsyncIterator[TelegramRuntime]:
        conversation = Conversation(world.store, clock=world.clock)
        if mode == "polling":
            settings = _settings(fake, TelegramMode.POLLING, None, overrides)
            runtime = build_telegram(
                settings,
                world.store,
                conversation,
                world.clock,
                sleep=record_sleep,
                digests=digests,
            )
            await runtime.start()
            try:
                yield runtime
            finally:
                await runtime.stop()
            return
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", 0))
        listening.listen(64)
        port = listening.getsockname()[1]
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        settings = _settings(fake, TelegramMode.WEBHOOK, url, overrides)
        runtime = build_telegram(
            settings, world.store, conversation, world.clock, sleep=record_sleep, digests=digests
        )
        server = make_server(
            build_app(runtime.routes()), host="127.0.0.1", port=port, log_level="warning"
        )
        serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            await runtime.start()
            try:
                yield runtime
            finally:
                await runtime.stop()
        finally:
            server.should_exit = True
            await serving
            listening.close()

    return running


def _settings(
    fake: FakeTelegram, mode: TelegramMode, webhook_url: str | None, overrides: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": SecretStr(fake.token),
        "telegram_api_url": fake.url,
        "telegram_mode": mode,
        "telegram_webhook_secret": SecretStr(SECRET),
        "telegram_webhook_url": webhook_url,
        "telegram_bot_username": fake.username,
    }
    return load_settings(**(values | overrides))


Action = Callable[[], Coroutine[Any, Any, int]]


@pytest.fixture
def act() -> Callable[[TelegramRuntime, Coroutine[Any, Any, int]], Coroutine[Any, Any, int]]:
    """``await act(runtime, fake.send_text(user, "2"))``: do it, wait until it was processed."""

    async def run(runtime: TelegramRuntime, action: Coroutine[Any, Any, int]) -> int:
        update_id = await action
        async with asyncio.timeout(10):
            await runtime.until_processed(update_id)
        return update_id

    return run


__all__ = ["FakeUser", "MutableClock", "World"]
